//! Row-level reads and writes: the open rows a run still has to send, state transitions with
//! their provider facts, the attempt log, and the aggregates behind `status` and `report`.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Journal, JournalError, RowState, now_ms};

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
    pub provider_id: Option<String>,
    pub provider_reference: Option<String>,
    pub internal_reference: Option<String>,
    pub request_id: Option<String>,
    pub routed_provider: Option<String>,
    pub failover_reason: Option<String>,
    pub unconfirmed: bool,
    pub error: Option<String>,
}

/// Rows and money per state and currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCount {
    pub state: RowState,
    pub currency: String,
    pub rows: u64,
    pub amount_minor: u128,
}

/// Everything `report` prints about one payee.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReportRow {
    pub line: u64,
    pub reference: Option<String>,
    pub phone: String,
    pub amount: String,
    pub currency: String,
    pub state: RowState,
    pub key: Option<String>,
    pub provider: Option<String>,
    pub provider_reference: Option<String>,
    pub request_id: Option<String>,
    pub failover_reason: Option<String>,
    pub error: Option<String>,
    pub attempts: u32,
    pub updated_at: String,
}

fn state_of(raw: &str) -> Result<RowState, JournalError> {
    RowState::parse(raw).ok_or_else(|| JournalError::Corrupt(format!("unknown row state {raw:?}")))
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Up to `limit` open rows of a batch with id greater than `after_id`, in plan order.
pub fn open_rows_page(
    conn: &Connection,
    batch_id: &str,
    after_id: i64,
    limit: usize,
) -> Result<Vec<OpenRow>, JournalError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, line, idem_key, request_body, state, attempts, amount_minor, currency, request_id
         FROM rows
         WHERE batch_id = ?1 AND state IN ('planned','sending','in_doubt') AND id > ?2
         ORDER BY id LIMIT ?3",
    )?;
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
    let mut stmt = conn.prepare(
        "SELECT id, line, reference, state, idem_key, request_body, request_id, unconfirmed
         FROM rows WHERE batch_id = ?1 AND state IN ('accepted','in_doubt','sending')
         ORDER BY line, id",
    )?;
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
        .prepare_cached(
            "UPDATE rows SET state = 'sending', updated_at = ?2
         WHERE id = ?1 AND state IN ('planned','sending','in_doubt')",
        )?
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
    let now = now_ms();
    let changed = match outcome.state {
        Some(state) => conn
            .prepare_cached(
                "UPDATE rows SET state = ?2, attempts = attempts + ?3, updated_at = ?4,
                    last_error = ?5, unconfirmed = ?6
                 WHERE id = ?1 AND state = 'sending'",
            )?
            .execute(params![
                row_id,
                state.as_str(),
                attempts,
                now,
                outcome.error,
                outcome.unconfirmed
            ])?,
        None => 0,
    };
    if changed == 0 {
        conn.prepare_cached(
            "UPDATE rows SET attempts = attempts + ?2, updated_at = ?3 WHERE id = ?1",
        )?
        .execute(params![row_id, attempts, now])?;
    }
    fill_facts(conn, row_id, outcome)
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
        o.provider_id,
        o.provider_reference,
        o.internal_reference,
        o.request_id,
        o.routed_provider,
        o.failover_reason
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
    if current == RowState::Rejected || next.rank() < current.rank() || current.rank() == 3 {
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

impl Journal {
    /// Rows and money per state and currency for one batch.
    pub fn state_counts(&self, batch_id: &str) -> Result<Vec<StateCount>, JournalError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT state, currency, COUNT(*), COALESCE(SUM(amount_minor), 0)
             FROM rows WHERE batch_id = ?1 GROUP BY state, currency ORDER BY state, currency",
        )?;
        let mut rows = stmt.query([batch_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let state: String = r.get(0)?;
            out.push(StateCount {
                state: state_of(&state)?,
                currency: r.get(1)?,
                rows: to_u64(r.get(2)?),
                amount_minor: u128::from(to_u64(r.get(3)?)),
            });
        }
        Ok(out)
    }

    /// Number of rows carrying a changed-file conflict note.
    pub fn conflict_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM rows WHERE batch_id = ?1 AND conflict IS NOT NULL",
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }

    /// Every row of a batch in file order, for `report`.
    pub fn report_rows(
        &self,
        batch_id: &str,
        mut each: impl FnMut(ReportRow) -> Result<(), JournalError>,
    ) -> Result<(), JournalError> {
        let mut stmt = self.conn().prepare(
            "SELECT line, reference, phone, amount_text, currency, state, idem_key,
                    COALESCE(routed_provider, CASE WHEN idem_key IS NOT NULL AND attempts > 0
                        THEN (SELECT provider FROM batches WHERE id = rows.batch_id) END),
                    COALESCE(provider_reference, provider_id), request_id, failover_reason,
                    CASE WHEN conflict IS NULL THEN last_error
                         WHEN last_error IS NULL THEN 'conflict: ' || conflict
                         ELSE 'conflict: ' || conflict || '; ' || last_error END,
                    attempts, updated_at
             FROM rows WHERE batch_id = ?1 ORDER BY line, id",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            let state: String = r.get(5)?;
            each(ReportRow {
                line: to_u64(r.get(0)?),
                reference: r.get(1)?,
                phone: r.get(2)?,
                amount: r.get(3)?,
                currency: r.get(4)?,
                state: state_of(&state)?,
                key: r.get(6)?,
                provider: r.get(7)?,
                provider_reference: r.get(8)?,
                request_id: r.get(9)?,
                failover_reason: r.get(10)?,
                error: r.get(11)?,
                attempts: u32::try_from(r.get::<_, i64>(12)?).unwrap_or(u32::MAX),
                updated_at: super::format_ms(r.get(13)?),
            })?;
        }
        Ok(())
    }

    /// Total rows of a batch.
    pub fn row_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM rows WHERE batch_id = ?1",
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }
}
