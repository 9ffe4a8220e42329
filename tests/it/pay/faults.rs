//! Provider faults: dropped connections (executed, no answer), 5xx, 429 with Retry-After,
//! timeouts. None of them may pay a row twice or fail a row that may have been paid.

use crate::support::journal::send_attempts;
use crate::support::pay::{Fixture, Payee, batch_id, code, states, text, ugx_payees};
use crate::support::sim::SimConfig;

/// Run `rows` payees and resume until done; every exit 1 on the way is explained by rows the
/// journal still has open. The ledger is checked against the payees by the exactly-once
/// checker; returns the ledger for the fault-specific assertions.
async fn run_and_resume(fx: &Fixture, rows: usize) -> Vec<serde_json::Value> {
    let payees: Vec<Payee> = ugx_payees(rows);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--concurrency", "8"])
        .await;
    let batch = batch_id(&out);
    fx.resume_until_done(&batch, Some(&out)).await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, rows);
    fx.ledger().await
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_connections_never_double_pay() {
    let fx = Fixture::new(SimConfig {
        seed: 7,
        drop_rate: 0.3,
        ..SimConfig::default()
    })
    .await;
    let ledger = run_and_resume(&fx, 50).await;
    let retried = ledger
        .iter()
        .filter(|e| e["requests"].as_u64() > Some(1))
        .count();
    assert!(
        retried > 5,
        "drops were exercised: {retried} rows needed more than one request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_with_the_same_key() {
    let fx = Fixture::new(SimConfig {
        seed: 3,
        error_rate: 0.3,
        ..SimConfig::default()
    })
    .await;
    let ledger = run_and_resume(&fx, 50).await;
    assert!(ledger.iter().any(|e| e["requests"].as_u64() > Some(1)));
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_pauses_the_whole_provider() {
    let fx = Fixture::new(SimConfig {
        rate_limit: Some(10),
        ..SimConfig::default()
    })
    .await;
    let payees = ugx_payees(30);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx
        .run(&file, "rohopay", &["--rate", "200", "--concurrency", "4"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.assert_exactly_once(&batch_id(&out), &payees).await, 30);
    // From payrun's own attempt log, no clock threshold: after a 429 came back (no
    // Retry-After header: payrun waits 1 s), every worker waits out the pause. Only the other
    // workers' requests already past the pause gate may still start inside it — at most one
    // each, so at most concurrency - 1 = 3 per pause. Per-request retries would start dozens.
    let attempts = send_attempts(&fx.journal);
    let limited: Vec<_> = attempts
        .iter()
        .filter(|a| a.outcome == "rate_limited")
        .collect();
    assert!(!limited.is_empty(), "the rate limit was hit: {attempts:?}");
    for pause in &limited {
        let inside = attempts
            .iter()
            .filter(|a| a.started_ms > pause.ended_ms && a.started_ms < pause.ended_ms + 1000)
            .count();
        assert!(
            inside <= 3,
            "{inside} requests started within the 1 s pause after the 429 at {}: {attempts:?}",
            pause.ended_ms
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_leave_rows_in_doubt_never_failed_never_paid_twice() {
    let fx = Fixture::new(SimConfig {
        slow_rate: 1.0,
        slow_ms: 1500,
        ..SimConfig::default()
    })
    .await;
    let payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let envs = [("PAYRUN_HTTP_TIMEOUT", "0.3"), ("PAYRUN_MAX_TRIES", "3")];
    let out = fx
        .run_envs(&file, "rohopay", &["--rate", "100"], &envs)
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    let report = fx.report(&batch).await;
    assert_eq!(states(&report).get("in_doubt"), Some(&3), "{report:?}");
    let ledger = fx.ledger().await;
    assert_eq!(
        ledger.len(),
        3,
        "each executed once although sent {} times",
        ledger.len()
    );
    assert!(ledger.iter().all(|e| e["requests"].as_u64() >= Some(2)));

    // Once the provider answers in time, resume settles them with the same keys.
    let out = fx
        .exec_with_env(&["resume", &batch, "--yes"], "PAYRUN_HTTP_TIMEOUT", "5")
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 3);
}
