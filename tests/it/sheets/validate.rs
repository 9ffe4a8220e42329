//! `payrun validate` of workbooks: typed cells read exactly, the sheet's row numbers as line
//! numbers, error cells and dates as errors naming the cell, the choice of sheet, rejects.

use super::fixtures::fixture;
use super::*;
use crate::support::workbook::{bonus, troubled_payroll, valid_payroll, write_xlsx};

/// The troubled payroll (with a Bonus sheet after it) as an .xlsx in `dir`.
fn troubled(dir: &tempfile::TempDir) -> std::path::PathBuf {
    // No .xlsx extension: the kind of file is told by its content.
    let path = dir.path().join("payroll-export");
    write_xlsx(&path, &[troubled_payroll(), bonus()]);
    path
}

fn positions(report: &Value) -> Vec<(u64, String)> {
    errors(report).into_iter().map(|(l, c, _)| (l, c)).collect()
}

fn reason(report: &Value, line: u64) -> String {
    errors(report)
        .into_iter()
        .find(|(l, _, _)| *l == line)
        .map(|(_, _, r)| r)
        .unwrap_or_else(|| panic!("no error on line {line}: {report}"))
}

#[test]
fn typed_cells_are_read_exactly_and_rows_are_the_sheets_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = validate(&troubled(&dir), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&out);
    // Rows 3..11 less the blank row 7; the hidden row 9 is read like any other.
    assert_eq!(
        (report["rows"].as_u64(), report["valid"].as_u64()),
        (Some(8), Some(3))
    );
    // 1,400,000 + 75,000 (the hidden row) UGX; the KES cell holding 1234.56 pays 1234.56.
    assert_eq!(report["totals"]["UGX"], "1475000");
    assert_eq!(report["totals"]["KES"], "1234.56");
    assert_eq!(
        positions(&report),
        vec![
            (5, "phone".into()),
            (6, "amount".into()),
            (8, "amount".into()),
            (10, "amount".into()),
            (11, "row".into()),
        ]
    );
    // A phone stored as a number is its digits: the 9-digit rule still catches a lost zero.
    assert!(
        reason(&report, 5).contains("lost its leading zero"),
        "{report}"
    );
    let error = reason(&report, 6);
    assert!(
        error.contains("cell D6") && error.contains("#DIV/0!"),
        "{error}"
    );
    assert!(reason(&report, 8).contains("cell D8 is a date"), "{report}");
    let unrounded = reason(&report, 10);
    assert!(
        unrounded.contains("0.30000000000000004") && unrounded.contains("ROUND"),
        "{unrounded}"
    );
    assert!(reason(&report, 11).contains("totals row"), "{report}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains(r#"2 sheets with data: \"Payroll\", \"Bonus\""#),
        "{warnings}"
    );
}

#[test]
fn the_text_report_names_the_sheet_and_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let out = payrun()
        .arg("validate")
        .arg(troubled(&dir))
        .args(["--provider", "rohopay"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r#", sheet "Payroll", for rohopay"#), "{text}");
    assert!(
        text.contains(r##"line 6, amount "#DIV/0!": cell D6 holds the spreadsheet error"##),
        "{text}"
    );
}

#[test]
fn sheet_chooses_another_sheet_and_an_unknown_one_names_those_found() {
    let dir = tempfile::tempdir().unwrap();
    let file = troubled(&dir);
    let out = validate(&file, &["--sheet", "bonus"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["rows"], 2);
    assert_eq!(report["totals"]["KES"], "2500.50");
    assert_eq!(report["totals"]["UGX"], "5000");
    assert_eq!(
        report["warnings"],
        serde_json::json!([]),
        "no sheets warning"
    );

    let out = validate(&file, &["--sheet", "November"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(r#"--sheet "November": the workbook has no such sheet; its sheets are: "Payroll", "Bonus""#),
        "{err}"
    );
}

#[test]
fn sheet_with_csv_and_delimiter_with_a_workbook_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "phone,amount,currency\n256700123456,1000,UGX\n").unwrap();
    let out = validate(&csv, &["--sheet", "Payroll"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("CSV text, which has no sheets"),
        "{}",
        stderr(&out)
    );

    let out = validate(&troubled(&dir), &["--delimiter", ";"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--delimiter is for CSV files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rejects_of_a_sheet_are_csv_with_the_row_number_first() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = validate(&troubled(&dir), &["--rejects", rejects.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "line,Staff No,Name,Phone,Net Pay,Currency,Notes,error"
    );
    let rows: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(rows, vec!["5", "6", "8", "10", "11"]);
    assert!(
        lines[1].starts_with("5,EMP-003,Lost Zero,772123456,50000,UGX,,"),
        "{text}"
    );
    // The error cell as the sheet shows it, the formula's result as saved.
    assert!(
        lines[2].starts_with("6,EMP-004,Broken Formula,256759730911,#DIV/0!,UGX,,amount: cell D6"),
        "{text}"
    );
    assert!(lines[5].starts_with("11,Total,,,1526234.86,,,"), "{text}");
}

#[test]
fn ods_and_xls_fixtures_read_like_the_xlsx_they_were_made_from() {
    let xls = json(&validate(&fixture("payroll.xls"), &[]));
    assert_eq!(
        positions(&xls),
        vec![
            (5, "phone".into()),
            (6, "amount".into()),
            (8, "amount".into()),
            (10, "amount".into()),
            (11, "row".into()),
        ]
    );
    assert!(reason(&xls, 6).contains("cell D6 holds the spreadsheet error #DIV/0!"));
    assert_eq!(xls["totals"]["KES"], "1234.56");

    // LibreOffice saved its own result of =0.1+0.2, which is 0.3, so row 10 pays 0.30 KES;
    // and it saves a formula's error as empty text, still an error naming the cell.
    let ods = json(&validate(&fixture("payroll.ods"), &[]));
    assert_eq!(
        positions(&ods),
        vec![
            (5, "phone".into()),
            (6, "amount".into()),
            (8, "amount".into()),
            (11, "row".into()),
        ]
    );
    assert!(reason(&ods, 6).contains("cell D6 is a formula with an empty result or an error"));
    assert_eq!(ods["totals"]["KES"], "1234.86");
    assert_eq!(ods["totals"]["UGX"], "1475000");
    let out = validate(&fixture("payroll.ods"), &["--sheet", "Bonus"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_formula_without_a_saved_result_is_an_error_never_an_amount() {
    let report = json(&validate(&fixture("no-saved-result.xlsx"), &[]));
    assert_eq!(positions(&report), vec![(3, "amount".into())]);
    assert!(reason(&report, 3).contains("cell C3 is a formula whose result was never saved"));
    assert_eq!(report["totals"]["UGX"], "4000");
}

#[test]
fn integers_are_digits_and_cents_are_exact_over_many_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    write_xlsx(&path, &[valid_payroll(300)]);
    let out = validate(&path, &["--expect-count", "300"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    // KES rows pay (100000 + i·1234) cents for odd i < 300, exactly.
    let cents: u64 = (0..300u64)
        .filter(|i| i % 2 == 1)
        .map(|i| 100_000 + i * 1234)
        .sum();
    assert_eq!(
        report["totals"]["KES"],
        format!("{}.{:02}", cents / 100, cents % 100)
    );
}
