use ssh_key::PrivateKey;
use ssh_key::private::Ed25519Keypair;

use super::*;

const STATEMENT: &[u8] = b"the statement\n";
const NOW: i64 = 1_800_000_000_000;

/// An RSA signature over "hello\n" made by `ssh-keygen -Y sign -n payrun` (public data only).
const RSA_SIG: &str = "-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAAJcAAAAHc3NoLXJzYQAAAAMBAAEAAACBAPjJ4ERvYkNWgNINPOg7DL
OKDf5PDDcTA87RVfpiJS3X5ILJyOeOYCxA+OenwH1ltHkZCHrsV88c55fHrMuHK5I7w6tr
9/rQRRKPkANtfUICMOnZdUBADGKJLbRHpBcqpvni/CW1M34ENN6cMoEEM4QRR+3l0q7oic
yghubo08RfAAAABnBheXJ1bgAAAAAAAAAGc2hhNTEyAAAAlAAAAAxyc2Etc2hhMi01MTIA
AACAHnSO06SkwOeCcH+aWef+QUphtg8+9QnulanYpTWOWj0THPCqeK+UbiZEZoJi9lf24N
ZpDoz/lXn9B+o07U8ThSAZ6vmVuQsL7sDsWQ4ziqrNaVMORGV8Ehst4YfSywi+eOi1g6IO
xD0uJJZDqS3L96h/Pxbmiop/VgbJTPzrak0=
-----END SSH SIGNATURE-----
";

fn key(seed: u8) -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
}

fn public(seed: u8) -> String {
    key(seed).public_key().to_openssh().unwrap()
}

fn sig(name: &str, seed: u8, namespace: &str, message: &[u8]) -> SigFile {
    let pem = key(seed)
        .sign(namespace, HashAlg::Sha512, message)
        .unwrap()
        .to_pem(ssh_key::LineEnding::LF)
        .unwrap();
    SigFile {
        name: name.into(),
        text: Ok(pem),
    }
}

/// alice (key 1), bob (key 2), maker (key 3), carol for git only (key 4).
fn signers() -> AllowedSigners {
    let text = format!(
        "alice@corp namespaces=\"payrun\" {}\nbob@corp {}\nmaker@corp {}\ncarol@corp namespaces=\"git\" {}\n",
        public(1),
        public(2),
        public(3),
        public(4)
    );
    AllowedSigners::parse(&text, "allowed_signers").unwrap()
}

fn judge(files: &[SigFile], required: u32) -> Verdict {
    evaluate(STATEMENT, "maker@corp", files, &signers(), required, NOW)
}

#[test]
fn two_distinct_approvers_meet_a_policy_of_two() {
    let v = judge(
        &[
            sig("alice.sig", 1, "payrun", STATEMENT),
            sig("bob.sig", 2, "payrun", STATEMENT),
        ],
        2,
    );
    assert!(v.met());
    assert_eq!(v.line(), "2 of 2 approvals: alice@corp ✓; bob@corp ✓");
    assert_eq!(
        v.counted[0].fingerprint,
        fingerprint(key(1).public_key().key_data())
    );
    assert!(v.counted[0].fingerprint.starts_with("SHA256:"));
}

#[test]
fn the_issue_example_names_what_is_missing() {
    let v = judge(
        &[
            sig("alice.sig", 1, "payrun", STATEMENT),
            sig("alice2.sig", 1, "payrun", STATEMENT),
            sig("mallory.sig", 9, "payrun", STATEMENT),
        ],
        2,
    );
    assert!(!v.met());
    assert_eq!(
        v.line(),
        "1 of 2 approvals: alice@corp ✓; bob@corp: no signature; alice2.sig: alice@corp counted already; \
         mallory.sig: key not in allowed_signers"
    );
}

#[test]
fn the_makers_own_signature_does_not_count() {
    let v = judge(&[sig("maker.sig", 3, "payrun", STATEMENT)], 1);
    assert!(!v.met());
    assert_eq!(
        v.line(),
        "0 of 1 approvals: alice@corp: no signature; bob@corp: no signature; \
         maker.sig: maker@corp prepared this statement; the maker's own signature does not count"
    );
}

#[test]
fn bad_signatures_each_get_one_reason() {
    let v = judge(
        &[
            sig("a.sig", 1, "payrun", b"another statement\n"),
            sig("b.sig", 2, "git", STATEMENT),
            sig("c.sig", 4, "payrun", STATEMENT),
            SigFile {
                name: "d.sig".into(),
                text: Ok(
                    "-----BEGIN SSH SIGNATURE-----\nnot base64\n-----END SSH SIGNATURE-----\n"
                        .into(),
                ),
            },
            SigFile {
                name: "e.sig".into(),
                text: Ok(RSA_SIG.into()),
            },
        ],
        1,
    );
    assert!(v.counted.is_empty());
    let why: Vec<&str> = v.problems.iter().map(|(_, w)| w.as_str()).collect();
    assert!(
        why[0].starts_with("does not verify over this statement"),
        "{}",
        why[0]
    );
    assert!(
        why[1].starts_with("signed for namespace \"git\""),
        "{}",
        why[1]
    );
    assert!(why[2].contains("may not sign for payrun"), "{}", why[2]);
    assert!(why[3].starts_with("malformed signature"), "{}", why[3]);
    assert!(
        why[4].starts_with("unsupported key type ssh-rsa"),
        "{}",
        why[4]
    );
    // alice's key signed (another statement): she is not "missing", her file says why.
    assert_eq!(v.missing, ["bob@corp"]);
}

#[test]
fn a_key_outside_its_validity_does_not_count() {
    let text = format!("alice@corp valid-before=\"20200101\" {}\n", public(1));
    let signers = AllowedSigners::parse(&text, "f").unwrap();
    let v = evaluate(
        STATEMENT,
        "m",
        &[sig("a.sig", 1, "payrun", STATEMENT)],
        &signers,
        1,
        NOW,
    );
    assert!(
        v.problems[0].1.contains("not valid now"),
        "{:?}",
        v.problems
    );
}

#[test]
fn one_key_for_two_principals_counts_once_per_signature() {
    let text = format!("alice@corp,ops@corp {}\n", public(1));
    let signers = AllowedSigners::parse(&text, "f").unwrap();
    let files = [
        sig("a.sig", 1, "payrun", STATEMENT),
        sig("b.sig", 1, "payrun", STATEMENT),
    ];
    let v = evaluate(STATEMENT, "alice@corp", &files, &signers, 1, NOW);
    assert_eq!(
        v.line(),
        "1 of 1 approvals: ops@corp ✓; b.sig: ops@corp counted already"
    );
}
