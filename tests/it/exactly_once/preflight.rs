//! A resume started right after a kill meets a provider whose rate limit the dead process had
//! used up, so the pre-flight balance read is answered 429. That means "slow down", not "no"
//! (a 429's Retry-After is honoured): payrun must wait and send, not refuse the batch (exit 3)
//! and leave an operator resuming in a loop. Found by the random trials (seed 78).

use super::driver::Batch;
use super::payfile::PayFile;
use super::process::Kill;
use super::trial::{Cmd, TrialPlan};
use crate::support::pay::Fixture;
use crate::support::sim::{LIVE_KEY, SimConfig, client};

/// Spend the simulator's quota for this second: request the balance until it answers 429.
async fn use_up_the_rate_limit(fx: &Fixture) {
    let url = format!(
        "{}/api/v1/wallet/balance?currency=UGX",
        fx.sim.rohopay_base_url()
    );
    for _ in 0..100 {
        let status = client()
            .get(&url)
            .bearer_auth(LIVE_KEY)
            .send()
            .await
            .unwrap()
            .status();
        if status == 429 {
            return;
        }
    }
    panic!("the simulator never rate limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_balance_read_waits_instead_of_refusing() {
    let mut plan = TrialPlan::fixed("rohopay", 2, 1, 0);
    plan.file = PayFile::simple("rohopay", 2, true);
    plan.sim = SimConfig {
        rate_limit: Some(1),
        ..SimConfig::default()
    };
    let fx = Fixture::new(plan.sim.clone()).await;
    let batch = Batch::new(&fx, &plan);
    use_up_the_rate_limit(&fx).await;

    let end = batch.spawn_and_finish(Cmd::Run, Kill::Never).await;
    assert_eq!(end.code(), Some(0), "{}", end.text());
    let v = batch.verdict().await;
    assert!(v.is_clean(), "{:#?}", v.problems);
    assert_eq!(v.payouts, 2);
}
