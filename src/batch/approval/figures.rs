//! The figure lines of a statement, derived by the same reading and judging of the file that
//! planning does (`PlanFile::ingest`, `plan::check_summary`, the ingest `Summary`): the file,
//! the provider, the payees, totals per currency and per operator, the largest payout, and
//! every setting that changes what is paid. "The statement matches" means: these lines, derived again now from the
//! file and the flags, are byte for byte the statement's figure lines.
//!
//! `resume` does not read the file; it derives the lines the journal can answer (the batch,
//! file, provider, payees and totals per currency) from the batch's rows instead.

use std::collections::BTreeMap;

use crate::batch::plan::{PlanError, PlanFile, check_summary};
use crate::domain::RowState;
use crate::domain::{Currency, Escaped, PayeeRow, ProviderKind, format_major, grouped};
use crate::ingest::{IngestOptions, RowOutcome, Summary};
use crate::journal::{Batch, Journal, JournalError, StateCount};

/// What a statement is about: the file as opened, and how `run` would plan it.
pub struct Subject<'a> {
    pub batch_id: &'a str,
    pub file_name: &'a str,
    pub provider: ProviderKind,
    pub opts: &'a IngestOptions,
    pub skip_invalid: bool,
}

/// Per currency: payouts, total, and the largest payout with its line (the first such line).
#[derive(Default)]
struct Money {
    count: u64,
    total: u128,
    largest: (u64, u64),
}

/// The largest payout per currency and its line (the first such line); the other figures
/// are ingest's `Summary`.
#[derive(Default)]
struct Tally {
    largest: BTreeMap<Currency, (u64, u64)>,
}

impl Tally {
    fn add(&mut self, row: &PayeeRow) {
        let amount = row.amount.get();
        let largest = self.largest.entry(row.currency).or_default();
        if amount > largest.0 {
            *largest = (amount, row.line);
        }
    }
}

fn amount(minor: u128, currency: Currency) -> String {
    grouped(&format_major(minor, currency))
}

/// Read and judge the file as `run` would and derive its figure lines. A file `run` would
/// refuse (invalid rows without `--skip-invalid`, a control mismatch) is refused the same way.
pub fn derive(file: &PlanFile, subject: &Subject<'_>) -> Result<Vec<String>, PlanError> {
    let mut tally = Tally::default();
    let summary = file.ingest(subject.opts, |outcome| {
        if let RowOutcome::Valid(row) = outcome {
            tally.add(&row);
        }
    })?;
    let summary = check_summary(summary, subject.skip_invalid)?;
    let mut lines = identity(
        subject.batch_id,
        subject.file_name,
        file.sha256(),
        subject.provider,
    );
    lines.push(payees(summary.rows, summary.valid, summary.invalid));
    for (currency, sum) in &summary.totals {
        let m = Money {
            count: summary.counts.get(currency).copied().unwrap_or(0),
            total: *sum,
            largest: tally.largest.get(currency).copied().unwrap_or_default(),
        };
        lines.push(total(*currency, &m));
    }
    for ((currency, operator), t) in &summary.operators {
        lines.push(format!(
            "operator {operator}: {currency} {} in {} payout(s)",
            amount(t.total, *currency),
            t.rows
        ));
    }
    if summary.operators.is_empty() {
        lines.push("operators: none named".into());
    }
    lines.extend(settings(subject, &summary));
    Ok(lines)
}

fn identity(batch: &str, file_name: &str, sha: &str, provider: ProviderKind) -> Vec<String> {
    vec![
        format!("batch: {batch}"),
        format!("file: {}", Escaped(file_name)),
        format!("file sha256: {sha}"),
        format!("provider: {provider}"),
    ]
}

fn payees(rows: u64, valid: u64, invalid: u64) -> String {
    format!("payees: {rows} row(s), {valid} valid, {invalid} invalid")
}

fn total(currency: Currency, m: &Money) -> String {
    format!(
        "total {currency}: {} in {} payout(s), largest {} (line {})",
        amount(m.total, currency),
        m.count,
        amount(u128::from(m.largest.0), currency),
        m.largest.1
    )
}

/// The settings that change what is paid or whether the file is paid at all.
fn settings(subject: &Subject<'_>, summary: &Summary) -> Vec<String> {
    let opts = subject.opts;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = vec![
        format!(
            "setting currency for empty cells: {}",
            opts.default_currency
                .map_or_else(|| "none".to_string(), |c| c.to_string())
        ),
        format!("setting amount unit: {:?}", opts.amount_unit).to_lowercase(),
        format!(
            "setting delimiter: {}",
            match summary.delimiter {
                b'\t' => "tab".to_string(),
                d => format!("{:?}", char::from(d)),
            }
        ),
        format!(
            "setting skip invalid rows: {}",
            yes_no(subject.skip_invalid)
        ),
    ];
    for currency in subject.provider.currencies() {
        let range = opts.limits.range(subject.provider, *currency);
        let shown = |v: Option<crate::domain::MinorUnits>, none: &str| {
            v.map_or_else(
                || none.to_string(),
                |m| amount(u128::from(m.get()), *currency),
            )
        };
        if range != (None, None) {
            out.push(format!(
                "setting limits {currency}: min {}, max {}",
                shown(range.0, "none"),
                shown(range.1, "none")
            ));
        }
    }
    for choice in &opts.columns {
        out.push(format!("setting column: {}", Escaped(&choice.to_string())));
    }
    if let Some(n) = opts.expect_count {
        out.push(format!("setting expect count: {n}"));
    }
    for money in &opts.expect_totals {
        out.push(format!("setting expect total: {money}"));
    }
    out
}

/// Figure lines the journal can answer for a batch, in statement order.
pub fn answered_by_journal(line: &str) -> bool {
    [
        "batch: ",
        "file: ",
        "file sha256: ",
        "provider: ",
        "payees: ",
        "total ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// Those lines, derived from the batch's rows in the journal.
pub fn from_journal(journal: &Journal, batch: &Batch) -> Result<Vec<String>, JournalError> {
    let counts: Vec<StateCount> = journal.state_counts(&batch.id)?;
    let rows: u64 = counts.iter().map(|c| c.rows).sum();
    let invalid: u64 = counts
        .iter()
        .filter(|c| c.state == RowState::Rejected)
        .map(|c| c.rows)
        .sum();
    let mut lines = identity(
        &batch.id,
        &batch.file_name,
        &batch.file_sha256,
        batch.provider,
    );
    lines.push(payees(rows, rows - invalid, invalid));
    let mut currencies: BTreeMap<Currency, Money> = BTreeMap::new();
    for c in counts.iter().filter(|c| c.state != RowState::Rejected) {
        let Ok(currency) = Currency::parse(&c.currency) else {
            return Err(JournalError::Corrupt(format!(
                "batch {} has currency {:?}",
                batch.id, c.currency
            )));
        };
        let m = currencies.entry(currency).or_default();
        m.count += c.rows;
        m.total += c.amount_minor;
    }
    for (currency, amount, line) in journal.largest_payouts(&batch.id)? {
        if let Some(m) = Currency::parse(&currency)
            .ok()
            .and_then(|c| currencies.get_mut(&c))
        {
            m.largest = (amount, line);
        }
    }
    for (currency, m) in &currencies {
        lines.push(total(*currency, m));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests;
