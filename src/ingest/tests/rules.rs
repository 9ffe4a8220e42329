//! One failing and one passing example per row rule: phone, amount, currency, limits,
//! operator, names, description, document pair, duplicates, row shape.

use super::*;
use crate::domain::{AmountUnit, Limits};

#[test]
fn phone_errors_each_kind() {
    let cases = [
        ("", "is missing"),
        ("2.567E+11", "mangled by a spreadsheet"),
        ("256700123456.0", "ends in \".0\""),
        ("25670O123456", "contains 'O'"),
        ("700123456", "lost its leading zero"),
        ("+15551234567", "dialling code"),
        ("254712973246", "but the currency pays Uganda"),
        ("25670012345", "has 8 digits after +256"),
    ];
    for (phone, expected) in cases {
        let (column, reason) = only_error(phone, "25000", "UGX");
        assert_eq!(column, "phone", "{phone}");
        assert!(reason.contains(expected), "{phone}: {reason}");
    }
    // A local number cannot be placed when the currency is unknown.
    let all = reasons("0700123456", "25000", "USD");
    assert!(
        all.iter().any(|r| r.contains("country is unknown")),
        "{all:?}"
    );
}

#[test]
fn phone_passes_and_normalisation_is_a_warning() {
    assert!(reasons("256700123456", "25000", "UGX").is_empty());
    let (summary, outcomes) = run(
        "phone,amount,currency\n+256 700-123456,25000,UGX\n0772123456,25000,UGX\n256700123457,1000,UGX\n",
        &rohopay(),
    );
    assert!(summary.is_clean());
    let rows = valid(&outcomes);
    assert_eq!(rows[0].phone.international(), "256700123456");
    assert_eq!(rows[1].phone.international(), "256772123456");
    let w: Vec<_> = summary
        .warnings
        .iter()
        .map(|w| (w.line, w.kind, w.value.clone()))
        .collect();
    assert_eq!(
        w,
        [
            (
                Some(2),
                WarningKind::PhoneNormalised,
                Some("+256 700-123456".into())
            ),
            (
                Some(3),
                WarningKind::PhoneNormalised,
                Some("0772123456".into())
            ),
        ]
    );
    assert_eq!(
        summary.warnings[0].message,
        "normalised \"+256 700-123456\" to 256700123456"
    );
}

#[test]
fn amount_errors_each_kind() {
    let cases = [
        ("", "UGX", "is missing"),
        ("0", "UGX", "more than zero"),
        ("-500", "UGX", "has a sign"),
        ("2.5E+04", "UGX", "mangled by a spreadsheet"),
        ("\"25,000\"", "UGX", "contains ','"),
        ("25000.5", "UGX", "UGX has no minor unit"),
        ("10.001", "KES", "at most 2 decimals"),
        ("abc", "UGX", "is not a number"),
        ("99999999999999999999", "UGX", "too large"),
    ];
    for (amount, currency, expected) in cases {
        let phone = match currency {
            "KES" => "254712973246",
            _ => "256700123456",
        };
        let (column, reason) = only_error(phone, amount, currency);
        assert_eq!(column, "amount", "{amount}");
        assert!(reason.contains(expected), "{amount}: {reason}");
    }
}

#[test]
fn amount_minor_units_refuse_decimals() {
    let (summary, _) = run(
        "phone,amount_minor,currency\n254712973246,2500.50,KES\n",
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "amount_minor".to_string())]);
    assert!(summary.errors[0].reason.contains("whole number"));
}

#[test]
fn amount_passes_exactly_in_major_and_minor_units() {
    let csv = "phone,amount,currency\n254712973246,2500.50,KES\n256700123456,25000.00,UGX\n";
    let (summary, outcomes) = run(csv, &rohopay());
    assert!(summary.is_clean(), "{:?}", summary.errors);
    let amounts: Vec<u64> = valid(&outcomes).iter().map(|r| r.amount.get()).collect();
    assert_eq!(amounts, [250_050, 25_000]);

    let (_, outcomes) = run(
        "phone,amount_minor,currency\n254712973246,250050,KES\n",
        &rohopay(),
    );
    assert_eq!(valid(&outcomes)[0].amount.get(), 250_050);

    let mut minor = rohopay();
    minor.amount_unit = AmountUnit::Minor;
    let (_, outcomes) = run("phone,amount,currency\n254712973246,250050,KES\n", &minor);
    assert_eq!(valid(&outcomes)[0].amount.get(), 250_050);
}

