//! Rows claimed ahead of a free slot (README "Sending"): with several slots, rows are marked
//! `sending` before a slot frees for them. A run that stops gives the ones it never sent back
//! as they were, so the journal says no more than the provider did, and a resume pays each
//! remaining payee once.

use crate::support::pay::{Fixture, batch_id, code, states, text, ugx_payees};
use crate::support::sim::{SimConfig, set_wallet};

#[tokio::test(flavor = "multi_thread")]
async fn an_emptied_wallet_gives_back_the_rows_claimed_ahead() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(150);
    let file = fx.csv("payroll.csv", &payees);
    let child = fx.spawn_run(&file, "rohopay", &["--rate", "60", "--concurrency", "8"]);
    crate::support::wait::until_true("5 payouts", || async { fx.ledger().await.len() >= 5 }).await;
    let balance = set_wallet(&fx.sim, "rohopay", "UGX", 0).await;
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);

    let paid = fx.ledger().await.len();
    let by_state = states(&fx.report(&batch).await);
    let count = |s: &str| by_state.get(s).copied().unwrap_or(0);
    assert_eq!(count("sending"), 0, "nothing left marked: {by_state:?}");
    assert_eq!(count("in_doubt"), 0, "no doubt invented: {by_state:?}");
    assert_eq!(count("accepted") + count("succeeded"), paid, "{by_state:?}");
    assert_eq!(count("planned"), payees.len() - paid, "{by_state:?}");
    assert!(count("planned") > 16, "stopped early: {by_state:?}");

    set_wallet(&fx.sim, "rohopay", "UGX", balance.max(1_000_000_000_000)).await;
    fx.resume_until_done(&batch, None).await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, payees.len());
}
