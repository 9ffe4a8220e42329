//! Reconcile and in-doubt rows in words a clerk reads (issue 13): a summary of what changed
//! rather than a line per row (every row with `--verbose`), failures in the provider's words,
//! exit 1 when a row became failed; and a row in doubt that says what happened and what payrun
//! will do, the library's error kept in the row's events.

use crate::support::pay::{Fixture, Payee, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

/// Twelve RohoPay payees paid and settled at the simulator, not yet reconciled: line 3 fails.
async fn paid_batch() -> (Fixture, String, Vec<Payee>) {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(12);
    payees[1].phone = "256770120000".into();
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    crate::support::wait::until_true("the simulator to settle", || async {
        fx.ledger().await.iter().all(|e| e["status"] != "pending")
    })
    .await;
    (fx, batch, payees)
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_sums_up_and_lists_every_row_only_when_asked() {
    let (fx, batch, payees) = paid_batch().await;
    let out = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&out), 1, "a row became failed: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("12 changed (11 succeeded, 1 failed), 0 still pending at the provider, 0 unchanged, 0 need a person"),
        "{stdout}"
    );
    assert!(stdout.contains("Failed (1)"), "{stdout}");
    assert!(
        stdout.contains("line 3 EMP-0001: provider reported the payout failed and gave no reason"),
        "{stdout}"
    );
    assert!(!stdout.contains("→"), "no line per row: {stdout}");
    assert!(stdout.lines().count() <= 6, "{stdout}");
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 12);

    let (fx, batch, _) = paid_batch().await;
    let out = fx.exec(&["reconcile", &batch, "--verbose"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.matches("accepted → succeeded").count(),
        11,
        "{stdout}"
    );
    assert!(
        stdout.contains("line 3 EMP-0001: accepted → failed"),
        "{stdout}"
    );

    // Nothing left to change: exit 0, and the unchanged pending row is counted, not listed.
    let again = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("checked 0 payout(s)"),
        "{}",
        text(&again)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_in_doubt_says_what_happened_and_keeps_the_library_error_in_its_events() {
    let fx = Fixture::new(SimConfig {
        drop_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("payroll.csv", &ugx_payees(2));
    let out = fx
        .run_envs(&file, "rohopay", &[], &[("PAYRUN_MAX_TRIES", "1")])
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    for row in fx.report(&batch).await {
        assert_eq!(row["state"], "in_doubt", "{row}");
        assert_eq!(
            row["error"], "the provider did not answer; payrun will ask it before paying again",
            "{row}"
        );
    }
    let conn = crate::support::journal::peek(&fx.journal);
    let details: Vec<String> = conn
        .prepare("SELECT detail FROM events WHERE kind = 'send'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(details.len(), 2);
    for detail in details {
        assert!(
            detail.starts_with("no answer from the provider (") && detail.contains("connection"),
            "the library's words are kept: {detail}"
        );
    }
}
