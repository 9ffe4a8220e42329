//! A closed standard output (`payrun ... | head`) is the end of the output: no panic (exit
//! 101), no error, and for `run` the payouts go on and are journaled as if nothing happened.

use std::os::fd::OwnedFd;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::pay::{Fixture, code, exec, states, text, ugx_payees};
use crate::support::sim::SimConfig;

/// A pipe whose read end is already closed: every write to the other end fails with EPIPE,
/// from the first byte on, whatever the timing.
fn closed_pipe() -> OwnedFd {
    // Close-on-exec, so no child spawned meanwhile by another test inherits the read end.
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    drop(read);
    write
}

/// Rows the provider took (accepted or succeeded).
fn paid(report: &[serde_json::Value]) -> usize {
    let s = states(report);
    s.get("accepted").unwrap_or(&0) + s.get("succeeded").unwrap_or(&0)
}

/// Neither a panic nor a complaint about the pipe.
fn assert_quiet_end(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(code(out), 101, "{what}: {}", text(out));
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{what}: {stderr}");
    assert!(!stderr.contains("standard output"), "{what}: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_pays_every_row_once_after_its_reader_goes_away() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(20);
    let file = fx.csv("payroll.csv", &payees);
    let mut child = fx.spawn_run(&file, "rohopay", &["--batch", "head-1", "--rate", "100"]);
    // `payrun run ... | head -1`: one line read, then the reader is gone.
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .await
        .expect("a first line");
    assert!(first.starts_with("Planned batch head-1"), "{first}");
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("run finished within 90 s")
        .expect("run waited for");
    assert_quiet_end(&out, "run");
    assert_eq!(code(&out), 0, "{}", text(&out));

    let report = fx.report("head-1").await;
    assert_eq!(paid(&report), 20, "{report:?}");
    assert_eq!(fx.assert_exactly_once("head-1", &payees).await, 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_ends_normally_when_stdout_is_closed_from_the_start() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(12);
    let file = fx.csv("payroll.csv", &payees);
    let file = file.to_str().unwrap();
    let run = [
        "run",
        file,
        "--provider",
        "rohopay",
        "--yes",
        "--batch",
        "closed",
    ];
    let closed = exec(fx.payrun().args(run).stdout(closed_pipe())).await;
    assert_quiet_end(&closed, "run");
    assert_eq!(code(&closed), 0, "{}", text(&closed));
    let report = fx.report("closed").await;
    assert_eq!(paid(&report), 12, "{report:?}");
    assert_eq!(fx.assert_exactly_once("closed", &payees).await, 12);

    // Each command, with stdout open and then closed: the same exit code, quietly.
    let commands: Vec<Vec<&str>> = vec![
        run.to_vec(),
        vec!["resume", "closed", "--yes"],
        vec!["status"],
        vec!["status", "closed"],
        vec!["status", "closed", "--format", "json"],
        vec!["report", "closed"],
        vec!["report", "closed", "--format", "json"],
        vec!["reconcile", "closed"],
        vec!["validate", file, "--provider", "rohopay"],
        vec![
            "validate",
            file,
            "--provider",
            "rohopay",
            "--format",
            "json",
        ],
        vec!["generate", "--rows", "2000", "--provider", "rohopay"],
    ];
    for args in &commands {
        let open = fx.exec(args).await;
        assert!(!open.stdout.is_empty(), "{args:?} prints: {}", text(&open));
        let closed = exec(fx.payrun().args(args).stdout(closed_pipe())).await;
        assert_quiet_end(&closed, &format!("{args:?}"));
        assert_eq!(code(&closed), code(&open), "{args:?}: {}", text(&closed));
    }
    // `reconcile` replays RohoPay requests with their keys: executed once each all the same.
    assert_eq!(fx.assert_exactly_once("closed", &payees).await, 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn sim_keeps_serving_when_stdout_is_closed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_payrun"))
        .args(["sim", "--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sim starts");
    let url = format!("http://127.0.0.1:{port}/_sim/ledger");
    let client = crate::support::sim::client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("sim status") {
            let out = child.wait_with_output().await.expect("sim output");
            panic!("sim exited ({status}) with stdout closed: {}", text(&out));
        }
        if let Ok(resp) = client.get(&url).send().await
            && resp.status().is_success()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sim never answered on {url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().expect("kill sim");
    let out = child.wait_with_output().await.expect("sim output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}
