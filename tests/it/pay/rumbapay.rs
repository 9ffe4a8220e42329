//! Rumbapay: exact major-unit amounts, and the duplicate-reference answer (409, code 40) that
//! follows a payout whose first answer was lost — confirmed by looking up the transaction it
//! names, never failed, never paid twice.

use crate::support::pay::{Fixture, batch_id, code, kes_payees, states, text};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn pays_kes_decimals_exactly_once() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = kes_payees(20);
    let file = fx.csv("commissions.csv", &payees);
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no balance endpoint"),
        "balance check skipped visibly: {stdout}"
    );
    let batch = batch_id(&out);
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 20);
    let report = fx.report(&batch).await;
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
    let payees = kes_payees(30);
    let file = fx.csv("commissions.csv", &payees);
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    let batch = batch_id(&out);
    fx.resume_until_done(&batch, Some(&out)).await;
    let report = fx.report(&batch).await;
    // A duplicate reference is confirmed by looking up the transaction it names (its
    // reference must be the row's key), which also tells its current status.
    let states = states(&report);
    let settled = states.get("accepted").unwrap_or(&0) + states.get("succeeded").unwrap_or(&0);
    assert_eq!(settled, 30, "never failed: {states:?}");
    let ledger = fx.ledger().await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 30);
    let duplicates = ledger
        .iter()
        .filter(|e| e["requests"].as_u64() > Some(1))
        .count();
    assert!(
        duplicates > 3,
        "duplicate-reference answers were exercised ({duplicates})"
    );
}