#[test]
fn currency_errors_unknown_refused_missing() {
    let (column, reason) = only_error("256700123456", "25000", "USD");
    assert_eq!(column, "currency");
    assert!(reason.contains("UGX, KES, TZS, RWF"), "{reason}");
    let (column, reason) = only_error("233241234567", "25", "GHS");
    assert_eq!(column, "currency");
    assert!(reason.contains("rohopay does not pay GHS"), "{reason}");
    let (column, reason) = only_error("256700123456", "25000", "");
    assert_eq!(column, "currency");
    assert!(reason.contains("is missing"), "{reason}");
    let (_, reason) = only_error("254712973246", "25", "Ksh");
    assert!(reason.contains("write KES"), "{reason}");
}

#[test]
fn currency_passes_case_insensitive_default_and_column_wins() {
    assert!(reasons("256700123456", "25000", "ugx").is_empty());
    let mut opts = rohopay();
    opts.default_currency = Some(Currency::UGX);
    let csv = "phone,amount,currency\n256700123456,25000,\n254712973246,25,KES\n";
    let (summary, outcomes) = run(csv, &opts);
    assert!(summary.is_clean(), "{:?}", summary.errors);
    let currencies: Vec<Currency> = valid(&outcomes).iter().map(|r| r.currency).collect();
    assert_eq!(currencies, [Currency::UGX, Currency::KES]);
    let (summary, _) = run("phone,amount\n256700123456,25000\n", &opts);
    assert!(summary.is_clean());
}

#[test]
fn limits_min_and_max() {
    let mut opts = rohopay();
    opts.limits = Limits::parse("[rohopay.UGX]\nmin = 5000\nmax = \"100000\"\n", "l.toml").unwrap();
    let csv = "phone,amount,currency\n256700123456,4999,UGX\n256700123457,100001,UGX\n\
               256700123458,5000,UGX\n256700123459,100000,UGX\n";
    let (summary, _) = run(csv, &opts);
    assert_eq!(
        errors(&summary),
        [(Some(2), "amount".into()), (Some(3), "amount".into())]
    );
    assert!(
        summary.errors[0]
            .reason
            .contains("below the minimum of 5000 UGX")
    );
    assert!(summary.errors[0].reason.contains("limits file"));
    assert!(
        summary.errors[1]
            .reason
            .contains("above the maximum of 100000 UGX")
    );
    assert_eq!(summary.valid, 2);
}

#[test]
fn documented_rohopay_minimum() {
    let (column, reason) = only_error("256700123456", "999", "UGX");
    assert_eq!(column, "amount");
    assert!(reason.contains("minimum of 1000 UGX"), "{reason}");
    assert!(reason.contains("documented"), "{reason}");
    assert!(reasons("256700123456", "1000", "UGX").is_empty());
    // No documented minimum elsewhere.
    assert!(reasons("254712973246", "0.01", "KES").is_empty());
}

const RUMBA_HEADER: &str = "phone,amount,currency,operator,first_name,last_name\n";

fn rumba(row: &str) -> (Summary, Vec<RowOutcome>) {
    run(&format!("{RUMBA_HEADER}{row}\n"), &rumbapay())
}

#[test]
fn operator_rules_for_rumbapay() {
    let (summary, outcomes) = rumba("254712973246,100,KES, Airtel  KENYA ,Oki,Doki");
    assert!(summary.is_clean(), "{:?}", summary.errors);
    assert_eq!(
        valid(&outcomes)[0].operator.map(|o| o.name()),
        Some("airtel kenya")
    );
    for (operator, expected) in [("", "is missing"), ("vodacom", "not an operator in Kenya")] {
        let (summary, _) = rumba(&format!("254712973246,100,KES,{operator},Oki,Doki"));
        assert_eq!(errors(&summary), [(Some(2), "operator".into())]);
        assert!(summary.errors[0].reason.contains(expected), "{operator}");
    }
    let (summary, _) = rumba("254712973246,100,XYZ,,Oki,Doki");
    let columns: Vec<String> = errors(&summary).into_iter().map(|(_, c)| c).collect();
    assert_eq!(columns, ["currency", "operator"]);
}

