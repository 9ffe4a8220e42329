//! Spreadsheets read directly: `.xlsx` written in the test by rust_xlsxwriter, committed
//! `.ods`/`.xls` fixtures (see `fixtures.rs` for how they were made), `validate` and `run`
//! through the real binary.

mod fixtures;
mod pay;
mod validate;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::payrun;

/// `payrun validate FILE --provider rohopay --format json EXTRA...`.
fn validate(file: &Path, extra: &[&str]) -> Output {
    payrun()
        .arg("validate")
        .arg(file)
        .args(["--provider", "rohopay", "--format", "json"])
        .args(extra)
        .output()
        .expect("payrun runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "not one JSON object ({err}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(line, column, reason)` of every error in a JSON report.
fn errors(report: &Value) -> Vec<(u64, String, String)> {
    report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["column"].as_str().unwrap_or_default().to_string(),
                e["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
