use super::*;
use crate::batch::plan::{self, PlanError};
use crate::domain::AmountUnit;
use crate::journal::test_support::{new_batch, temp_journal};

const FILE: &str = "reference,phone,amount,currency,operator,first_name,last_name\n\
    E1,+254712000001,1500.50,KES,M-Pesa,Ann,Wanjiru\n\
    E2,+254712000002,2500,KES,airtel,Ben,Otieno\n\
    E3,+255712000003,30000,TZS,vodacom,Cy,Mushi\n\
    E4,not-a-phone,100,KES,mpesa,Di,Kamau\n\
    E5,+254712000005,2500,KES,mpesa,Ed,Njoroge\n";

fn opened(dir: &std::path::Path) -> PlanFile {
    let path = dir.join("commissions.csv");
    std::fs::write(&path, FILE).unwrap();
    PlanFile::open(&path).unwrap()
}

fn derived(
    file: &PlanFile,
    opts: &IngestOptions,
    skip_invalid: bool,
) -> Result<Vec<String>, PlanError> {
    let subject = Subject {
        batch_id: "commissions-1",
        file_name: "commissions.csv",
        provider: ProviderKind::Rumbapay,
        opts,
        skip_invalid,
    };
    derive(file, &subject)
}

#[test]
fn the_same_file_and_flags_give_the_same_figures() {
    let dir = tempfile::tempdir().unwrap();
    let file = opened(dir.path());
    let opts = IngestOptions::new(ProviderKind::Rumbapay);
    let lines = derived(&file, &opts, true).unwrap();
    assert_eq!(lines, derived(&file, &opts, true).unwrap());
    let expected = [
        "batch: commissions-1".to_string(),
        "file: commissions.csv".into(),
        format!("file sha256: {}", file.sha256()),
        "provider: rumbapay".into(),
        "payees: 5 row(s), 4 valid, 1 invalid".into(),
        "total KES: 6,500.50 in 3 payout(s), largest 2,500.00 (line 3)".into(),
        "total TZS: 30,000.00 in 1 payout(s), largest 30,000.00 (line 4)".into(),
        "operator airtel: KES 2,500.00 in 1 payout(s)".into(),
        "operator mpesa: KES 4,000.50 in 2 payout(s)".into(),
        "operator vodacom: TZS 30,000.00 in 1 payout(s)".into(),
        "setting currency for empty cells: none".into(),
        "setting amount unit: major".into(),
        "setting delimiter: ','".into(),
        "setting skip invalid rows: yes".into(),
    ];
    assert_eq!(lines, expected);
}

#[test]
fn a_flag_that_changes_what_is_paid_changes_a_figure() {
    let dir = tempfile::tempdir().unwrap();
    let file = opened(dir.path());
    let opts = IngestOptions::new(ProviderKind::Rumbapay);
    let base = derived(&file, &opts, true).unwrap();
    let minor = IngestOptions {
        amount_unit: AmountUnit::Minor,
        ..opts.clone()
    };
    // 1500.50 is not a whole number of minor units: one more invalid row, other totals.
    let other = derived(&file, &minor, true).unwrap();
    assert_ne!(base, other);
    assert!(
        other.contains(&"setting amount unit: minor".to_string()),
        "{other:?}"
    );
    let limited = IngestOptions {
        limits: crate::domain::Limits::parse("[rumbapay.KES]\nmax = \"2000\"\n", "l").unwrap(),
        ..opts.clone()
    };
    let other = derived(&file, &limited, true).unwrap();
    assert!(
        other.contains(&"setting limits KES: min none, max 2,000.00".to_string()),
        "{other:?}"
    );
    assert!(
        other.contains(&"payees: 5 row(s), 2 valid, 3 invalid".to_string()),
        "{other:?}"
    );
}

#[test]
fn a_file_run_would_refuse_is_refused_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let file = opened(dir.path());
    let opts = IngestOptions::new(ProviderKind::Rumbapay);
    assert!(matches!(
        derived(&file, &opts, false),
        Err(PlanError::Invalid(_))
    ));
}

#[test]
fn the_journal_of_the_planned_batch_answers_the_same_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = opened(dir.path());
    let opts = IngestOptions::new(ProviderKind::Rumbapay);
    let lines = derived(&file, &opts, true).unwrap();
    let (_jdir, mut journal) = temp_journal();
    let mut batch = new_batch("commissions-1", ProviderKind::Rumbapay);
    batch.file_name = "commissions.csv".into();
    batch.file_sha256 = file.sha256().to_string();
    batch.settings.skip_invalid = true;
    plan::plan_new(&mut journal, &batch, &file, &opts, false).unwrap();
    let stored = journal.batch("commissions-1").unwrap();
    let answered: Vec<String> = lines
        .into_iter()
        .filter(|l| answered_by_journal(l))
        .collect();
    assert_eq!(answered.len(), 7, "{answered:?}");
    assert_eq!(from_journal(&journal, &stored).unwrap(), answered);
}
