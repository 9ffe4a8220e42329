//! Planning turns a validated file into journal rows: each valid row gets its identity, its
//! deterministic key and its exact request body once, here, and never again. A new batch is
//! planned atomically; an edited file (`--allow-changed-file`) is matched row by row against
//! the batch so that nothing already sent is sent again under a changed amount or phone.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::params;

use crate::domain::{PayeeRow, ProviderKind};
use crate::ingest::{self, IngestError, IngestOptions, RejectedRow, RowOutcome, Summary};
use crate::journal::{
    Journal, JournalError, NewBatch, PlanStats, PlannedRow, RejectedInsert, RowState, now_ms,
};
use crate::keys;
use crate::provider::{self, BodyContext};

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

fn rejected_insert(row: &RejectedRow) -> RejectedInsert {
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
fn check_summary(summary: Summary, skip_invalid: bool) -> Result<Summary, PlanError> {
    let file_level = summary.errors.iter().any(|e| e.line.is_none());
    if file_level {
        return Err(PlanError::ControlMismatch(Box::new(summary)));
    }
    if summary.invalid > 0 && !skip_invalid {
        return Err(PlanError::Invalid(Box::new(summary)));
    }
    Ok(summary)
}

/// One row on its way from the CSV thread to the journal.
enum Item {
    Planned(PlannedRow),
    Rejected(RejectedInsert),
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
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(8);
            let producer = scope.spawn(move || produce(batch, path, opts, &tx));
            for chunk in rx {
                for item in chunk {
                    match item {
                        Item::Planned(row) => sink.planned(&row),
                        Item::Rejected(row) => sink.rejected(&row),
                    }
                }
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
    tx: &std::sync::mpsc::SyncSender<Vec<Item>>,
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
                    Ok(planned) => Item::Planned(planned),
                    Err(e) => {
                        failure = Some(e);
                        return;
                    }
                }
            }
            RowOutcome::Rejected(row) => Item::Rejected(rejected_insert(&row)),
        };
        chunk.push(item);
        if chunk.len() == CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
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

/// What an edited file changed in an existing batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replanned {
    pub unchanged: u64,
    /// New payees added to the batch.
    pub added: u64,
    /// Changed rows that had not been sent yet: updated to the file's values.
    pub updated: u64,
    /// Changed or removed rows that had already been sent: reported, never paid again.
    pub conflicts: u64,
    /// Unsent rows that are no longer in the file: will not be paid.
    pub withdrawn: u64,
    pub rejected: u64,
}

struct Existing {
    id: i64,
    state: RowState,
    phone: String,
    amount_minor: u64,
    currency: String,
    line: u64,
    seen: bool,
}

fn load_existing(
    journal: &Journal,
    batch_id: &str,
) -> Result<HashMap<String, Existing>, JournalError> {
    let mut stmt = journal.conn().prepare(
        "SELECT identity, id, state, phone, amount_minor, currency, line FROM rows
         WHERE batch_id = ?1 AND idem_key IS NOT NULL",
    )?;
    let mut rows = stmt.query([batch_id])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(2)?;
        let state = RowState::parse(&state)
            .ok_or_else(|| JournalError::Corrupt(format!("unknown state {state:?}")))?;
        out.insert(
            r.get::<_, String>(0)?,
            Existing {
                id: r.get(1)?,
                state,
                phone: r.get(3)?,
                amount_minor: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                currency: r.get(5)?,
                line: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
                seen: false,
            },
        );
    }
    Ok(out)
}

