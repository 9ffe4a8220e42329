//! The end-of-sequence checker: the simulator's ledger is the truth of what was paid, the
//! operator model of what was meant, and payrun's journal and reports must agree with the
//! ledger across every batch of the sequence. Four verdicts: nobody paid more often than the
//! files asked (per person, per (phone, amount, currency)); every payee of each roster's
//! latest file paid, or shown unpaid with a reason; each journal row agrees with the ledger;
//! and the journal file is sound.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::checker::{
    JournalRow, LedgerEntry, check_write_ahead, integrity_problem, journal_rows, journaled_id,
    parse_ledger, state_agrees,
};
use super::ledger_model::{Content, Model};
use super::workspace::Sequence;

/// What the checker found, with the figures the long run adds up.
#[derive(Debug, Default)]
pub struct Finding {
    pub payouts: usize,
    /// Payouts beyond what the operator asked for (per person group).
    pub duplicates: usize,
    /// Payees of a latest file neither paid nor shown unpaid with a reason.
    pub silently_missing: usize,
    pub problems: Vec<String>,
}

fn digits(phone: &str) -> &str {
    phone.trim_start_matches('+')
}

/// Read the ledger, the journal and the reports of `seq` and judge them.
pub async fn check_sequence(seq: &Sequence) -> Finding {
    let ledger = parse_ledger(&seq.sim.settled_ledger().await);
    let mut journal: Vec<(String, JournalRow)> = Vec::new();
    let mut reports: Vec<(String, Value)> = Vec::new();
    let mut problems = Vec::new();
    for batch in seq.journal_batches() {
        match journal_rows(&seq.journal, &batch) {
            Ok(rows) => journal.extend(rows.into_iter().map(|r| (batch.clone(), r))),
            Err(e) => problems.push(format!("cannot read batch {batch} from the journal: {e}")),
        }
        let out = seq
            .payrun()
            .args(["report", &batch, "--format", "json"])
            .output()
            .await
            .expect("payrun report runs");
        match serde_json::from_slice::<Vec<Value>>(&out.stdout) {
            Ok(rows) if out.status.success() => {
                reports.extend(rows.into_iter().map(|r| (batch.clone(), r)));
            }
            _ => problems.push(format!(
                "payrun report {batch} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }
    let latest: Vec<(&str, &Content)> = seq
        .latest
        .iter()
        .map(|&i| (seq.files[i].name.as_str(), &seq.files[i].content))
        .collect();
    let mut f = judge(&seq.model, &latest, &ledger, &journal, &reports);
    f.problems.splice(0..0, problems);
    f.problems.extend(integrity_problem(&seq.journal));
    f
}

/// The pure part of the check, over data already read: `latest` is each roster's latest
/// file (name, content), `journal` and `reports` every batch's rows tagged with its id.
pub fn judge(
    model: &Model,
    latest: &[(&str, &Content)],
    ledger: &[LedgerEntry],
    journal: &[(String, JournalRow)],
    reports: &[(String, Value)],
) -> Finding {
    let mut f = Finding {
        payouts: ledger.len(),
        ..Finding::default()
    };

    // 1. Nobody paid more often than asked.
    let mut per_group: BTreeMap<usize, Vec<&LedgerEntry>> = BTreeMap::new();
    let mut per_triple: BTreeMap<(String, u64, String), usize> = BTreeMap::new();
    for e in ledger {
        let phone = digits(&e.phone).to_string();
        match model.group_of_phone.get(&phone) {
            Some(g) => per_group.entry(*g).or_default().push(e),
            None => f.problems.push(format!(
                "EXTRA: the ledger paid a phone no file ever had: {e:?}"
            )),
        }
        *per_triple
            .entry((phone, e.amount_minor, e.currency.clone()))
            .or_default() += 1;
    }
    for (group, paid) in &per_group {
        let allowed = model.group_size.get(group).copied().unwrap_or(1);
        if paid.len() > allowed {
            f.duplicates += paid.len() - allowed;
            f.problems.push(format!(
                "PAID TWICE: {} payouts to a payee the files asked to pay {allowed} time(s): {}",
                paid.len(),
                paid.iter()
                    .map(|e| format!(
                        "{} {} {} key {}",
                        e.phone, e.amount_minor, e.currency, e.key
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    for (triple, n) in &per_triple {
        let allowed = model.triple_allowance.get(triple).copied().unwrap_or(0);
        if *n > allowed {
            f.problems.push(format!(
                "TRIPLE PAID TOO OFTEN: {triple:?} paid {n} times, no file asked for it more than {allowed} time(s)"
            ));
        }
    }

    // 2. Every payee of each roster's latest file is paid, or visibly not paid.
    for &(name, content) in latest {
        let mut wanted: BTreeMap<usize, usize> = BTreeMap::new();
        for p in &content.payees {
            let g = model
                .group_of_phone
                .get(&p.phone)
                .copied()
                .unwrap_or(usize::MAX);
            *wanted.entry(g).or_default() += 1;
        }
        for (g, n) in wanted {
            let paid = per_group.get(&g).map_or(0, Vec::len);
            if paid >= n {
                continue;
            }
            let explained = reports
                .iter()
                .filter(|(_, r)| {
                    r["phone"]
                        .as_str()
                        .is_some_and(|ph| model.group_of_phone.get(digits(ph)) == Some(&g))
                })
                .filter(|(_, r)| visible_reason(r))
                .count();
            if paid + explained < n {
                let missing = n - paid - explained;
                f.silently_missing += missing;
                let names: Vec<&str> = content
                    .payees
                    .iter()
                    .filter(|p| model.group_of_phone.get(&p.phone) == Some(&g))
                    .map(|p| p.reference.as_str())
                    .collect();
                f.problems.push(format!(
                    "SILENTLY MISSING: {missing} of {names:?} in '{name}' never paid and no report says why"
                ));
            }
        }
    }

    // 3. The journal agrees with the ledger, across batches.
    check_journal(&mut f, journal, ledger);
    f
}

/// A report row that says why a payee was not paid.
fn visible_reason(r: &Value) -> bool {
    let text = |k: &str| r[k].as_str().is_some_and(|s| !s.trim().is_empty());
    matches!(r["state"].as_str(), Some("failed" | "rejected")) || text("error") || text("attention")
}

fn check_journal(f: &mut Finding, journal: &[(String, JournalRow)], ledger: &[LedgerEntry]) {
    let mut by_key: HashMap<&str, Vec<&LedgerEntry>> = HashMap::new();
    for e in ledger {
        by_key.entry(e.key.as_str()).or_default().push(e);
    }
    let mut rows_by_key: HashMap<&str, Vec<(&str, &JournalRow)>> = HashMap::new();
    for (batch, row) in journal {
        if let Some(key) = row.key.as_deref() {
            rows_by_key
                .entry(key)
                .or_default()
                .push((batch.as_str(), row));
        }
        if matches!(row.state.as_str(), "planned" | "sending" | "in_doubt") && !row.needs_a_person()
        {
            f.problems.push(format!(
                "LEFT OPEN: batch {batch} line {} ({}) is {} at the end",
                row.line, row.identity, row.state
            ));
        }
    }
    for (key, rows) in &rows_by_key {
        if rows.len() > 1 {
            let at: Vec<String> = rows
                .iter()
                .map(|(b, r)| format!("{b}:{}", r.identity))
                .collect();
            f.problems.push(format!(
                "KEY SHARED: key {key} is on {} rows: {at:?}",
                rows.len()
            ));
        }
    }
    for (key, entries) in &by_key {
        if entries.len() > 1 {
            f.duplicates += entries.len() - 1;
            f.problems
                .push(format!("KEY EXECUTED TWICE: {key}: {entries:?}"));
        }
        let e = entries[0];
        let Some(rows) = rows_by_key.get(key) else {
            f.problems.push(format!(
                "UNKNOWN PAYOUT: no journal row has key {key}: {e:?}"
            ));
            continue;
        };
        for (batch, row) in rows {
            if digits(&e.phone) != row.phone
                || Some(e.amount_minor) != row.amount_minor
                || e.currency != row.currency
            {
                f.problems.push(format!(
                    "JOURNAL ≠ LEDGER: batch {batch} line {} ({}) is {} {:?} {} in state {}, but its key paid {} {} {}",
                    row.line, row.identity, row.phone, row.amount_minor, row.currency, row.state,
                    e.phone, e.amount_minor, e.currency
                ));
            }
            if !state_agrees(&row.state, &e.status) && !row.needs_a_person() {
                f.problems.push(format!(
                    "JOURNAL ≠ LEDGER: batch {batch} line {} is {} but the ledger executed it ({})",
                    row.line, row.state, e.status
                ));
            }
            if let Some(id) = journaled_id(row, &e.provider)
                && id != e.id
            {
                f.problems.push(format!(
                    "JOURNAL ≠ LEDGER: batch {batch} line {} holds provider id {id}, the ledger {}",
                    row.line, e.id
                ));
            }
        }
    }
    for (batch, row) in journal {
        let executed = row.key.as_deref().is_some_and(|k| by_key.contains_key(k));
        if !executed && matches!(row.state.as_str(), "accepted" | "succeeded") {
            f.problems.push(format!(
                "JOURNAL ≠ LEDGER: batch {batch} line {} ({}) is {} but the provider never executed its key",
                row.line, row.identity, row.state
            ));
        }
    }
    let rows: Vec<JournalRow> = journal.iter().map(|(_, r)| r.clone()).collect();
    f.problems.extend(check_write_ahead(&rows, ledger));
}
