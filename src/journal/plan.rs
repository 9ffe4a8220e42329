//! Planning: a new batch and all of its rows written in one transaction, so a batch either
//! exists completely (every valid row `planned` with its key and exact request body, every
//! invalid row `rejected`) or not at all. How the rows are written fast is `super::bulk`.

use rusqlite::{CachedStatement, Transaction, TransactionBehavior};

use super::bulk::{self, CHUNK, Keys};
use super::fingerprint::{batches_with_fingerprint, set_fingerprint};
use super::items::{PlanItem, PlanStats, PlannedRow, RejectedInsert};
use super::{Batch, Journal, JournalError, NewBatch, batch::insert_batch, now_ms, span};

/// Receives rows while a batch is planned, in plan order, and writes them at once, many per
/// statement (see `super::bulk`). Errors are kept and reported at the end so the producer
/// (the CSV stream) needs no error plumbing of its own.
pub struct PlanSink<'t> {
    tx: &'t Transaction<'t>,
    batch_id: &'t str,
    seq: i64,
    /// Rows written so far; the next row is number `written + 1` of the batch.
    written: i64,
    now: i64,
    first: CachedStatement<'t>,
    many: CachedStatement<'t>,
    one: CachedStatement<'t>,
    keys: Keys,
    stats: PlanStats,
    /// What the batch pays, and how many rows repeat an earlier row's payment.
    fingerprint: Option<(String, u64)>,
    error: Option<JournalError>,
}

impl PlanSink<'_> {
    pub fn planned(&mut self, row: &PlannedRow) {
        self.write(&[PlanItem::Planned(row.clone())]);
    }

    pub fn rejected(&mut self, row: &RejectedInsert) {
        self.write(&[PlanItem::Rejected(row.clone())]);
    }

    /// Write the next rows of the batch. They are not needed afterwards: the caller may drop
    /// them wherever it is cheapest (the planner hands them back to the CSV thread).
    pub fn write(&mut self, items: &[PlanItem]) {
        if self.error.is_some() || items.is_empty() {
            return;
        }
        match self.try_write(items) {
            Ok(()) => {}
            Err(e) => self.error = Some(e),
        }
    }

    fn try_write(&mut self, items: &[PlanItem]) -> Result<(), JournalError> {
        let first_id = span::row_id(self.seq, self.written + 1)?;
        let last_id = span::row_id(self.seq, self.written + items.len() as i64)?;
        let mut rest = items;
        if self.written == 0 {
            // The batch's first row sets where its ids start; SQLite numbers the rest on.
            bulk::insert_row(&mut self.first, self.now, Some(first_id), &rest[0])?;
            rest = &rest[1..];
        }
        let mut chunks = rest.chunks_exact(CHUNK);
        for chunk in &mut chunks {
            if chunk.iter().all(|i| matches!(i, PlanItem::Planned(_))) {
                bulk::insert_planned(&mut self.many, self.now, chunk)?;
            } else {
                for item in chunk {
                    bulk::insert_row(&mut self.one, self.now, None, item)?;
                }
            }
        }
        for item in chunks.remainder() {
            bulk::insert_row(&mut self.one, self.now, None, item)?;
        }
        // Keys are matched to rows by these ids: they must be the ones SQLite gave.
        if self.tx.last_insert_rowid() != last_id {
            return Err(JournalError::Corrupt(format!(
                "rows of batch {} were not numbered on from {first_id} (expected {last_id}, got {})",
                self.seq,
                self.tx.last_insert_rowid()
            )));
        }
        for (id, item) in (first_id..).zip(items) {
            match item {
                PlanItem::Planned(row) => {
                    self.keys.push(&row.key, id);
                    self.stats.planned += 1;
                }
                PlanItem::Rejected(_) => self.stats.rejected += 1,
            }
        }
        self.written += items.len() as i64;
        Ok(())
    }

    /// Other batches of the journal that pay exactly what this one does (same fingerprint),
    /// newest first; read inside the plan's transaction.
    pub fn same_content(&self, fingerprint: &str) -> Result<Vec<Batch>, JournalError> {
        batches_with_fingerprint(self.tx, fingerprint, self.batch_id)
    }

    /// Record what the batch pays and how many of its rows repeat an earlier row's phone,
    /// amount and currency (written with its keys when the plan is complete).
    pub fn set_fingerprint(&mut self, fingerprint: String, repeats: u64) {
        self.fingerprint = Some((fingerprint, repeats));
    }

    /// Write every key in key order, once all rows are in.
    fn finish(self, tx: &Transaction<'_>) -> Result<PlanStats, JournalError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.keys.write(tx)?;
        if let Some((fingerprint, repeats)) = &self.fingerprint {
            set_fingerprint(tx, self.batch_id, fingerprint, Some(*repeats))?;
        }
        Ok(self.stats)
    }
}

impl Journal {
    /// Create `batch` and fill it from `produce`, atomically; returns the rows written and
    /// `produce`'s own value. If `produce` returns an error
    /// (e.g. the file turned out unreadable half way), nothing is written and the error is
    /// handed back in the inner `Err`.
    pub fn plan_new_batch<T, E>(
        &mut self,
        batch: &NewBatch,
        produce: impl FnOnce(&mut PlanSink<'_>) -> Result<T, E>,
    ) -> Result<Result<(PlanStats, T), E>, JournalError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = insert_batch(&tx, batch)?;
        let outcome = {
            let mut sink = PlanSink {
                tx: &tx,
                batch_id: &batch.id,
                seq,
                written: 0,
                now: now_ms(),
                first: tx.prepare_cached(&bulk::row_sql(true))?,
                many: tx.prepare_cached(&bulk::planned_sql(CHUNK))?,
                one: tx.prepare_cached(&bulk::row_sql(false))?,
                keys: Keys::default(),
                stats: PlanStats::default(),
                fingerprint: None,
                error: None,
            };
            match produce(&mut sink) {
                Ok(value) => Ok((sink.finish(&tx)?, value)),
                Err(e) => match sink.error {
                    Some(err) => return Err(err),
                    None => Err(e),
                },
            }
        };
        match outcome {
            Ok(done) => {
                crate::crash::point("mid-plan");
                tx.commit()?;
                Ok(Ok(done))
            }
            Err(e) => Ok(Err(e)),
        }
    }
}
