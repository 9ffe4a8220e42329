//! The rules of edited files as checks over the journal before and after a replan, each
//! written from the README's rules rather than from the planner's code: nothing already sent
//! is re-keyed or changed, no payment that left the file after being sent is planned again,
//! every row of the file is accounted for, and replanning the same file again changes nothing.

use std::collections::{HashMap, HashSet};

use super::{FileRow, FileRows};
use crate::batch::keys::IdentityKind;
use crate::domain::RowState;
use crate::journal::test_support::StoredRow;

/// States in which the provider may have executed a row's payout.
pub fn maybe_paid(state: RowState) -> bool {
    matches!(
        state,
        RowState::Sending | RowState::InDoubt | RowState::Accepted | RowState::Succeeded
    )
}

fn kind(row: &StoredRow) -> IdentityKind {
    if row.reference.is_some() {
        IdentityKind::Reference
    } else {
        IdentityKind::Derived
    }
}

/// Rows a replan matches the file against: keyed rows and conflict rows.
fn matchable(rows: &[StoredRow]) -> HashMap<(IdentityKind, &str), &StoredRow> {
    rows.iter()
        .filter(|r| r.key.is_some() || r.conflict.is_some())
        .map(|r| ((kind(r), r.identity.as_str()), r))
        .collect()
}

fn payment(r: &StoredRow) -> (String, u64, String) {
    (
        r.phone.clone(),
        r.amount_minor.unwrap_or(0),
        r.currency.clone(),
    )
}

fn file_payment(f: &FileRow) -> (String, u64, String) {
    (f.phone.clone(), f.amount_minor, f.currency.clone())
}

fn withdrawn(r: &StoredRow) -> bool {
    r.state == RowState::Rejected && r.conflict.is_none() && r.key.is_some()
}

/// A row already sent (any state but planned, rejected) keeps its key, body and payment, and
/// no row of the batch is ever re-keyed.
pub fn sent_rows_unchanged(before: &[StoredRow], after: &[StoredRow]) {
    let after_by_id: HashMap<i64, &StoredRow> = after.iter().map(|r| (r.id, r)).collect();
    for b in before {
        let Some(key) = &b.key else { continue };
        let a = after_by_id
            .get(&b.id)
            .unwrap_or_else(|| panic!("keyed row {b:?} vanished"));
        assert_eq!(a.key.as_ref(), Some(key), "re-keyed: {b:?} -> {a:?}");
        if !matches!(b.state, RowState::Planned | RowState::Rejected) {
            assert_eq!(
                (&a.body, payment(a), a.state),
                (&b.body, payment(b), b.state),
                "a sent row changed: {b:?} -> {a:?}"
            );
        }
    }
}

/// No payment that left the file after being sent is planned again: each sent row whose
/// identity is no longer in the file answers for one row the replan would newly pay (added,
/// updated or taken back into the file) of the same phone, amount and currency, and for one
/// new row of the same phone and currency (a renamed reference with an edited amount, or an
/// edited amount without a reference column).
pub fn gone_payments_not_planned(file: &FileRows, before: &[StoredRow], after: &[StoredRow]) {
    let known = matchable(before);
    let in_file: HashSet<(IdentityKind, &str)> = file
        .valid
        .iter()
        .map(|f| (f.kind, f.identity.as_str()))
        .collect();
    let mut gone: HashMap<(String, u64, String), i64> = HashMap::new();
    let mut gone_phone: HashMap<(String, String), i64> = HashMap::new();
    for (id, row) in &known {
        if maybe_paid(row.state) && !in_file.contains(id) {
            let (phone, amount, currency) = payment(row);
            *gone
                .entry((phone.clone(), amount, currency.clone()))
                .or_default() += 1;
            *gone_phone.entry((phone, currency)).or_default() += 1;
        }
    }
    // File rows the replan may newly pay: new identities, changed unsent rows, rows back in
    // the file after being withdrawn.
    let mut candidates: HashMap<(String, u64, String), i64> = HashMap::new();
    let mut candidate_phones: HashMap<(String, String), i64> = HashMap::new();
    for f in &file.valid {
        let newly = match known.get(&(f.kind, f.identity.as_str())) {
            None => true,
            Some(old) => {
                withdrawn(old)
                    || (old.state == RowState::Planned && payment(old) != file_payment(f))
            }
        };
        if newly {
            let (phone, amount, currency) = file_payment(f);
            *candidates
                .entry((phone.clone(), amount, currency.clone()))
                .or_default() += 1;
            *candidate_phones.entry((phone, currency)).or_default() += 1;
        }
    }
    let before_by_id: HashMap<i64, &StoredRow> = before.iter().map(|r| (r.id, r)).collect();
    let mut planned: HashMap<(String, u64, String), i64> = HashMap::new();
    let mut added_phones: HashMap<(String, String), i64> = HashMap::new();
    for a in after.iter().filter(|r| r.state == RowState::Planned) {
        let old = before_by_id.get(&a.id);
        let newly = match old {
            None => true,
            Some(old) => old.state != RowState::Planned || payment(old) != payment(a),
        };
        if newly {
            let (phone, amount, currency) = payment(a);
            *planned
                .entry((phone.clone(), amount, currency.clone()))
                .or_default() += 1;
            if old.is_none() {
                *added_phones.entry((phone, currency)).or_default() += 1;
            }
        }
    }
    for (x, n) in &planned {
        let allowed =
            (candidates.get(x).copied().unwrap_or(0) - gone.get(x).copied().unwrap_or(0)).max(0);
        assert!(
            *n <= allowed,
            "{n} row(s) newly planned to pay {x:?}, which {} sent row(s) that left the file \
             already paid; at most {allowed} may be",
            gone.get(x).copied().unwrap_or(0)
        );
    }
    for (pc, n) in &added_phones {
        let allowed = (candidate_phones.get(pc).copied().unwrap_or(0)
            - gone_phone.get(pc).copied().unwrap_or(0))
        .max(0);
        assert!(
            *n <= allowed,
            "{n} new row(s) planned to pay {pc:?}, whose {} sent row(s) left the file; at most \
             {allowed} may be",
            gone_phone.get(pc).copied().unwrap_or(0)
        );
    }
}

