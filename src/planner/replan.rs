//! Continuing a batch with an edited file (`--allow-changed-file`): rows are matched by
//! identity against the journal so that nothing already sent is sent again under a changed
//! amount or phone, new payees are added, and unsent rows that left the file are withdrawn.
//! A new row that pays what a sent row, now gone from the file, already paid (a renamed
//! reference, or an edited amount without a reference column) is a conflict, never paid.

use std::collections::{HashMap, VecDeque};

use super::fingerprint::Fingerprint;
use super::{PlanError, PlanFile, check_summary, planned_row, rejected_insert};
use crate::ingest::{IngestOptions, RowOutcome, Summary};
use crate::journal::{ExistingRow, Journal, PlannedRow, RowState};
use crate::keys::IdentityKind;

/// What an edited file changed in an existing batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replanned {
    pub unchanged: u64,
    /// New payees added to the batch.
    pub added: u64,
    /// Changed rows that had not been sent yet: updated to the file's values.
    pub updated: u64,
    /// Changed or removed rows that had already been sent, and new rows that would pay again
    /// what such a row paid: reported, never paid.
    pub conflicts: u64,
    /// Unsent rows that are no longer in the file: will not be paid.
    pub withdrawn: u64,
    pub rejected: u64,
}

/// States in which a row's payout may have been executed by the provider.
fn maybe_paid(state: RowState) -> bool {
    matches!(
        state,
        RowState::Sending | RowState::InDoubt | RowState::Accepted | RowState::Succeeded
    )
}

fn kind_of(row: &ExistingRow) -> IdentityKind {
    if row.reference.is_some() {
        IdentityKind::Reference
    } else {
        IdentityKind::Derived
    }
}

/// A sent row that left the file, as a new row's conflict note names it.
struct Gone {
    line: u64,
    reference: Option<String>,
    state: RowState,
    amount_minor: u64,
    amount_text: String,
    currency: String,
}

impl Gone {
    fn named(&self) -> String {
        match &self.reference {
            Some(r) => format!("line {} (reference {r})", self.line),
            None => format!("line {}", self.line),
        }
    }
}

/// Continue `batch` with an edited file: rows are matched by identity. Unchanged rows keep
/// their state; unsent changed rows take the file's values; a row that was already sent and
/// now differs (or vanished) is recorded as a conflict and never paid again; a new row whose
/// (phone, amount, currency) equals a sent row that left the file, or whose phone had a sent
/// row that left the file (a renamed reference with an edited amount, or an edited amount
/// without a reference column), is a conflict too; each gone row answers for one new row. The caller holds the
/// batch lock.
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
    let mut fresh: Vec<&PlannedRow> = Vec::new();
    for (kind, planned) in &valid {
        let Some((old, seen)) = by_identity.get_mut(&(*kind, planned.identity.as_str())) else {
            fresh.push(planned);
            continue;
        };
        *seen = true;
        let same = old.phone == planned.phone
            && old.amount_minor == planned.amount_minor
            && old.currency == planned.currency.code();
        if same {
            result.unchanged += 1;
            if old.line != planned.line {
                writer.move_line(old.id, planned.line)?;
            }
        } else if old.state == RowState::Planned && writer.update_unsent(old.id, planned)? {
            result.updated += 1;
        } else {
            let note = format!(
                "line {} now says {} {} to {}, but {} {} to {} was already {}; not paid again",
                planned.line,
                planned.amount_text,
                planned.currency,
                planned.phone,
                old.amount_text,
                old.currency,
                old.phone,
                old.state
            );
            writer.note_conflict(old.id, &note)?;
            result.conflicts += 1;
        }
    }
    // Rows of the batch that the edited file no longer has. The sent ones are kept, per
    // (phone, amount, currency) and per (phone, currency), for the new rows below.
    let mut gone_payments: HashMap<(&str, u64, &str), VecDeque<Gone>> = HashMap::new();
    let mut gone_phones: HashMap<(&str, &str), VecDeque<Gone>> = HashMap::new();
    for (old, _) in by_identity.values().filter(|(_, seen)| !seen) {
        if old.state == RowState::Planned {
            writer.withdraw(old.id)?;
            result.withdrawn += 1;
            continue;
        }
        if old.state == RowState::Rejected {
            continue;
        }
        writer.note_conflict(old.id, "no longer in the file, but it was already sent")?;
        result.conflicts += 1;
        if maybe_paid(old.state) {
            let gone = || Gone {
                line: old.line,
                reference: old.reference.clone(),
                state: old.state,
                amount_minor: old.amount_minor,
                amount_text: old.amount_text.clone(),
                currency: old.currency.clone(),
            };
            gone_payments
                .entry((&old.phone, old.amount_minor, &old.currency))
                .or_default()
                .push_back(gone());
            gone_phones
                .entry((&old.phone, &old.currency))
                .or_default()
                .push_back(gone());
        }
    }
    // Lowest line first, so the notes pair rows the way a person reading the file would.
    for queue in gone_payments.values_mut() {
        queue.make_contiguous().sort_by_key(|g| g.line);
    }
    for queue in gone_phones.values_mut() {
        queue.make_contiguous().sort_by_key(|g| g.line);
    }
    // One gone row answers for one new row: taken from one queue, it leaves the other too.
    let take = |queue: Option<&mut VecDeque<Gone>>, line: u64| {
        if let Some(q) = queue {
            q.retain(|g| g.line != line);
        }
    };
    fresh.sort_by_key(|p| p.line);
    for planned in fresh {
        let code = planned.currency.code();
        let same_payment = gone_payments
            .get_mut(&(planned.phone.as_str(), planned.amount_minor, code))
            .and_then(VecDeque::pop_front);
        if let Some(gone) = same_payment {
            take(
                gone_phones.get_mut(&(planned.phone.as_str(), code)),
                gone.line,
            );
            let note = format!(
                "line {} pays {} {} to {}, the payment already {} for {}, which is no longer in the \
                 file (a renamed reference?); not paid",
                planned.line,
                planned.amount_text,
                planned.currency,
                planned.phone,
                gone.state,
                gone.named()
            );
            writer.add_conflict(planned, &note)?;
            result.conflicts += 1;
            continue;
        }
        // The same payee under a new reference and a new amount (or, without a reference
        // column, an edited amount): the sent row of that phone that left the file.
        let replaced = gone_phones
            .get_mut(&(planned.phone.as_str(), code))
            .and_then(VecDeque::pop_front);
        if let Some(gone) = replaced {
            take(
                gone_payments.get_mut(&(planned.phone.as_str(), gone.amount_minor, code)),
                gone.line,
            );
            let note = format!(
                "line {} pays {} {} to {}, which was already {} for {} with another amount ({} {}); not paid",
                planned.line,
                planned.amount_text,
                planned.currency,
                planned.phone,
                gone.state,
                gone.named(),
                gone.amount_text,
                gone.currency
            );
            writer.add_conflict(planned, &note)?;
            result.conflicts += 1;
        } else {
            writer.add_planned(planned)?;
            result.added += 1;
        }
    }
    writer.replace_rejected(&rejected)?;
    result.rejected = rejected.len() as u64;
    writer.commit(
        &file.path().to_string_lossy(),
        file.sha256(),
        &fingerprint.finish(),
    )?;
    Ok((result, summary))
}
