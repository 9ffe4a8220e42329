//! Rumbapay: exact major-unit amounts, and the duplicate-reference answer (409, code 40) that
//! follows a payout whose first answer was lost — confirmed by looking up the transaction it
//! names, never failed, never paid twice.

use crate::support::pay::{Fixture, assert_exactly_once, batch_id, code, kes_payees, states, text};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn pays_kes_decimals_exactly_once() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("commissions.csv", &kes_payees(20));
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no balance endpoint"),
        "balance check skipped visibly: {stdout}"
    );
    let report = fx.report(&batch_id(&out)).await;
    assert_eq!(assert_exactly_once(&report, &fx.ledger().await), 20);
    assert!(
        report.iter().all(|r| r["request_id"].is_string()),
        "request ids journaled"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_reference_after_a_lost_answer_is_accepted() {
    let fx = Fixture::new(SimConfig {
        seed: 11,
        drop_rate: 0.4,
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("commissions.csv", &kes_payees(30));
    let mut out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    let batch = batch_id(&out);
    for _ in 0..5 {
        if code(&out) == 0 {
            break;
        }
        assert_eq!(code(&out), 1, "{}", text(&out));
        out = fx.exec(&["resume", &batch, "--yes", "--rate", "500"]).await;
    }
    assert_eq!(code(&out), 0, "{}", text(&out));
    let report = fx.report(&batch).await;
    // A duplicate reference is confirmed by looking up the transaction it names (its
    // reference must be the row's key), which also tells its current status.
    let states = states(&report);
    let settled = states.get("accepted").unwrap_or(&0) + states.get("succeeded").unwrap_or(&0);
    assert_eq!(settled, 30, "never failed: {states:?}");
    let ledger = fx.ledger().await;
    assert_eq!(assert_exactly_once(&report, &ledger), 30);
    let duplicates = ledger
        .iter()
        .filter(|e| e["requests"].as_u64() > Some(1))
        .count();
    assert!(
        duplicates > 3,
        "duplicate-reference answers were exercised ({duplicates})"
    );
}
