//! samples/bad-rows.csv breaks every rule at least once: the report names each problem with its
//! physical line and column; the rejects file holds exactly the invalid rows, spreadsheet-safe.

use super::*;

/// Every problem in samples/bad-rows.csv for rohopay: (line, column, part of the reason).
const EXPECTED: &[(u64, &str, &str)] = &[
    (4, "phone", "mangled by a spreadsheet"),
    (4, "amount", "mangled by a spreadsheet"),
    (5, "phone", "ends in \".0\""),
    (5, "amount", "contains ','"),
    (6, "phone", "lost its leading zero"),
    (6, "amount", "more than zero"),
    (7, "phone", "contains 'O'"),
    (7, "amount", "has a sign"),
    (8, "phone", "dialling code is not one payrun can pay"),
    (8, "amount", "is not a number"),
    (
        10,
        "phone",
        "is a Kenya (+254) number, but the currency pays Uganda",
    ),
    (11, "phone", "has 8 digits after +256"),
    (11, "amount", "too large"),
    (12, "phone", "is missing"),
    (12, "amount", "is missing"),
    (13, "amount", "UGX has no minor unit"),
    (14, "amount", "KES amounts have at most 2 decimals"),
    (15, "amount", "below the minimum of 1000 UGX"),
    (16, "phone", "country is unknown"),
    (16, "currency", "is not a currency rohopay pays"),
    (17, "currency", "rohopay does not pay GHS"),
    (18, "currency", "is missing"),
    (19, "currency", "write KES"),
    (20, "description", "118 characters"),
    (21, "document_value", "give both or neither"),
    (22, "document_type", "give both or neither"),
    (23, "reference", "duplicate reference, first used on line 2"),
    (25, "document_value", "give both or neither"),
    (25, "row", "has 11 cells but the header has 10"),
    (29, "amount", "below the minimum of 1000 UGX"),
];

fn bad_rows(extra: &[&str]) -> Output {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    validate(&sample("bad-rows.csv"), "rohopay", &args)
}

#[test]
fn json_reports_every_broken_rule_with_its_line() {
    let output = bad_rows(&[]);
    assert_eq!(code(&output), 1);
    let report = json(&output);
    let got = error_positions(&report);
    let want: Vec<(Option<u64>, String)> = EXPECTED
        .iter()
        .map(|(line, column, _)| (Some(*line), column.to_string()))
        .collect();
    assert_eq!(got, want);
    for (error, (line, _, reason)) in report["errors"].as_array().unwrap().iter().zip(EXPECTED) {
        let text = error["reason"].as_str().unwrap();
        assert!(
            text.contains(reason),
            "line {line}: {text:?} lacks {reason:?}"
        );
    }
    assert_eq!(
        report["errors"][0]["value"], "2.567E+11",
        "value as written"
    );
    assert_eq!(report["rows"], 27);
    assert_eq!(report["valid"], 6);
    assert_eq!(report["invalid"], 21);
    assert_eq!(report["totals"]["UGX"], "11960000");
    let warnings: Vec<(Option<u64>, &str)> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["line"].as_u64(), w["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        warnings,
        [
            (Some(1), "unknown_columns"),
            (Some(3), "phone_normalised"),
            (Some(24), "empty_reference"),
            (Some(24), "repeated_payment"),
        ]
    );
}

