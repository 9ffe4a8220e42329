//! The shipped samples validate clean for their provider, and generated files are valid.

use super::*;

#[test]
fn payroll_is_clean_for_rohopay() {
    let output = validate(&sample("payroll.csv"), "rohopay", &["--format", "json"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let report = json(&output);
    assert_eq!(report["rows"], 50);
    assert_eq!(report["valid"], 50);
    assert_eq!(report["invalid"], 0);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["warnings"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["totals"]["UGX"], "62350000");
}

#[test]
fn commissions_are_clean_for_rumbapay() {
    let output = validate(
        &sample("commissions.csv"),
        "rumbapay",
        &["--format", "json"],
    );
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let report = json(&output);
    assert_eq!(
        (report["rows"].as_u64(), report["valid"].as_u64()),
        (Some(50), Some(50))
    );
    assert!(
        report["totals"]["KES"]
            .as_str()
            .is_some_and(|t| t.contains('.'))
    );
    assert!(report["totals"]["TZS"].is_string());
}

#[test]
fn samples_stay_clean_with_the_sample_limits_and_controls() {
    let output = validate(
        &sample("payroll.csv"),
        "rohopay",
        &[
            "--limits",
            sample("limits.toml").to_str().unwrap(),
            "--expect-count",
            "50",
            "--expect-total",
            "62350000UGX",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert!(stdout(&output).contains("OK: every row is valid."));
}

#[test]
fn payroll_is_not_payable_by_rumbapay() {
    let output = validate(&sample("payroll.csv"), "rumbapay", &[]);
    assert_eq!(code(&output), 2, "rumbapay needs operator and names");
    assert!(
        stderr(&output).contains("missing column \"operator\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn generated_files_validate_clean() {
    let dir = tempfile::tempdir().unwrap();
    for provider in ["rohopay", "rumbapay"] {
        let file = dir.path().join(format!("{provider}.csv"));
        let output = payrun()
            .args([
                "generate",
                "--rows",
                "2000",
                "--seed",
                "5",
                "--provider",
                provider,
                "--out",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let output = validate(&file, provider, &["--format", "json"]);
        assert_eq!(code(&output), 0, "{}", stdout(&output));
        assert_eq!(json(&output)["valid"], 2000);
    }
    let output = payrun().args(["generate", "--rows", "3"]).output().unwrap();
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output).lines().count(), 4, "header + 3 rows");
}
