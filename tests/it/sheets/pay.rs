//! `payrun run` of an .xlsx against the simulator: every row paid exactly once with the exact
//! amounts its typed cells hold, and the workbook's bytes make the batch, so a re-saved edit of
//! one cell is an edited file like an edited CSV.

use crate::exactly_once::payfile::{Expected, key_of};
use crate::support::pay::{Fixture, batch_id, code, text};
use crate::support::sim::SimConfig;
use crate::support::workbook::{Cell, valid_payroll, valid_payroll_rows, write_xlsx};

#[tokio::test(flavor = "multi_thread")]
async fn an_xlsx_is_paid_once_per_row_and_an_edited_cell_is_an_edited_file() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("payroll.xlsx");
    write_xlsx(&file, &[valid_payroll(12)]);

    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    assert!(batch.starts_with("payroll-"), "{batch}");
    let expected: Vec<Expected> = valid_payroll_rows(12)
        .into_iter()
        .map(|row| Expected {
            line: row.line,
            key: key_of(&batch, true, &row.reference),
            identity: row.reference,
            phone: row.phone,
            amount_minor: row.amount_minor,
            currency: row.currency.to_string(),
        })
        .collect();
    assert_eq!(fx.assert_paid_as(&batch, &expected, &[]).await, 12);
    let report = fx.report(&batch).await;
    assert!(
        report.iter().any(|r| r["reference"] == "5002"),
        "a numeric staff number is its digits: {report:?}"
    );

    let again = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert_eq!(batch_id(&again), batch, "same workbook, same batch");
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing left to send"));

    // One amount cell edited and the workbook saved again.
    let mut edited = valid_payroll(12);
    edited.rows[3].1[3] = Cell::Number(777_000.0);
    write_xlsx(&file, &[edited]);
    let refused = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&refused), 3, "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--allow-changed-file"),
        "{}",
        text(&refused)
    );
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 12, "nothing more was sent");
    assert!(ledger.iter().all(|e| e["requests"] == 1), "{ledger:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_sheet_of_a_workbook_is_its_own_batch() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("payroll.xlsx");
    let mut november = valid_payroll(4);
    november.name = "November".into();
    let mut december = valid_payroll(4);
    december.name = "December".into();
    for (_, cells) in december.rows.iter_mut().skip(1) {
        cells[3] = Cell::Number(250_000.0);
    }
    write_xlsx(&file, &[november, december]);

    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let first = batch_id(&out);
    assert_eq!(fx.ledger().await.len(), 4, "the first visible sheet");

    // Naming the sheet that was read by default is the same batch, with nothing left.
    let again = fx
        .run(&file, "rohopay", &["--sheet", "November", "--rate", "500"])
        .await;
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert_eq!(batch_id(&again), first);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing left to send"));

    // Another sheet of the same bytes is another batch, paid in full.
    let out = fx
        .run(&file, "rohopay", &["--sheet", "December", "--rate", "500"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_ne!(batch_id(&out), first);
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 8, "{ledger:?}");
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e["amount_minor"] == 25_000_000)
            .count(),
        2,
        "the December UGX rows, 250000.00 each: {ledger:?}"
    );
}
