//! Continuing a batch with an edited file (`--allow-changed-file`): rows are matched by
//! identity against the journal so that nothing already sent is sent again under a changed
//! amount or phone, new payees are added, and unsent rows that left the file are withdrawn.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::params;

use super::{PlanError, check_summary, planned_row, rejected_insert};
use crate::ingest::{self, IngestOptions, RowOutcome, Summary};
use crate::journal::{IN_BATCH, Journal, JournalError, RowState, insert_key, next_row_id, now_ms};

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
    let mut stmt = journal.conn().prepare(&format!(
        "SELECT r.identity, r.id, r.state, r.phone, r.amount_minor, r.currency, r.line
         FROM batches b CROSS JOIN rows r
         WHERE b.id = ?1 AND {IN_BATCH} AND r.idem_key IS NOT NULL"
    ))?;
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
                "INSERT INTO rows (id, line, identity, reference, phone, amount_minor, amount_text, currency,
                    state, conflict, created_at, updated_at)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9, ?9)",
                params![next_row_id(&tx, &batch.id)?, planned.line as i64, planned.identity, planned.phone, planned.amount_minor as i64,
                        planned.amount_text, planned.currency.code(), note, now],
            ).map_err(JournalError::from)?;
            result.conflicts += 1;
        } else {
            let id = next_row_id(&tx, &batch.id)?;
            tx.execute(
                "INSERT INTO rows (id, line, identity, idem_key, reference, phone, amount_minor, amount_text,
                    currency, request_body, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'planned', ?11, ?11)",
                params![id, planned.line as i64, planned.identity, planned.key, planned.reference, planned.phone,
                        planned.amount_minor as i64, planned.amount_text, planned.currency.code(), planned.body, now],
            ).map_err(JournalError::from)?;
            insert_key(&tx, &planned.key, id)?;
            result.added += 1;
        }
    }
    // Invalid rows of the edited file replace the old file's invalid rows.
    tx.execute(
        &format!(
            "DELETE FROM rows WHERE id IN (SELECT r.id FROM batches b CROSS JOIN rows r
                WHERE b.id = ?1 AND {IN_BATCH} AND r.idem_key IS NULL AND r.state = 'rejected'
                  AND r.conflict IS NULL AND r.identity LIKE 'rejected:line:%')"
        ),
        [&batch.id],
    )
    .map_err(JournalError::from)?;
    for r in &rejected {
        tx.execute(
            "INSERT INTO rows (id, line, identity, reference, phone, amount_text, currency, state, last_error,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9, ?9)",
            params![next_row_id(&tx, &batch.id)?, r.line as i64, r.identity(), (!r.reference.is_empty()).then_some(r.reference.as_str()),
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
