//! Whole-file rules: duplicate references (error), repeated payments (warning) and the
//! occurrence number that row identity depends on.

use super::*;

#[test]
fn duplicate_reference_is_an_error_on_the_later_row() {
    let csv = "reference,phone,amount,currency\nE1,256700123456,25000,UGX\n\
               E2,256700123457,25000,UGX\nE1,256700123458,30000,UGX\n E1 ,bad,1,UGX\n";
    let (summary, outcomes) = run(csv, &rohopay());
    assert_eq!(summary.valid, 2);
    let dup: Vec<_> = summary
        .errors
        .iter()
        .filter(|e| e.column == "reference")
        .map(|e| (e.line, e.value.clone(), e.reason.clone()))
        .collect();
    assert_eq!(
        dup,
        [
            (
                Some(4),
                "E1".into(),
                "duplicate reference, first used on line 2".into()
            ),
            (
                Some(5),
                " E1 ".into(),
                "duplicate reference, first used on line 2".into()
            ),
        ]
    );
    assert!(matches!(&outcomes[0], RowOutcome::Valid(r) if r.reference.as_deref() == Some("E1")));
}

#[test]
fn a_reference_first_seen_on_an_invalid_row_still_counts() {
    let csv = "reference,phone,amount,currency\nE1,bad,25000,UGX\nE1,256700123458,30000,UGX\n";
    let (summary, _) = run(csv, &rohopay());
    assert_eq!(summary.valid, 0);
    assert!(summary.errors[1].reason.contains("first used on line 2"));
}

#[test]
fn empty_reference_is_a_warning() {
    let (summary, outcomes) = run(
        "reference,phone,amount,currency\n ,256700123456,25000,UGX\n",
        &rohopay(),
    );
    assert!(summary.is_clean());
    assert_eq!(summary.warnings[0].kind, WarningKind::EmptyReference);
    assert_eq!(valid(&outcomes)[0].reference, None);
}

#[test]
fn repeated_payment_is_a_warning_and_occurrence_counts_earlier_valid_rows() {
    let csv = "phone,amount,currency,description\n\
               256700123456,25000,UGX,a\n\
               256700123456,25001,UGX,b\n\
               +256700123456,25000,UGX,c\n\
               256700123456,25000,UGX,{long}\n\
               0700123456,25000.00,UGX,e\n"
        .replace("{long}", &"x".repeat(101));
    let (summary, outcomes) = run(&csv, &rohopay());
    assert_eq!((summary.valid, summary.invalid), (4, 1));
    let occurrences: Vec<(u64, u32)> = valid(&outcomes)
        .iter()
        .map(|r| (r.line, r.occurrence))
        .collect();
    assert_eq!(occurrences, [(2, 0), (3, 0), (4, 1), (6, 2)]);
    let repeats: Vec<_> = summary
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::RepeatedPayment)
        .map(|w| (w.line, w.message.contains("as line 2")))
        .collect();
    assert_eq!(repeats, [(Some(4), true), (Some(6), true)]);
}

#[test]
fn occurrence_does_not_depend_on_unrelated_rows() {
    let a = "256700123456,25000,UGX\n";
    let b = "256700123999,7000,UGX\n";
    let header = "phone,amount,currency\n";
    let occ = |csv: String| -> Vec<u32> {
        let (_, outcomes) = run(&csv, &rohopay());
        valid(&outcomes)
            .iter()
            .filter(|r| r.amount.get() == 25_000)
            .map(|r| r.occurrence)
            .collect()
    };
    assert_eq!(occ(format!("{header}{a}{a}{b}")), [0, 1]);
    assert_eq!(occ(format!("{header}{b}{a}{b}{a}")), [0, 1]);
}

#[test]
fn a_wrong_or_missing_file_length_changes_no_outcome() {
    // Short first rows, then long ones: the estimate from the first batch is far off either
    // way the length is told; duplicates well past the first batch are still found.
    let mut csv = String::from("reference,phone,amount,currency,description\n");
    for i in 0..3_000u32 {
        let text = if i < 200 {
            ""
        } else {
            "a much longer description"
        };
        let reference = if i % 701 == 700 { 5 } else { i };
        csv += &format!(
            "E{reference},2567001{:05},{},UGX,{text}\n",
            i % 300,
            1000 + i % 3
        );
    }
    let report = |len: Option<u64>| {
        let opts = rohopay();
        let mut lines = Vec::new();
        let ingester = Ingester::open(csv.as_bytes(), &opts).unwrap();
        let ingester = match len {
            Some(len) => ingester.file_len(len),
            None => ingester,
        };
        let summary = ingester
            .run(|o| {
                if let RowOutcome::Valid(row) = o {
                    lines.push((row.line, row.occurrence));
                }
            })
            .unwrap();
        (render_json(&summary), lines)
    };
    let plain = report(None);
    assert!(
        plain
            .0
            .contains("duplicate reference, first used on line 7")
    );
    assert!(plain.0.contains("same phone, amount and currency as line"));
    assert!(plain.1.iter().any(|&(_, occurrence)| occurrence > 0));
    for len in [0, 10, csv.len() as u64 / 10, csv.len() as u64, u64::MAX] {
        assert_eq!(report(Some(len)), plain, "file length {len}");
    }
}
