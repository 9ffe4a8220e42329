//! One failing and one passing example per payee rule: operator, names, description,
//! document pair, row shape.

use super::*;

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
fn an_operator_written_as_clerks_write_it_is_read_with_a_warning() {
    let (summary, outcomes) = rumba("254712973246,100,KES,M-Pesa,Oki,Doki");
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        valid(&outcomes)[0].operator.map(|o| o.name()),
        Some("mpesa")
    );
    let w: Vec<_> = summary
        .warnings
        .iter()
        .map(|w| (w.line, w.kind, w.value.clone(), w.message.clone()))
        .collect();
    assert_eq!(
        w,
        [(
            Some(2),
            WarningKind::OperatorSynonym,
            Some("M-Pesa".into()),
            "\"M-Pesa\" read as \"mpesa\", Rumbapay's name for it".into()
        )]
    );
    // A listed name is read without a warning; an unknown one stays an error.
    let (summary, _) = rumba("254712973246,100,KES,mpesa,Oki,Doki");
    assert!(summary.is_clean() && summary.warnings.is_empty());
    let (summary, _) = rumba("254712973246,100,KES,Telkom,Oki,Doki");
    assert_eq!(errors(&summary), [(Some(2), "operator".into())]);
}

#[test]
fn valid_rows_are_totalled_per_currency_and_operator() {
    let body = "254712973246,100.50,KES,mpesa,A,B\n\
                254712973247,200,KES,M-Pesa,A,B\n\
                254712973248,300,KES,airtel,A,B\n\
                255712973248,400,TZS,airtel,A,B\n\
                254712973249,999,KES,Telkom,A,B\n";
    let (summary, _) = run(&format!("{RUMBA_HEADER}{body}"), &rumbapay());
    let got: Vec<_> = summary
        .operators
        .iter()
        .map(|((currency, operator), t)| (currency.code(), *operator, t.rows, t.total))
        .collect();
    assert_eq!(
        got,
        [
            ("KES", "airtel", 1, 30_000),
            ("KES", "mpesa", 2, 30_050),
            ("TZS", "airtel", 1, 40_000),
        ]
    );
    // RohoPay files name no operator: nothing to total.
    let (summary, _) = run("phone,amount,currency\n256700123456,100,UGX\n", &rohopay());
    assert!(summary.operators.is_empty());
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
    let (summary, _) = run(
        &format!("{named}254712973246,100,KES,mpesa,  \n"),
        &rumbapay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "name".into())]);
    assert!(summary.errors[0].reason.contains("is missing"));
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
fn extra_cells_shift_the_row_and_are_an_error() {
    let (summary, _) = run(
        "phone,amount,currency,description\n256700123456,25000,UGX,Salary, November\n",
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "row".into())]);
    assert_eq!(summary.errors[0].value, " November");
    assert!(summary.errors[0].reason.contains("double quotes"));
    // Shifted into optional columns, with only empty cells past the header: still an error.
    let (summary, _) = run(
        "phone,amount,currency,description,notes\n256700123456,25000,UGX,Salary, November,,\n",
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(2), "row".into())]);
    // Short rows are fine: the missing cells are empty.
    let (summary, _) = run(
        "phone,amount,currency,description\n256700123456,25000,UGX\n256700123457,25000\n",
        &rohopay(),
    );
    assert_eq!(errors(&summary), [(Some(3), "currency".into())]);
}
