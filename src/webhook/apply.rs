//! What a verified callback does to the journal, decided and written in one transaction (run
//! inside [`JournalActor::write`](crate::journal::JournalActor::write)): skip a delivery seen
//! before, find the row, refuse a callback that contradicts it, move the row forward only,
//! append a `webhook` event, and remember the delivery's digest with what was done.

use rusqlite::Connection;

use crate::domain::{Currency, ProviderKind, format_major};
use crate::journal::{
    Attempt, Delivery, JournalError, Outcome, RowKey, RowRef, RowState, advance, delivery,
    log_attempt, now_ms, record_delivery, row_by_id, rows_by, sending_rows_like,
};
use crate::provider::Callback;

use super::report::mask_phone;

/// Delivery outcome meaning "no row matched"; such a delivery is looked at again if it comes
/// back, in case its row was journaled meanwhile.
const UNKNOWN: &str = "unknown";

/// What a callback did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The row moved from `row.state` to `to`; `to == row.state` when the callback confirmed an
    /// acceptance that was unconfirmed.
    Applied { row: RowRef, to: RowState },
    /// The row is already at or past what the callback reports; nothing changed.
    Ignored { row: RowRef, reported: RowState },
    /// This exact body was handled before (first outcome given); nothing changed.
    Duplicate { row: Option<RowRef>, first: String },
    /// The callback's amount, currency or phone contradict the row: not applied.
    Mismatch { row: RowRef, problems: Vec<String> },
    /// Several rows carry the callback's id: none is picked.
    Ambiguous { rows: Vec<i64> },
    /// No row of a batch sent through this provider matches.
    Unknown,
    /// No row carries the id yet, but a row with the callback's payee, amount and currency is
    /// still waiting for its answer: the callback outran it. Nothing written; retry later.
    NotYetJournaled,
}

impl Verdict {
    /// The word stored with the delivery and the event.
    pub fn outcome(&self) -> String {
        match self {
            Verdict::Applied { row, to } if *to == row.state => "confirmed".into(),
            Verdict::Applied { to, .. } => to.as_str().into(),
            Verdict::Ignored { row, .. } => format!("ignored: already {}", row.state),
            Verdict::Duplicate { .. } => "duplicate".into(),
            Verdict::Mismatch { .. } => "mismatch".into(),
            Verdict::Ambiguous { .. } => "ambiguous".into(),
            Verdict::Unknown => UNKNOWN.into(),
            Verdict::NotYetJournaled => "not journaled yet".into(),
        }
    }
}

/// Decide and record what the callback with body digest `digest` does.
pub fn apply(
    conn: &Connection,
    provider: ProviderKind,
    digest: &str,
    cb: &Callback,
) -> Result<Verdict, JournalError> {
    if let Some(seen) = delivery(conn, digest)?
        && seen.outcome != UNKNOWN
    {
        let row = seen.row_id.map(|id| row_by_id(conn, id)).transpose()?;
        return Ok(Verdict::Duplicate {
            row: row.flatten(),
            first: seen.outcome,
        });
    }
    let verdict = match find(conn, provider, cb)? {
        Found::One(row) => judge(conn, provider, row, cb)?,
        Found::Many(rows) => Verdict::Ambiguous { rows },
        Found::None if outran_its_answer(conn, provider, cb)? => {
            return Ok(Verdict::NotYetJournaled);
        }
        Found::None => Verdict::Unknown,
    };
    let row_id = match &verdict {
        Verdict::Applied { row, .. }
        | Verdict::Ignored { row, .. }
        | Verdict::Mismatch { row, .. } => Some(row.id),
        _ => None,
    };
    record_delivery(
        conn,
        &Delivery {
            digest: digest.to_owned(),
            provider,
            row_id,
            received_at: now_ms(),
            outcome: verdict.outcome(),
        },
    )?;
    Ok(verdict)
}

enum Found {
    None,
    One(RowRef),
    Many(Vec<i64>),
}

/// The names a callback gives its payout, most specific first: RohoPay by its `id`, else its
/// `internal_reference`; Rumbapay by the `reference` payrun sent (the key), else `request_id`.
fn names(provider: ProviderKind, cb: &Callback) -> Vec<RowKey<'_>> {
    let (first, second) = match provider {
        ProviderKind::Rohopay => (
            cb.provider_id.as_deref().map(RowKey::ProviderId),
            cb.internal_reference
                .as_deref()
                .map(RowKey::InternalReference),
        ),
        ProviderKind::Rumbapay => (
            cb.key.as_deref().map(RowKey::IdemKey),
            cb.request_id.as_deref().map(RowKey::RequestId),
        ),
    };
    first.into_iter().chain(second).collect()
}

