//! What a verified callback does to the journal, decided and written in one transaction (run
//! inside [`JournalActor::write`](crate::journal::JournalActor::write)): skip a delivery seen
//! before, find the row, refuse a callback that contradicts it, move the row forward only,
//! append a `webhook` event, mark the row as needing a person when the callback contradicts
//! it (another amount, phone, currency or reference, or the opposite final state), and
//! remember the delivery's digest with what was done.

use rusqlite::Connection;

use crate::domain::ProviderKind;
use crate::domain::RowState;
use crate::journal::{
    Attempt, Delivery, EarlierAttempt, JournalError, Outcome, RowKey, RowRef, advance, delivery,
    earlier_attempts, flag_attention, log_attempt, now_ms, record_delivery, row_by_id, rows_by,
    sending_rows_like,
};
use crate::provider::Callback;

use super::verdict::{UNKNOWN, Verdict};

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
        Found::Earlier(row, earlier) => judge_earlier(conn, provider, row, &earlier, cb)?,
        Found::Many(rows) => {
            let note = format!(
                "{provider} callback {} names a payout that several rows carry; applied to none",
                cb.status_word
            );
            for id in &rows {
                flag_attention(conn, *id, &note)?;
            }
            Verdict::Ambiguous { rows }
        }
        Found::None if outran_its_answer(conn, provider, cb)? => {
            return Ok(Verdict::NotYetJournaled);
        }
        Found::None => Verdict::Unknown,
    };
    let row_id = match &verdict {
        Verdict::Applied { row, .. }
        | Verdict::Ignored { row, .. }
        | Verdict::Mismatch { row, .. }
        | Verdict::Earlier { row, .. } => Some(row.id),
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
    /// An earlier attempt of this row (replaced by `payrun retry`).
    Earlier(RowRef, EarlierAttempt),
    Many(Vec<i64>),
}

/// The names a callback gives its payout, most specific first: RohoPay by its `id`, else its
/// `internal_reference`; Rumbapay by the `reference` payrun sent (the key), else `request_id`.
fn names(provider: ProviderKind, cb: &Callback) -> Vec<RowKey<'_>> {
    let (first, second) = match provider {
        ProviderKind::Rohopay => (
            cb.refs.provider_id.as_deref().map(RowKey::ProviderId),
            cb.refs
                .internal_reference
                .as_deref()
                .map(RowKey::InternalReference),
        ),
        ProviderKind::Rumbapay => (
            cb.key.as_deref().map(RowKey::IdemKey),
            cb.refs.request_id.as_deref().map(RowKey::RequestId),
        ),
    };
    first.into_iter().chain(second).collect()
}

fn find(conn: &Connection, provider: ProviderKind, cb: &Callback) -> Result<Found, JournalError> {
    for name in names(provider, cb) {
        let mut rows = rows_by(conn, provider, name)?;
        match rows.len() {
            0 => {}
            1 => {
                let Some(row) = rows.pop() else { continue };
                // Every key of a row stays registered to it: one that is not the row's key
                // now is an earlier attempt's.
                if let RowKey::IdemKey(key) = name
                    && row.key.as_deref() != Some(key)
                {
                    return earlier(conn, provider, name, Some(row));
                }
                return Ok(Found::One(row));
            }
            _ => return Ok(Found::Many(rows.iter().map(|r| r.id).collect())),
        }
        match earlier(conn, provider, name, None)? {
            Found::None => continue,
            found => return Ok(found),
        }
    }
    Ok(Found::None)
}

/// The earlier attempt `name` names, with its row (`row`, when already found).
fn earlier(
    conn: &Connection,
    provider: ProviderKind,
    name: RowKey<'_>,
    row: Option<RowRef>,
) -> Result<Found, JournalError> {
    let mut found = earlier_attempts(conn, provider, name)?;
    if found.len() > 1 {
        return Ok(Found::Many(found.iter().map(|a| a.row_id).collect()));
    }
    let Some(attempt) = found.pop() else {
        return Ok(Found::None);
    };
    let row = match row {
        Some(row) => Some(row),
        None => row_by_id(conn, attempt.row_id)?,
    };
    Ok(row.map_or(Found::None, |row| Found::Earlier(row, attempt)))
}

/// A callback about an earlier, failed attempt of a row that `payrun retry` paid again. It
/// changes nothing; if it says that attempt was paid after all, the row needs a person (its
/// new attempt may pay the payee a second time).
fn judge_earlier(
    conn: &Connection,
    provider: ProviderKind,
    row: RowRef,
    earlier: &EarlierAttempt,
    cb: &Callback,
) -> Result<Verdict, JournalError> {
    let reported = cb.status.row_state();
    let flagged = reported.is_good();
    let word = &cb.status_word;
    let attempt = earlier.attempt;
    log_attempt(
        conn,
        row.id,
        &Attempt {
            kind: "webhook",
            at: now_ms(),
            http_status: None,
            latency_ms: 0,
            outcome: if flagged {
                "earlier attempt: needs a person".into()
            } else {
                "earlier attempt: ignored".into()
            },
            detail: Some(format!(
                "{provider} callback {word} ({reported}) about attempt {attempt} (key {}), which \
                 failed and was retried",
                earlier.key
            )),
        },
    )?;
    if flagged {
        flag_attention(
            conn,
            row.id,
            &format!(
                "{provider} callback {word} says attempt {attempt} (key {}), which had failed and was \
                 retried, was paid: this payee may be paid twice; ask {provider} about both payouts",
                earlier.key
            ),
        )?;
    }
    Ok(Verdict::Earlier {
        row,
        attempt,
        reported,
        flagged,
    })
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
    let currency = currency.to_ascii_uppercase();
    Ok(sending_rows_like(conn, provider, &digits(phone), amount, &currency)? > 0)
}

