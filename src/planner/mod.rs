//! Planning turns a validated file into journal rows: each valid row gets its identity, its
//! deterministic key and its exact request body once, here, and never again. A new batch is
//! planned atomically; an edited file (`--allow-changed-file`) is matched row by row against
//! the batch so that nothing already sent is sent again under a changed amount or phone.

mod replan;

use std::path::Path;

use crate::domain::{PayeeRow, ProviderKind};
use crate::ingest::{self, IngestError, IngestOptions, RejectedRow, RowOutcome, Summary};
use crate::journal::{
    Journal, JournalError, NewBatch, PlanItem, PlanStats, PlannedRow, RejectedInsert,
};

use crate::keys;
use crate::provider::{self, BodyContext};
pub use replan::{Replanned, replan_changed};

/// Why planning wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{} invalid row(s) and --skip-invalid not given", .0.invalid)]
    Invalid(Box<Summary>),
    #[error("control totals do not match the file")]
    ControlMismatch(Box<Summary>),
    #[error("cannot encode a request body: {0}")]
    Body(String),
}

/// The outcome of planning.
#[derive(Debug)]
pub struct Planned {
    pub stats: PlanStats,
    pub summary: Summary,
}

/// Turn a valid row into its journal form: identity, key and stored body.
pub fn planned_row(
    provider: ProviderKind,
    batch_id: &str,
    callback_url: Option<&str>,
    row: &PayeeRow,
) -> Result<PlannedRow, PlanError> {
    let identity = keys::row_identity(row);
    let key = keys::idempotency_key(batch_id, &identity).to_string();
    let ctx = BodyContext {
        batch_id,
        callback_url,
    };
    let body = provider::request_body(provider, row, &key, &ctx)
        .map_err(|e| PlanError::Body(e.to_string()))?;
    Ok(PlannedRow {
        line: row.line,
        identity,
        key,
        reference: row.reference.clone(),
        phone: row.phone.international().to_string(),
        amount_minor: row.amount.get(),
        amount_text: row.amount.to_major_string(row.currency),
        currency: row.currency,
        body,
    })
}

pub(crate) fn rejected_insert(row: &RejectedRow) -> RejectedInsert {
    RejectedInsert {
        line: row.line,
        reference: row.reference.clone(),
        phone: row.phone.clone(),
        amount: row.amount.clone(),
        currency: row.currency.clone(),
        error: row
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.column, e.reason))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Refuse unless every row is valid (or `skip_invalid`) and control totals match.
pub(crate) fn check_summary(summary: Summary, skip_invalid: bool) -> Result<Summary, PlanError> {
    let file_level = summary.errors.iter().any(|e| e.line.is_none());
    if file_level {
        return Err(PlanError::ControlMismatch(Box::new(summary)));
    }
    if summary.invalid > 0 && !skip_invalid {
        return Err(PlanError::Invalid(Box::new(summary)));
    }
    Ok(summary)
}

/// Rows handed from the CSV thread to the journal thread at a time.
const CHUNK: usize = 1024;

/// Validate `path` and create `batch` with all its rows in one transaction. Two threads work
/// at once: this one inserts into SQLite while a second reads, validates and derives each
/// row's key and body.
pub fn plan_new(
    journal: &mut Journal,
    batch: &NewBatch,
    path: &Path,
    opts: &IngestOptions,
) -> Result<Planned, PlanError> {
    let skip_invalid = batch.settings.skip_invalid;
    let outcome = journal.plan_new_batch(batch, |sink| {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PlanItem>>(8);
            // Written rows go back to the CSV thread to be freed there, off this busier one.
            let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Vec<PlanItem>>();
            let producer = std::thread::Builder::new()
                .name("plan-csv".into())
                .spawn_scoped(scope, move || produce(batch, path, opts, &tx, &spent_rx))
                .map_err(|e| PlanError::Body(format!("cannot start the CSV thread: {e}")))?;
            for chunk in rx {
                sink.write(&chunk);
                // Fails only once the CSV thread is done; then the chunk is freed here.
                let _ = spent_tx.send(chunk);
            }
            let summary = producer
                .join()
                .map_err(|_| PlanError::Body("the CSV thread panicked".into()))??;
            check_summary(summary, skip_invalid)
        })
    })?;
    let (stats, summary) = outcome?;
    Ok(Planned { stats, summary })
}

/// The CSV side of planning: stream, validate, derive keys and bodies, send in chunks.
fn produce(
    batch: &NewBatch,
    path: &Path,
    opts: &IngestOptions,
    tx: &std::sync::mpsc::SyncSender<Vec<PlanItem>>,
    spent: &std::sync::mpsc::Receiver<Vec<PlanItem>>,
) -> Result<Summary, PlanError> {
    let callback = batch.settings.callback_url.as_deref();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut failure = None;
    let summary = ingest::ingest_path(path, opts, |outcome| {
        if failure.is_some() {
            return;
        }
        let item = match outcome {
            RowOutcome::Valid(row) => {
                match planned_row(batch.provider, &batch.id, callback, &row) {
                    Ok(planned) => PlanItem::Planned(planned),
                    Err(e) => {
                        failure = Some(e);
                        return;
                    }
                }
            }
            RowOutcome::Rejected(row) => PlanItem::Rejected(rejected_insert(&row)),
        };
        chunk.push(item);
        if chunk.len() == CHUNK {
            // A chunk the journal has written, emptied here, or a new one.
            let next = match spent.try_recv() {
                Ok(mut old) => {
                    old.clear();
                    old
                }
                Err(_) => Vec::with_capacity(CHUNK),
            };
            let full = std::mem::replace(&mut chunk, next);
            if tx.send(full).is_err() {
                failure = Some(PlanError::Body("the journal stopped taking rows".into()));
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !chunk.is_empty() && tx.send(chunk).is_err() {
        return Err(PlanError::Body("the journal stopped taking rows".into()));
    }
    Ok(summary)
}
