//! Column names clerks' exports use: the aliases, and `--column FIELD="Header"` for the rest,
//! through `validate` and through `run` against the simulator (the chosen reference is the one
//! paid under and reported).

use std::path::{Path, PathBuf};

use super::{code, json, stderr, validate};
use crate::support::pay::{Fixture, batch_id, text};
use crate::support::sim::SimConfig;

/// A payroll export with a header no alias covers for the amount.
const EXPORT: &str = "Staff No,Employee Name,Mobile Number,Net Pay (KES),Currency\n\
                      ST-001,Achieng Otieno,254712345678,\"1,500.00\",KES\n\
                      ST-002,Brian Mwangi,254722345679,2500,KES\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_alias_reads_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "aliases.csv",
        "Employee ID,Full Name,Mobile Money Number,Net Amount,Currency\n\
         E-1,Achieng Otieno,256700123456,25000,UGX\n",
    );
    let out = validate(&file, "rohopay", &["--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["valid"], 1);
    assert_eq!(report["totals"]["UGX"], "25000");
}

#[test]
fn column_names_a_header_no_alias_covers() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "export.csv",
        &EXPORT.replace("\"1,500.00\"", "1500.00"),
    );
    let out = validate(&file, "rohopay", &["--format", "json"]);
    assert_eq!(code(&out), 2, "no amount column without --column");
    let err = stderr(&out);
    assert!(err.contains("missing column \"amount\""), "{err}");
    assert!(
        err.contains("--column amount="),
        "the message says how: {err}"
    );
    assert!(
        err.contains("Net Pay (KES)"),
        "names the headers found: {err}"
    );

    let out = validate(
        &file,
        "rohopay",
        &["--column", "amount=Net Pay (KES)", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["valid"], 2);
    assert_eq!(report["totals"]["KES"], "4000.00");
}

#[test]
fn a_chosen_column_wins_over_an_alias() {
    let dir = tempfile::tempdir().unwrap();
    // Two columns alias `reference`: alone that stops the file; --column picks one.
    let file = write(
        dir.path(),
        "two-ids.csv",
        "Staff No,Employee ID,phone,amount,currency\n\
         ST-1,E-1,256700123456,25000,UGX\n\
         ST-2,E-1,256700123457,25000,UGX\n",
    );
    let out = validate(&file, "rohopay", &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("keep only one of them"),
        "{}",
        stderr(&out)
    );
    let out = validate(
        &file,
        "rohopay",
        &["--column", "reference=Staff No", "--format", "json"],
    );
    assert_eq!(
        code(&out),
        0,
        "the Staff No values are unique: {}",
        stderr(&out)
    );
    let out = validate(
        &file,
        "rohopay",
        &["--column", "reference=employee id", "--format", "json"],
    );
    assert_eq!(code(&out), 1, "E-1 twice is a repeated reference");
}

#[test]
fn a_bad_column_choice_is_exit_2_and_says_what_there_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "export.csv", EXPORT);
    let out = validate(&file, "rohopay", &["--column", "salary=Net Pay (KES)"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("\"salary\" is not a field payrun reads"),
        "{err}"
    );
    assert!(err.contains("fields: phone, amount, amount_minor"), "{err}");

    let out = validate(&file, "rohopay", &["--column", "amount=Gross Pay"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("--column amount=\"Gross Pay\""), "{err}");
    assert!(
        err.contains("Staff No, Employee Name, Mobile Number, Net Pay (KES), Currency"),
        "names the headers found: {err}"
    );

    let out = validate(
        &file,
        "rohopay",
        &[
            "--column",
            "amount=Net Pay (KES)",
            "--column",
            "reference=net pay (kes)",
        ],
    );
    assert_eq!(code(&out), 2, "one header cannot be two fields");
    assert!(
        stderr(&out).contains("already given a column"),
        "{}",
        stderr(&out)
    );
}

/// `run` reads the same choices: each row is paid once, under the chosen reference.
#[tokio::test(flavor = "multi_thread")]
async fn run_pays_under_the_chosen_columns() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = write(
        fx.dir.path(),
        "export.csv",
        &EXPORT.replace("\"1,500.00\"", "1500.00"),
    );
    let out = fx
        .run(
            &file,
            "rohopay",
            &["--column", "amount=Net Pay (KES)", "--rate", "500"],
        )
        .await;
    assert_eq!(crate::support::pay::code(&out), 0, "{}", text(&out));
    let report = fx.report(&batch_id(&out)).await;
    let paid: Vec<_> = report
        .iter()
        .map(|r| {
            (
                r["reference"].as_str(),
                r["amount"].as_str(),
                r["state"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        paid,
        [
            (Some("ST-001"), Some("1500.00"), Some("accepted")),
            (Some("ST-002"), Some("2500.00"), Some("accepted")),
        ]
    );
    assert_eq!(fx.ledger().await.len(), 2, "each row paid once");
}
