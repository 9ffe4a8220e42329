//! The xlsx and html reports written from a real journal and read back: the workbook with a
//! spreadsheet reader (typed cells), the page as text (escaping, sections, nothing loaded).

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

use super::*;
use crate::domain::{ProviderKind, RowState};
use crate::journal::test_support::{self as ts, temp_journal};
use crate::journal::{Outcome, PayeeDetails, PlanItem, PlannedRow, claim_for_sending};

const HOSTILE: &str = r#"<img src=x onerror=alert(1)> "O'Brien" & <b id="pwned">"#;

/// A batch of three payees: paid, failed with the provider's reason, and one with a hostile
/// name still in doubt; plus a rejected line.
fn journal() -> (tempfile::TempDir, Journal, Batch) {
    let (dir, mut journal) = temp_journal();
    let details = |name: &str, operator: &str| PayeeDetails {
        name: Some(name.into()),
        operator: Some(operator.into()),
        description: Some("=cmd|' /C calc'!A0".into()),
    };
    let items = [
        PlanItem::Planned(PlannedRow {
            amount_minor: 150_050,
            amount_text: "1500.50".into(),
            currency: crate::domain::Currency::KES,
            details: details("Amina Nakato", "mpesa"),
            ..ts::planned(2, "a", "k-a")
        }),
        PlanItem::Planned(PlannedRow {
            amount_minor: 2_000,
            amount_text: "20.00".into(),
            currency: crate::domain::Currency::KES,
            details: details("Bad Number", "airtel"),
            ..ts::planned(3, "b", "k-b")
        }),
        PlanItem::Planned(PlannedRow {
            amount_minor: 99,
            amount_text: "0.99".into(),
            currency: crate::domain::Currency::KES,
            details: details(HOSTILE, "mpesa"),
            ..ts::planned(4, "c", "k-c")
        }),
        PlanItem::Rejected(ts::rejected(5)),
    ];
    ts::plan(
        &mut journal,
        &ts::new_batch("june", ProviderKind::Rumbapay),
        &items,
    )
    .unwrap();
    ts::send(
        &journal,
        ts::id_of_key(&journal, "k-a"),
        RowState::Succeeded,
    );
    let failed = ts::id_of_key(&journal, "k-b");
    claim_for_sending(journal.conn(), failed).unwrap();
    let outcome = Outcome {
        state: Some(RowState::Failed),
        error: Some("provider reported the payout failed: Wallet is closed".into()),
        ..Outcome::default()
    };
    crate::journal::record_outcome(journal.conn(), failed, 1, &outcome).unwrap();
    ts::send(&journal, ts::id_of_key(&journal, "k-c"), RowState::InDoubt);
    journal
        .record_approvals(
            "june",
            "ab12",
            1_795_253_400_000,
            &[("alice@corp".into(), "SHA256:<k>".into())],
        )
        .unwrap();
    let batch = journal.batch("june").unwrap();
    (dir, journal, batch)
}

fn cell(range: &calamine::Range<Data>, row: usize, col: usize) -> Data {
    range.get((row, col)).cloned().unwrap_or(Data::Empty)
}

#[test]
fn the_workbook_reads_back_with_typed_cells_and_totals() {
    let (_dir, journal, batch) = journal();
    let bytes = sheet::build(&journal, &batch)
        .unwrap()
        .save_to_buffer()
        .unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["Payees", "Totals"]);
    let payees = book.worksheet_range("Payees").unwrap();
    assert_eq!(cell(&payees, 0, 3), Data::String("Phone".into()));
    assert_eq!(cell(&payees, 1, 3), Data::String(ts::PHONE.into()));
    assert_eq!(cell(&payees, 1, 5), Data::Float(1500.5));
    assert_eq!(cell(&payees, 1, 2), Data::String("Amina Nakato".into()));
    assert_eq!(cell(&payees, 1, 4), Data::String("mpesa".into()));
    assert_eq!(cell(&payees, 1, 7), Data::String("succeeded".into()));
    assert_eq!(cell(&payees, 1, 8), Data::Float(1.0));
    // A formula in the file stays text.
    assert_eq!(
        cell(&payees, 1, 14),
        Data::String("=cmd|' /C calc'!A0".into())
    );
    assert_eq!(
        cell(&payees, 2, 12),
        Data::String("provider reported the payout failed: Wallet is closed".into())
    );
    assert_eq!(cell(&payees, 3, 2), Data::String(HOSTILE.into()));
    for col in [15, 16] {
        match cell(&payees, 1, col) {
            Data::DateTime(d) => {
                assert!(d.is_datetime());
                // Some day after 2020 and before 2100, as an Excel serial.
                assert!((43_831.0..73_051.0).contains(&d.as_f64()), "{d:?}");
            }
            other => panic!("column {col} is not a date: {other:?}"),
        }
    }
    // The rejected line: its amount as written, no attempt.
    assert_eq!(cell(&payees, 4, 5), Data::String("abc".into()));
    assert_eq!(cell(&payees, 4, 8), Data::Empty);

    let totals = book.worksheet_range("Totals").unwrap();
    assert!(
        matches!(cell(&totals, 1, 0), Data::String(a) if a.starts_with("Approved by: alice@corp (key SHA256:<k>")),
        "{:?}",
        cell(&totals, 1, 0)
    );
    let labels: Vec<Data> = (0..8).map(|i| cell(&totals, 2, 2 + 2 * i)).collect();
    assert_eq!(
        labels,
        [
            "Requested",
            "Paid",
            "Failed",
            "In doubt",
            "Not sent yet",
            "Cancelled",
            "Rejected"
        ]
        .iter()
        .map(|s| Data::String((*s).into()))
        .chain([Data::Empty])
        .collect::<Vec<_>>()
    );
    let find = |currency: &str, operator: &str| {
        (4..totals.height())
            .find(|r| {
                cell(&totals, *r, 0) == Data::String(currency.into())
                    && cell(&totals, *r, 1) == Data::String(operator.into())
            })
            .unwrap_or_else(|| panic!("no totals line for {currency} {operator}"))
    };
    let all = find("KES", "All operators");
    assert_eq!(cell(&totals, all, 2), Data::Float(3.0));
    assert_eq!(cell(&totals, all, 3), Data::Float(1521.49));
    assert_eq!(cell(&totals, all, 5), Data::Float(1500.5));
    assert_eq!(cell(&totals, all, 7), Data::Float(20.0));
    assert_eq!(cell(&totals, all, 9), Data::Float(0.99));
    let mpesa = find("KES", "mpesa");
    assert_eq!(cell(&totals, mpesa, 2), Data::Float(2.0));
    let rejected = find("UGX", "All operators");
    assert_eq!(cell(&totals, rejected, 14), Data::Float(1.0));
}