fn find(conn: &Connection, provider: ProviderKind, cb: &Callback) -> Result<Found, JournalError> {
    for name in names(provider, cb) {
        let mut rows = rows_by(conn, provider, name)?;
        match rows.len() {
            0 => continue,
            1 => return Ok(rows.pop().map_or(Found::None, Found::One)),
            _ => return Ok(Found::Many(rows.iter().map(|r| r.id).collect())),
        }
    }
    Ok(Found::None)
}

/// RohoPay journals a payout's id only from the answer to its request, and a fast provider
/// can call back before that answer is written. Rumbapay callbacks carry payrun's own key, so
/// they never race.
fn outran_its_answer(
    conn: &Connection,
    provider: ProviderKind,
    cb: &Callback,
) -> Result<bool, JournalError> {
    let (Some(phone), Some(amount), Some(currency)) = (&cb.phone, cb.amount_minor, &cb.currency)
    else {
        return Ok(false);
    };
    if provider != ProviderKind::Rohopay {
        return Ok(false);
    }
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let currency = currency.to_ascii_uppercase();
    Ok(sending_rows_like(conn, provider, &digits, amount, &currency)? > 0)
}

/// Apply the callback to its row, or explain why not; appends the row's `webhook` event.
fn judge(
    conn: &Connection,
    provider: ProviderKind,
    row: RowRef,
    cb: &Callback,
) -> Result<Verdict, JournalError> {
    let problems = contradictions(&row, cb);
    let reported = cb.status.row_state();
    let verdict = if !problems.is_empty() {
        Verdict::Mismatch { row, problems }
    } else {
        let before = row.state;
        let confirms = before == RowState::Accepted && row.unconfirmed;
        match advance(conn, row.id, &outcome(cb))? {
            Some(_) => Verdict::Applied { row, to: reported },
            None if confirms && reported == before => Verdict::Applied { row, to: reported },
            None => Verdict::Ignored { row, reported },
        }
    };
    let detail = match &verdict {
        Verdict::Applied { row, to } => format!(
            "{provider} callback {}: {} -> {to}",
            cb.status_word, row.state
        ),
        Verdict::Ignored { row, reported } => format!(
            "{provider} callback {} ({reported}) left the row {}",
            cb.status_word, row.state
        ),
        Verdict::Mismatch { problems, .. } => format!(
            "{provider} callback {} not applied: {}",
            cb.status_word,
            problems.join("; ")
        ),
        _ => String::new(),
    };
    if let Verdict::Applied { row, .. }
    | Verdict::Ignored { row, .. }
    | Verdict::Mismatch { row, .. } = &verdict
    {
        log_attempt(
            conn,
            row.id,
            &Attempt {
                kind: "webhook",
                at: now_ms(),
                http_status: None,
                latency_ms: 0,
                outcome: verdict.outcome(),
                detail: Some(detail),
            },
        )?;
    }
    Ok(verdict)
}

/// The journal's view of the callback: its state and every provider fact it carries.
fn outcome(cb: &Callback) -> Outcome {
    let state = cb.status.row_state();
    Outcome {
        state: Some(state),
        provider_status: Some(cb.status_word.clone()),
        provider_id: cb.provider_id.clone(),
        provider_reference: cb.provider_reference.clone(),
        internal_reference: cb.internal_reference.clone(),
        request_id: cb.request_id.clone(),
        routed_provider: cb.routed_provider.clone(),
        failover_reason: cb.failover_reason.clone(),
        unconfirmed: false,
        error: (state == RowState::Failed)
            .then(|| format!("provider reported the payout {} (webhook)", cb.status_word)),
        attention: None,
    }
}

/// Where the callback and the row disagree about what was paid to whom.
fn contradictions(row: &RowRef, cb: &Callback) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(currency) = &cb.currency
        && !currency.eq_ignore_ascii_case(&row.currency)
    {
        problems.push(format!(
            "currency {currency} in the callback, {} in the journal",
            row.currency
        ));
    }
    if let Some(amount) = cb.amount_minor
        && row.amount_minor != Some(amount)
    {
        let show = |minor: u64| match Currency::parse(&row.currency) {
            Ok(c) => format!("{} {c}", format_major(u128::from(minor), c)),
            Err(_) => format!("{minor} (minor units)"),
        };
        let journal = row.amount_minor.map_or_else(|| "none".to_owned(), show);
        problems.push(format!(
            "amount {} in the callback, {journal} in the journal",
            show(amount)
        ));
    }
    if let Some(phone) = &cb.phone {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if digits != row.phone {
            problems.push(format!(
                "phone {} in the callback, {} in the journal",
                mask_phone(phone),
                mask_phone(&row.phone)
            ));
        }
    }
    problems
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
