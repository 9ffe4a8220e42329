//! A file edited between runs: refused by default; with --allow-changed-file new rows are
//! paid and a changed row that was already paid is a conflict, never paid again.

use crate::support::pay::{Fixture, assert_exactly_once, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn edited_amount_on_a_paid_row_is_a_conflict_not_a_payment() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);

    payees[1].amount = "99000".into();
    payees.push(ugx_payees(4)[3].clone());
    fx.csv("payroll.csv", &payees);
    let refused = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&refused), 3, "{}", text(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-changed-file"));
    assert_eq!(fx.ledger().await.len(), 3);

    let out = fx
        .run(
            &file,
            "rohopay",
            &["--batch", &batch, "--allow-changed-file", "--rate", "500"],
        )
        .await;
    assert_eq!(code(&out), 1, "a conflict needs a person: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 added") && stdout.contains("1 conflict"),
        "{stdout}"
    );
    let report = fx.report(&batch).await;
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 4, "the new row only: {ledger:?}");
    let changed = report
        .iter()
        .find(|r| r["reference"] == "EMP-0001")
        .unwrap();
    assert!(
        changed["error"].as_str().unwrap().contains("conflict"),
        "{changed}"
    );
    assert_eq!(
        changed["amount"], "10500",
        "the journal keeps what was paid"
    );
    let paid = ledger
        .iter()
        .find(|e| e["phone"] == changed["phone"])
        .unwrap();
    assert_eq!(paid["amount_minor"], 10500);
    let added = report
        .iter()
        .find(|r| r["reference"] == "EMP-0003")
        .unwrap();
    assert_eq!(added["state"], "accepted");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_references_an_edited_amount_is_caught_by_phone() {
    let fx = Fixture::new(SimConfig::default()).await;
    let path = fx.dir.path().join("agents.csv");
    std::fs::write(
        &path,
        "phone,amount,currency\n256770110001,5000,UGX\n256770110008,6000,UGX\n",
    )
    .unwrap();
    let out = fx.run(&path, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    std::fs::write(
        &path,
        "phone,amount,currency\n256770110001,5000,UGX\n256770110008,7000,UGX\n",
    )
    .unwrap();
    let out = fx
        .run(
            &path,
            "rohopay",
            &["--batch", &batch, "--allow-changed-file", "--rate", "500"],
        )
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert_eq!(
        fx.ledger().await.len(),
        2,
        "6000 was paid; 7000 is not paid on top"
    );
    let report = fx.report(&batch).await;
    assert!(
        report.iter().any(|r| r["amount"] == "7000"
            && r["state"] == "rejected"
            && r["error"].as_str().unwrap_or("").contains("already")),
        "{report:?}"
    );
    assert_eq!(assert_exactly_once(&report, &fx.ledger().await), 2);
}
