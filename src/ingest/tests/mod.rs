//! End-to-end tests of the ingest on small CSV texts: one failing and one passing example per
//! rule of the README, section "Validation rules", the CSV dialect, file-level failures, and property tests.

mod controls;
mod dialect;
mod duplicates;
mod payee;
mod props;
mod rules;

use super::*;
use crate::domain::{Currency, PayeeRow};

/// The rohopay options with nothing else set.
fn rohopay() -> IngestOptions {
    IngestOptions::new(ProviderKind::Rohopay)
}

fn rumbapay() -> IngestOptions {
    IngestOptions::new(ProviderKind::Rumbapay)
}

/// Ingest `csv`, collecting every outcome; panics on a file-level error.
fn run(csv: &str, opts: &IngestOptions) -> (Summary, Vec<RowOutcome>) {
    let mut outcomes = Vec::new();
    let summary = ingest(csv.as_bytes(), opts, |o| outcomes.push(o))
        .unwrap_or_else(|err| panic!("file-level error: {err}"));
    (summary, outcomes)
}

/// (line, column) of every error.
fn errors(summary: &Summary) -> Vec<(Option<u64>, String)> {
    summary
        .errors
        .iter()
        .map(|e| (e.line, e.column.clone()))
        .collect()
}

/// The valid rows.
fn valid(outcomes: &[RowOutcome]) -> Vec<&PayeeRow> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Valid(row) => Some(row),
            RowOutcome::Rejected(_) => None,
        })
        .collect()
}

/// One rohopay row `phone,amount,currency` under a minimal header; returns the reasons of
/// its errors (empty when valid).
fn reasons(phone: &str, amount: &str, currency: &str) -> Vec<String> {
    let csv = format!("phone,amount,currency\n{phone},{amount},{currency}\n");
    let (summary, _) = run(&csv, &rohopay());
    summary.errors.iter().map(|e| e.reason.clone()).collect()
}

/// The single error of a one-row rohopay file, as (column, reason).
fn only_error(phone: &str, amount: &str, currency: &str) -> (String, String) {
    let csv = format!("phone,amount,currency\n{phone},{amount},{currency}\n");
    let (summary, _) = run(&csv, &rohopay());
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    let e = &summary.errors[0];
    assert_eq!(e.line, Some(2));
    (e.column.clone(), e.reason.clone())
}

#[test]
fn a_clean_file_is_clean() {
    let (summary, outcomes) = run(
        "reference,phone,amount,currency\nE1,256700123456,25000,UGX\nE2,256780123456,1000,UGX\n",
        &rohopay(),
    );
    assert!(summary.is_clean());
    assert_eq!((summary.rows, summary.valid, summary.invalid), (2, 2, 0));
    assert_eq!(summary.totals.get(&Currency::UGX), Some(&26_000));
    assert_eq!(summary.counts.get(&Currency::UGX), Some(&2));
    assert!(summary.warnings.is_empty());
    let rows = valid(&outcomes);
    assert_eq!(rows[0].reference.as_deref(), Some("E1"));
    assert_eq!(rows[1].line, 3);
}

#[test]
fn rejected_rows_carry_raw_cells_and_every_error() {
    let (summary, outcomes) = run(
        "reference,phone,amount,currency,description\n R9 ,2.567E+11,-5,usd,\"=cmd\"\n",
        &rohopay(),
    );
    let RowOutcome::Rejected(row) = &outcomes[0] else {
        panic!("expected a rejected row")
    };
    assert_eq!(row.line, 2);
    assert_eq!(row.fields, [" R9 ", "2.567E+11", "-5", "usd", "=cmd"]);
    assert_eq!(
        (&*row.reference, &*row.phone, &*row.amount, &*row.currency),
        (" R9 ", "2.567E+11", "-5", "usd")
    );
    let columns: Vec<&str> = row.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, ["phone", "amount", "currency"], "in column order");
    assert!(row.errors.iter().all(|e| e.line == Some(2)));
    assert_eq!(summary.errors, row.errors);
}

#[test]
fn on_row_is_called_once_per_row_in_file_order() {
    let csv =
        "phone,amount,currency\n256700123451,1000,UGX\nbad,1000,UGX\n\n256700123453,1000,UGX\n";
    let (summary, outcomes) = run(csv, &rohopay());
    let lines: Vec<u64> = outcomes
        .iter()
        .map(|o| match o {
            RowOutcome::Valid(r) => r.line,
            RowOutcome::Rejected(r) => r.line,
        })
        .collect();
    assert_eq!(lines, [2, 3, 5]);
    assert_eq!(summary.rows, 3);
}

#[test]
fn warnings_beyond_the_cap_are_counted_not_kept() {
    let rows = outcome::WARNINGS_KEPT_PER_KIND + 500;
    let mut csv = String::from("reference,phone,amount,currency\n");
    for i in 0..rows {
        csv.push_str(&format!("R{i},+256 770 {:06},5000,UGX\n", 100_000 + i));
    }
    let (summary, outcomes) = run(&csv, &rohopay());
    assert_eq!(
        valid(&outcomes).len() as u64,
        rows,
        "warnings never reject a row"
    );
    assert_eq!(
        summary.warnings.len() as u64,
        outcome::WARNINGS_KEPT_PER_KIND
    );
    assert_eq!(summary.warnings_total(), rows);
    assert_eq!(
        summary.warnings_omitted().collect::<Vec<_>>(),
        vec![(WarningKind::PhoneNormalised, 500)]
    );
    let json: serde_json::Value = serde_json::from_str(&render_json(&summary)).unwrap();
    let listed = json["warnings"].as_array().unwrap();
    assert_eq!(listed.len() as u64, outcome::WARNINGS_KEPT_PER_KIND + 1);
    let last = listed.last().unwrap();
    assert!(
        last["message"].as_str().unwrap().contains("500 more"),
        "{last}"
    );
    let mut text = Vec::new();
    render_text(&summary, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains(&format!("Warnings ({rows}):")), "{text}");
    assert!(text.contains(&format!("warnings  {rows}")), "{text}");
}
