//! `--expect-count` and `--expect-total`: control figures from the payroll system.

use super::*;
use crate::domain::Money;

const FILE: &str =
    "phone,amount,currency\n256700123456,25000,UGX\n254712973246,2500.50,KES\nbad,1,UGX\n";

fn controls(count: Option<u64>, totals: &[&str]) -> Summary {
    let mut opts = rohopay();
    opts.expect_count = count;
    opts.expect_totals = totals.iter().map(|t| t.parse::<Money>().unwrap()).collect();
    run(FILE, &opts).0
}

fn file_level(summary: &Summary) -> Vec<&RowError> {
    summary.errors.iter().filter(|e| e.line.is_none()).collect()
}

#[test]
fn expect_count_counts_valid_and_invalid_rows() {
    assert!(file_level(&controls(Some(3), &[])).is_empty());
    let summary = controls(Some(2), &[]);
    let errors = file_level(&summary);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].column.as_str(), errors[0].value.as_str()),
        ("expect-count", "2")
    );
    assert_eq!(
        errors[0].reason,
        "the file has 3 payee rows, but --expect-count says 2"
    );
}

#[test]
fn expect_total_checks_only_the_currencies_given() {
    assert!(file_level(&controls(None, &["25000UGX"])).is_empty());
    assert!(file_level(&controls(None, &["25000UGX", "2500.50KES"])).is_empty());
    let summary = controls(None, &["25000UGX", "2500.5KES", "100TZS"]);
    assert!(
        file_level(&summary).iter().all(|e| e.value != "2500.50KES"),
        "2500.5 is 2500.50"
    );
    let errors = file_level(&summary);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].column, "expect-total");
    assert_eq!(errors[0].value, "100.00TZS");
    let summary = controls(None, &["26000UGX"]);
    let errors = file_level(&summary);
    assert_eq!(
        errors[0].reason,
        "the valid UGX rows total 25000 UGX, but --expect-total says 26000 UGX (1 invalid row is not counted)"
    );
}

#[test]
fn a_control_mismatch_alone_makes_the_file_unclean() {
    let mut opts = rohopay();
    opts.expect_count = Some(5);
    let (summary, _) = run("phone,amount,currency\n256700123456,25000,UGX\n", &opts);
    assert_eq!(summary.invalid, 0);
    assert!(!summary.is_clean());
    opts.expect_count = Some(1);
    let (summary, _) = run("phone,amount,currency\n256700123456,25000,UGX\n", &opts);
    assert!(summary.is_clean());
}
