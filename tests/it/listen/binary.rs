//! The real `payrun listen` binary: its first stdout line, one masked log line per delivery,
//! exit 0 on Ctrl-C, and exit 2 without a secret or without a journal.

use std::time::Duration;

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};

use crate::support::listen::*;
use crate::support::pay::{code, exec, text, ugx_payees};
use crate::support::sim::{SimConfig, client};

#[tokio::test(flavor = "multi_thread")]
async fn prints_its_address_first_logs_masked_lines_and_stops_on_ctrl_c() {
    let fx = fixture(SimConfig::default()).await;
    let (batch, rows) = accepted_batch(&fx, "rohopay", &ugx_payees(2)).await;
    let listen = start_listen(listen_command(&fx.journal, Some(SECRET), None)).await;
    assert!(
        listen
            .first_line
            .starts_with("listening on http://127.0.0.1:"),
        "{}",
        listen.first_line
    );
    assert!(!listen.base.ends_with(":0"), "{}", listen.base);
    let health = client()
        .get(format!("{}/health", listen.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");

    let url = format!("{}/webhooks/rohopay", listen.base);
    let row = &rows[0];
    assert_eq!(
        deliver(&url, &rohopay_callback(row, "successful")).await,
        (200, "succeeded\n".into())
    );
    let (status, _) = post(&url, b"{}".to_vec(), Some("00")).await;
    assert_eq!(status, 401);
    let off = format!("{}/webhooks/rumbapay", listen.base);
    assert_eq!(post(&off, b"{}".to_vec(), None).await.0, 503);

    let mut child = listen.child;
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("payrun listen stops on Ctrl-C")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();

    assert!(
        stderr.contains("RUMBAPAY_WEBHOOK_SECRET is not set"),
        "the switched-off endpoint is announced:\n{stderr}"
    );
    let applied = stderr
        .lines()
        .find(|l| l.contains("accepted -> succeeded"))
        .unwrap_or_else(|| panic!("no line for the delivery:\n{stderr}"));
    assert!(
        applied.contains(&format!("batch {batch} line {}", row.line)),
        "{applied}"
    );
    let last4 = &row.phone[row.phone.len() - 4..];
    assert!(applied.contains(&format!("********{last4}")), "{applied}");
    assert!(
        !stderr.contains(&row.phone),
        "full phone printed:\n{stderr}"
    );
    assert!(!stderr.contains(SECRET), "secret printed:\n{stderr}");
    assert!(stderr.contains("refused with 401"), "{stderr}");
    assert_eq!(state_of(&fx.journal, row.id), "succeeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_start_without_any_secret() {
    let fx = fixture(SimConfig::default()).await;
    for empty in [None, Some("")] {
        let out = exec(&mut listen_command(&fx.journal, empty, empty)).await;
        assert_eq!(code(&out), 2, "{}", text(&out));
        assert!(out.stdout.is_empty(), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("ROHOPAY_WEBHOOK_SECRET"), "{stderr}");
        assert!(stderr.contains("RUMBAPAY_WEBHOOK_SECRET"), "{stderr}");
        assert!(stderr.contains("unsigned"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_a_missing_journal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let out = exec(&mut listen_command(&missing, Some(SECRET), Some(SECRET))).await;
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no journal at"),
        "{}",
        text(&out)
    );
    assert!(!missing.exists(), "listen never creates a journal");
}
