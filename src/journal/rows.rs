//! Row-level reads and writes for sending: the open rows a run still has to send, the rows
//! reconcile asks about, state transitions with their provider facts, and the attempt log.

use rusqlite::{Connection, OptionalExtension, params};

use super::schema::{OPEN, open_states};
use super::span::IN_BATCH;
use super::{JournalError, now_ms};
use crate::domain::{PayoutRefs, PayoutStatus, RowState};

/// A row that still has to be sent (or resent with the same key and body).
#[derive(Clone, Debug)]
pub struct OpenRow {
    pub id: i64,
    pub line: u64,
    pub key: String,
    pub body: Vec<u8>,
    pub state: RowState,
    pub attempts: u32,
    pub amount_minor: u64,
    pub currency: String,
    pub request_id: Option<String>,
}

/// A row whose final state the provider may still have to tell (`reconcile`).
#[derive(Clone, Debug)]
pub struct UnsettledRow {
    pub id: i64,
    pub line: u64,
    pub reference: Option<String>,
    pub state: RowState,
    pub key: String,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub unconfirmed: bool,
}

/// One HTTP attempt (or webhook, or query), appended to the event log.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub kind: &'static str,
    pub at: i64,
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    pub outcome: String,
    pub detail: Option<String>,
}

/// The result of sending a row, as the journal records it.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub state: Option<RowState>,
    pub provider_status: Option<String>,
    /// The names the provider gave the payout; a `None` never erases a stored one.
    pub refs: PayoutRefs,
    pub unconfirmed: bool,
    pub error: Option<String>,
    /// Something a person must look at (an answer that contradicts the request): stored in
    /// `rows.attention`, listed by `status`, `report` and `reconcile`. Never cleared here.
    pub attention: Option<String>,
}

impl Outcome {
    /// What the provider reported about a payout (in its answer, a query or a callback): its
    /// status as the row's state, its status word and ids, and an error when it failed, in
    /// the provider's words when it gave a `reason`. `via` is appended to the status to say
    /// where the report came from (`" (webhook)"`).
    pub fn reported(
        status: PayoutStatus,
        word: String,
        refs: PayoutRefs,
        reason: Option<&str>,
        via: &str,
    ) -> Outcome {
        let state = status.row_state();
        Outcome {
            state: Some(state),
            error: (state == RowState::Failed).then(|| match reason {
                Some(reason) => format!("provider reported the payout {word}{via}: {reason}"),
                None => format!("provider reported the payout {word}{via} and gave no reason"),
            }),
            provider_status: Some(word),
            refs,
            unconfirmed: false,
            attention: None,
        }
    }
}

pub(super) fn state_of(raw: &str) -> Result<RowState, JournalError> {
    RowState::parse(raw).ok_or_else(|| JournalError::Corrupt(format!("unknown row state {raw:?}")))
}

pub(super) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Up to `limit` open rows of a batch with id greater than `after_id`, in plan order.
pub fn open_rows_page(
    conn: &Connection,
    batch_id: &str,
    after_id: i64,
    limit: usize,
) -> Result<Vec<OpenRow>, JournalError> {
    // `INDEXED BY`: only the open rows of the batch are read, however many are settled.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT r.id, r.line, r.idem_key, r.request_body, r.state, r.attempts, r.amount_minor,
                r.currency, r.request_id
         FROM batches b CROSS JOIN rows r INDEXED BY rows_open
         WHERE b.id = ?1 AND {IN_BATCH} AND {OPEN}
           AND r.id > ?2
         ORDER BY r.id LIMIT ?3"
    ))?;
    let mut rows = stmt.query(params![batch_id, after_id, limit as i64])?;
    let mut out = Vec::with_capacity(limit.min(4096));
    while let Some(r) = rows.next()? {
        let state: String = r.get(4)?;
        let key: Option<String> = r.get(2)?;
        let body: Option<Vec<u8>> = r.get(3)?;
        let id: i64 = r.get(0)?;
        let (Some(key), Some(body)) = (key, body) else {
            return Err(JournalError::Corrupt(format!(
                "open row {id} has no key or body"
            )));
        };
        out.push(OpenRow {
            id,
            line: to_u64(r.get(1)?),
            key,
            body,
            state: state_of(&state)?,
            attempts: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
            amount_minor: to_u64(r.get::<_, Option<i64>>(6)?.unwrap_or(0)),
            currency: r.get(7)?,
            request_id: r.get(8)?,
        });
    }
    Ok(out)
}

