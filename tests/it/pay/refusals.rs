//! Everything `run` refuses before a single request leaves (exit 3), and configuration
//! errors (exit 2). The ledger proves nothing was sent.

use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn test_key_is_refused_before_sending() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("p.csv", &ugx_payees(3));
    let out = fx
        .exec_with_env(
            &[
                "run",
                file.to_str().unwrap(),
                "--provider",
                "rohopay",
                "--yes",
            ],
            "ROHOPAY_API_KEY",
            "test_abc",
        )
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("test key"),
        "{}",
        text(&out)
    );
    assert!(fx.ledger().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn insufficient_balance_is_refused_before_sending() {
    let fx = Fixture::new(SimConfig {
        balances: [("UGX".to_string(), 15_000)].into(),
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("p.csv", &ugx_payees(3)); // 10000 + 10500 + 11000 UGX
    let out = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("SHORT by 16,500"), "{all}");
    assert!(all.contains("insufficient balance"), "{all}");
    assert!(fx.ledger().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_rows_refuse_the_file_unless_skipped() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(4);
    payees[2].phone = "2.567E+11".into();
    let file = fx.csv("p.csv", &payees);
    let out = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 4, phone \"2.567E+11\""), "{stderr}");
    assert!(fx.ledger().await.is_empty());
    let listed = fx.exec(&["status"]).await;
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("no batches"),
        "nothing planned"
    );

    let out = fx
        .run(&file, "rohopay", &["--skip-invalid", "--rate", "500"])
        .await;
    assert_eq!(
        code(&out),
        1,
        "rejected rows make the run incomplete: {}",
        text(&out)
    );
    let status = fx.status(&batch_id(&out)).await;
    assert_eq!(status["states"]["rejected"], 1);
    assert_eq!(status["states"]["accepted"], 3);
    assert_eq!(fx.ledger().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_yes_is_required() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("p.csv", &ugx_payees(2));
    let out = fx
        .exec(&["run", file.to_str().unwrap(), "--provider", "rohopay"])
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(fx.ledger().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_errors_exit_2() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("p.csv", &ugx_payees(2));
    let args = [
        "run",
        file.to_str().unwrap(),
        "--provider",
        "rohopay",
        "--yes",
    ];
    let no_key = fx.exec_without_env(&args, "ROHOPAY_API_KEY").await;
    assert_eq!(code(&no_key), 2, "{}", text(&no_key));
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("ROHOPAY_API_KEY is not set"));
    let plain_http = fx
        .exec_with_env(&args, "ROHOPAY_BASE_URL", "http://api.rohopay.com")
        .await;
    assert_eq!(code(&plain_http), 2, "{}", text(&plain_http));
    assert!(String::from_utf8_lossy(&plain_http.stderr).contains("must use https"));
    let missing = fx
        .exec(&["run", "/nonexistent.csv", "--provider", "rohopay", "--yes"])
        .await;
    assert_eq!(code(&missing), 2);
    let unknown = fx.exec(&["resume", "no-such-batch", "--yes"]).await;
    assert_eq!(code(&unknown), 2, "{}", text(&unknown));
    assert!(fx.ledger().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_content_under_another_name_is_not_paid_again() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(3);
    let first = fx.csv("nov.csv", &payees);
    let out = fx.run(&first, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let copy = fx.csv("nov-copy.csv", &payees);
    let again = fx.run(&copy, "rohopay", &[]).await;
    assert_eq!(code(&again), 3, "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already planned as batch"));
    assert_eq!(fx.ledger().await.len(), 3);
}
