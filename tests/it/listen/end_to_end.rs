//! The whole loop: `payrun run --callback-url` against the simulator, which settles each payout
//! and calls back signed; the receiver (in-process for RohoPay, the `payrun listen` binary for
//! Rumbapay) moves every row to its final state in the journal the run writes too.

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use serde_json::Value;

use crate::support::listen::*;
use crate::support::pay::{Fixture, batch_id, code, kes_payees, text, ugx_payees};
use crate::support::sim::SimConfig;

fn signing_sim() -> SimConfig {
    SimConfig {
        webhook_secret: Some(SECRET.to_owned()),
        settle_ms: 30,
        ..SimConfig::default()
    }
}

fn settled(succeeded: u64, failed: u64) -> impl Fn(&Value) -> bool {
    move |status| status["states"]["succeeded"] == succeeded && status["states"]["failed"] == failed
}

/// Each row got exactly one webhook event, and it applied the row's final state.
fn one_application_per_row(fx: &Fixture) {
    let rows = rows(&fx.journal);
    let events = webhook_events(&fx.journal);
    for row in &rows {
        let mine: Vec<_> = events.iter().filter(|(id, _)| *id == row.id).collect();
        assert_eq!(mine.len(), 1, "row {row:?}: {events:?}");
        assert_eq!(mine[0].1, row.state, "row {row:?}: {events:?}");
    }
}

/// The exit code the run's own closing status implies (README "Exit codes"): 0 when its `rows`
/// line lists only accepted and succeeded rows, else 1. A callback can settle the failing row
/// before or after that line is written, so the line, not the test, knows which it was.
fn exit_for_closing_status(out: &std::process::Output) -> i32 {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("rows "))
        .unwrap_or_else(|| panic!("no rows line: {stdout}"));
    let (_, states) = line.split_once(": ").unwrap_or_else(|| panic!("{line}"));
    let all_good = states.split(", ").all(|part| {
        let word = part.split_whitespace().nth(1).unwrap_or_default();
        matches!(word, "succeeded" | "accepted")
    });
    i32::from(!all_good)
}

#[tokio::test(flavor = "multi_thread")]
async fn rohopay_callbacks_settle_every_row_of_a_real_run() {
    let fx = fixture(signing_sim()).await;
    let receiver = InProcess::start(&fx.journal).await;
    let mut payees = ugx_payees(8);
    payees[3].phone = "256770120000".into(); // the simulator fails numbers ending 0000
    let file = fx.csv("payroll.csv", &payees);
    let callback_url = receiver.url("rohopay");
    let out = fx
        .run(
            &file,
            "rohopay",
            &["--rate", "500", "--callback-url", &callback_url],
        )
        .await;
    assert_eq!(code(&out), exit_for_closing_status(&out), "{}", text(&out));
    let batch = batch_id(&out);

    wait_for_status(&fx, &batch, settled(7, 1)).await;
    let failed: Vec<_> = rows(&fx.journal)
        .into_iter()
        .filter(|r| r.state == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].phone.ends_with("0000"), "{failed:?}");
    one_application_per_row(&fx);
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 8);
    let lines = receiver.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("accepted -> failed") || l.contains("sending -> failed")),
        "{lines:#?}"
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rumbapay_callbacks_through_the_listen_binary_settle_every_row() {
    let fx = fixture(signing_sim()).await;
    let listen = start_listen(listen_command(&fx.journal, None, Some(SECRET))).await;
    let mut payees = kes_payees(6);
    payees[2].phone = "+254712970000".into();
    let file = fx.csv("commissions.csv", &payees);
    let callback_url = format!("{}/webhooks/rumbapay", listen.base);
    let out = fx
        .run(
            &file,
            "rumbapay",
            &["--rate", "500", "--callback-url", &callback_url],
        )
        .await;
    assert_eq!(code(&out), exit_for_closing_status(&out), "{}", text(&out));
    let batch = batch_id(&out);

    wait_for_status(&fx, &batch, settled(5, 1)).await;
    one_application_per_row(&fx);
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 6);

    let pid = Pid::from_raw(i32::try_from(listen.child.id().unwrap()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    let done = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        listen.child.wait_with_output(),
    )
    .await
    .expect("payrun listen stops on Ctrl-C")
    .unwrap();
    assert_eq!(done.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(
        stderr.matches("rumbapay webhook: batch ").count(),
        6,
        "one line per delivery:\n{stderr}"
    );
    assert!(stderr.contains("-> failed"), "{stderr}");
}
