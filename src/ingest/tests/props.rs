//! Property tests: whatever the bytes, ingest returns (never panics), and every rejected row
//! names its own line.

use proptest::prelude::*;

use super::*;

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        // phones
        Just("256700123456".to_string()),
        Just("+256 700-123456".to_string()),
        Just("0700123456".to_string()),
        Just("2.567E+11".to_string()),
        Just("700123456".to_string()),
        Just("254712973246".to_string()),
        // amounts
        Just("25000".to_string()),
        Just("2500.50".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("999".to_string()),
        // currencies and operators
        Just("UGX".to_string()),
        Just("KES".to_string()),
        Just("usd".to_string()),
        Just("mpesa".to_string()),
        Just(String::new()),
        // anything, including quotes, delimiters and newlines
        "[ -~\n\r\t\"é]{0,12}",
    ]
}

fn options() -> impl Strategy<Value = IngestOptions> {
    (any::<bool>(), prop::option::of(0u64..12)).prop_map(|(rumba, expect)| {
        let mut opts = if rumba { rumbapay() } else { rohopay() };
        opts.expect_count = expect;
        opts
    })
}

fn csv_file(rows: &[Vec<String>]) -> String {
    let mut out = String::from("reference,phone,amount,currency,operator,first_name,last_name\n");
    for row in rows {
        let quoted: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), opts in options()) {
        let _ = ingest(&bytes[..], &opts, |_| {});
    }

    #[test]
    fn arbitrary_bytes_after_a_good_header_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        opts in options(),
    ) {
        let mut data = b"reference,phone,amount,currency,operator,first_name,last_name\n".to_vec();
        data.extend_from_slice(&bytes);
        let _ = ingest(&data[..], &opts, |_| {});
    }

    #[test]
    fn csv_shaped_rows_are_counted_and_rejections_name_their_line(
        rows in prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..24),
        opts in options(),
    ) {
        let text = csv_file(&rows);
        let mut outcomes = Vec::new();
        let summary = ingest(text.as_bytes(), &opts, |o| outcomes.push(o))
            .expect("a UTF-8 file with a good header always ingests");
        prop_assert_eq!(summary.valid + summary.invalid, summary.rows);
        prop_assert_eq!(outcomes.len() as u64, summary.rows);
        let mut last_line = 1;
        for outcome in &outcomes {
            let line = match outcome {
                RowOutcome::Valid(row) => row.line,
                RowOutcome::Rejected(row) => {
                    prop_assert!(row.line >= 2);
                    prop_assert!(!row.errors.is_empty());
                    prop_assert!(row.errors.iter().any(|e| e.line == Some(row.line)));
                    prop_assert!(row.errors.iter().all(|e| e.line == Some(row.line)));
                    row.line
                }
            };
            prop_assert!(line > last_line, "lines increase: {} after {}", line, last_line);
            last_line = line;
        }
        let physical = text.matches('\n').count() as u64;
        prop_assert!(last_line <= physical.max(1));
        let row_errors = summary.errors.iter().filter(|e| e.line.is_some()).count();
        let rejected_errors: usize = outcomes
            .iter()
            .map(|o| match o {
                RowOutcome::Rejected(r) => r.errors.len(),
                RowOutcome::Valid(_) => 0,
            })
            .sum();
        prop_assert_eq!(row_errors, rejected_errors);
    }
}

/// Rows that repeat each other: the same references, phones and amounts over and over, so
/// duplicate references and repeated payments are common.
fn repeating_row() -> impl Strategy<Value = Vec<String>> {
    (
        prop::sample::select(vec!["EMP-1", "EMP-2", "", " EMP-1 "]),
        prop::sample::select(vec!["256700123456", "+256 700 123456", "256700123457", ""]),
        prop::sample::select(vec!["25000", "25,000", "1", "x"]),
        prop::sample::select(vec!["UGX", "KES", ""]),
        prop::sample::select(vec!["mpesa", "M-Pesa", "airtel", ""]),
        prop::sample::select(vec!["Ann", ""]),
        prop::sample::select(vec!["Lee", " Ng ", ""]),
    )
        .prop_map(|(r, p, a, c, o, f, l)| {
            [r, p, a, c, o, f, l]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `payrun validate`'s pass (rejected rows only) summarises exactly like the full pass and
    /// hands out the same rejected rows in the same order.
    #[test]
    fn the_rejected_rows_pass_matches_the_full_pass(
        rows in prop::collection::vec(
            prop_oneof![repeating_row(), prop::collection::vec(cell(), 0..9)], 0..24),
        opts in options(),
    ) {
        let text = csv_file(&rows);
        let mut outcomes = Vec::new();
        let full = ingest(text.as_bytes(), &opts, |o| outcomes.push(o)).unwrap();
        let mut rejected = Vec::new();
        let lean = Ingester::open(text.as_bytes(), &opts)
            .unwrap()
            .run_rejected(|row| rejected.push(row))
            .unwrap();
        prop_assert_eq!(&full, &lean);
        let expected: Vec<RejectedRow> = outcomes
            .into_iter()
            .filter_map(|o| match o {
                RowOutcome::Rejected(row) => Some(row),
                RowOutcome::Valid(_) => None,
            })
            .collect();
        prop_assert_eq!(expected, rejected);
    }
}