/// Rows of a batch that are accepted (pending at the provider) or whose fate is unknown.
pub fn unsettled_rows(
    conn: &Connection,
    batch_id: &str,
) -> Result<Vec<UnsettledRow>, JournalError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT r.id, r.line, r.reference, r.state, r.idem_key, r.request_body, r.request_id,
                r.unconfirmed
         FROM batches b CROSS JOIN rows r
         WHERE b.id = ?1 AND {IN_BATCH} AND r.state IN ('accepted','in_doubt','sending')
         ORDER BY r.line, r.id"
    ))?;
    let mut rows = stmt.query([batch_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let state: String = r.get(3)?;
        let (Some(key), Some(body)) = (
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<Vec<u8>>>(5)?,
        ) else {
            return Err(JournalError::Corrupt(format!(
                "row {id} has no key or body"
            )));
        };
        out.push(UnsettledRow {
            id,
            line: to_u64(r.get(1)?),
            reference: r.get(2)?,
            state: state_of(&state)?,
            key,
            body,
            request_id: r.get(6)?,
            unconfirmed: r.get(7)?,
        });
    }
    Ok(out)
}

/// Mark a row `sending`: committed before its request leaves. Returns false if the row is no
/// longer open (e.g. a webhook settled it meanwhile) and must not be sent.
pub fn mark_sending(conn: &Connection, row_id: i64) -> Result<bool, JournalError> {
    let changed = conn
        .prepare_cached(concat!(
            "UPDATE rows SET state = 'sending', updated_at = ?2 WHERE id = ?1 AND ",
            open_states!()
        ))?
        .execute(params![row_id, now_ms()])?;
    Ok(changed == 1)
}

/// Record the outcome of sending a row that this process marked `sending`. If something else
/// (a webhook) already moved the row on, only the provider facts are filled in.
pub fn record_outcome(
    conn: &Connection,
    row_id: i64,
    attempts: u32,
    outcome: &Outcome,
) -> Result<(), JournalError> {
    // One statement: the state moves only from `sending` (SET expressions read the row as it
    // was); attempts, the time and the provider's facts are filled either way.
    let o = outcome;
    conn.prepare_cached(
        "UPDATE rows SET
            state = CASE WHEN ?2 IS NOT NULL AND state = 'sending' THEN ?2 ELSE state END,
            last_error = CASE WHEN ?2 IS NOT NULL AND state = 'sending' THEN ?5 ELSE last_error END,
            unconfirmed = CASE WHEN ?2 IS NOT NULL AND state = 'sending' THEN ?6 ELSE unconfirmed END,
            attempts = attempts + ?3,
            updated_at = ?4,
            provider_status = COALESCE(?7, provider_status),
            provider_id = COALESCE(?8, provider_id),
            provider_reference = COALESCE(?9, provider_reference),
            internal_reference = COALESCE(?10, internal_reference),
            request_id = COALESCE(?11, request_id),
            routed_provider = COALESCE(?12, routed_provider),
            failover_reason = COALESCE(?13, failover_reason)
         WHERE id = ?1",
    )?
    .execute(params![
        row_id,
        o.state.map(RowState::as_str),
        attempts,
        now_ms(),
        o.error,
        o.unconfirmed,
        o.provider_status,
        o.refs.provider_id,
        o.refs.provider_reference,
        o.refs.internal_reference,
        o.refs.request_id,
        o.refs.routed_provider,
        o.refs.failover_reason
    ])?;
    if let Some(reason) = &o.attention {
        flag_attention(conn, row_id, reason)?;
    }
    Ok(())
}

