//! Continuing a batch with an edited file (`--allow-changed-file`): rows are matched by
//! identity against the journal so that nothing already sent is sent again under a changed
//! amount or phone, new payees are added, and unsent rows that left the file are withdrawn.
//! A new row that pays what a sent row, now gone from the file, already paid (a renamed
//! reference, or an edited amount without a reference column) is a conflict, never paid.

use std::collections::HashMap;

use super::fingerprint::Fingerprint;
use super::gone::GoneRows;
use super::{PlanError, PlanFile, check_summary, planned_row, rejected_insert};
use crate::batch::keys::IdentityKind;
use crate::domain::RowState;
use crate::ingest::{IngestOptions, RowOutcome, Summary};
use crate::journal::{ExistingRow, Journal, PlannedRow};

/// What an edited file changed in an existing batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replanned {
    pub unchanged: u64,
    /// New payees added to the batch, and unsent rows back in the file after being withdrawn.
    pub added: u64,
    /// Changed rows that had not been sent yet: updated to the file's values.
    pub updated: u64,
    /// Changed or removed rows that had already been sent, and rows that would pay again
    /// what such a row paid: reported, never paid.
    pub conflicts: u64,
    /// Unsent rows that are no longer in the file: will not be paid.
    pub withdrawn: u64,
    pub rejected: u64,
}

/// Where a held row's note quotes the reason it was first held back.
const HELD_SINCE: &str = "still held back since an earlier save: «";

/// The note of a row held back as a conflict that the file edits again: what the file says
/// now, and the reason it was first held (not a chain of every save's note).
fn held_note(p: &PlannedRow, earlier: &str) -> String {
    let first = earlier
        .split_once(HELD_SINCE)
        .and_then(|(_, rest)| rest.rsplit_once('»'))
        .map_or(earlier, |(quoted, _)| quoted);
    format!(
        "{}; {HELD_SINCE}{first}». If this is a different payee, pay them in a new batch",
        now_says(p)
    )
}

/// What the edited file asks of a row: "line N now says AMOUNT CUR to PHONE".
fn now_says(p: &PlannedRow) -> String {
    format!(
        "line {} now says {} {} to {}",
        p.line, p.amount_text, p.currency, p.phone
    )
}

/// A row `payrun retry` gave a new attempt that has not been sent yet: its earlier attempt
/// failed, and this one is still only `planned`.
fn pending_retry(row: &ExistingRow) -> bool {
    row.state == RowState::Planned && row.attempt > 1
}

fn kind_of(row: &ExistingRow) -> IdentityKind {
    if row.reference.is_some() {
        IdentityKind::Reference
    } else {
        IdentityKind::Derived
    }
}

