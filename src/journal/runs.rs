//! How runs of a batch begin and end, and `payrun cancel`: what `status` reads to say how the
//! last run ended and what to run next. A run's start is written under the batch lock; its
//! end only if no other run has started since (a process that lost its lock must not
//! overwrite the record of the process that took the batch over).

use rusqlite::{Connection, params};

use super::lock::{LockToken, check};
use super::rows::{state_of, to_u64};
use super::schema::OPEN;
use super::span::IN_BATCH;
use super::{Journal, JournalError, now_ms};
use crate::domain::{RowState, RunEnd};

/// Record that `command` starts sending batch `batch_id` under lock `token` (in the caller's
/// transaction; fails if the lock was lost).
pub fn run_started(
    conn: &Connection,
    batch_id: &str,
    token: &LockToken,
    command: &str,
) -> Result<(), JournalError> {
    check(conn, batch_id, token)?;
    conn.execute(
        "UPDATE batches SET run_token = ?2, run_command = ?3, run_started = ?4, run_ended = NULL,
            run_end = NULL, run_detail = NULL
         WHERE id = ?1",
        params![batch_id, token.0, command, now_ms()],
    )?;
    Ok(())
}

/// Record how the run started under `token` ended. Nothing is written if another run has
/// started since (this process lost its lock and another took the batch over).
pub fn run_ended(
    conn: &Connection,
    batch_id: &str,
    token: &LockToken,
    end: RunEnd,
    detail: Option<&str>,
) -> Result<(), JournalError> {
    conn.execute(
        "UPDATE batches SET run_ended = ?3, run_end = ?4, run_detail = ?5
         WHERE id = ?1 AND run_token = ?2",
        params![batch_id, token.0, now_ms(), end.as_str(), detail],
    )?;
    Ok(())
}

/// A row that may already be with the provider, listed by `cancel` with what settles it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldRow {
    pub line: u64,
    pub reference: Option<String>,
    pub state: RowState,
}

/// What `cancel` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cancelled {
    /// Rows that were `planned` and are now `cancelled`.
    pub cancelled: u64,
    /// Rows whose request may have reached the provider (sending, in doubt), in file order,
    /// at most the number asked for.
    pub in_doubt: Vec<HeldRow>,
    /// How many such rows there are in all.
    pub in_doubt_total: u64,
    /// Rows the provider took (accepted) whose final state it has not told yet.
    pub accepted: u64,
}

