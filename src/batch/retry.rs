//! `payrun retry`: pay again the rows whose last attempt definitively `failed` (the provider
//! refused the payout or reported it failed), each under a new deterministic key (attempt n
//! of the row, see [`keys::retry_key`]). What is retried and what is not, and why, is decided
//! here from the journal; the new attempts are written (key, body, `planned`) in one
//! transaction under the batch lock after the person confirmed, and then sent by the ordinary
//! sending machinery ([`super::pay`]), `sending` on disk before each request leaves. Rows that
//! are succeeded, accepted, sending or in doubt are never touched.

use std::collections::BTreeMap;

use super::keys::{self, IdentityKind};
use crate::domain::{ProviderKind, RowState};
use crate::journal::{Batch, FailedRow, Journal, JournalError, NewAttempt, OtherRow, StateCount};

/// What to retry: every failed row, or only the rows on these lines of the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryRequest {
    pub only: Option<Vec<u64>>,
}

/// A failed row that gets a new attempt.
#[derive(Clone, Debug)]
pub struct Retried {
    pub row: FailedRow,
    pub next: NewAttempt,
}

/// Why a row is not retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// A provider answer or callback contradicted the request (perhaps "paid after all"):
    /// a person must check with the provider first.
    NeedsPerson(String),
    /// The file changed this row after it was sent.
    Conflict(String),
    /// Sending or in doubt: the payout may already be with the provider.
    MayBeWithProvider,
    /// Accepted or succeeded: the provider has it.
    ProviderHasIt,
    /// Planned: never sent yet (`resume` sends it).
    NotSentYet,
    /// Rejected or cancelled: never to be sent.
    Withdrawn,
}

/// A row retry leaves alone, and why.
#[derive(Clone, Debug)]
pub struct HeldRow {
    pub line: u64,
    pub reference: Option<String>,
    pub state: RowState,
    pub attempt: u32,
    pub why: Held,
}

/// What `retry` will do, shown before anything is sent.
#[derive(Clone, Debug, Default)]
pub struct RetryPlan {
    /// Rows that get a new attempt, in file order.
    pub retried: Vec<Retried>,
    /// Rows listed as not retried, in file order: failed rows a person must look at, rows that
    /// may be with the provider, and with `--only` every named row that is not failed.
    pub held: Vec<HeldRow>,
    /// The other rows of the batch, counted by state (without `--only`).
    pub others: Vec<(RowState, u64)>,
    /// `--only` lines that are no row of the batch.
    pub missing_lines: Vec<u64>,
}

impl RetryPlan {
    /// The retried rows per state and currency, as the pre-flight reads open rows: all
    /// `planned`, since none of them is with the provider under its new key.
    pub fn counts(&self) -> Vec<StateCount> {
        let mut per: BTreeMap<&str, (u64, u128)> = BTreeMap::new();
        for r in &self.retried {
            let e = per.entry(r.row.currency.as_str()).or_default();
            e.0 += 1;
            e.1 += u128::from(r.row.amount_minor);
        }
        per.into_iter()
            .map(|(currency, (rows, amount_minor))| StateCount {
                state: RowState::Planned,
                currency: currency.to_string(),
                rows,
                amount_minor,
                contested_minor: 0,
            })
            .collect()
    }
}

fn held(state: RowState, row: Option<&FailedRow>) -> Held {
    match (state, row) {
        (RowState::Failed, Some(f)) if f.attention.is_some() => {
            Held::NeedsPerson(f.attention.clone().unwrap_or_default())
        }
        (RowState::Failed, Some(f)) => Held::Conflict(f.conflict.clone().unwrap_or_default()),
        (RowState::Sending | RowState::InDoubt, _) => Held::MayBeWithProvider,
        (RowState::Accepted | RowState::Succeeded, _) => Held::ProviderHasIt,
        (RowState::Planned, _) => Held::NotSentYet,
        (_, _) => Held::Withdrawn,
    }
}

