//! Amounts as clerks write them, through `validate`: strict thousands groups and the row's own
//! currency code are read with a warning showing what will be paid; ambiguous forms, another
//! currency's code and currency symbols stay errors.

use super::{code, json, stderr, validate};

fn one_row(dir: &std::path::Path, amount: &str, currency: &str) -> std::path::PathBuf {
    let path = dir.join("pay.csv");
    std::fs::write(
        &path,
        format!("reference,phone,amount,currency\nE-1,254712345678,\"{amount}\",{currency}\n"),
    )
    .unwrap();
    path
}

#[test]
fn accepted_forms_are_read_with_a_warning_showing_the_amount_paid() {
    let dir = tempfile::tempdir().unwrap();
    for (written, currency, total) in [
        ("1,500.00", "KES", "1500.00"),
        ("1,234,567", "KES", "1234567.00"),
        ("KES 2,500", "KES", "2500.00"),
        ("2500 KES", "KES", "2500.00"),
        ("kes 2,500.50", "KES", "2500.50"),
    ] {
        let out = validate(
            &one_row(dir.path(), written, currency),
            "rohopay",
            &["--format", "json"],
        );
        assert_eq!(code(&out), 0, "{written}: {}", stderr(&out));
        let report = json(&out);
        assert_eq!(report["totals"][currency], total, "{written}");
        let warnings = report["warnings"].as_array().unwrap();
        assert!(
            warnings.iter().any(|w| w["kind"] == "amount_as_written"
                && w["message"] == format!("{written:?} read as {total} {currency}")),
            "{written}: {warnings:?}"
        );
    }
}

#[test]
fn ambiguous_forms_other_codes_and_symbols_stay_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (written, reason) in [
        ("1.500,00", "contains ','"),
        ("1,50", "contains ','"),
        ("1,5000", "contains ','"),
        ("UGX 2,500", "is written in UGX, but the row pays KES"),
        ("KSh 2,500", "is a currency symbol"),
    ] {
        let out = validate(
            &one_row(dir.path(), written, "KES"),
            "rohopay",
            &["--format", "json"],
        );
        assert_eq!(code(&out), 1, "{written}: {}", stderr(&out));
        let report = json(&out);
        let error = &report["errors"][0];
        assert_eq!(error["column"], "amount", "{written}");
        assert_eq!(error["value"], written, "the value as written");
        assert!(
            error["reason"].as_str().unwrap().contains(reason),
            "{written}: {error}"
        );
    }
}
