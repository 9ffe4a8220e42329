//! Crash safety of `payrun retry`, by killing the real process: the new attempt's key and
//! state are durable before anything is sent, so a retry killed at any point and then resumed
//! pays each failed payee exactly once more, and a retry killed before its attempts were
//! committed leaves nothing to send.

use std::collections::BTreeSet;

use super::paid_per_phone;
use crate::support::pay::{Fixture, Payee, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

/// A RohoPay batch of `n` rows whose failures (`--fail-rate 0.5`) are known to the journal:
/// the batch, its payees and the references that failed.
async fn failed_batch(n: usize, seed: u64) -> (Fixture, String, Vec<Payee>, BTreeSet<String>) {
    let fx = Fixture::new(SimConfig {
        seed,
        fail_rate: 0.5,
        ..SimConfig::default()
    })
    .await;
    let payees = ugx_payees(n);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    let out = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&out), 1, "rows became failed: {}", text(&out));
    let failed: BTreeSet<String> = fx
        .report(&batch)
        .await
        .into_iter()
        .filter(|r| r["state"] == "failed")
        .map(|r| r["reference"].as_str().unwrap().to_string())
        .collect();
    assert!(failed.len() >= 5, "{failed:?}");
    (fx, batch, payees, failed)
}

/// `payrun retry BATCH` one row at a time, aborted (as a power cut) at crash point `at`.
async fn retry_aborted_at(fx: &Fixture, batch: &str, at: &str) {
    let out = fx
        .exec_with_env(
            &[
                "retry",
                batch,
                "--yes",
                "--rate",
                "500",
                "--concurrency",
                "1",
            ],
            "PAYRUN_CRASH_AT",
            at,
        )
        .await;
    assert_eq!(out.status.code(), None, "aborted: {}", text(&out));
}