/// Decide what retry does to `batch`: read its rows and compute each new attempt's key and
/// body. Nothing is written.
pub fn plan(
    journal: &Journal,
    batch: &Batch,
    req: &RetryRequest,
) -> Result<RetryPlan, PlanRetryError> {
    let scan = journal.retry_scan(&batch.id, req.only.as_deref())?;
    let mut plan = RetryPlan {
        missing_lines: scan.missing_lines,
        ..RetryPlan::default()
    };
    for row in scan.failed {
        if row.attention.is_some() || row.conflict.is_some() {
            plan.held.push(HeldRow {
                line: row.line,
                reference: row.reference.clone(),
                state: RowState::Failed,
                attempt: row.attempt,
                why: held(RowState::Failed, Some(&row)),
            });
            continue;
        }
        let next = new_attempt(batch.provider, &batch.id, &row)?;
        plan.retried.push(Retried { row, next });
    }
    for OtherRow {
        line,
        reference,
        state,
        attempt,
    } in scan.others
    {
        plan.held.push(HeldRow {
            line,
            reference,
            state,
            attempt,
            why: held(state, None),
        });
    }
    plan.held.sort_by_key(|h| h.line);
    if req.only.is_none() {
        let mut others: BTreeMap<RowState, u64> = BTreeMap::new();
        for c in journal.state_counts(&batch.id)? {
            if !matches!(
                c.state,
                RowState::Failed | RowState::Sending | RowState::InDoubt
            ) {
                *others.entry(c.state).or_default() += c.rows;
            }
        }
        plan.others = others.into_iter().collect();
    }
    Ok(plan)
}

/// The next attempt of a failed row: its key (attempt 1's key is the planned one, never
/// recomputed here) and its stored body carrying that key.
fn new_attempt(
    provider: ProviderKind,
    batch_id: &str,
    row: &FailedRow,
) -> Result<NewAttempt, PlanRetryError> {
    let kind = if row.reference.is_some() {
        IdentityKind::Reference
    } else {
        IdentityKind::Derived
    };
    let attempt = row.attempt.saturating_add(1);
    let key = keys::retry_key(batch_id, kind, &row.identity, attempt).to_string();
    let body = crate::provider::body_with_key(provider, &row.body, &key).map_err(|e| {
        PlanRetryError::Body {
            line: row.line,
            reason: e.to_string(),
        }
    })?;
    Ok(NewAttempt {
        row_id: row.id,
        failed_attempt: row.attempt,
        key,
        body,
    })
}

/// Why retry could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanRetryError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "line {line}: the stored request cannot be given a new key ({reason}); nothing was sent"
    )]
    Body { line: u64, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_support::{force_state, id_of_key, plan, planned, temp_journal};
    use crate::journal::{PlanItem, PlannedRow};

    #[test]
    fn failed_rows_get_the_next_attempt_key_and_the_rest_say_why_not() {
        let (_dir, mut journal) = temp_journal();
        let rows: Vec<PlanItem> = ["k1", "k2", "k3", "k4"]
            .iter()
            .zip(2..)
            .map(|(k, line)| {
                PlanItem::Planned(PlannedRow {
                    reference: Some(format!("EMP-{line}")),
                    ..planned(line, &format!("EMP-{line}"), k)
                })
            })
            .collect();
        let new = crate::journal::test_support::new_batch("b", ProviderKind::Rohopay);
        plan(&mut journal, &new, &rows).unwrap();
        let id = |k| id_of_key(&journal, k);
        force_state(&journal, id("k1"), RowState::Failed);
        force_state(&journal, id("k2"), RowState::InDoubt);
        force_state(&journal, id("k3"), RowState::Succeeded);
        force_state(&journal, id("k4"), RowState::Failed);
        crate::journal::flag_attention(journal.conn(), id("k4"), "paid after all").unwrap();
        let batch = journal.batch("b").unwrap();
        let p = super::plan(&journal, &batch, &RetryRequest::default()).unwrap();
        assert_eq!(p.retried.len(), 1);
        let r = &p.retried[0];
        assert_eq!(r.row.line, 2);
        assert_eq!(
            r.next.key,
            keys::retry_key("b", IdentityKind::Reference, "EMP-2", 2).to_string()
        );
        assert_eq!(r.next.failed_attempt, 1);
        assert_eq!(
            p.held
                .iter()
                .map(|h| (h.line, h.why.clone()))
                .collect::<Vec<_>>(),
            [
                (3, Held::MayBeWithProvider),
                (5, Held::NeedsPerson("paid after all".into()))
            ]
        );
        assert_eq!(p.others, [(RowState::Succeeded, 1)]);
        let counts = p.counts();
        assert_eq!(counts.len(), 1);
        assert_eq!((counts[0].rows, counts[0].amount_minor), (1, 25_000));

        let only = super::plan(
            &journal,
            &batch,
            &RetryRequest {
                only: Some(vec![4, 7]),
            },
        )
        .unwrap();
        assert!(only.retried.is_empty());
        assert_eq!(only.held[0].why, Held::ProviderHasIt);
        assert_eq!(only.missing_lines, [7]);
        assert!(only.others.is_empty());
    }
}
