use super::*;

const ALICE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPuYM32/qycEZq+7Ygv/Yw3dtAAds4W4I7hTQDu8OmB";
const BOB: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKRtCXLlctLLMtOlFEPrzfAnfYRHkqjR52SxzvydPAKx";
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQD4yeBEb2JDVoDSDTzoOwyzig3+Tww3EwPO0VX6YiUt1+SCycjnjmAsQPjnp8B9ZbR5GQh67FfPHOeXx6zLhyuSO8Ora/f60EUSj5ADbX1CAjDp2XVAQAxiiS20R6QXKqb54vwltTN+BDTenDKBBDOEEUft5dKu6InMoIbm6NPEXw==";
const EC: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFyOuCQtmiQSpAoNiBig4jmFKhPDUqbLp3tBoF8a+SkqqAqB1yJrQh6dTJtKfMlp1cALAqw+Lol46EAbOxjeKVs=";

fn parse(text: &str) -> Result<AllowedSigners, SignersError> {
    AllowedSigners::parse(text, "allowed_signers")
}

#[test]
fn reads_principals_options_keys_and_comments() {
    let text = format!(
        "# finance approvers\n\n\
         alice@corp,alice@home namespaces=\"payrun,git\" {ALICE} alice laptop\n\
         bob@corp {BOB}\n\
         ops@corp cert-authority,valid-after=\"20260101\",valid-before=\"20270101Z\" {RSA}\n\
         ec@corp namespaces=\"git\" {EC}\n"
    );
    let signers = parse(&text).unwrap().signers;
    assert_eq!(signers.len(), 4);
    assert_eq!(signers[0].line, 3);
    assert_eq!(signers[0].principals, ["alice@corp", "alice@home"]);
    assert!(signers[0].allows("payrun") && signers[0].allows("git"));
    assert!(!signers[0].allows("file"));
    assert!(signers[1].allows("payrun"), "no namespaces: any namespace");
    assert!(signers[2].cert_authority);
    assert_eq!(signers[2].valid_after, Some(1_767_225_600_000));
    assert!(signers[2].valid_at(1_767_225_600_000));
    assert!(!signers[2].valid_at(1_767_225_599_999));
    assert!(!signers[2].valid_at(1_798_761_600_000));
    assert!(!signers[3].allows("payrun"));
    let all = parse(&text).unwrap();
    assert_eq!(
        all.principals("payrun"),
        ["alice@corp", "alice@home", "bob@corp"],
        "certificate authorities and keys for other namespaces approve nothing"
    );
}

#[test]
fn an_unreadable_line_is_named_with_its_number() {
    let cases = [
        (
            format!("alice@corp {ALICE}\n\nbob@corp\n"),
            3,
            "found 1 field",
        ),
        (
            format!("# c\nalice@corp {ALICE}\nbob@corp ssh-ed25519 AAAAnotbase64!!\n"),
            3,
            "cannot be read",
        ),
        (
            format!("bob@corp frobnicate {BOB}\n"),
            1,
            "unknown option \"frobnicate\"",
        ),
        (
            format!("bob@corp valid-after=\"2026\" {BOB}\n"),
            1,
            "is not a time",
        ),
        (
            "bob@corp namespaces=\"payrun\" not-a-key AAAA\n".to_string(),
            1,
            "not an SSH key type",
        ),
    ];
    for (text, line, says) in cases {
        let err = parse(&text).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("approvers file allowed_signers, line {line}: ")),
            "{shown}"
        );
        assert!(shown.contains(says), "{shown}");
    }
}

#[test]
fn options_in_quotes_may_hold_commas_and_spaces() {
    let text = format!("\"carol@corp\" namespaces=\"pay run,payrun\" {BOB} carol\n");
    let signers = parse(&text).unwrap().signers;
    assert_eq!(signers[0].principals, ["carol@corp"]);
    assert_eq!(
        signers[0].namespaces.as_deref(),
        Some(&["pay run".to_string(), "payrun".to_string()][..])
    );
}

#[test]
fn namespace_patterns_match_like_openssh() {
    assert!(glob("pay*", "payrun"));
    assert!(glob("*", "payrun"));
    assert!(glob("pay?un", "payrun"));
    assert!(!glob("pay?", "payrun"));
    assert!(!glob("git", "payrun"));
}