/// Apply the callback to its row, or explain why not; appends the row's `webhook` event, and
/// marks the row as needing a person when the callback contradicts it.
fn judge(
    conn: &Connection,
    provider: ProviderKind,
    row: RowRef,
    cb: &Callback,
) -> Result<Verdict, JournalError> {
    let row_id = row.id;
    let asked = Facts {
        amount_minor: row.amount_minor,
        currency: Some(&row.currency),
        phone: Some(&row.phone),
        reference: row.key.as_deref(),
    };
    let said = Facts {
        amount_minor: cb.amount_minor,
        currency: cb.currency.as_deref(),
        phone: cb.phone.as_deref(),
        reference: cb.key.as_deref(),
    };
    let problems = contradictions(&asked, &said);
    let reported = cb.status.row_state();
    let verdict = if !problems.is_empty() {
        Verdict::Mismatch { row, problems }
    } else {
        let before = row.state;
        let confirms = before == RowState::Accepted && row.unconfirmed;
        match advance(conn, row_id, &outcome(cb))? {
            Some(_) => Verdict::Applied { row, to: reported },
            None if confirms && reported == before => Verdict::Applied { row, to: reported },
            None => Verdict::Ignored { row, reported },
        }
    };
    let word = &cb.status_word;
    let (detail, attention) = match &verdict {
        Verdict::Applied { row, to } => (
            format!("{provider} callback {word}: {} -> {to}", row.state),
            None,
        ),
        Verdict::Ignored { row, reported } => (
            format!(
                "{provider} callback {word} ({reported}) left the row {}",
                row.state
            ),
            verdict.is_contrary().then(|| {
                format!(
                    "{provider} callback {word} ({reported}) after the row was {0}; the row is \
                     kept {0}: ask {provider} whether this payout was paid",
                    row.state
                )
            }),
        ),
        Verdict::Mismatch { problems, .. } => (
            format!(
                "{provider} callback {word} not applied: {}",
                problems.join("; ")
            ),
            Some(format!(
                "{provider} callback {word} contradicts the request ({}); not applied",
                problems.join("; ")
            )),
        ),
        _ => (String::new(), None),
    };
    log_attempt(
        conn,
        row_id,
        &Attempt {
            kind: "webhook",
            at: now_ms(),
            http_status: None,
            latency_ms: 0,
            outcome: verdict.outcome(),
            detail: Some(detail),
        },
    )?;
    if let Some(note) = attention {
        flag_attention(conn, row_id, &note)?;
    }
    Ok(verdict)
}

/// The journal's view of the callback: its state and every provider fact it carries.
fn outcome(cb: &Callback) -> Outcome {
    Outcome::reported(
        cb.status,
        cb.status_word.clone(),
        cb.refs.clone(),
        cb.reason.as_deref(),
        " (webhook)",
    )
}

/// The facts of a payout that the request states and a provider's answer repeats. A fact the
/// answer leaves out is `None` and contradicts nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts<'a> {
    pub amount_minor: Option<u64>,
    /// ISO 4217 code, in any case.
    pub currency: Option<&'a str>,
    /// The payee's number: its digits count, a `+` or spaces do not.
    pub phone: Option<&'a str>,
    /// The idempotency key payrun sent, as the answer names it.
    pub reference: Option<&'a str>,
}

/// Where what the provider `said` contradicts what was `asked`, one sentence per fact, phones
/// masked: the send path's rule ([`crate::provider::verify::contradictions`]), so an answer and
/// a callback are judged alike. A fact the callback leaves out is not compared.
pub fn contradictions(asked: &Facts<'_>, said: &Facts<'_>) -> Vec<String> {
    use crate::provider::verify::{self, AnswerAmount, AnswerFacts, RequestFacts};
    let request = RequestFacts {
        reference: asked.reference.map(str::to_owned),
        phone: asked.phone.map(digits).unwrap_or_default(),
        amount_minor: asked.amount_minor.unwrap_or(0),
        currency: asked.currency.unwrap_or_default().to_owned(),
    };
    let answer = AnswerFacts {
        reference: said.reference.map(str::to_owned),
        phone: said.phone.map(str::to_owned),
        amount: said.amount_minor.map(AnswerAmount::Minor),
        currency: said.currency.map(str::to_owned),
    };
    verify::contradictions(&request, &answer)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests;