#[test]
fn the_page_escapes_every_value_and_loads_nothing() {
    let (_dir, journal, batch) = journal();
    let mut out = Vec::new();
    let context = page::Context {
        batch: &batch,
        journal_path: Path::new("/srv/payroll/payrun.db"),
    };
    page::write(&journal, &context, &mut out).unwrap();
    let page = String::from_utf8(out).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.trim_end().ends_with("</html>"));
    assert!(!page.contains(HOSTILE));
    assert!(!page.contains("<img") && !page.contains("id=\"pwned\""));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; &quot;O&#39;Brien&quot; &amp;"));
    for external in [
        "<script", "<link", "src=\"", "href=\"", "url(", "@import", "://",
    ] {
        assert!(!page.contains(external), "the page refers to {external}");
    }
    assert!(page.contains("default-src 'none'"));
    assert!(page.contains("<td>alice@corp</td><td><code>SHA256:&lt;k&gt;</code></td>"));
    for section in [
        "id=\"batch\"",
        "id=\"approvals\"",
        "id=\"totals\"",
        "id=\"attention\"",
        "id=\"payees\"",
    ] {
        assert!(page.contains(section), "{section}");
    }
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("no {needle} in the page"))
    };
    assert!(at("id=\"batch\"") < at("id=\"approvals\""));
    assert!(at("id=\"approvals\"") < at("id=\"totals\""));
    assert!(at("id=\"totals\"") < at("id=\"attention\""));
    assert!(at("id=\"attention\"") < at("id=\"payees\""));
    assert!(page.contains("1,521.49 KES"), "requested total");
    assert!(page.contains("<svg class=\"chart\""));
    assert!(page.contains("Wallet is closed"));
    // A sandbox batch's simulator is gone: only a resume settles its rows in doubt.
    assert!(page.contains("payrun resume june --journal /srv/payroll/payrun.db --sandbox"));
    assert!(page.contains("payrun retry june --journal /srv/payroll/payrun.db --sandbox"));
    let live = Batch {
        sandbox: false,
        ..batch.clone()
    };
    let mut out = Vec::new();
    let context = page::Context {
        batch: &live,
        journal_path: Path::new("/srv/payroll/payrun.db"),
    };
    page::write(&journal, &context, &mut out).unwrap();
    let live_page = String::from_utf8(out).unwrap();
    assert!(live_page.contains("payrun reconcile june --journal /srv/payroll/payrun.db"));
    assert!(live_page.contains("class=\"mode live\""));
    assert_eq!(
        page.matches("<tr><td class=\"num\">").count(),
        4,
        "every payee"
    );
}

#[test]
fn the_csv_has_the_new_columns_and_stays_spreadsheet_safe() {
    let (_dir, journal, batch) = journal();
    let file = tempfile::NamedTempFile::new().unwrap();
    csv_report(
        &journal,
        &batch,
        Box::new(std::fs::File::create(file.path()).unwrap()),
    )
    .unwrap();
    let mut reader = csv::Reader::from_path(file.path()).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header[15..],
        ["attempt", "approved_by", "name", "operator", "description"]
    );
    let first = reader.records().next().unwrap().unwrap();
    assert_eq!(&first[15], "1");
    assert!(first[16].starts_with("alice@corp"));
    assert_eq!(&first[17], "Amina Nakato");
    assert_eq!(&first[18], "mpesa");
    assert_eq!(&first[19], "'=cmd|' /C calc'!A0");
}

#[test]
fn the_format_follows_the_flag_then_the_file_name() {
    let path = |p: &'static str| Some(Path::new(p));
    assert_eq!(format_of(None, None), ReportFormat::Csv);
    assert_eq!(format_of(None, path("june.XLSX")), ReportFormat::Xlsx);
    assert_eq!(format_of(None, path("june.html")), ReportFormat::Html);
    assert_eq!(format_of(None, path("june.json")), ReportFormat::Json);
    assert_eq!(format_of(None, path("june.txt")), ReportFormat::Csv);
    assert_eq!(
        format_of(Some(ReportFormat::Csv), path("june.xlsx")),
        ReportFormat::Csv
    );
}
