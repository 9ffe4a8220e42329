//! The journal side of `payrun retry`: which rows of a batch may be paid again (their last
//! attempt definitively `failed`, nothing about them contested) and which may not, and the
//! one transaction that gives each a new attempt: the old attempt's key, body, state and
//! provider facts are kept in `attempts`, the row takes the new key and body and is `planned`
//! again, and the new key is registered in `keys`. Sending then goes through the ordinary
//! machinery: `sending` on disk before the request leaves, exactly as for a first attempt.

use rusqlite::{Connection, params};

use super::lock::{LockToken, check};
use super::rows::{log_attempt, state_of, to_u64};
use super::span::{IN_BATCH, insert_key};
use super::{Attempt, Journal, JournalError, now_ms};
use crate::domain::RowState;

/// A row whose last attempt failed, as retry sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedRow {
    pub id: i64,
    pub line: u64,
    pub reference: Option<String>,
    /// The row's identity (the reference, or phone|amount|currency|n).
    pub identity: String,
    /// The attempt that failed (1 for a row never retried).
    pub attempt: u32,
    pub key: String,
    pub body: Vec<u8>,
    pub amount_minor: u64,
    pub amount_text: String,
    pub currency: String,
    /// Why it failed, in the provider's words where it gave them.
    pub error: Option<String>,
    /// A note for a person (an answer or callback contradicted the request): never retried.
    pub attention: Option<String>,
    /// An edited file changed the row after it was sent: never retried.
    pub conflict: Option<String>,
}

/// A row retry looked at and leaves alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherRow {
    pub line: u64,
    pub reference: Option<String>,
    pub state: RowState,
    pub attempt: u32,
}

/// The rows of a batch as retry sees them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryScan {
    /// Failed rows (with `--only`, those of the named lines), in file order.
    pub failed: Vec<FailedRow>,
    /// Rows that may be with the provider (sending, in doubt), or, with `--only`, every
    /// named row that is not failed; in file order.
    pub others: Vec<OtherRow>,
    /// With `--only`: named lines that are no row of the batch.
    pub missing_lines: Vec<u64>,
}

/// A new attempt for a failed row: its new key and the body that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttempt {
    pub row_id: i64,
    /// The attempt that failed; the new one is `failed_attempt + 1`.
    pub failed_attempt: u32,
    pub key: String,
    pub body: Vec<u8>,
}

