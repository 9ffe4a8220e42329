//! Messages that say only what happened: a balance read that got no answer sent nothing; a
//! row payrun has no request id for was not asked about; the sandbox's closing checks show
//! their progress.

use crate::support::pay::{Fixture, code, kes_payees, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn a_balance_read_without_answer_says_nothing_was_sent() {
    // A "provider" that accepts connections and closes them without a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((conn, _)) = silent.accept().await {
            drop(conn);
        }
    });
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(2));
    let base = format!("http://{addr}");
    let out = fx
        .run_envs(
            &file,
            "rohopay",
            &[],
            &[("ROHOPAY_BASE_URL", base.as_str())],
        )
        .await;
    let all = text(&out);
    assert_eq!(code(&out), 3, "{all}");
    assert!(
        all.contains("could not read the UGX wallet balance"),
        "{all}"
    );
    assert!(all.contains("nothing was sent"), "{all}");
    assert!(!all.contains("may or may not have been made"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_says_when_it_has_no_request_id_to_ask_with() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("commissions.csv", &kes_payees(2));
    let out = fx.run(&file, "rumbapay", &["--batch", "noid"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    // Accepted on a "duplicate reference" answer that carried no request id.
    let conn = rusqlite::Connection::open(&fx.journal).unwrap();
    conn.execute(
        "UPDATE rows SET state = 'accepted', request_id = NULL, unconfirmed = 1",
        [],
    )
    .unwrap();
    let events = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap()
    };
    let before = events(&conn);
    let keys: Vec<String> = fx
        .report("noid")
        .await
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();

    let out = fx.exec(&["reconcile", "noid"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(!stdout.contains("does not know this payout"), "{stdout}");
    assert!(!stdout.contains("request id none"), "{stdout}");
    assert!(stdout.contains("no Rumbapay request id"), "{stdout}");
    assert!(stdout.contains("dashboard"), "{stdout}");
    for key in &keys {
        assert!(
            stdout.contains(key.as_str()),
            "names the reference {key}: {stdout}"
        );
    }
    assert_eq!(events(&conn), before, "no made-up query was journaled");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_closing_checks_show_their_progress() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(6));
    let out = fx
        .run(&file, "rohopay", &["--sandbox", "--rate", "100"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sandbox: asking the simulator for the final state of 6 payout(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "sandbox: final states checked: 6 of 6 (6 updated, 0 still pending, 0 need a person)"
        ),
        "{stderr}"
    );
}