/// How a row of the file stands in the journal.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Accounted {
    pub planned: usize,
    pub conflict: usize,
    pub rejected: usize,
    /// Already sent, and the file still says the same.
    pub matched: usize,
}

/// Every row of the file ends planned (as the file says), conflict (with a note), rejected
/// (invalid, with a reason) or already sent as the file says; none is dropped, and nothing
/// planned is outside the file.
pub fn every_row_accounted_for(file: &FileRows, after: &[StoredRow]) -> Accounted {
    let known = matchable(after);
    let mut counts = Accounted::default();
    let mut in_file = HashSet::new();
    for f in &file.valid {
        in_file.insert((f.kind, f.identity.as_str()));
        let Some(row) = known.get(&(f.kind, f.identity.as_str())) else {
            panic!("file row {f:?} has no row in the journal");
        };
        let same = payment(row) == file_payment(f) && row.line == f.line;
        if row.conflict.is_some() {
            counts.conflict += 1;
        } else if row.state == RowState::Planned {
            assert!(same, "planned {row:?} is not what the file says: {f:?}");
            counts.planned += 1;
        } else if row.state == RowState::Rejected {
            panic!("valid file row {f:?} is rejected without a conflict note: {row:?}");
        } else {
            assert!(
                same,
                "sent {row:?} differs from the file ({f:?}) with no conflict note"
            );
            counts.matched += 1;
        }
    }
    for line in &file.invalid {
        let identity = format!("rejected:line:{line}");
        let found: Vec<&StoredRow> = after.iter().filter(|r| r.identity == identity).collect();
        assert_eq!(found.len(), 1, "invalid line {line}: {found:?}");
        assert_eq!(found[0].state, RowState::Rejected);
        assert!(
            found[0]
                .last_error
                .as_deref()
                .is_some_and(|e| !e.is_empty()),
            "{:?}",
            found[0]
        );
        counts.rejected += 1;
    }
    for row in after.iter().filter(|r| r.state == RowState::Planned) {
        assert!(
            in_file.contains(&(kind(row), row.identity.as_str())),
            "{row:?} is planned but not in the file"
        );
    }
    assert_eq!(
        counts.planned + counts.conflict + counts.rejected + counts.matched,
        file.valid.len() + file.invalid.len()
    );
    counts
}

/// The batch's rows with what a second replan of the same file may change left out: the
/// invalid rows are written again (new row ids, same content).
pub fn content(rows: &[StoredRow]) -> Vec<StoredRow> {
    let mut out: Vec<StoredRow> = rows
        .iter()
        .cloned()
        .map(|mut r| {
            if r.key.is_none() && r.conflict.is_none() {
                r.id = 0;
            }
            r
        })
        .collect();
    out.sort_by(|a, b| (a.id, a.line, &a.identity).cmp(&(b.id, b.line, &b.identity)));
    out
}