/// Continue `batch` with an edited file: rows are matched by identity. Unchanged rows keep
/// their state; a row that was already sent and now differs (or vanished) is recorded as a
/// conflict and never paid again. Rows the file would newly pay (new identities, unsent rows
/// with new values, withdrawn rows back in the file) are first matched, lowest line first,
/// against sent rows that left the file: one that pays the same (phone, amount, currency) as
/// such a row is a conflict; then a new row of the phone of a sent row that left the file (a
/// renamed reference with an edited amount, or an edited amount without a reference column)
/// is a conflict too. Each gone row answers for one row. The caller holds the batch lock.
pub fn replan_changed(
    journal: &mut Journal,
    batch: &crate::journal::Batch,
    file: &PlanFile,
    opts: &IngestOptions,
) -> Result<(Replanned, Summary), PlanError> {
    let callback = batch.settings.callback_url.clone();
    let mut valid = Vec::new();
    let mut rejected = Vec::new();
    let mut fingerprint = Fingerprint::new(batch.provider);
    let mut failure = None;
    let summary = file.ingest(opts, |outcome| match outcome {
        RowOutcome::Valid(row) => {
            fingerprint.add(&row);
            let kind = IdentityKind::of(&row);
            match planned_row(
                batch.provider,
                &batch.id,
                batch.key_scheme,
                callback.as_deref(),
                &row,
            ) {
                Ok(p) => valid.push((kind, p)),
                Err(e) => failure = Some(e),
            }
        }
        RowOutcome::Rejected(row) => rejected.push(rejected_insert(&row)),
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let summary = check_summary(summary, batch.settings.skip_invalid)?;

    let (existing, writer) = journal.begin_replan(&batch.id)?;
    let mut by_identity: HashMap<(IdentityKind, &str), (&ExistingRow, bool)> = existing
        .iter()
        .map(|e| ((kind_of(e), e.identity.as_str()), (e, false)))
        .collect();
    let mut result = Replanned::default();
    // Rows the file would newly pay, with the unsent row each one updates (if any).
    let mut newly: Vec<(&PlannedRow, Option<&ExistingRow>)> = Vec::new();
    for (kind, planned) in &valid {
        let Some((old, seen)) = by_identity.get_mut(&(*kind, planned.identity.as_str())) else {
            newly.push((planned, None));
            continue;
        };
        *seen = true;
        let same = old.phone == planned.phone
            && old.amount_minor == planned.amount_minor
            && old.currency == planned.currency.code();
        // A row on a later attempt (`payrun retry`) was sent before: never re-planned.
        let unsent = old.state == RowState::Planned && old.attempt == 1;
        if old.withdrawn || (unsent && !same) {
            newly.push((planned, Some(*old)));
        } else if same {
            result.unchanged += 1;
            if old.line != planned.line {
                writer.move_line(old.id, planned.line)?;
            }
        } else if let Some(earlier) = old.held.as_deref() {
            writer.hold_again(old.id, planned, &held_note(planned, earlier))?;
            result.conflicts += 1;
        } else if pending_retry(old) {
            let note = format!(
                "{}, but this row's retry (attempt {}) of {} {} to {} was still waiting to be \
                 sent: withdrawn, not sent. Its earlier attempt failed, so nothing was paid; pay \
                 what the file now says in a new batch",
                now_says(planned),
                old.attempt,
                old.amount_text,
                old.currency,
                old.phone
            );
            writer.withdraw_retry(old.id, &note)?;
            result.conflicts += 1;
        } else {
            let note = format!(
                "{}, but {} {} to {} was already {}; not paid again",
                now_says(planned),
                old.amount_text,
                old.currency,
                old.phone,
                old.state
            );
            writer.note_conflict(old.id, &note)?;
            result.conflicts += 1;
        }
    }
    // Rows of the batch that the edited file no longer has.
    let mut gone = GoneRows::default();
    for (old, _) in by_identity.values().filter(|(_, seen)| !seen) {
        match old.state {
            RowState::Planned if old.attempt == 1 => {
                writer.withdraw(old.id)?;
                result.withdrawn += 1;
            }
            RowState::Rejected | RowState::Cancelled => {}
            _ if pending_retry(old) => {
                writer.withdraw_retry(
                    old.id,
                    "no longer in the file; this row's retry was still waiting to be sent: \
                     withdrawn, not sent (its earlier attempt failed, so nothing was paid)",
                )?;
                result.conflicts += 1;
            }
            _ => {
                writer.note_conflict(old.id, "no longer in the file, but it was already sent")?;
                result.conflicts += 1;
                gone.add(old);
            }
        }
    }
    // Exact payments first, for every row the file would newly pay, so that a gone row is
    // not used up by another amount of its phone while its own payment is planned again.
    newly.sort_by_key(|(p, _)| p.line);
    let mut rest = Vec::with_capacity(newly.len());
    for (planned, old) in newly {
        match gone.take_payment(planned) {
            Some(paid) => {
                let note = paid.same_payment_note(planned);
                match old {
                    Some(old) => writer.conflict_unsent(old.id, planned, &note)?,
                    None => writer.add_conflict(planned, &note)?,
                }
                result.conflicts += 1;
            }
            None => rest.push((planned, old)),
        }
    }
    for (planned, old) in rest {
        if let Some(old) = old {
            writer.update_unsent(old.id, planned)?;
            if old.withdrawn {
                result.added += 1;
            } else {
                result.updated += 1;
            }
        } else if let Some(paid) = gone.take_phone(planned) {
            writer.add_conflict(planned, &paid.same_phone_note(planned))?;
            result.conflicts += 1;
        } else {
            writer.add_planned(planned)?;
            result.added += 1;
        }
    }
    writer.replace_rejected(&rejected)?;
    result.rejected = rejected.len() as u64;
    writer.commit(&file.source(), file.sha256(), &fingerprint.finish())?;
    Ok((result, summary))
}
