//! The finance team's path: no policy pays as before; with a policy of two, 0 and 1
//! signatures refuse with nothing sent, 2 (one payrun signature, one `ssh-keygen`) pay, and
//! the approvals are in the journal, `status` and `report`; `resume` checks the batch.

use std::process::Command;

use super::{Person, allowed_signers, mode, policy, stderr};
use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn without_a_policy_run_pays_as_before() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("p.csv", &ugx_payees(3));
    let out = fx
        .run_envs(
            &file,
            "rohopay",
            &["--approval", "nowhere"],
            &[("PAYRUN_APPROVALS_REQUIRED", "0")],
        )
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stderr(&out).contains("--approval nowhere is not checked"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), 3);
    let status = fx.status(&batch_id(&out)).await;
    assert_eq!(status["approvals"], serde_json::json!([]), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_of_two_pays_only_with_two_approvers_and_records_them() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let (alice, bob) = (
        Person::new(dir, "alice@corp", "ed25519"),
        Person::new(dir, "bob@corp", "ed25519"),
    );
    let env = policy(&allowed_signers(dir, &[&alice, &bob]), 2);
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let approval = fx.approval_new(&file, &[]).await;
    let statement = approval.join("statement.txt");
    assert_eq!(mode(&statement), 0o600);
    let (f, a) = (file.to_str().unwrap(), approval.to_str().unwrap());
    let plain = ["run", f, "--provider", "rohopay", "--yes"];
    let approved = ["run", f, "--provider", "rohopay", "--yes", "--approval", a];

    // No --approval at all, then 0 signatures, then 1.
    let out = fx.exec_with(&plain, &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("needs 2 approval(s)"),
        "{}",
        text(&out)
    );
    let out = fx.exec_with(&approved, &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("0 of 2 approvals: alice@corp: no signature; bob@corp: no signature"),
        "{}",
        text(&out)
    );
    let signed = fx.approval_sign(&approval, &alice).await;
    assert_eq!(code(&signed), 0, "{}", text(&signed));
    assert!(
        !text(&signed).contains("BEGIN SSH SIGNATURE"),
        "signatures are never printed"
    );
    let sig = approval.join("alice@corp.sig");
    assert_eq!(mode(&sig), 0o600);
    let out = fx.exec_with(&approved, &env).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("1 of 2 approvals: alice@corp ✓; bob@corp: no signature"),
        "{}",
        text(&out)
    );
    assert!(fx.ledger().await.is_empty(), "a refused run sends nothing");
    assert!(
        !fx.journal.exists(),
        "refused before planning: no journal, no batch"
    );

    // payrun's signature is a real OpenSSH signature.
    let verify = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", "payrun", "-I", "alice@corp", "-f"])
        .arg(dir.join("allowed_signers"))
        .arg("-s")
        .arg(&sig)
        .stdin(std::fs::File::open(&statement).unwrap())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // bob signs with ssh-keygen, under any name: 2 of 2, paid.
    bob.ssh_sign(&approval, "from-bob.sig");
    let check = fx.exec_with(&["approval", "check", a], &env).await;
    assert_eq!(code(&check), 0, "{}", text(&check));
    assert!(
        text(&check).contains("2 of 2 approvals: alice@corp ✓; bob@corp ✓"),
        "{}",
        text(&check)
    );
    let out = fx.exec_with(&approved, &env).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        text(&out).contains("approved: 2 of 2 required: alice@corp (key"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), 3);

    let batch = batch_id(&out);
    let status = fx.status(&batch).await;
    let approvals = status["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 2, "{status}");
    assert_eq!(approvals[0]["principal"], "alice@corp");
    assert_eq!(
        approvals[0]["key_fingerprint"],
        alice.fingerprint().as_str()
    );
    assert_eq!(approvals[1]["key_fingerprint"], bob.fingerprint().as_str());
    let sha = approvals[0]["statement_sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(approvals[0]["checked_at"].as_str().unwrap().ends_with('Z'));
    let all = fx.exec(&["status", "--format", "json"]).await;
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(all[0]["approvals"].as_array().unwrap().len(), 2);
    let table = fx.exec(&["status"]).await;
    assert!(
        text(&table).contains("approved by alice@corp, bob@corp"),
        "{}",
        text(&table)
    );
    let report = fx.report(&batch).await;
    let by = report[0]["approved_by"].as_str().unwrap();
    assert!(
        by.contains("alice@corp (key SHA256:") && by.contains(sha),
        "{by}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_checks_the_statement_against_the_batch_in_the_journal() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let (alice, bob) = (
        Person::new(dir, "alice@corp", "ed25519"),
        Person::new(dir, "bob@corp", "ed25519"),
    );
    let env = policy(&allowed_signers(dir, &[&alice, &bob]), 1);
    let file = fx.csv("payroll.csv", &ugx_payees(4));
    // Planned without a policy, then refused before sending (no --yes without a terminal).
    let planned = fx
        .exec(&["run", file.to_str().unwrap(), "--provider", "rohopay"])
        .await;
    assert_eq!(code(&planned), 3, "{}", text(&planned));
    let batch = batch_id(&planned);

    // A statement of the same file under another batch id does not match the batch.
    let other = fx.dir.path().join("other");
    fx.approval_new(
        &file,
        &["--batch", "another-id", "--out", other.to_str().unwrap()],
    )
    .await;
    alice.ssh_sign(&other, "alice.sig");
    let out = fx
        .exec_with(
            &[
                "resume",
                &batch,
                "--yes",
                "--approval",
                other.to_str().unwrap(),
            ],
            &env,
        )
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("does not match batch"),
        "{}",
        text(&out)
    );
    assert!(stderr(&out).contains("batch: another-id"), "{}", text(&out));
    assert!(fx.ledger().await.is_empty());

    let approval = fx.approval_new(&file, &[]).await;
    alice.ssh_sign(&approval, "alice.sig");
    let out = fx
        .exec_with(
            &[
                "resume",
                &batch,
                "--yes",
                "--approval",
                approval.to_str().unwrap(),
            ],
            &env,
        )
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), 4);
    let status = fx.status(&batch).await;
    assert_eq!(
        status["approvals"][0]["principal"], "alice@corp",
        "{status}"
    );
}
