//! Planning turns a validated file into journal rows: each valid row gets its identity, its
//! deterministic key and its exact request body once, here, and never again. A new batch is
//! planned atomically; an edited file (`--allow-changed-file`) is matched row by row against
//! the batch so that nothing already sent is sent again under a changed amount or phone.

mod fingerprint;
mod gone;
mod replan;
mod source;

use std::path::PathBuf;

use crate::domain::{PayeeRow, ProviderKind};
use crate::ingest::{IngestError, IngestOptions, RejectedRow, RowOutcome, Summary, WarningKind};
use crate::journal::{
    Batch, Journal, JournalError, NewBatch, PayeeDetails, PlanItem, PlanStats, PlannedRow,
    RejectedInsert,
};

use crate::batch::keys;
use crate::provider::{self, BodyContext};
pub use fingerprint::Fingerprint;
pub use replan::{Replanned, replan_changed};
pub use source::PlanFile;

/// Same content as a batch planned within this many days is refused unless `--pay-again`.
pub const SAME_CONTENT_REFUSED_DAYS: i64 = 25;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

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
    #[error(
        "{} changed while payrun was reading it (it was saved again between two reads); nothing \
         was planned. Wait until it is saved, then run the same command again.",
        .0.display()
    )]
    FileChanged(PathBuf),
    /// The file pays exactly what a recent batch pays (same fingerprint).
    #[error("the same payments as batch {}", .0.id)]
    SameContent(Box<Batch>),
}

/// The outcome of planning.
#[derive(Debug)]
pub struct Planned {
    pub stats: PlanStats,
    pub summary: Summary,
    /// Batches paying exactly the same, planned before (older than the refusal window, or
    /// any age with `--pay-again`), newest first: the pre-flight names them.
    pub same_content: Vec<Batch>,
}

/// Turn a valid row into its journal form: identity, key and stored body.
/// `key_scheme` is the batch's (see [`keys::KEY_SCHEME`]): a new batch's, or the one an
/// existing batch was planned with, so rows added later are keyed like the rest.
pub fn planned_row(
    provider: ProviderKind,
    batch_id: &str,
    key_scheme: i64,
    callback_url: Option<&str>,
    row: &PayeeRow,
) -> Result<PlannedRow, PlanError> {
    let identity = keys::row_identity(row);
    let key =
        keys::key_for(key_scheme, batch_id, keys::IdentityKind::of(row), &identity).to_string();
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
        details: details_of(row),
    })
}

/// What the file said about the payee beyond the payment, as reports show it.
fn details_of(row: &PayeeRow) -> PayeeDetails {
    let name = [row.first_name.as_deref(), row.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    PayeeDetails {
        name: (!name.is_empty()).then_some(name),
        operator: row.operator.map(|o| o.name().to_owned()),
        description: row.description.clone(),
    }
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
///
/// The batch's fingerprint (what it pays, see [`Fingerprint`]) is computed on the way; a batch
/// of this journal created in the last [`SAME_CONTENT_REFUSED_DAYS`] days with the same
/// fingerprint refuses the plan ([`PlanError::SameContent`], nothing written) unless
/// `pay_again`.
pub fn plan_new(
    journal: &mut Journal,
    batch: &NewBatch,
    file: &PlanFile,
    opts: &IngestOptions,
    pay_again: bool,
) -> Result<Planned, PlanError> {
    let skip_invalid = batch.settings.skip_invalid;
    let outcome = journal.plan_new_batch(batch, |sink| {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PlanItem>>(8);
            // Written rows go back to the CSV thread to be freed there, off this busier one.
            let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Vec<PlanItem>>();
            let producer = std::thread::Builder::new()
                .name("plan-csv".into())
                .spawn_scoped(scope, move || produce(batch, file, opts, &tx, &spent_rx))
                .map_err(|e| PlanError::Body(format!("cannot start the CSV thread: {e}")))?;
            for chunk in rx {
                sink.write(&chunk);
                // Fails only once the CSV thread is done; then the chunk is freed here.
                let _ = spent_tx.send(chunk);
            }
            let (summary, fingerprint) = producer
                .join()
                .map_err(|_| PlanError::Body("the CSV thread panicked".into()))??;
            let summary = check_summary(summary, skip_invalid)?;
            let mut same = sink.same_content(&fingerprint)?;
            let recent = crate::journal::now_ms() - SAME_CONTENT_REFUSED_DAYS * DAY_MS;
            if !pay_again && let Some(pos) = same.iter().position(|b| b.created_at >= recent) {
                return Err(PlanError::SameContent(Box::new(same.swap_remove(pos))));
            }
            let repeats = summary.warning_counts.get(&WarningKind::RepeatedPayment);
            sink.set_fingerprint(fingerprint, repeats.copied().unwrap_or(0));
            Ok((summary, same))
        })
    })?;
    let (stats, (summary, same_content)) = outcome?;
    Ok(Planned {
        stats,
        summary,
        same_content,
    })
}

/// The CSV side of planning: stream, validate, derive keys and bodies, send in chunks; returns
/// the file's summary and the batch's fingerprint.
fn produce(
    batch: &NewBatch,
    file: &PlanFile,
    opts: &IngestOptions,
    tx: &std::sync::mpsc::SyncSender<Vec<PlanItem>>,
    spent: &std::sync::mpsc::Receiver<Vec<PlanItem>>,
) -> Result<(Summary, String), PlanError> {
    let callback = batch.settings.callback_url.as_deref();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut failure = None;
    let mut fingerprint = Fingerprint::new(batch.provider);
    let summary = file.ingest(opts, |outcome| {
        if failure.is_some() {
            return;
        }
        let item = match outcome {
            RowOutcome::Valid(row) => {
                fingerprint.add(&row);
                match planned_row(batch.provider, &batch.id, keys::KEY_SCHEME, callback, &row) {
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
    Ok((summary, fingerprint.finish()))
}

#[cfg(test)]
mod tests;
