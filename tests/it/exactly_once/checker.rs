//! The end-of-trial checker, Jepsen style: the provider's ledger is the ground truth of what
//! was paid, the generated file is the truth of what should have been, and payrun's journal
//! and report must agree with both. One pure function over plain data ([`check`]) so it can be
//! shown to fail on fabricated histories (`checker_tests.rs`), plus the readers that fetch the
//! data from a real journal file.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::payfile::Expected;
pub use crate::support::journal::{JournalRow, journal_rows, open_journal};
use crate::support::money::minor_of;

/// One executed payout from `GET /_sim/ledger`.
#[derive(Clone, Debug, Deserialize)]
pub struct LedgerEntry {
    pub provider: String,
    pub key: String,
    pub id: String,
    pub phone: String,
    pub amount_minor: u64,
    pub currency: String,
    pub status: String,
    pub requests: u64,
}

/// What a check found. Clean when `problems` is empty.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Executed payouts in the ledger.
    pub payouts: usize,
    /// Payouts beyond one per valid row: a key executed again, or a payout under a key no
    /// valid row has (a re-minted key pays a payee again just as surely).
    pub duplicates: usize,
    /// Valid rows with no executed payout.
    pub missing: usize,
    /// Payouts that needed more than one request (retries and resends that did not pay again).
    pub resent: usize,
    /// Rows left in doubt with a note for a person because the provider contradicted them.
    pub attention: usize,
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

fn digits(phone: &str) -> &str {
    phone.trim_start_matches('+')
}

/// Whether a journal state fits an executed payout with this ledger status: `accepted` (the
/// provider had it pending; it may have settled since) fits any, `succeeded` only a success,
/// `failed` only a failure; any other state denies a payment that happened.
pub fn state_agrees(state: &str, ledger_status: &str) -> bool {
    match state {
        "accepted" => true,
        "succeeded" => matches!(ledger_status, "successful" | "success"),
        "failed" => ledger_status == "failed",
        _ => false,
    }
}

/// The provider's id for a payout as the journal must hold it: RohoPay's `id` in
/// `provider_id`, Rumbapay's `request_id` in `request_id`.
pub fn journaled_id<'a>(row: &'a JournalRow, provider: &str) -> Option<&'a str> {
    match provider {
        "rohopay" => row.provider_id.as_deref(),
        _ => row.request_id.as_deref(),
    }
}

/// Check a finished batch: (a) the ledger holds exactly one payout per expected row and
/// nothing else, with the file's phone, amount and currency; (b) the journal agrees with the
/// ledger row by row and leaves nothing open; the report lists every row under its key;
/// (d) no idempotency key appears twice in the journal. `invalid_lines`, when given, are the
/// lines that must be `rejected` and never sent.
pub fn check(
    expected: &[Expected],
    invalid_lines: Option<&[u64]>,
    report: &[Value],
    journal: &[JournalRow],
    ledger: &[LedgerEntry],
) -> Verdict {
    let mut v = Verdict {
        payouts: ledger.len(),
        resent: ledger.iter().filter(|e| e.requests > 1).count(),
        ..Verdict::default()
    };
    let want: HashMap<&str, &Expected> = expected.iter().map(|e| (e.key.as_str(), e)).collect();
    if want.len() != expected.len() {
        v.problems
            .push("the expectation itself repeats a key (generator bug)".into());
    }

    // (a) ledger against the file.
    let mut paid: BTreeMap<&str, Vec<&LedgerEntry>> = BTreeMap::new();
    for entry in ledger {
        paid.entry(entry.key.as_str()).or_default().push(entry);
    }
    for (key, entries) in &paid {
        if entries.len() > 1 {
            v.duplicates += entries.len() - 1;
            v.problems.push(format!(
                "DUPLICATE: key {key} executed {} times: {entries:?}",
                entries.len()
            ));
        }
        match want.get(key) {
            None => {
                v.duplicates += 1; // the other executions of this key are counted above
                v.problems.push(format!(
                    "EXTRA: ledger has a payout no valid row asked for: {entries:?}"
                ));
            }
            Some(e) => {
                let p = entries[0];
                if digits(&p.phone) != e.phone
                    || p.amount_minor != e.amount_minor
                    || p.currency != e.currency
                {
                    v.problems.push(format!(
                        "WRONG PAYOUT: line {} should pay {} {} to {}, ledger has {p:?}",
                        e.line, e.amount_minor, e.currency, e.phone
                    ));
                }
            }
        }
    }
    // A row the provider contradicted is in doubt with a note for a person: visibly not
    // paid by payrun's account, so not silently missing, whatever the ledger holds.
    let for_a_person: std::collections::HashSet<&str> = journal
        .iter()
        .filter(|r| r.needs_a_person())
        .filter_map(|r| r.key.as_deref())
        .collect();
    v.attention = for_a_person.len();
    for e in expected {
        if !paid.contains_key(e.key.as_str()) && !for_a_person.contains(e.key.as_str()) {
            v.missing += 1;
            v.problems.push(format!(
                "MISSING: line {} ({}) was never paid (key {})",
                e.line, e.identity, e.key
            ));
        }
    }

    check_journal(&mut v, &want, invalid_lines, journal, &paid);
    check_report(&mut v, expected, report);
    v
}

