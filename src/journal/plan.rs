//! Planning: a new batch and all of its rows written in one transaction, so a batch either
//! exists completely (every valid row `planned` with its key and exact request body, every
//! invalid row `rejected`) or not at all.

use rusqlite::{CachedStatement, TransactionBehavior, params};

use super::{Journal, JournalError, NewBatch, batch::insert_batch, now_ms};
use crate::domain::Currency;

/// A valid row ready to send: its key and body are final and never recomputed.
#[derive(Clone, Debug)]
pub struct PlannedRow {
    pub line: u64,
    pub identity: String,
    pub key: String,
    pub reference: Option<String>,
    /// International digits.
    pub phone: String,
    pub amount_minor: u64,
    /// Major units as shown to people (`2500.50`).
    pub amount_text: String,
    pub currency: Currency,
    pub body: Vec<u8>,
}

/// An invalid row, kept so reports show it and nothing is silently skipped.
#[derive(Clone, Debug)]
pub struct RejectedInsert {
    pub line: u64,
    pub reference: String,
    pub phone: String,
    pub amount: String,
    pub currency: String,
    pub error: String,
}

impl RejectedInsert {
    /// Rejected rows have no identity of their own; their line stands in for it.
    pub fn identity(&self) -> String {
        format!("rejected:line:{}", self.line)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanStats {
    pub planned: u64,
    pub rejected: u64,
}

const INSERT_PLANNED: &str =
    "INSERT INTO rows (batch_id, line, identity, idem_key, reference, phone,
        amount_minor, amount_text, currency, request_body, state, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'planned', ?11, ?11)";

const INSERT_REJECTED: &str = "INSERT INTO rows (batch_id, line, identity, reference, phone,
        amount_text, currency, state, last_error, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9, ?9)";

/// Receives rows while a batch is planned. Errors are kept and reported at the end so the
/// producer (the CSV stream) needs no error plumbing of its own.
pub struct PlanSink<'t> {
    batch_id: String,
    now: i64,
    planned_stmt: CachedStatement<'t>,
    rejected_stmt: CachedStatement<'t>,
    stats: PlanStats,
    error: Option<JournalError>,
}

impl PlanSink<'_> {
    pub fn planned(&mut self, row: &PlannedRow) {
        if self.error.is_some() {
            return;
        }
        let result = self.planned_stmt.execute(params![
            self.batch_id,
            row.line as i64,
            row.identity,
            row.key,
            row.reference,
            row.phone,
            row.amount_minor as i64,
            row.amount_text,
            row.currency.code(),
            row.body,
            self.now
        ]);
        match result {
            Ok(_) => self.stats.planned += 1,
            Err(e) => self.error = Some(e.into()),
        }
    }

    pub fn rejected(&mut self, row: &RejectedInsert) {
        if self.error.is_some() {
            return;
        }
        let result = self.rejected_stmt.execute(params![
            self.batch_id,
            row.line as i64,
            row.identity(),
            (!row.reference.is_empty()).then_some(row.reference.as_str()),
            row.phone,
            row.amount,
            row.currency,
            row.error,
            self.now
        ]);
        match result {
            Ok(_) => self.stats.rejected += 1,
            Err(e) => self.error = Some(e.into()),
        }
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
        insert_batch(&tx, batch)?;
        let outcome = {
            let mut sink = PlanSink {
                batch_id: batch.id.clone(),
                now: now_ms(),
                planned_stmt: tx.prepare_cached(INSERT_PLANNED)?,
                rejected_stmt: tx.prepare_cached(INSERT_REJECTED)?,
                stats: PlanStats::default(),
                error: None,
            };
            let produced = produce(&mut sink);
            if let Some(err) = sink.error {
                return Err(err);
            }
            produced.map(|value| (sink.stats, value))
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
