//! `payrun listen` under slow and many clients, loopback only and bounded: hundreds of
//! half-sent requests under a lowered open-files limit must not stop `/health` answering or a
//! signed callback being applied; slow heads and trickling bodies are closed by the server
//! after their (test-set, short) deadlines; reaching the connection cap is logged once.

use std::os::unix::process::CommandExt as _;
use std::time::Duration;

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::listen::*;
use crate::support::pay::ugx_payees;
use crate::support::sim::{SimConfig, client};

/// Open-files limit the receiver runs under: 300 connections cannot all fit.
const NOFILE: u64 = 256;

const DEADLINE: Duration = Duration::from_secs(20);

/// A connection that sent part of a request head and then nothing.
async fn half_sent_head(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /webhooks/rohopay HTTP/1.1\r\nHost: x\r\nContent-Le")
        .await
        .unwrap();
    s
}

/// A connection that sent a complete, signed-looking head announcing 100 bytes of body and
/// then one byte of it.
async fn trickling_body(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhooks/rohopay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Signature: {}\r\nContent-Length: 100\r\n\r\n{{",
        sign(SECRET, b"whatever")
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Wait until the server closes `s` (EOF or reset), returning what it sent first.
async fn closed_by_server(mut s: TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server never closed a slow connection");
    String::from_utf8_lossy(&got).into_owned()
}

/// `payrun listen` whose child process runs under `RLIMIT_NOFILE` = [`NOFILE`].
fn limited_listen(journal: &std::path::Path, envs: &[(&str, &str)]) -> tokio::process::Command {
    let mut cmd = listen_command(journal, Some(SECRET), None);
    cmd.envs(envs.iter().copied());
    // SAFETY: setrlimit is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.as_std_mut().pre_exec(|| {
            setrlimit(Resource::RLIMIT_NOFILE, NOFILE, NOFILE).map_err(std::io::Error::from)
        });
    }
    cmd
}

/// SIGINT the child, wait for it, and return its stderr.
async fn stop(listen: ListenChild) -> String {
    let mut child = listen.child;
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("payrun listen stops on Ctrl-C")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_callbacks_still_work_under_300_half_sent_requests_and_a_low_fd_limit() {
    let fx = fixture(SimConfig::default()).await;
    let (_batch, rows) = accepted_batch(&fx, "rohopay", &ugx_payees(1)).await;
    // Deadlines far beyond the test's own: only making room can let /health through.
    let long = [
        ("PAYRUN_LISTEN_HEADER_TIMEOUT", "600s"),
        ("PAYRUN_LISTEN_BODY_TIMEOUT", "600s"),
    ];
    let listen = start_listen(limited_listen(&fx.journal, &long)).await;
    let addr = listen.base.trim_start_matches("http://").to_owned();

    let mut slow = Vec::new();
    for i in 0..300 {
        slow.push(if i % 20 == 0 {
            trickling_body(&addr).await
        } else {
            half_sent_head(&addr).await
        });
    }

    let health = tokio::time::timeout(
        DEADLINE,
        client().get(format!("{}/health", listen.base)).send(),
    )
    .await
    .expect("/health answers while 300 slow clients are connected")
    .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");

    let url = format!("{}/webhooks/rohopay", listen.base);
    let applied = tokio::time::timeout(
        DEADLINE,
        deliver(&url, &rohopay_callback(&rows[0], "successful")),
    )
    .await
    .expect("a signed callback is answered under load");
    assert_eq!(applied, (200, "succeeded\n".into()));
    assert_eq!(state_of(&fx.journal, rows[0].id), "succeeded");

    drop(slow);
    let stderr = stop(listen).await;
    let notices = stderr
        .lines()
        .filter(|l| l.contains("connection limit reached"))
        .count();
    assert_eq!(notices, 1, "one notice, not one per connection:\n{stderr}");
    assert!(
        stderr.contains("connection limit reached: 192 connections open"),
        "the cap is the open-files limit less 64:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_heads_and_trickling_bodies_are_closed_after_their_deadlines() {
    let fx = fixture(SimConfig::default()).await;
    let short = [
        ("PAYRUN_LISTEN_HEADER_TIMEOUT", "300ms"),
        ("PAYRUN_LISTEN_BODY_TIMEOUT", "300ms"),
    ];
    let listen = start_listen(limited_listen(&fx.journal, &short)).await;
    let addr = listen.base.trim_start_matches("http://").to_owned();

    let mut heads = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..20 {
        heads.push(half_sent_head(&addr).await);
        bodies.push(trickling_body(&addr).await);
    }
    for s in heads {
        // hyper closes a connection whose head is late without an answer (or with a 408).
        let answer = closed_by_server(s).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    for s in bodies {
        let answer = closed_by_server(s).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            answer.contains("body not received within 300 ms"),
            "{answer}"
        );
    }
    // Still serving after all that.
    let health = client()
        .get(format!("{}/health", listen.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let stderr = stop(listen).await;
    assert!(stderr.contains("refused with 408"), "{stderr}");
    assert!(!stderr.contains("connection limit reached"), "{stderr}");
}