/// (b) and (d): the journal against the expectation and the ledger.
fn check_journal(
    v: &mut Verdict,
    want: &HashMap<&str, &Expected>,
    invalid_lines: Option<&[u64]>,
    journal: &[JournalRow],
    paid: &BTreeMap<&str, Vec<&LedgerEntry>>,
) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for row in journal {
        let Some(key) = row.key.as_deref() else {
            if row.state != "rejected" {
                v.problems.push(format!(
                    "JOURNAL: keyless row at line {} is {}, not rejected",
                    row.line, row.state
                ));
            }
            continue;
        };
        *seen.entry(key).or_default() += 1;
        let Some(e) = want.get(key) else {
            v.problems.push(format!(
                "JOURNAL: row at line {} has key {key} that no valid row of the file has",
                row.line
            ));
            continue;
        };
        if row.identity != e.identity
            || row.phone != e.phone
            || row.amount_minor != Some(e.amount_minor)
            || row.currency != e.currency
        {
            v.problems.push(format!(
                "JOURNAL: row for line {} differs from the file: {row:?} vs {e:?}",
                e.line
            ));
        }
        match paid.get(key).map(|entries| entries[0]) {
            Some(p) => {
                if !state_agrees(&row.state, &p.status) && !row.needs_a_person() {
                    v.problems.push(format!(
                        "JOURNAL: line {} is {} but the ledger executed it ({})",
                        e.line, row.state, p.status
                    ));
                }
                if let Some(id) = journaled_id(row, &p.provider)
                    && id != p.id
                {
                    v.problems.push(format!(
                        "JOURNAL: line {} journaled provider id {id}, ledger id {}",
                        e.line, p.id
                    ));
                }
            }
            None if matches!(row.state.as_str(), "accepted" | "succeeded") => {
                v.problems.push(format!(
                    "JOURNAL: line {} is {} but the provider never executed it",
                    e.line, row.state
                ));
            }
            None => {}
        }
        if matches!(row.state.as_str(), "planned" | "sending" | "in_doubt") && !row.needs_a_person()
        {
            v.problems.push(format!(
                "JOURNAL: line {} left {} at the end",
                e.line, row.state
            ));
        }
    }
    for (key, n) in &seen {
        if *n > 1 {
            v.problems
                .push(format!("JOURNAL: idem_key {key} appears on {n} rows"));
        }
    }
    for e in want.values() {
        if !seen.contains_key(e.key.as_str()) {
            v.problems.push(format!(
                "JOURNAL: line {} ({}) is not in the journal",
                e.line, e.identity
            ));
        }
    }
    if let Some(lines) = invalid_lines {
        let mut rejected: Vec<u64> = journal
            .iter()
            .filter(|r| r.key.is_none() && r.state == "rejected")
            .map(|r| r.line)
            .collect();
        rejected.sort_unstable();
        let mut lines = lines.to_vec();
        lines.sort_unstable();
        if rejected != lines {
            v.problems.push(format!(
                "JOURNAL: rejected lines {rejected:?}, the file's invalid lines are {lines:?}"
            ));
        }
    }
}