/// Continue `batch` with an edited file: rows are matched by identity. Unchanged rows keep
/// their state; unsent changed rows take the file's values; a row that was already sent and
/// now differs (or vanished) is recorded as a conflict and never paid again; a new row that
/// replaces a sent row of the same phone (an edited amount without a reference column) is a
/// conflict too.
pub fn replan_changed(
    journal: &mut Journal,
    batch: &crate::journal::Batch,
    path: &Path,
    opts: &IngestOptions,
    file_sha256: &str,
) -> Result<(Replanned, Summary), PlanError> {
    let mut existing = load_existing(journal, &batch.id)?;
    let callback = batch.settings.callback_url.clone();
    let mut valid = Vec::new();
    let mut rejected = Vec::new();
    let summary = ingest::ingest_path(path, opts, |outcome| match outcome {
        RowOutcome::Valid(row) => valid.push(row),
        RowOutcome::Rejected(row) => rejected.push(rejected_insert(&row)),
    })?;
    let summary = check_summary(summary, batch.settings.skip_invalid)?;

    let tx = journal
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(JournalError::from)?;
    let now = now_ms();
    let mut result = Replanned::default();
    let mut fresh = Vec::new();
    for row in &valid {
        let planned = planned_row(batch.provider, &batch.id, callback.as_deref(), row)?;
        let Some(old) = existing.get_mut(&planned.identity) else {
            fresh.push(planned);
            continue;
        };
        old.seen = true;
        let same = old.phone == planned.phone
            && old.amount_minor == planned.amount_minor
            && old.currency == planned.currency.code();
        if same {
            result.unchanged += 1;
            if old.line != planned.line {
                tx.execute(
                    "UPDATE rows SET line = ?2 WHERE id = ?1",
                    params![old.id, planned.line as i64],
                )
                .map_err(JournalError::from)?;
            }
        } else if old.state == RowState::Planned {
            tx.execute(
                "UPDATE rows SET line = ?2, phone = ?3, amount_minor = ?4, amount_text = ?5, currency = ?6,
                    request_body = ?7, reference = ?8, updated_at = ?9 WHERE id = ?1",
                params![old.id, planned.line as i64, planned.phone, planned.amount_minor as i64,
                        planned.amount_text, planned.currency.code(), planned.body, planned.reference, now],
            ).map_err(JournalError::from)?;
            result.updated += 1;
        } else {
            let note = format!(
                "line {} now says {} {} to {}, but {} {} to {} was already {}; not paid again",
                planned.line,
                planned.amount_text,
                planned.currency,
                planned.phone,
                old.amount_minor,
                old.currency,
                old.phone,
                old.state
            );
            tx.execute(
                "UPDATE rows SET conflict = ?2, updated_at = ?3 WHERE id = ?1",
                params![old.id, note, now],
            )
            .map_err(JournalError::from)?;
            result.conflicts += 1;
        }
    }
    // Rows of the batch that the edited file no longer has.
    let mut vanished_sent_phones: HashMap<(String, String), (u64, String)> = HashMap::new();
    for old in existing.values().filter(|o| !o.seen) {
        if old.state == RowState::Planned {
            tx.execute(
                "UPDATE rows SET state = 'rejected', last_error = 'removed from the file before it was sent', updated_at = ?2 WHERE id = ?1",
                params![old.id, now],
            ).map_err(JournalError::from)?;
            result.withdrawn += 1;
        } else if old.state != RowState::Rejected {
            tx.execute(
                "UPDATE rows SET conflict = 'no longer in the file, but it was already sent', updated_at = ?2 WHERE id = ?1",
                params![old.id, now],
            ).map_err(JournalError::from)?;
            result.conflicts += 1;
            vanished_sent_phones.insert(
                (old.phone.clone(), old.currency.clone()),
                (old.line, old.state.to_string()),
            );
        }
    }
    // New identities: a payee added, unless it replaces a sent row of the same phone.
    for planned in fresh {
        let replaced = planned
            .reference
            .is_none()
            .then(|| {
                vanished_sent_phones
                    .get(&(planned.phone.clone(), planned.currency.code().to_string()))
            })
            .flatten();
        if let Some((old_line, old_state)) = replaced {
            let note = format!(
                "line {} pays {} {} to {}, which was already {} for line {} with another amount; not paid",
                planned.line,
                planned.amount_text,
                planned.currency,
                planned.phone,
                old_state,
                old_line
            );
            tx.execute(
                "INSERT INTO rows (batch_id, line, identity, reference, phone, amount_minor, amount_text, currency,
                    state, conflict, created_at, updated_at)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9, ?9)",
                params![batch.id, planned.line as i64, planned.identity, planned.phone, planned.amount_minor as i64,
                        planned.amount_text, planned.currency.code(), note, now],
            ).map_err(JournalError::from)?;
            result.conflicts += 1;
        } else {
            tx.execute(
                "INSERT INTO rows (batch_id, line, identity, idem_key, reference, phone, amount_minor, amount_text,
                    currency, request_body, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'planned', ?11, ?11)",
                params![batch.id, planned.line as i64, planned.identity, planned.key, planned.reference, planned.phone,
                        planned.amount_minor as i64, planned.amount_text, planned.currency.code(), planned.body, now],
            ).map_err(JournalError::from)?;
            result.added += 1;
        }
    }
    // Invalid rows of the edited file replace the old file's invalid rows.
    tx.execute(
        "DELETE FROM rows WHERE batch_id = ?1 AND idem_key IS NULL AND state = 'rejected' AND conflict IS NULL
            AND identity LIKE 'rejected:line:%'",
        [&batch.id],
    ).map_err(JournalError::from)?;
    for r in &rejected {
        tx.execute(
            "INSERT INTO rows (batch_id, line, identity, reference, phone, amount_text, currency, state, last_error,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9, ?9)",
            params![batch.id, r.line as i64, r.identity(), (!r.reference.is_empty()).then_some(r.reference.as_str()),
                    r.phone, r.amount, r.currency, r.error, now],
        ).map_err(JournalError::from)?;
        result.rejected += 1;
    }
    tx.execute(
        "UPDATE batches SET file_path = ?2, file_sha256 = ?3, updated_at = ?4 WHERE id = ?1",
        params![batch.id, path.to_string_lossy(), file_sha256, now],
    )
    .map_err(JournalError::from)?;
    tx.commit().map_err(JournalError::from)?;
    Ok((result, summary))
}
