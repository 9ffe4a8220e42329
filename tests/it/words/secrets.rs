//! A base URL with a user name or password is refused (exit 2) by every command that takes
//! one, without echoing the password; a base URL stored by an older payrun is shown without it.

use crate::support::pay::{Fixture, code, text, ugx_payees};
use crate::support::sim::SimConfig;

const PASSWORD: &str = "s3cretPW";

fn assert_refused_quietly(out: &std::process::Output, what: &str) {
    let all = text(out);
    assert_eq!(code(out), 2, "{what}: {all}");
    assert!(all.contains("user name or password"), "{what}: {all}");
    assert!(all.contains("remove `user:…@`"), "{what}: {all}");
    assert!(!all.contains(PASSWORD), "{what} echoed the password: {all}");
    assert!(!all.contains("panicked"), "{what}: {all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_url_with_credentials_is_refused_by_every_command_without_echoing_them() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let file = file.to_str().unwrap();
    // A batch to resume and reconcile, planned and paid with a clean base URL.
    let out = fx
        .run(std::path::Path::new(file), "rohopay", &["--batch", "clean"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let paid = fx.ledger().await.len();

    let sim = fx.sim.rohopay_base_url();
    let loopback = sim.replacen("http://", &format!("http://clerk:{PASSWORD}@"), 1);
    let urls = [
        format!("https://clerk:{PASSWORD}@api.rohopay.com"),
        format!("https://:{PASSWORD}@api.rohopay.com"),
        "https://clerk@api.rohopay.com".to_owned(),
        // Not https and with credentials: the credentials are named, the URL is not echoed.
        format!("http://clerk:{PASSWORD}@api.rohopay.com"),
        loopback,
    ];
    for url in &urls {
        let envs = [("ROHOPAY_BASE_URL", url.as_str())];
        for args in [
            vec![
                "run",
                file,
                "--provider",
                "rohopay",
                "--yes",
                "--batch",
                "creds",
            ],
            vec!["resume", "clean", "--yes"],
            vec!["reconcile", "clean"],
        ] {
            let out = fx.exec_envs(&args, &envs).await;
            assert_refused_quietly(&out, &format!("{args:?} with {url}"));
        }
    }
    // Nothing planned, stored or sent under the refused URLs.
    let status = fx.exec(&["status", "--format", "json"]).await;
    let batches: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(batches.as_array().map(Vec::len), Some(1), "{batches}");
    assert_eq!(fx.ledger().await.len(), paid);
    let conn = rusqlite::Connection::open(&fx.journal).unwrap();
    let stored: String = conn
        .query_row("SELECT group_concat(base_url) FROM batches", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!stored.contains(PASSWORD), "{stored}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_url_stored_with_credentials_is_shown_without_them() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let out = fx.run(&file, "rohopay", &["--batch", "old"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    // As an older payrun stored it.
    let sim = fx.sim.rohopay_base_url();
    // Another path on the same host, so the pre-flight names the stored URL.
    let stored = format!(
        "{}/old",
        sim.replacen("http://", &format!("http://olduser:{PASSWORD}@"), 1)
    );
    let conn = rusqlite::Connection::open(&fx.journal).unwrap();
    conn.execute("UPDATE batches SET base_url = ?1", [&stored])
        .unwrap();
    drop(conn);
    let out = fx.run(&file, "rohopay", &["--batch", "old"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("was planned to be sent to http://127.0.0.1"),
        "{all}"
    );
    assert!(!all.contains(PASSWORD) && !all.contains("olduser"), "{all}");
}