/// The report lists every expected row once, under its key, with the file's values.
fn check_report(v: &mut Verdict, expected: &[Expected], report: &[Value]) {
    let mut by_key: HashMap<&str, Vec<&Value>> = HashMap::new();
    for row in report {
        if let Some(key) = row["key"].as_str() {
            by_key.entry(key).or_default().push(row);
        }
    }
    for e in expected {
        match by_key.get(e.key.as_str()).map(Vec::as_slice) {
            Some([row]) => {
                let currency = row["currency"].as_str().unwrap_or_default();
                let amount = row["amount"].as_str().and_then(|a| minor_of(a, currency));
                if amount != Some(e.amount_minor)
                    || currency != e.currency
                    || row["phone"].as_str() != Some(e.phone.as_str())
                {
                    v.problems
                        .push(format!("REPORT: line {} shows {row} for {e:?}", e.line));
                }
            }
            Some(rows) => {
                v.problems
                    .push(format!("REPORT: key {} listed {} times", e.key, rows.len()))
            }
            None => v.problems.push(format!(
                "REPORT: line {} ({}) is missing",
                e.line, e.identity
            )),
        }
    }
    if by_key.len() != expected.len() {
        v.problems.push(format!(
            "REPORT: {} keyed rows, {} expected",
            by_key.len(),
            expected.len()
        ));
    }
}

/// The write-ahead rule, checkable after any crash: a payout the provider executed belongs to
/// a row the journal knows and has at least marked `sending`. A `planned` (or unknown) row
/// with a ledger entry means a request left before its `sending` mark was durable.
pub fn check_write_ahead(journal: &[JournalRow], ledger: &[LedgerEntry]) -> Vec<String> {
    let by_key: HashMap<&str, &JournalRow> = journal
        .iter()
        .filter_map(|r| r.key.as_deref().map(|k| (k, r)))
        .collect();
    let mut problems = Vec::new();
    for entry in ledger {
        match by_key.get(entry.key.as_str()) {
            None => problems.push(format!(
                "WRITE-AHEAD: payout {} executed for a key the journal does not have",
                entry.key
            )),
            Some(row) if matches!(row.state.as_str(), "planned" | "rejected") => {
                problems.push(format!(
                    "WRITE-AHEAD: line {} is {} in the journal but the provider executed it",
                    row.line, row.state
                ))
            }
            Some(_) => {}
        }
    }
    problems
}

/// The last `n` attempt-log events of the row with `key`, oldest first, for failure messages.
pub fn last_events(path: &Path, key: &str, n: usize) -> Vec<String> {
    let read = || -> rusqlite::Result<Vec<String>> {
        let conn = open_journal(path)?;
        let mut stmt = conn.prepare(
            "SELECT e.kind, e.http_status, e.latency_ms, e.outcome, e.detail FROM events e
             JOIN rows r ON r.id = e.row_id WHERE r.idem_key = ?1 ORDER BY e.id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![key, n as i64], |r| {
            Ok(format!(
                "{} http {:?} {} ms {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?.unwrap_or_default()
            ))
        })?;
        let mut out: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
        out.reverse();
        Ok(out)
    };
    read().unwrap_or_else(|e| vec![format!("cannot read events: {e}")])
}

/// Whether `batch` exists in the journal at `path` (false if there is no journal yet).
pub fn batch_exists(path: &Path, batch: &str) -> bool {
    let Ok(conn) = open_journal(path) else {
        return false;
    };
    conn.query_row("SELECT COUNT(*) FROM batches WHERE id = ?1", [batch], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok_and(|n| n == 1)
}

/// (c) `PRAGMA integrity_check` through payrun's own journal opener; `None` when "ok".
pub fn integrity_problem(path: &Path) -> Option<String> {
    match payrun::journal::Journal::open_existing(path).and_then(|j| j.integrity_check()) {
        Ok(ok) if ok == "ok" => None,
        Ok(other) => Some(format!("INTEGRITY: {other}")),
        Err(e) => Some(format!("INTEGRITY: cannot open the journal: {e}")),
    }
}

/// The ledger as typed entries.
pub fn parse_ledger(raw: &[Value]) -> Vec<LedgerEntry> {
    raw.iter()
        .map(|v| {
            serde_json::from_value(v.clone()).expect("ledger entries have the documented fields")
        })
        .collect()
}

/// Every batch id in the journal at `path`, oldest first (none if there is no journal yet).
pub fn batch_ids(path: &Path) -> Vec<String> {
    let read = || -> rusqlite::Result<Vec<String>> {
        let conn = open_journal(path)?;
        let mut stmt = conn.prepare("SELECT id FROM batches ORDER BY seq")?;
        stmt.query_map([], |r| r.get(0))?.collect()
    };
    read().unwrap_or_default()
}

/// The SHA-256 and path of the file `batch` was last planned from, if it exists.
pub fn batch_file(path: &Path, batch: &str) -> Option<(String, String)> {
    let conn = open_journal(path).ok()?;
    conn.query_row(
        "SELECT file_sha256, file_path FROM batches WHERE id = ?1",
        [batch],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .ok()
}