#[test]
fn operator_is_ignored_for_rohopay() {
    let (summary, outcomes) = run(
        "phone,amount,currency,operator\n256700123456,25000,UGX,whatever\n",
        &rohopay(),
    );
    assert!(summary.is_clean() && summary.warnings.is_empty());
    assert_eq!(valid(&outcomes)[0].operator, None);
}

#[test]
fn names_required_for_rumbapay() {
    let (summary, _) = rumba("254712973246,100,KES,mpesa,,");
    assert_eq!(
        errors(&summary),
        [
            (Some(2), "first_name".into()),
            (Some(2), "last_name".into())
        ]
    );
    let named = "phone,amount,currency,operator,name\n";
    let (summary, outcomes) = run(
        &format!("{named}254712973246,100,KES,mpesa,Juan García Rodríguez\n"),
        &rumbapay(),
    );
    assert!(summary.is_clean());
    let row = valid(&outcomes)[0];
    assert_eq!(row.first_name.as_deref(), Some("Juan García"));
    assert_eq!(row.last_name.as_deref(), Some("Rodríguez"));
    let (summary, _) = run(
        &format!("{named}254712973246,100,KES,mpesa,Cher\n"),
        &rumbapay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "name".into())]);
    assert!(summary.errors[0].reason.contains("one word"));
}

#[test]
fn a_single_name_is_fine_for_rohopay() {
    let (summary, outcomes) = run(
        "phone,amount,currency,name\n256700123456,25000,UGX,Cher\n",
        &rohopay(),
    );
    assert!(summary.is_clean());
    assert_eq!(valid(&outcomes)[0].first_name.as_deref(), Some("Cher"));
    assert_eq!(valid(&outcomes)[0].last_name, None);
}

#[test]
fn description_at_most_100_characters() {
    let header = "phone,amount,currency,description\n";
    let long = "x".repeat(101);
    let (summary, _) = run(
        &format!("{header}256700123456,25000,UGX,{long}\n"),
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "description".into())]);
    assert!(summary.errors[0].reason.contains("101 characters"));
    let accented = "é".repeat(100);
    let (summary, outcomes) = run(
        &format!("{header}256700123456,25000,UGX,{accented}\n"),
        &rohopay(),
    );
    assert!(summary.is_clean(), "100 characters, 200 bytes");
    assert_eq!(valid(&outcomes)[0].description.as_deref(), Some(&*accented));
}

#[test]
fn document_type_and_value_both_or_neither() {
    let header = "phone,amount,currency,document_type,document_value\n";
    let (summary, _) = run(
        &format!("{header}256700123456,25000,UGX,national_id,\n256700123457,25000,UGX,,7876543\n"),
        &rohopay(),
    );
    assert_eq!(
        errors(&summary),
        [
            (Some(2), "document_value".into()),
            (Some(3), "document_type".into())
        ]
    );
    let (summary, outcomes) = run(
        &format!("{header}256700123456,25000,UGX,national_id,7876543\n256700123457,25000,UGX,,\n"),
        &rohopay(),
    );
    assert!(summary.is_clean());
    let rows = valid(&outcomes);
    assert_eq!(
        rows[0].document,
        Some(("national_id".into(), "7876543".into()))
    );
    assert_eq!(rows[1].document, None);
}

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
fn extra_cells_shift_the_row_and_are_an_error() {
    let (summary, _) = run(
        "phone,amount,currency,description\n256700123456,25000,UGX,Salary, November\n",
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "row".into())]);
    assert_eq!(summary.errors[0].value, " November");
    assert!(summary.errors[0].reason.contains("double quotes"));
    let (summary, _) = run(
        "phone,amount,currency\n256700123456,25000,UGX,,\n256700123457,25000\n",
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(3), "currency".into())]);
}