#[test]
fn text_report_lists_problems_then_the_summary() {
    let output = validate(&sample("bad-rows.csv"), "rohopay", &[]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    assert!(
        text.contains(
            "  line 4, phone \"2.567E+11\": looks like a number mangled by a spreadsheet"
        ),
        "{text}"
    );
    assert!(text.contains("Problems (30):"), "{text}");
    let summary = text.find("Summary:").expect("a summary");
    assert!(text.find("line 29, amount").unwrap() < summary);
    assert!(text.contains("  total     UGX 11960000 (6 rows)"), "{text}");
    assert!(text.contains("NOT READY: 21 rows"), "{text}");
}

#[test]
fn limits_file_adds_minimum_and_maximum() {
    let limits = sample("limits.toml");
    let output = bad_rows(&["--limits", limits.to_str().unwrap()]);
    let report = json(&output);
    let errors = report["errors"].as_array().unwrap();
    let about = |line: u64| {
        errors
            .iter()
            .filter(|e| e["line"] == line && e["column"] == "amount")
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(
        about(30)[0].contains("above the maximum of 5000000 UGX"),
        "{:?}",
        about(30)
    );
    assert!(
        about(15)[0].contains("minimum of 5000 UGX"),
        "{:?}",
        about(15)
    );
    assert_eq!(report["invalid"], 22);
}

#[test]
fn rumbapay_rules_in_bad_commissions() {
    let output = validate(
        &sample("bad-commissions.csv"),
        "rumbapay",
        &["--format", "json"],
    );
    assert_eq!(code(&output), 1);
    let got = error_positions(&json(&output));
    let want = [
        (3, "operator"),
        (4, "operator"),
        (5, "operator"),
        (6, "first_name"),
        (7, "last_name"),
        (8, "currency"),
    ]
    .map(|(line, column)| (Some(line), column.to_string()));
    assert_eq!(got, want);
}

#[test]
fn control_totals_are_file_level_errors() {
    let output = bad_rows(&["--expect-count", "26", "--expect-total", "11960000UGX"]);
    let positions = error_positions(&json(&output));
    assert_eq!(positions.last(), Some(&(None, "expect-count".to_string())));
    let output = bad_rows(&["--expect-count", "27", "--expect-total", "11960000UGX"]);
    let positions = error_positions(&json(&output));
    assert!(
        positions.iter().all(|(line, _)| line.is_some()),
        "controls match: {positions:?}"
    );
    let output = validate(
        &sample("payroll.csv"),
        "rohopay",
        &[
            "--format",
            "json",
            "--expect-count",
            "50",
            "--expect-total",
            "62350001UGX",
        ],
    );
    assert_eq!(
        code(&output),
        1,
        "a control mismatch alone fails validation"
    );
    let report = json(&output);
    assert_eq!(
        error_positions(&report),
        [(None, "expect-total".to_string())]
    );
    assert_eq!(report["invalid"], 0);
}

#[test]
fn rejects_file_holds_the_invalid_rows_spreadsheet_safe() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rejects.csv");
    let output = validate(
        &sample("bad-rows.csv"),
        "rohopay",
        &["--rejects", out.to_str().unwrap()],
    );
    assert_eq!(code(&output), 1);
    assert!(
        stdout(&output).contains(&format!(
            "Rejects: 21 invalid rows written to {}",
            out.display()
        )),
        "{}",
        stdout(&output)
    );
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&out)
        .unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header[..2],
        ["line", "reference"],
        "the line first, then the file's columns"
    );
    assert_eq!(header.last().map(String::as_str), Some("error"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 21);
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unsafe cell {cell:?} in {row:?}"
            );
        }
    }
    let by_ref = |reference: &str| {
        rows.iter()
            .find(|r| &r[1] == reference)
            .unwrap_or_else(|| panic!("{reference} not in rejects"))
    };
    assert_eq!(
        &by_ref("EMP-003")[0],
        "4",
        "EMP-003 is on line 4 of the file"
    );
    assert_eq!(&by_ref("EMP-006")[3], "'-520000");
    assert_eq!(&by_ref("EMP-007")[2], "'+15551234567");
    let error = by_ref("EMP-003").iter().next_back().unwrap().to_string();
    assert!(
        error.starts_with("phone: looks like") && error.contains("; amount: "),
        "{error}"
    );
    let emp_001: Vec<&str> = rows
        .iter()
        .filter(|r| &r[1] == "EMP-001")
        .map(|r| &r[2])
        .collect();
    assert_eq!(
        emp_001,
        ["256772123475"],
        "only the duplicate, not the valid first row"
    );
}

#[test]
fn json_mode_keeps_stdout_pure_and_names_the_rejects_file_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    let output = bad_rows(&["--rejects", out.to_str().unwrap()]);
    let _ = json(&output);
    assert!(stderr(&output).contains("r.csv"), "{}", stderr(&output));
}
