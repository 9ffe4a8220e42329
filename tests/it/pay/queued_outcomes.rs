//! Outcomes queued without waiting, and claims of up to 5 ms worth of rows ahead (README
//! "Sending"): with several slots a row's outcome commits with the next rows' `sending` marks
//! and is counted from the journal thread. The run's closing figures must still be the
//! journal's, a crash with many rows `sending` must resume to each payee paid once, and
//! Ctrl-C must give back every row claimed and not sent.

use std::collections::BTreeMap;
use std::process::Output;

use crate::support::pay::{Fixture, batch_id, code, states, text, ugx_payees};
use crate::support::sim::SimConfig;

/// The figures of the run's `Sent N payout(s) ...: A accepted (S succeeded, P pending), F
/// failed, D in doubt; N not sent` line, by the word after each number.
fn run_figures(out: &Output) -> BTreeMap<String, u64> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Sent "))
        .unwrap_or_else(|| panic!("no Sent line:\n{}", text(out)));
    let (_, figures) = line.split_once("): ").expect("the figures after the rate");
    let words: Vec<&str> = figures
        .split(|c: char| c.is_whitespace() || "(),;".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = BTreeMap::new();
    for pair in words.windows(2) {
        if let Ok(n) = pair[0].parse::<u64>() {
            found.insert(pair[1].to_string(), n);
        }
    }
    found
}

/// The run's closing figures against the journal's states: a fresh batch, so every row the
/// run did not send is still `planned`.
async fn assert_figures_are_the_journals(fx: &Fixture, out: &Output) {
    let batch = batch_id(out);
    let by_state = states(&fx.report(&batch).await);
    let count = |s: &str| by_state.get(s).copied().unwrap_or(0) as u64;
    let said = run_figures(out);
    let figure = |w: &str| said.get(w).copied().unwrap_or(0);
    let context = format!("said {said:?}, journal {by_state:?}\n{}", text(out));
    assert_eq!(figure("succeeded"), count("succeeded"), "{context}");
    assert_eq!(figure("pending"), count("accepted"), "{context}");
    assert_eq!(figure("failed"), count("failed"), "{context}");
    assert_eq!(
        figure("in"),
        count("in_doubt") + count("sending"),
        "in doubt: {context}"
    );
    assert_eq!(figure("not"), count("planned"), "not sent: {context}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_closing_figures_are_the_journals_under_faults_with_many_slots() {
    let fx = Fixture::new(SimConfig {
        seed: 11,
        error_rate: 0.05,
        drop_rate: 0.05,
        fail_rate: 0.05,
        ..SimConfig::default()
    })
    .await;
    let payees = ugx_payees(400);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx
        .run(&file, "rohopay", &["--rate", "2000", "--concurrency", "8"])
        .await;
    assert!(matches!(code(&out), 0 | 1), "{}", text(&out));
    assert_figures_are_the_journals(&fx, &out).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_with_many_rows_claimed_ahead_resumes_to_each_payee_once() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(600);
    let file = fx.csv("payroll.csv", &payees);
    // 20,000/s with 16 slots: 100 rows claimed ahead (5 ms worth), in claims of 25.
    let out = fx
        .run_envs(
            &file,
            "rohopay",
            &["--rate", "20000", "--concurrency", "16", "--batch", "ahead"],
            &[("PAYRUN_CRASH_AT", "after-response:150")],
        )
        .await;
    assert_eq!(out.status.code(), None, "aborted: {}", text(&out));
    let report = fx.report("ahead").await;
    let by_state = states(&report);
    let ledger = fx.ledger().await;
    assert!(
        ledger.len() >= 150 && ledger.len() < 600,
        "{}",
        ledger.len()
    );
    // Every payout the provider made is journaled as sent (its outcome, or `sending` when
    // the outcome was still queued): none is `planned`, which a resume would pay again
    // under... the same key, but the journal would have said it was never sent.
    for paid in &ledger {
        let row = report
            .iter()
            .find(|r| r["key"] == paid["key"])
            .unwrap_or_else(|| panic!("paid key not in the journal: {paid}"));
        assert_ne!(row["state"], "planned", "paid but journaled as never sent");
    }
    let sending = by_state.get("sending").copied().unwrap_or(0);
    // 100 claimed ahead: more rows `sending` than slots, most never sent.
    assert!(sending > 16, "claimed ahead: {by_state:?}");

    fx.resume_until_done("ahead", None).await;
    assert_eq!(fx.assert_exactly_once("ahead", &payees).await, 600);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_at_a_fast_rate_gives_back_every_row_claimed_ahead() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(3000);
    let file = fx.csv("payroll.csv", &payees);
    // 1,000/s with 32 slots: 64 rows claimed ahead, while 32 requests are in flight.
    let child = fx.spawn_run(&file, "rohopay", &["--rate", "1000", "--concurrency", "32"]);
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    crate::support::wait::until_true("200 payouts", || async { fx.ledger().await.len() >= 200 })
        .await;
    kill(pid, Signal::SIGINT).unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out));
    let batch = batch_id(&out);
    let by_state = states(&fx.report(&batch).await);
    let count = |s: &str| by_state.get(s).copied().unwrap_or(0);
    assert_eq!(count("sending"), 0, "nothing left marked: {by_state:?}");
    assert_eq!(count("in_doubt"), 0, "no doubt invented: {by_state:?}");
    assert_eq!(
        count("accepted") + count("succeeded"),
        fx.ledger().await.len(),
        "{by_state:?}"
    );
    assert!(count("planned") > 0, "interrupted midway: {by_state:?}");
    assert_figures_are_the_journals(&fx, &out).await;

    fx.resume_until_done(&batch, None).await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 3000);
}
