//! A run killed with SIGKILL, or interrupted with Ctrl-C, is resumed to the end with no payee
//! paid twice and none skipped.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

/// Start `run` slowly enough to be caught midway.
fn slow_run(fx: &Fixture, file: &std::path::Path) -> tokio::process::Child {
    fx.spawn_run(file, "rohopay", &["--rate", "40", "--concurrency", "4"])
}

/// Wait until the simulator has executed `n` payouts, so a slow start (a loaded CI machine)
/// cannot make the interruption land before anything was sent.
async fn wait_for_payouts(fx: &Fixture, n: usize) {
    crate::support::wait::until_true(&format!("{n} payouts"), || async {
        fx.ledger().await.len() >= n
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_run_then_resume_pays_each_row_once() {
    let fx = Fixture::new(SimConfig::default()).await;
    // 200 rows at 40/s: seconds of sending left when the interruption lands.
    let payees = ugx_payees(200);
    let file = fx.csv("payroll.csv", &payees);
    let mut child = slow_run(&fx, &file);
    wait_for_payouts(&fx, 5).await;
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), None, "killed by a signal");
    let batch = batch_id(&out);
    let paid_before = fx.ledger().await.len();
    assert!(
        paid_before > 0 && paid_before < 200,
        "killed midway: {paid_before} paid"
    );

    fx.resume_until_done(&batch, None).await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_exits_130_with_the_resume_command() {
    let fx = Fixture::new(SimConfig::default()).await;
    // 200 rows at 40/s: seconds of sending left when the interruption lands.
    let payees = ugx_payees(200);
    let file = fx.csv("payroll.csv", &payees);
    let child = slow_run(&fx, &file);
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    wait_for_payouts(&fx, 5).await;
    kill(pid, Signal::SIGINT).unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out));
    let batch = batch_id(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("payrun resume {batch} --journal")),
        "{stdout}"
    );
    let status = fx.status(&batch).await;
    assert_eq!(
        status["states"]["sending"], 0,
        "in-flight requests were drained: {status}"
    );
    assert!(
        status["states"]["planned"].as_u64().unwrap() > 0,
        "{status}"
    );

    fx.resume_until_done(&batch, None).await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_process_on_the_same_batch_is_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(200);
    let file = fx.csv("payroll.csv", &payees);
    let first = slow_run(&fx, &file);
    wait_for_payouts(&fx, 2).await;
    // Frozen mid-batch, the first run holds the lock (its process is alive and its heartbeat
    // is fresh for 30 s) for as long as the second run needs, however slow the machine.
    let pid = Pid::from_raw(i32::try_from(first.id().unwrap()).unwrap());
    kill(pid, Signal::SIGSTOP).unwrap();
    let second = fx.run(&file, "rohopay", &[]).await;
    kill(pid, Signal::SIGCONT).unwrap();
    assert_eq!(code(&second), 3, "{}", text(&second));
    assert!(String::from_utf8_lossy(&second.stderr).contains("being sent by another payrun"));
    let first = first.wait_with_output().await.unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    fx.assert_exactly_once(&batch_id(&first), &payees).await;
}
