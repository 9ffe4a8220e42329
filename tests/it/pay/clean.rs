//! The happy path: every row paid exactly once, re-running pays nothing twice, and the
//! status and report commands describe the batch.

use crate::support::pay::{Fixture, batch_id, code, states, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn clean_run_pays_every_row_once_and_rerun_pays_nothing_new() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(40);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--concurrency", "8"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    assert!(batch.starts_with("payroll-"), "{batch}");
    let report = fx.report(&batch).await;
    assert_eq!(report.len(), 40);
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 40);

    let again = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert_eq!(batch_id(&again), batch, "same file, same batch");
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing left to send"));
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 40);
    assert!(
        ledger.iter().all(|e| e["requests"] == 1),
        "re-run sent nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_report_describe_the_batch() {
    let fx = Fixture::new(SimConfig {
        settle_ms: 0,
        ..SimConfig::default()
    })
    .await;
    let mut payees = ugx_payees(5);
    payees[1].phone = "256770120000".into(); // the simulator fails numbers ending 0000
    payees[2].reference = "=HYPERLINK(\"x\")".into();
    let file = fx.csv("nov.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);

    let status = fx.status(&batch).await;
    assert_eq!(status["batch"], batch.as_str());
    assert_eq!(status["provider"], "rohopay");
    assert_eq!(status["rows"], 5);
    for state in [
        "succeeded",
        "accepted",
        "failed",
        "in_doubt",
        "rejected",
        "planned",
        "sending",
    ] {
        assert!(
            status["states"][state].is_u64(),
            "states.{state} missing: {status}"
        );
    }
    assert_eq!(status["states"]["accepted"], 5);
    assert_eq!(status["totals"]["UGX"], "55000"); // 10000 + 10500 + 11000 + 11500 + 12000

    let report = fx.report(&batch).await;
    let row = &report[0];
    for field in [
        "line",
        "reference",
        "phone",
        "amount",
        "currency",
        "state",
        "key",
        "provider",
        "provider_reference",
        "request_id",
        "failover_reason",
        "error",
        "attempts",
        "updated_at",
    ] {
        assert!(row.get(field).is_some(), "report lacks {field}: {row}");
    }
    assert_eq!(row["line"], 2);
    assert_eq!(row["provider"], "relworx");
    assert_eq!(row["attempts"], 1);
    assert_eq!(states(&report)["accepted"], 5);

    let csv = fx.exec(&["report", &batch, "--format", "csv"]).await;
    assert_eq!(code(&csv), 0);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with(
        "line,reference,phone,amount,currency,state,key,provider,provider_reference,request_id,failover_reason,error,attempts,updated_at"
    ));
    assert!(csv.contains("'=HYPERLINK"), "formula neutralised:\n{csv}");

    let all = fx.exec(&["status"]).await;
    assert_eq!(code(&all), 0);
    assert!(String::from_utf8_lossy(&all.stdout).contains(&batch));
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_pays_the_sample_with_no_account() {
    let fx = Fixture::new(SimConfig::default()).await;
    let out = fx
        .payrun()
        .env_remove("ROHOPAY_API_KEY")
        .env_remove("ROHOPAY_BASE_URL")
        .args([
            "run",
            crate::support::sample("payroll.csv").to_str().unwrap(),
        ])
        .args([
            "--provider",
            "rohopay",
            "--sandbox",
            "--yes",
            "--rate",
            "1000",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SANDBOX"), "{stdout}");
    assert!(stdout.contains("no money moves"), "{stdout}");
    let batch = batch_id(&out);
    let status = fx.status(&batch).await;
    assert_eq!(status["sandbox"], true);
    assert_eq!(status["states"]["planned"], 0);
}
