//! Hostile input against `run` and the commands reading a journal: a quote never closed must
//! not merge payees into one payout, totals that overflow an amount are refused before
//! planning, a journal already holding such amounts stays readable, and batch ids carrying
//! line feeds or terminal escapes never reach the terminal raw.

use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

const UNCLOSED: &str = "reference,phone,amount,currency,description\n\
    E1,256700123456,1000,UGX,ok\n\
    E2,256700123457,1000,UGX,\"bonus\n\
    E3,256700123458,1000,UGX,x\n\
    E4,256700123459,1000,UGX,y\n";

#[tokio::test(flavor = "multi_thread")]
async fn an_unclosed_quote_refuses_the_file_and_never_pays_the_merged_row() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("quote.csv");
    std::fs::write(&file, UNCLOSED).unwrap();
    let out = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("line 3, description \"bonus"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("a quote opened here is never closed"));
    assert!(fx.ledger().await.is_empty());

    // With --skip-invalid only E1 is paid; the swallowed lines are one rejected row.
    let out = fx.run(&file, "rohopay", &["--skip-invalid"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0]["phone"], "256700123456");
    let report = fx.report(&batch_id(&out)).await;
    let states: Vec<_> = report
        .iter()
        .map(|r| (r["line"].as_u64(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states.len(), 2, "{states:?}");
    assert_eq!(states[0].0, Some(2));
    assert!(
        matches!(states[0].1, "accepted" | "succeeded"),
        "{states:?}"
    );
    assert_eq!(states[1], (Some(3), "rejected"));
}

#[tokio::test(flavor = "multi_thread")]
async fn totals_that_overflow_are_refused_naming_the_currency() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("big.csv");
    std::fs::write(
        &file,
        "phone,amount,currency\n\
         256700123456,9223372036854775807,UGX\n\
         256700123457,9223372036854775807,UGX\n\
         256700123458,9223372036854775807,UGX\n",
    )
    .unwrap();
    let validate = fx
        .exec(&["validate", file.to_str().unwrap(), "--provider", "rohopay"])
        .await;
    assert_eq!(code(&validate), 1, "{}", text(&validate));
    assert!(
        text(&validate).contains(
            "total: the valid UGX rows total 27670116110564327421 UGX, more than payrun can pay"
        ),
        "{}",
        text(&validate)
    );
    let out = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(!text(&out).contains("overflow"), "{}", text(&out));
    assert!(fx.ledger().await.is_empty());
    let status = fx.exec(&["status"]).await;
    assert_eq!(code(&status), 0, "{}", text(&status));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_journal_holding_amounts_that_overflow_a_sum_stays_readable() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("p.csv", &ugx_payees(3));
    let out = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    // What an older payrun could plan: three rows of the largest amount in one batch.
    let conn = rusqlite::Connection::open(&fx.journal).unwrap();
    let changed = conn
        .execute("UPDATE rows SET amount_minor = 9223372036854775807", [])
        .unwrap();
    assert_eq!(changed, 3);
    drop(conn);

    let status = fx.status(&batch).await;
    assert_eq!(status["totals"]["UGX"], "27670116110564327421", "{status}");
    let all = fx.exec(&["status"]).await;
    assert_eq!(code(&all), 0, "{}", text(&all));
    assert_eq!(fx.report(&batch).await.len(), 3);
    let resume = fx.exec(&["resume", &batch, "--yes"]).await;
    assert_eq!(code(&resume), 0, "{}", text(&resume));
    assert!(!text(&resume).contains("overflow"), "{}", text(&resume));
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_ids_with_line_feeds_or_escapes_never_reach_the_terminal_raw() {
    let fx = Fixture::new(SimConfig::default()).await;
    let first = fx.csv("first.csv", &ugx_payees(1));
    let out = fx.run(&first, "rohopay", &[]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let file = fx.csv("p.csv", &ugx_payees(2));
    for hostile in ["pay\nroll", "pay\u{1b}[2Jroll", "pay\u{202E}roll"] {
        let out = fx.run(&file, "rohopay", &["--batch", hostile]).await;
        assert_eq!(code(&out), 2, "{}", text(&out));
        assert!(!text(&out).contains(hostile), "{:?}", text(&out));
        for command in ["status", "report", "resume", "reconcile"] {
            let out = fx.exec(&[command, hostile]).await;
            assert_ne!(code(&out), 0, "{command}: {}", text(&out));
            let all = text(&out);
            assert!(
                !all.contains(['\u{1b}', '\u{202E}']) && !all.contains("pay\nroll"),
                "{command}: {all:?}"
            );
        }
    }
    assert_eq!(
        fx.ledger().await.len(),
        1,
        "only the first, ordinary run paid"
    );
}
