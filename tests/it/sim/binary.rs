//! The real `payrun sim` binary: first stdout line, serving, clean exit on Ctrl-C, and
//! one-line errors for a busy address or a bad flag.

use std::{process::Stdio, time::Duration};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{payrun, sim::*};

const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn payrun_sim_announces_its_address_serves_and_exits_0_on_ctrl_c() {
    let mut command = tokio::process::Command::from(payrun());
    command
        .args(["sim", "--listen", "127.0.0.1:0", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let base = first
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line was {first:?}"));
    let port: u16 = base.parse().unwrap();
    assert_ne!(port, 0);
    let base = format!("http://127.0.0.1:{port}");
    let response = client()
        .post(format!("{base}/api/v1/disburse"))
        .bearer_auth(LIVE_KEY)
        .header("Idempotency-Key", "binary-test-1")
        .body(ROHOPAY_SEED_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let ledger: Vec<Value> = client()
        .get(format!("{base}/_sim/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1);

    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
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
