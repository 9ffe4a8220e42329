//! The real `payrun sim` binary: first stdout line, serving, clean exit on Ctrl-C, and
//! one-line errors for a busy address or a bad flag.

use std::{process::Stdio, time::Duration};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{payrun, sim::*, wait::until_true};

const PATIENCE: Duration = Duration::from_secs(20);

/// Start `payrun sim --listen 127.0.0.1:0 <args>`; returns the child and its base URL, read
/// from the first stdout line.
async fn start(args: &[&str]) -> (tokio::process::Child, String) {
    start_with(args, Stdio::null()).await
}

/// [`start`] with the simulator's stderr going to `stderr`.
async fn start_with(args: &[&str], stderr: Stdio) -> (tokio::process::Child, String) {
    let mut command = tokio::process::Command::from(payrun());
    command
        .args(["sim", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let port = first
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line was {first:?}"));
    let port: u16 = port.parse().unwrap();
    assert_ne!(port, 0);
    // Keep reading so the summary lines never fill the pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://127.0.0.1:{port}"))
}

async fn ledger_len(base: &str) -> usize {
    let ledger: Vec<Value> = client()
        .get(format!("{base}/_sim/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ledger.len()
}

fn disburse_in_background(base: &str) -> tokio::task::JoinHandle<reqwest::Result<u16>> {
    let url = format!("{base}/api/v1/disburse");
    tokio::spawn(async move {
        let response = client()
            .post(url)
            .bearer_auth(LIVE_KEY)
            .header("Idempotency-Key", unique_key())
            .body(ROHOPAY_SEED_BODY)
            .send()
            .await?;
        Ok(response.status().as_u16())
    })
}

fn interrupt(child: &tokio::process::Child) {
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
}

#[tokio::test]
async fn payrun_sim_announces_its_address_serves_and_exits_0_on_ctrl_c() {
    let (mut child, base) = start(&["--seed", "7"]).await;
    let status = disburse_in_background(&base).await.unwrap().unwrap();
    assert_eq!(status, 200);
    assert_eq!(ledger_len(&base).await, 1);
    interrupt(&child);
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn ctrl_c_lets_an_open_request_finish_before_exiting_0() {
    let (mut child, base) = start(&["--slow-rate", "1", "--slow-ms", "1500"]).await;
    let request = disburse_in_background(&base);
    until_true("the simulator to execute the payout", || async {
        ledger_len(&base).await > 0
    })
    .await;
    interrupt(&child);
    assert_eq!(request.await.unwrap().unwrap(), 200);
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn a_second_ctrl_c_quits_at_once_with_130() {
    let (mut child, base) =
        start_with(&["--slow-rate", "1", "--slow-ms", "60000"], Stdio::piped()).await;
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let request = disburse_in_background(&base);
    until_true("the simulator to execute the payout", || async {
        ledger_len(&base).await > 0
    })
    .await;
    interrupt(&child);
    // The first Ctrl-C has been handled once the simulator says it is draining (two signals
    // sent back to back could arrive as one); the held request keeps it draining.
    let draining = async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if line.starts_with("stopping: finishing open requests") {
                return;
            }
        }
        panic!("stderr ended without the draining line");
    };
    tokio::time::timeout(PATIENCE, draining).await.unwrap();
    assert!(child.try_wait().unwrap().is_none(), "still draining");
    interrupt(&child);
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(request.await.unwrap().is_err());
}

#[test]
fn a_busy_address_is_one_line_on_stderr_and_exit_2() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let output = payrun().args(["sim", "--listen", &addr]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
}

#[test]
fn a_bad_balance_list_is_refused_before_listening() {
    let output = payrun()
        .args(["sim", "--balance", "UGX=10.5"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("UGX") && stderr.contains("decimal places"),
        "{stderr}"
    );
}
