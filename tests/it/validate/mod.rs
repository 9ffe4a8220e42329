//! `payrun validate` (and the hidden `payrun generate`) run as the real binary: the samples, the
//! report for samples/bad-rows.csv, the rejects file, control totals, exit codes.

mod bad_rows;
mod columns;
mod files;
mod hostile;
mod samples;
mod written;

use std::{path::Path, process::Output};

use serde_json::Value;

use crate::support::{payrun, sample};

/// Run `payrun validate <file> --provider <provider> <extra...>`.
fn validate(file: &Path, provider: &str, extra: &[&str]) -> Output {
    payrun()
        .arg("validate")
        .arg(file)
        .args(["--provider", provider])
        .args(extra)
        .output()
        .expect("payrun runs")
}

/// The JSON report of a run (stdout must be exactly one JSON object).
fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not one JSON object ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("exited normally, not by a signal")
}

/// `(line, column)` of every error in a JSON report, in report order.
fn error_positions(report: &Value) -> Vec<(Option<u64>, String)> {
    report["errors"]
        .as_array()
        .expect("errors is an array")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64(),
                e["column"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn help_speaks_to_the_clerk() {
    let output = payrun().args(["validate", "--help"]).output().unwrap();
    assert_eq!(code(&output), 0);
    let help = stdout(&output);
    for flag in [
        "--provider",
        "--rejects",
        "--expect-total",
        "--limits",
        "--currency",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