impl Journal {
    /// Withdraw every `planned` row of the batch (they become `cancelled`, and the batch is
    /// marked cancelled so nothing more is sent in it), under lock `token`, in one transaction;
    /// then list up to `listed` rows that may already be with the provider.
    pub fn cancel_batch(
        &mut self,
        batch_id: &str,
        token: &LockToken,
        listed: usize,
    ) -> Result<Cancelled, JournalError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        check(&tx, batch_id, token)?;
        let now = now_ms();
        // The repeated state condition lets SQLite read only the open rows of the batch.
        let cancelled = tx.execute(
            &format!(
                "UPDATE rows SET state = 'cancelled', updated_at = ?2
                 WHERE id IN (SELECT r.id FROM batches b CROSS JOIN rows r INDEXED BY rows_open
                              WHERE b.id = ?1 AND {IN_BATCH}
                                AND {OPEN}
                                AND r.state = 'planned')"
            ),
            params![batch_id, now],
        )?;
        tx.execute(
            "UPDATE batches SET cancelled_at = COALESCE(cancelled_at, ?3), updated_at = ?3,
                run_token = ?2, run_command = 'cancel', run_started = ?3, run_ended = ?3,
                run_end = 'cancelled', run_detail = NULL
             WHERE id = ?1",
            params![batch_id, token.0, now],
        )?;
        tx.commit()?;
        let (in_doubt, in_doubt_total) = self.in_doubt_rows(batch_id, listed)?;
        let accepted = self
            .state_counts(batch_id)?
            .iter()
            .filter(|c| c.state == RowState::Accepted)
            .map(|c| c.rows)
            .sum();
        Ok(Cancelled {
            cancelled: cancelled as u64,
            in_doubt,
            in_doubt_total,
            accepted,
        })
    }

    /// Rows of a batch whose request may have reached the provider (sending, in doubt): the
    /// first `limit` in file order, and how many there are.
    pub fn in_doubt_rows(
        &self,
        batch_id: &str,
        limit: usize,
    ) -> Result<(Vec<HeldRow>, u64), JournalError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT r.line, r.reference, r.state FROM batches b CROSS JOIN rows r
             WHERE b.id = ?1 AND {IN_BATCH} AND r.state IN ('sending','in_doubt')
             ORDER BY r.line, r.id"
        ))?;
        let mut rows = stmt.query([batch_id])?;
        let (mut listed, mut total) = (Vec::new(), 0u64);
        while let Some(r) = rows.next()? {
            total += 1;
            if listed.len() < limit {
                let state: String = r.get(2)?;
                listed.push(HeldRow {
                    line: to_u64(r.get(0)?),
                    reference: r.get(1)?,
                    state: state_of(&state)?,
                });
            }
        }
        Ok((listed, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKind;
    use crate::journal::test_support::{
        force_state, id_of_key, plan_keys, state_of as state, temp_journal,
    };

    #[test]
    fn cancel_withdraws_planned_rows_only_and_lists_what_the_provider_may_have() {
        let (_dir, mut journal) = temp_journal();
        plan_keys(
            &mut journal,
            "b",
            ProviderKind::Rohopay,
            &["k1", "k2", "k3", "k4", "k5"],
        );
        plan_keys(&mut journal, "other", ProviderKind::Rohopay, &["o1"]);
        let ids: Vec<i64> = ["k1", "k2", "k3", "k4", "k5", "o1"]
            .iter()
            .map(|k| id_of_key(&journal, k))
            .collect();
        let (k1, k2, k3, k4, k5, o1) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]);
        force_state(&journal, k2, RowState::InDoubt);
        force_state(&journal, k3, RowState::Succeeded);
        force_state(&journal, k4, RowState::Accepted);
        let (token, _) = journal.acquire_lock("b").unwrap();
        let done = journal.cancel_batch("b", &token, 10).unwrap();
        assert_eq!(done.cancelled, 2);
        assert_eq!((done.in_doubt_total, done.accepted), (1, 1));
        assert_eq!(
            done.in_doubt.iter().map(|r| r.state).collect::<Vec<_>>(),
            [RowState::InDoubt]
        );
        assert_eq!(state(&journal, k1), RowState::Cancelled);
        assert_eq!(state(&journal, k5), RowState::Cancelled);
        assert_eq!(state(&journal, k3), RowState::Succeeded);
        assert_eq!(
            state(&journal, o1),
            RowState::Planned,
            "other batches untouched"
        );
        let batch = journal.batch("b").unwrap();
        assert!(batch.cancelled_at.is_some());
        let run = batch.last_run.unwrap();
        assert_eq!(
            (run.command.as_str(), run.end),
            ("cancel", Some(RunEnd::Cancelled))
        );
        assert!(journal.batch("other").unwrap().cancelled_at.is_none());
        // Nothing is open any more but the row in doubt.
        assert_eq!(journal.open_counts("b").unwrap().len(), 1);
    }

    #[test]
    fn cancel_needs_the_lock() {
        let (_dir, mut journal) = temp_journal();
        plan_keys(&mut journal, "b", ProviderKind::Rohopay, &["k1"]);
        let stale = LockToken("not-ours".into());
        assert!(matches!(
            journal.cancel_batch("b", &stale, 10),
            Err(JournalError::LockLost(_))
        ));
        assert_eq!(
            state(&journal, id_of_key(&journal, "k1")),
            RowState::Planned
        );
    }

    #[test]
    fn a_run_end_is_recorded_only_by_the_run_that_started_last() {
        let (_dir, mut journal) = temp_journal();
        plan_keys(&mut journal, "b", ProviderKind::Rohopay, &["k1"]);
        let (first, _) = journal.acquire_lock("b").unwrap();
        run_started(journal.conn(), "b", &first, "run").unwrap();
        let run = journal.batch("b").unwrap().last_run.unwrap();
        assert_eq!(
            (run.command.as_str(), run.end, run.ended),
            ("run", None, None)
        );
        // Another process takes the batch over and starts its own run.
        journal.release_lock("b", &first).unwrap();
        let (second, _) = journal.acquire_lock("b").unwrap();
        assert!(run_started(journal.conn(), "b", &first, "run").is_err());
        run_started(journal.conn(), "b", &second, "resume").unwrap();
        run_ended(journal.conn(), "b", &first, RunEnd::LockLost, None).unwrap();
        let run = journal.batch("b").unwrap().last_run.unwrap();
        assert_eq!((run.command.as_str(), run.end), ("resume", None));
        run_ended(
            journal.conn(),
            "b",
            &second,
            RunEnd::WalletEmpty,
            Some("insufficient balance"),
        )
        .unwrap();
        let run = journal.batch("b").unwrap().last_run.unwrap();
        assert_eq!(run.end, Some(RunEnd::WalletEmpty));
        assert_eq!(run.detail.as_deref(), Some("insufficient balance"));
        assert!(run.ended.is_some());
    }
}
