//! One failing and one passing example per money rule: phone, amount, currency, limits.

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
        ("\"25,00\"", "UGX", "contains ','"),
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

#[test]
fn a_totals_row_is_one_error_whatever_its_label() {
    for label in ["Total", "TOTALS", "Grand Total:", "grand  total", "sum"] {
        let csv = format!(
            "reference,phone,amount,currency\nEMP-1,256700123456,25000,UGX\n{label},,25000,UGX\n"
        );
        let (summary, outcomes) = run(&csv, &rohopay());
        let RowOutcome::Rejected(row) = &outcomes[1] else {
            panic!("{label}: {outcomes:?}");
        };
        assert_eq!(row.errors.len(), 1, "{label}: {:?}", row.errors);
        assert_eq!(row.errors[0].column, "row");
        assert!(
            row.errors[0]
                .reason
                .contains("looks like a totals row: delete it, or let --skip-invalid leave it out"),
            "{label}: {}",
            row.errors[0].reason
        );
        assert_eq!(summary.valid, 1, "{label}");
    }
    // A payee whose reference happens to be "Total" but who has a phone is judged as a payee;
    // so is a row whose first cell merely starts with the word.
    for row in ["Total,256700123457,1000,UGX", "Totals due,,1000,UGX"] {
        let csv = format!("reference,phone,amount,currency\n{row}\n");
        let (summary, _) = run(&csv, &rohopay());
        let reasons: Vec<&str> = summary.errors.iter().map(|e| e.reason.as_str()).collect();
        assert!(
            reasons.iter().all(|r| !r.contains("totals row")),
            "{row}: {reasons:?}"
        );
        assert_eq!(
            summary.valid + u64::from(!reasons.is_empty()),
            1,
            "{row}: judged as a payee: {reasons:?}"
        );
    }
}
