//! `status` says how each batch's last run ended and the exact next command: finished (then
//! reconcile or nothing), wallet empty, provider unavailable, interrupted (Ctrl-C, or a killed
//! process), lock lost (resume each time). Cancelled and retry are in their own tests.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::{SimConfig, set_wallet};

fn resume_of(fx: &Fixture, batch: &str) -> String {
    format!("payrun resume {batch} --journal {}", fx.journal.display())
}

async fn assert_ended(fx: &Fixture, batch: &str, end: &str, next: Option<&str>) -> Value {
    let status = fx.status(batch).await;
    assert_eq!(status["last_run"]["end"], end, "{status}");
    assert_eq!(status["next"].as_str(), next, "{status}");
    // The text says the same, times in local time with the offset.
    let out = fx.exec(&["status", batch]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    let line = said
        .lines()
        .find(|l| l.trim_start().starts_with("last run:"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(line.contains(&end.replace('_', " ")), "{said}");
    let next_line = said
        .lines()
        .find(|l| l.trim_start().starts_with("next:"))
        .unwrap();
    match next {
        Some(cmd) => assert!(next_line.ends_with(cmd), "{said}"),
        None => assert!(next_line.contains("nothing to do"), "{said}"),
    }
    let list = fx.exec(&["status"]).await;
    let list = String::from_utf8_lossy(&list.stdout);
    if let Some(cmd) = next {
        assert!(list.contains(&format!("    next: {cmd}")), "{list}");
    }
    status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_run_says_reconcile_until_settled_then_nothing() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(5));
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    let batch = batch_id(&out);
    let reconcile = format!(
        "payrun reconcile {batch} --journal {}",
        fx.journal.display()
    );
    assert_ended(&fx, &batch, "finished", Some(&reconcile)).await;
    fx.exec(&["reconcile", &batch]).await;
    let status = assert_ended(&fx, &batch, "finished", None).await;
    assert_eq!(status["last_run"]["command"], "run");
    // Local time with its offset, here +03:00.
    let out = fx.exec_with_env(&["status", &batch], "TZ", "EAT-3").await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(" +03:00"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_emptied_wallet_says_wallet_empty_and_resume() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(100));
    let child = fx.spawn_run(&file, "rohopay", &["--rate", "20", "--concurrency", "1"]);
    crate::support::wait::until_true("3 payouts", || async { fx.ledger().await.len() >= 3 }).await;
    set_wallet(&fx.sim, "rohopay", "UGX", 0).await;
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    let status = assert_ended(&fx, &batch, "wallet_empty", Some(&resume_of(&fx, &batch))).await;
    assert!(status["last_run"]["detail"].is_string(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_provider_pause_says_provider_unavailable_and_resume() {
    let fx = Fixture::new(SimConfig {
        throttle_after: Some(2),
        throttle_count: Some(1),
        retry_after: Some("999999".into()),
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("payroll.csv", &ugx_payees(6));
    let out = fx.run(&file, "rohopay", &["--concurrency", "1"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    let status = assert_ended(
        &fx,
        &batch,
        "provider_unavailable",
        Some(&resume_of(&fx, &batch)),
    )
    .await;
    assert!(
        status["last_run"]["detail"]
            .as_str()
            .unwrap()
            .contains("999999 s"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_and_a_killed_process_both_say_interrupted_and_resume() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(150));
    for signal in [Signal::SIGINT, Signal::SIGKILL] {
        let child = fx.spawn_run(&file, "rohopay", &["--rate", "30"]);
        let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
        let before = fx.ledger().await.len();
        crate::support::wait::until_true("3 more payouts", || async {
            fx.ledger().await.len() >= before + 3
        })
        .await;
        kill(pid, signal).unwrap();
        let out = child.wait_with_output().await.unwrap();
        let batch = batch_id(&out);
        let status = assert_ended(&fx, &batch, "interrupted", Some(&resume_of(&fx, &batch))).await;
        // Ctrl-C is recorded; a killed process never recorded its end.
        assert_eq!(
            status["last_run"]["ended_at"].is_string(),
            signal == Signal::SIGINT,
            "{status}"
        );
    }
}

/// Stop `pid` at a moment it holds no journal write transaction: a process frozen inside
/// one holds SQLite's write lock, and nobody can take its batch over until it is thawed.
async fn freeze_outside_a_write(pid: Pid, journal: &std::path::Path) {
    for _ in 0..200 {
        kill(pid, Signal::SIGSTOP).unwrap();
        let conn = rusqlite::Connection::open(journal).unwrap();
        conn.busy_timeout(std::time::Duration::ZERO).unwrap();
        if conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").is_ok() {
            return;
        }
        kill(pid, Signal::SIGCONT).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(7)).await;
    }
    panic!("the run was inside a journal write every time it was stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lock_was_taken_over_says_lock_lost_and_resume() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(200));
    let child = fx
        .run_command(&file, "rohopay", &["--rate", "30", "--concurrency", "1"])
        .env("PAYRUN_LOCK_STALE_MS", "1000")
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    crate::support::wait::until_true("3 payouts", || async { fx.ledger().await.len() >= 3 }).await;
    freeze_outside_a_write(pid, &fx.journal).await;
    let batch = {
        let all = fx.exec(&["status", "--format", "json"]).await;
        let all: Value = serde_json::from_slice(&all.stdout).unwrap();
        all[0]["batch"].as_str().unwrap().to_string()
    };
    // Once the frozen run's heartbeat is stale, reconcile takes the batch over (and starts no
    // run of its own); the run, thawed, finds its lock gone.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let out = fx
        .exec_with_env(&["reconcile", &batch], "PAYRUN_LOCK_STALE_MS", "1000")
        .await;
    kill(pid, Signal::SIGCONT).unwrap();
    assert!(code(&out) <= 1, "{}", text(&out));
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert_ended(&fx, &batch, "lock_lost", Some(&resume_of(&fx, &batch))).await;
}