/// Mark a row as needing a person, with the reason, and log it as an event on the row. A row
/// that already carries a note keeps it and gains this one; the same reason is not repeated.
pub fn flag_attention(conn: &Connection, row_id: i64, reason: &str) -> Result<(), JournalError> {
    conn.prepare_cached(
        "UPDATE rows SET attention = CASE
                WHEN attention IS NULL THEN ?2
                WHEN instr(attention, ?2) > 0 THEN attention
                ELSE attention || '; ' || ?2 END,
            updated_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![row_id, reason, now_ms()])?;
    log_attempt(
        conn,
        row_id,
        &Attempt {
            kind: "attention",
            at: now_ms(),
            http_status: None,
            latency_ms: 0,
            outcome: "needs_a_person".into(),
            detail: Some(reason.to_string()),
        },
    )
}

/// Store provider ids and status words without touching the row's state.
fn fill_facts(conn: &Connection, row_id: i64, o: &Outcome) -> Result<(), JournalError> {
    conn.prepare_cached(
        "UPDATE rows SET
            provider_status = COALESCE(?2, provider_status),
            provider_id = COALESCE(?3, provider_id),
            provider_reference = COALESCE(?4, provider_reference),
            internal_reference = COALESCE(?5, internal_reference),
            request_id = COALESCE(?6, request_id),
            routed_provider = COALESCE(?7, routed_provider),
            failover_reason = COALESCE(?8, failover_reason)
         WHERE id = ?1",
    )?
    .execute(params![
        row_id,
        o.provider_status,
        o.refs.provider_id,
        o.refs.provider_reference,
        o.refs.internal_reference,
        o.refs.request_id,
        o.refs.routed_provider,
        o.refs.failover_reason
    ])?;
    Ok(())
}

/// Move a row forward to `outcome.state` if that is strictly further along (or fills facts of
/// the same rank); never backwards. Used by webhooks and reconcile. Returns the previous state
/// if the row changed state.
pub fn advance(
    conn: &Connection,
    row_id: i64,
    outcome: &Outcome,
) -> Result<Option<RowState>, JournalError> {
    let current: Option<String> = conn
        .query_row("SELECT state FROM rows WHERE id = ?1", [row_id], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(current) = current else {
        return Ok(None);
    };
    let current = state_of(&current)?;
    let Some(next) = outcome.state else {
        fill_facts(conn, row_id, outcome)?;
        return Ok(None);
    };
    if let Some(reason) = &outcome.attention {
        flag_attention(conn, row_id, reason)?;
    }
    if current.is_withdrawn() || next.rank() < current.rank() || current.rank() == 3 {
        return Ok(None);
    }
    fill_facts(conn, row_id, outcome)?;
    // Same state: only worth writing when it confirms an unconfirmed acceptance.
    let confirms = current == RowState::Accepted && !outcome.unconfirmed;
    if next == current && !confirms {
        return Ok(None);
    }
    conn.prepare_cached(
        "UPDATE rows SET state = ?2, unconfirmed = ?3, updated_at = ?4,
            last_error = COALESCE(?5, last_error)
         WHERE id = ?1",
    )?
    .execute(params![
        row_id,
        next.as_str(),
        outcome.unconfirmed,
        now_ms(),
        outcome.error
    ])?;
    Ok((next != current).then_some(current))
}

/// Append an event for a row.
pub fn log_attempt(conn: &Connection, row_id: i64, a: &Attempt) -> Result<(), JournalError> {
    conn.prepare_cached(
        "INSERT INTO events (row_id, at, kind, http_status, latency_ms, outcome, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        row_id,
        a.at,
        a.kind,
        a.http_status,
        i64::try_from(a.latency_ms).unwrap_or(i64::MAX),
        a.outcome,
        a.detail
    ])?;
    Ok(())
}
