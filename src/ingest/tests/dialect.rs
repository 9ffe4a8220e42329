//! The CSV dialect and file-level failures: header aliases, BOM, CRLF, quoting, delimiters,
//! blank lines, unknown and missing columns, files that are not CSV text.

use super::*;

fn file_error(data: &[u8], opts: &IngestOptions) -> IngestError {
    match ingest(data, opts, |_| {}) {
        Ok(summary) => panic!("expected a file-level error, got {summary:?}"),
        Err(err) => err,
    }
}

#[test]
fn header_aliases_case_and_spaces() {
    let csv = " Payee ID ;MSISDN;Amount ; CURRENCY;Narration\nE1;256700123456;25000;UGX;Salary\n";
    let (summary, outcomes) = run(csv, &rohopay());
    assert!(summary.is_clean(), "{:?}", summary.errors);
    let row = valid(&outcomes)[0];
    assert_eq!(row.reference.as_deref(), Some("E1"));
    assert_eq!(row.description.as_deref(), Some("Salary"));
    assert_eq!(summary.headers[0], " Payee ID ");
}

#[test]
fn bom_and_crlf_are_invisible() {
    let csv =
        "\u{feff}phone,amount,currency\r\n256700123456,25000,UGX\r\n256700123457,1000,UGX\r\n";
    let (summary, outcomes) = run(csv, &rohopay());
    assert!(summary.is_clean(), "{:?}", summary.errors);
    assert_eq!(summary.headers, ["phone", "amount", "currency"]);
    assert_eq!(valid(&outcomes)[1].line, 3);
    assert_eq!(valid(&outcomes)[1].currency, Currency::UGX);
}

#[test]
fn quoted_fields_with_delimiters_and_newlines_keep_physical_lines() {
    let csv = "phone,amount,currency,description\n\
               256700123456,25000,UGX,\"Salary, November\"\n\
               256700123457,25000,UGX,\"two\nlines\"\n\
               bad,25000,UGX,x\n";
    let (summary, outcomes) = run(csv, &rohopay());
    assert_eq!(
        valid(&outcomes)[0].description.as_deref(),
        Some("Salary, November")
    );
    assert_eq!(valid(&outcomes)[1].line, 3);
    assert_eq!(errors(&summary), [(Some(5), "phone".into())]);
}

#[test]
fn semicolon_and_tab_are_detected_and_delimiter_can_be_given() {
    for csv in [
        "phone;amount;currency\n256700123456;2500;UGX\n",
        "phone\tamount\tcurrency\n256700123456\t2500\tUGX\n",
    ] {
        let (summary, _) = run(csv, &rohopay());
        assert!(summary.is_clean(), "{csv:?}: {:?}", summary.errors);
    }
    let mut opts = rohopay();
    opts.delimiter = Some(b'|');
    let (summary, _) = run("phone|amount|currency\n256700123456|2500|UGX\n", &opts);
    assert!(summary.is_clean());
    assert_eq!(summary.delimiter, b'|');
    // A comma file read with the wrong delimiter is one column: the missing columns say so.
    opts.delimiter = Some(b';');
    let err = file_error(b"phone,amount,currency\n", &opts);
    assert!(err.to_string().contains("phone,amount,currency"), "{err}");
}

#[test]
fn blank_lines_are_skipped_but_counted() {
    let csv = "\nphone,amount,currency\n\n256700123456,25000,UGX\n,,\n  \n\nbad,1,UGX\n\n";
    let (summary, outcomes) = run(csv, &rohopay());
    assert_eq!(summary.rows, 2);
    assert_eq!(valid(&outcomes)[0].line, 4);
    assert_eq!(errors(&summary)[0].0, Some(8));
}

#[test]
fn unknown_columns_are_listed_once() {
    let csv = "phone,amount,currency,Bank,Notes\n256700123456,25000,UGX,x,y\n256700123457,25000,UGX,x,y\n";
    let (summary, _) = run(csv, &rohopay());
    assert!(summary.is_clean());
    assert_eq!(summary.warnings.len(), 1);
    assert_eq!(summary.warnings[0].kind, WarningKind::UnknownColumns);
    assert_eq!(summary.warnings[0].line, Some(1));
    let (summary, _) = run(
        "phone,amount,currency\n256700123456,25000,UGX\n",
        &rohopay(),
    );
    assert!(summary.warnings.is_empty());
}

#[test]
fn missing_required_columns_fail_the_file() {
    let err = file_error(b"msisdn,currency\n256700123456,UGX\n", &rohopay());
    assert!(matches!(err, IngestError::MissingColumns { .. }));
    assert!(err.to_string().contains("amount_minor"), "{err}");
    let err = file_error(b"phone,amount,currency\n", &rumbapay());
    assert!(err.to_string().contains("operator"), "{err}");
}

#[test]
fn header_only_is_clean_with_a_warning() {
    let (summary, _) = run("phone,amount,currency\n", &rohopay());
    assert!(summary.is_clean());
    assert_eq!(summary.rows, 0);
    assert_eq!(summary.warnings[0].kind, WarningKind::NoRows);
}

#[test]
fn unreadable_files_are_one_clear_error() {
    let opts = rohopay();
    assert!(matches!(file_error(b"", &opts), IngestError::Empty));
    // A zip that is not a workbook: read as one, refused as one.
    assert!(matches!(
        file_error(b"PK\x03\x04\x14\x00", &opts),
        IngestError::Workbook { .. }
    ));
    assert!(matches!(
        file_error(b"\xFF\xFEp\x00h\x00", &opts),
        IngestError::Binary(_)
    ));
    assert!(matches!(
        file_error(b"256700123456,25000,UGX\n", &opts),
        IngestError::NoHeader { .. }
    ));
    assert!(matches!(
        file_error(b"phone,phone_number,amount,currency\n", &opts),
        IngestError::DuplicateColumn { .. }
    ));
    let mut ghs = rohopay();
    ghs.default_currency = Some(Currency::GHS);
    assert!(matches!(
        file_error(b"phone,amount\n", &ghs),
        IngestError::DefaultCurrency { .. }
    ));
}

#[test]
fn not_utf8_midway_names_its_line_after_earlier_rows_streamed() {
    let data = b"phone,amount,currency,first_name\n256700123456,25000,UGX,Ann\n\n256700123457,25000,UGX,Ren\xE9e\n";
    let mut seen = 0;
    let err = ingest(&data[..], &rohopay(), |_| seen += 1).unwrap_err();
    assert_eq!(seen, 1, "rows before the bad line were streamed");
    assert!(
        matches!(
            err,
            IngestError::NotUtf8 {
                line: 4,
                column: Some(4)
            }
        ),
        "{err}"
    );
    let err = file_error(b"phone,amount,curr\xE9ncy\n", &rohopay());
    assert!(matches!(err, IngestError::NotUtf8 { line: 1, .. }), "{err}");
}

#[test]
fn ingest_path_reports_a_missing_file() {
    let err = ingest_path(
        std::path::Path::new("/nonexistent/pay.csv"),
        &rohopay(),
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, IngestError::Open { .. }));
    assert!(err.to_string().contains("/nonexistent/pay.csv"), "{err}");
}