/// Every failed payee has exactly two payouts (attempt 1, then the retry under the journal's
/// new key), every other payee exactly one; returns the new keys' request counts.
async fn assert_paid_once_more(
    fx: &Fixture,
    batch: &str,
    payees: &[Payee],
    failed: &BTreeSet<String>,
) -> Vec<u64> {
    let paid = paid_per_phone(fx).await;
    let report = super::report_by_reference(fx, batch).await;
    let mut requests = Vec::new();
    for p in payees {
        let entries = &paid[&p.phone];
        let row = &report[&p.reference];
        if failed.contains(&p.reference) {
            assert_eq!(entries.len(), 2, "{}: {entries:?}", p.reference);
            assert_eq!(row["attempt"], 2, "{row}");
            assert_eq!(entries[1]["key"], row["key"], "{row}");
            assert_ne!(entries[0]["key"], entries[1]["key"]);
            requests.push(entries[1]["requests"].as_u64().unwrap());
            assert!(
                matches!(
                    row["state"].as_str(),
                    Some("accepted" | "succeeded" | "failed")
                ),
                "{row}"
            );
        } else {
            assert_eq!(entries.len(), 1, "{}: {entries:?}", p.reference);
            assert_eq!(row["attempt"], 1, "{row}");
        }
    }
    requests
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_crashed_after_the_provider_paid_then_resumed_pays_nobody_twice() {
    let (fx, batch, payees, failed) = failed_batch(30, 7).await;
    // Abort (as a power cut) after the third retried payout was executed, before its answer
    // is journaled: that row stays `sending` under its new key.
    retry_aborted_at(&fx, &batch, "after-response:3").await;
    let status = fx.status(&batch).await;
    assert_eq!(status["last_run"]["end"], "interrupted", "{status}");
    assert!(
        status["next"]
            .as_str()
            .unwrap()
            .starts_with(&format!("payrun resume {batch}")),
        "{status}"
    );
    fx.resume_until_done(&batch, None).await;
    let requests = assert_paid_once_more(&fx, &batch, &payees, &failed).await;
    assert!(
        requests.iter().any(|r| *r >= 2),
        "the crashed row was resent under its new key and replayed: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_killed_mid_send_then_resumed_pays_each_failed_payee_once_more() {
    let (fx, batch, payees, failed) = failed_batch(60, 3).await;
    let before = fx.ledger().await.len();
    let child = fx
        .payrun()
        .args([
            "retry",
            &batch,
            "--yes",
            "--rate",
            "15",
            "--concurrency",
            "2",
        ])
        .spawn()
        .unwrap();
    crate::support::wait::until_true("3 retried payouts", || async {
        fx.ledger().await.len() >= before + 3
    })
    .await;
    let mut child = child;
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), None, "killed");
    assert!(
        fx.ledger().await.len() < before + failed.len(),
        "killed before the retry finished"
    );
    fx.resume_until_done(&batch, None).await;
    assert_paid_once_more(&fx, &batch, &payees, &failed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_killed_before_its_attempts_committed_changed_nothing() {
    let (fx, batch, payees, failed) = failed_batch(20, 9).await;
    let before = fx.ledger().await.len();
    // The retry's first journal write is its one transaction of new attempts.
    let out = fx
        .exec_with_env(
            &["retry", &batch, "--yes", "--rate", "500"],
            "PAYRUN_CRASH_AT",
            "mid-group-commit",
        )
        .await;
    assert_eq!(out.status.code(), None, "aborted: {}", text(&out));
    assert_eq!(fx.ledger().await.len(), before, "nothing was sent");
    let still: BTreeSet<String> = fx
        .report(&batch)
        .await
        .into_iter()
        .filter(|r| r["state"] == "failed" && r["attempt"] == 1)
        .map(|r| r["reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(still, failed, "every failed row is as it was");
    let out = fx.exec(&["resume", &batch, "--yes"]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Nothing left to send"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), before);
    let out = fx.exec(&["retry", &batch, "--yes", "--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_paid_once_more(&fx, &batch, &payees, &failed).await;
}

/// A retry stopped before it sent anything leaves its rows `planned` under their new keys. An
/// edited file that then changes such a row, or drops it, withdraws that retry: the row is
/// `cancelled` with a note saying so and is not sent (found in review: it was noted "not paid
/// again" and then sent with its old values by the same run).
#[tokio::test(flavor = "multi_thread")]
async fn a_pending_retry_the_file_then_changes_or_drops_is_withdrawn_not_sent() {
    let (fx, batch, mut payees, failed) = failed_batch(30, 7).await;
    // The second group commit is the retry's first claim: its attempts are committed, nothing
    // is marked or sent.
    retry_aborted_at(&fx, &batch, "mid-group-commit:2").await;
    let report = super::report_by_reference(&fx, &batch).await;
    let mut pending = failed.iter();
    let (changed, dropped) = (pending.next().unwrap(), pending.next().unwrap());
    for r in [changed, dropped] {
        assert_eq!(
            (&report[r]["state"], &report[r]["attempt"]),
            (&"planned".into(), &2.into()),
            "{}",
            report[r]
        );
    }
    let i = payees.iter().position(|p| &p.reference == changed).unwrap();
    payees[i].amount = "77000".into();
    let (phone, dropped_phone) = (
        payees[i].phone.clone(),
        payees
            .iter()
            .find(|p| &p.reference == dropped)
            .unwrap()
            .phone
            .clone(),
    );
    payees.retain(|p| &p.reference != dropped);
    let file = fx.csv("payroll.csv", &payees);
    let before = paid_per_phone(&fx).await;
    let out = fx.run_edited(&file, &batch).await;
    assert_eq!(code(&out), 1, "conflicts need a person: {}", text(&out));
    let after = paid_per_phone(&fx).await;
    let report = super::report_by_reference(&fx, &batch).await;
    for (r, phone) in [(changed, &phone), (dropped, &dropped_phone)] {
        assert_eq!(after[phone].len(), before[phone].len(), "{r} not sent");
        let row = &report[r];
        assert_eq!(row["state"], "cancelled", "{row}");
        let note = row["error"].as_str().unwrap_or("");
        assert!(note.contains("withdrawn, not sent"), "{row}");
    }
    assert!(
        report[changed]["error"]
            .as_str()
            .unwrap_or("")
            .contains("77000"),
        "the note names what the file asks now: {}",
        report[changed]
    );
}
