//! Approvals that must not pay, each with its one-line reason, exit 3 and nothing sent: an
//! unknown key, the same approver twice, the maker, a malformed signature, an unsupported
//! key type, an edited CSV, a tampered statement, an expired one, a bad approvers line; and a
//! private key others can read, refused as `ssh` refuses it.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::{Person, allowed_signers, policy, stderr};
use crate::support::pay::{Fixture, code, text, ugx_payees};
use crate::support::sim::SimConfig;

fn run_args<'a>(file: &'a str, approval: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        file,
        "--provider",
        "rohopay",
        "--yes",
        "--approval",
        approval,
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn signatures_that_do_not_count_are_each_named() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let alice = Person::new(dir, "alice@corp", "ed25519");
    let bob = Person::new(dir, "bob@corp", "ed25519");
    let maker = Person::new(dir, "maker@corp", "ed25519");
    let mallory = Person::new(dir, "mallory@corp", "ed25519");
    let rsa = Person::new(dir, "rsa@corp", "rsa");
    let env = policy(&allowed_signers(dir, &[&alice, &bob, &maker, &rsa]), 2);
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let approval = fx.approval_new(&file, &[]).await;
    assert_eq!(code(&fx.approval_sign(&approval, &alice).await), 0);
    alice.ssh_sign(&approval, "second-alice.sig");
    maker.ssh_sign(&approval, "maker.sig");
    mallory.ssh_sign(&approval, "mallory.sig");
    rsa.ssh_sign(&approval, "rsa.sig");
    std::fs::write(approval.join("zz.sig"), "not a signature\n").unwrap();

    let (f, a) = (file.to_str().unwrap(), approval.to_str().unwrap());
    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    let said = stderr(&out);
    assert!(
        said.contains("not approved: 1 of 2 approvals: alice@corp ✓; bob@corp: no signature; "),
        "{said}"
    );
    for reason in [
        "second-alice.sig: alice@corp counted already",
        "maker.sig: maker@corp prepared this statement; the maker's own signature does not count",
        "mallory.sig: key not in allowed_signers",
        "rsa.sig: unsupported key type ssh-rsa",
        "zz.sig: malformed signature",
    ] {
        assert!(said.contains(reason), "{reason}: {said}");
    }
    assert_eq!(said.lines().count(), 1, "one line: {said}");
    assert!(fx.ledger().await.is_empty());

    let check = fx.exec_with(&["approval", "check", a], &env).await;
    assert_eq!(code(&check), 3, "{}", text(&check));
    assert!(text(&check).contains("1 of 2 approvals: alice@corp ✓; bob@corp: no signature"));

    // payrun signs with ed25519 keys only, and never with a key others can read.
    let rsa_sign = fx.approval_sign(&approval, &rsa).await;
    assert_eq!(code(&rsa_sign), 2, "{}", text(&rsa_sign));
    assert!(
        stderr(&rsa_sign).contains("unsupported key type ssh-rsa"),
        "{}",
        text(&rsa_sign)
    );
    std::fs::set_permissions(&bob.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open_key = fx.approval_sign(&approval, &bob).await;
    assert_eq!(code(&open_key), 2, "{}", text(&open_key));
    assert!(
        stderr(&open_key).contains("UNPROTECTED PRIVATE KEY FILE! Permissions 0644"),
        "{}",
        text(&open_key)
    );
    let key_text = std::fs::read_to_string(&bob.key).unwrap();
    let secret_line = key_text.lines().nth(1).unwrap();
    assert!(
        !text(&open_key).contains(secret_line),
        "the key is never printed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_csv_a_tampered_statement_and_a_bad_approvers_line_are_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let (alice, bob) = (
        Person::new(dir, "alice@corp", "ed25519"),
        Person::new(dir, "bob@corp", "ed25519"),
    );
    let approvers = allowed_signers(dir, &[&alice, &bob]);
    let env = policy(&approvers, 2);
    let payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let approval = fx.approval_new(&file, &[]).await;
    assert_eq!(code(&fx.approval_sign(&approval, &alice).await), 0);
    bob.ssh_sign(&approval, "bob.sig");
    let (f, a) = (file.to_str().unwrap(), approval.to_str().unwrap());

    // The CSV edited after signing: another file as far as the statement is concerned.
    let mut edited = payees.clone();
    edited[1].amount = "99000".into();
    fx.csv("payroll.csv", &edited);
    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out)
            .contains("the statement is for another file, or for this file before it was edited"),
        "{}",
        text(&out)
    );
    fx.csv("payroll.csv", &payees);

    // The same file read with other flags: the figure that changes is named.
    let out = fx
        .exec_with(&[run_args(f, a), vec!["--skip-invalid"]].concat(), &env)
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("says `setting skip invalid rows: no`, but payrun derives `setting skip invalid rows: yes`"),
        "{}",
        text(&out)
    );

    // A statement changed after signing, keeping its form: no signature verifies.
    let statement = approval.join("statement.txt");
    let original = std::fs::read_to_string(&statement).unwrap();
    std::fs::write(
        &statement,
        original.replace("prepared by: maker@corp", "prepared by: carol@corp"),
    )
    .unwrap();
    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("alice@corp.sig: does not verify over this statement"),
        "{}",
        text(&out)
    );
    assert!(
        stderr(&out).contains("bob.sig: does not verify over this statement"),
        "{}",
        text(&out)
    );
    // ... or changed out of form.
    std::fs::write(
        &statement,
        original.replace("Signing this statement", "Signing this"),
    )
    .unwrap();
    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("it is not a statement as `payrun approval new` writes it"),
        "{}",
        text(&out)
    );
    std::fs::write(&statement, &original).unwrap();

    // An approvers file with a line payrun cannot read is no policy at all.
    let text_ok = std::fs::read_to_string(&approvers).unwrap();
    std::fs::write(&approvers, format!("{text_ok}carol@corp ssh-ed25519\n")).unwrap();
    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("line 4: expected `principals [options] keytype base64-key`"),
        "{}",
        text(&out)
    );
    std::fs::write(&approvers, text_ok).unwrap();
    assert!(fx.ledger().await.is_empty(), "nothing was sent");

    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 0, "the restored statement pays: {}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_statement_is_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let alice = Person::new(dir, "alice@corp", "ed25519");
    let env = policy(&allowed_signers(dir, &[&alice]), 1);
    let file = fx.csv("payroll.csv", &ugx_payees(2));
    let approval = fx.approval_new(&file, &["--valid-for", "1s"]).await;
    alice.ssh_sign(&approval, "alice.sig");
    // prepared at is a whole second, so the statement is stale at most 1 s from now.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (f, a) = (file.to_str().unwrap(), approval.to_str().unwrap());
    let out = fx.exec_with(&run_args(f, a), &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("the statement expired at"),
        "{}",
        text(&out)
    );
    let check = fx.exec_with(&["approval", "check", a], &env).await;
    assert_eq!(code(&check), 3, "{}", text(&check));
    assert!(
        text(&check).contains("1 of 1 approvals: alice@corp ✓"),
        "{}",
        text(&check)
    );
    assert!(text(&check).contains("expired"), "{}", text(&check));
    let sign = fx.approval_sign(&approval, &alice).await;
    assert_eq!(code(&sign), 3, "{}", text(&sign));
    assert!(fx.ledger().await.is_empty());
}