const FAILED_COLUMNS: &str = "r.id, r.line, r.reference, r.identity, r.attempt, r.idem_key,
    r.request_body, r.amount_minor, r.amount_text, r.currency, r.last_error, r.attention,
    r.conflict, r.state";

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Journal {
    /// What retry would do to batch `batch_id`: its failed rows and the rows it leaves
    /// alone. With `only`, just the rows on those lines of the file.
    pub fn retry_scan(
        &self,
        batch_id: &str,
        only: Option<&[u64]>,
    ) -> Result<RetryScan, JournalError> {
        let filter = match only {
            None => "AND r.state IN ('failed','sending','in_doubt')".to_string(),
            Some(lines) => format!(
                "AND r.line IN ({})",
                lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {FAILED_COLUMNS} FROM batches b CROSS JOIN rows r
             WHERE b.id = ?1 AND {IN_BATCH} {filter} ORDER BY r.line, r.id"
        ))?;
        let mut rows = stmt.query([batch_id])?;
        let mut scan = RetryScan::default();
        let mut seen_lines = std::collections::BTreeSet::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let line = to_u64(r.get(1)?);
            seen_lines.insert(line);
            let state = state_of(&r.get::<_, String>(13)?)?;
            let attempt = u32_of(r.get(4)?);
            let reference: Option<String> = r.get(2)?;
            let (key, body): (Option<String>, Option<Vec<u8>>) = (r.get(5)?, r.get(6)?);
            match (state, key, body) {
                (RowState::Failed, Some(key), Some(body)) => scan.failed.push(FailedRow {
                    id,
                    line,
                    reference,
                    identity: r.get(3)?,
                    attempt,
                    key,
                    body,
                    amount_minor: to_u64(r.get::<_, Option<i64>>(7)?.unwrap_or(0)),
                    amount_text: r.get(8)?,
                    currency: r.get(9)?,
                    error: r.get(10)?,
                    attention: r.get(11)?,
                    conflict: r.get(12)?,
                }),
                (RowState::Failed, _, _) => {
                    return Err(JournalError::Corrupt(format!(
                        "failed row {id} has no key or body"
                    )));
                }
                (state, _, _) => scan.others.push(OtherRow {
                    line,
                    reference,
                    state,
                    attempt,
                }),
            }
        }
        if let Some(lines) = only {
            scan.missing_lines = lines
                .iter()
                .filter(|l| !seen_lines.contains(l))
                .copied()
                .collect();
        }
        Ok(scan)
    }

    /// Failed rows of a batch that `retry` would pay again (no note for a person, no
    /// conflict).
    pub fn retryable_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            &format!(
                "SELECT COUNT(*) FROM batches b CROSS JOIN rows r
                 WHERE b.id = ?1 AND {IN_BATCH} AND r.state = 'failed'
                   AND r.attention IS NULL AND r.conflict IS NULL"
            ),
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }

    /// Rows of a batch on each attempt after the first: `(attempt, rows)`, lowest first.
    pub fn retried_counts(&self, batch_id: &str) -> Result<Vec<(u32, u64)>, JournalError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT r.attempt, COUNT(*) FROM batches b CROSS JOIN rows r INDEXED BY rows_retried
             WHERE b.id = ?1 AND {IN_BATCH} AND r.attempt > 1
             GROUP BY r.attempt ORDER BY r.attempt"
        ))?;
        let rows = stmt.query_map([batch_id], |r| Ok((u32_of(r.get(0)?), to_u64(r.get(1)?))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Give each row of `attempts` its new attempt, in the caller's transaction and under lock
/// `token`: keep the failed attempt in `attempts`, register the new key, and make the row
/// `planned` with the new key and body and no provider facts. A row that is no longer failed
/// on that attempt, or that gained a note for a person since it was listed (a callback said
/// it was paid after all), is left alone. Returns the ids of the rows given a new attempt.
pub fn begin_attempts(
    conn: &Connection,
    batch_id: &str,
    token: &LockToken,
    attempts: &[NewAttempt],
) -> Result<Vec<i64>, JournalError> {
    check(conn, batch_id, token)?;
    let now = now_ms();
    let mut started = Vec::with_capacity(attempts.len());
    for a in attempts {
        let kept = conn
            .prepare_cached(
                "INSERT INTO attempts (row_id, attempt, idem_key, request_body, state,
                    provider_status, provider_id, provider_reference, internal_reference,
                    request_id, routed_provider, failover_reason, last_error, ended_at, retried_at)
                 SELECT id, attempt, idem_key, request_body, state, provider_status, provider_id,
                    provider_reference, internal_reference, request_id, routed_provider,
                    failover_reason, last_error, updated_at, ?3
                 FROM rows
                 WHERE id = ?1 AND attempt = ?2 AND state = 'failed' AND attention IS NULL
                   AND conflict IS NULL AND idem_key IS NOT NULL AND request_body IS NOT NULL",
            )?
            .execute(params![a.row_id, a.failed_attempt, now])?;
        if kept == 0 {
            continue;
        }
        let next = a.failed_attempt + 1;
        conn.prepare_cached(
            "UPDATE rows SET idem_key = ?2, request_body = ?3, attempt = ?4, state = 'planned',
                provider_status = NULL, provider_id = NULL, provider_reference = NULL,
                internal_reference = NULL, request_id = NULL, routed_provider = NULL,
                failover_reason = NULL, unconfirmed = 0, last_error = NULL, updated_at = ?5
             WHERE id = ?1",
        )?
        .execute(params![a.row_id, a.key, a.body, next, now])?;
        insert_key(conn, &a.key, a.row_id)?;
        log_attempt(
            conn,
            a.row_id,
            &Attempt {
                kind: "retry",
                at: now,
                http_status: None,
                latency_ms: 0,
                outcome: format!("attempt {next}"),
                detail: Some(format!(
                    "attempt {} failed; attempt {next} is sent with key {}",
                    a.failed_attempt, a.key
                )),
            },
        )?;
        started.push(a.row_id);
    }
    Ok(started)
}

/// An earlier attempt of a row: what a late callback about it is judged by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierAttempt {
    pub row_id: i64,
    pub attempt: u32,
    pub key: String,
    pub state: RowState,
}

/// The earlier attempts (of rows of batches sent through `provider`) that carried this
/// provider id, internal reference, Rumbapay request id or idempotency key; at most two.
pub fn earlier_attempts(
    conn: &Connection,
    provider: crate::domain::ProviderKind,
    name: super::RowKey<'_>,
) -> Result<Vec<EarlierAttempt>, JournalError> {
    use super::RowKey;
    let (column, value) = match name {
        RowKey::ProviderId(v) => ("a.provider_id", v),
        RowKey::InternalReference(v) => ("a.internal_reference", v),
        RowKey::IdemKey(v) => ("a.idem_key", v),
        RowKey::RequestId(v) => ("a.request_id", v),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT a.row_id, a.attempt, a.idem_key, a.state
         FROM attempts a JOIN batches b ON b.seq = a.row_id >> 32
         WHERE {column} = ?1 AND b.provider = ?2 ORDER BY a.row_id, a.attempt LIMIT 2"
    ))?;
    let found = stmt.query_map(params![value, provider.name()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for f in found {
        let (row_id, attempt, key, state) = f?;
        out.push(EarlierAttempt {
            row_id,
            attempt: u32_of(attempt),
            key,
            state: state_of(&state)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
