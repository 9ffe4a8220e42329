//! `payrun reconcile`: final states from the provider (Rumbapay status query, RohoPay replay),
//! forward only, with rows in doubt settled without double payment.

use crate::support::pay::{Fixture, batch_id, code, kes_payees, states, text, ugx_payees};
use crate::support::sim::SimConfig;

async fn wait_settled(fx: &Fixture, pending: usize) {
    crate::support::wait::until_true("the simulator to settle", || async {
        let ledger = fx.ledger().await;
        ledger.iter().filter(|e| e["status"] == "pending").count() <= pending
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rohopay_replay_reports_final_states_forward_only() {
    let fx = Fixture::new(SimConfig {
        settle_ms: 50,
        ..SimConfig::default()
    })
    .await;
    let mut payees = ugx_payees(6);
    payees[1].phone = "256770120000".into(); // always fails in the simulator
    payees[2].phone = "256770120099".into(); // stays pending forever
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    wait_settled(&fx, 1).await;

    let out = fx
        .exec(&["reconcile", &batch, "--rate", "500", "--verbose"])
        .await;
    // A row became failed: exit 1. The pending one is not a person's problem.
    assert_eq!(code(&out), 1, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("accepted → succeeded"), "{stdout}");
    assert!(stdout.contains("accepted → failed"), "{stdout}");
    assert!(stdout.contains("1 still pending"), "{stdout}");
    assert!(stdout.contains("0 need a person"), "{stdout}");
    // RohoPay documents no failure reason: the row says it gave none.
    assert!(
        stdout.contains("line 3 EMP-0001: provider reported the payout failed and gave no reason"),
        "{stdout}"
    );
    let report = fx.report(&batch).await;
    let s = states(&report);
    assert_eq!(
        (s.get("succeeded"), s.get("failed"), s.get("accepted")),
        (Some(&4), Some(&1), Some(&1))
    );
    assert_eq!(
        fx.assert_exactly_once(&batch, &payees).await,
        6,
        "replays executed nothing new"
    );

    // Reconciling again changes nothing and never moves a final row back.
    let again = fx.exec(&["reconcile", &batch, "--rate", "500"]).await;
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 changed"));
    assert_eq!(states(&fx.report(&batch).await), s);
}

#[tokio::test(flavor = "multi_thread")]
async fn rumbapay_status_query_settles_accepted_rows() {
    let fx = Fixture::new(SimConfig {
        settle_ms: 20,
        ..SimConfig::default()
    })
    .await;
    let mut payees = kes_payees(5);
    payees[0].phone = "+254712340000".into();
    let file = fx.csv("commissions.csv", &payees);
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    wait_settled(&fx, 0).await;
    let out = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&out), 1, "a row became failed: {}", text(&out));
    // In Rumbapay's own words.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "line 2 AG-0000: provider reported the payout failed: Payout declined by the mobile network"
        ),
        "{}",
        text(&out)
    );
    let report = fx.report(&batch).await;
    assert_eq!(states(&report).get("succeeded"), Some(&4));
    assert_eq!(states(&report).get("failed"), Some(&1));
    let requests: u64 = fx
        .ledger()
        .await
        .iter()
        .map(|e| e["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(requests, 5, "status queries are GETs, not payouts");
}

#[tokio::test(flavor = "multi_thread")]
async fn in_doubt_rohopay_rows_are_settled_by_replay_without_double_payment() {
    let fx = Fixture::new(SimConfig {
        slow_rate: 1.0,
        slow_ms: 800,
        ..SimConfig::default()
    })
    .await;
    let payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let envs = [("PAYRUN_HTTP_TIMEOUT", "0.2"), ("PAYRUN_MAX_TRIES", "1")];
    let out = fx
        .run_envs(&file, "rohopay", &["--rate", "100"], &envs)
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    assert_eq!(states(&fx.report(&batch).await).get("in_doubt"), Some(&3));
    let out = fx.exec(&["reconcile", &batch, "--verbose"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("in_doubt → "),
        "{}",
        text(&out)
    );
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn rumbapay_rows_in_doubt_without_request_id_need_a_person() {
    let fx = Fixture::new(SimConfig {
        seed: 5,
        drop_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("commissions.csv", &kes_payees(2));
    let envs = [("PAYRUN_MAX_TRIES", "1")];
    let out = fx
        .run_envs(&file, "rumbapay", &["--rate", "100"], &envs)
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    let out = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Needs a person") && stdout.contains("payrun resume"),
        "{stdout}"
    );
    assert_eq!(fx.ledger().await.len(), 2, "reconcile sent no payout");
}
