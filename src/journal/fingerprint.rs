//! Finding batches that pay the same people again: the batches with a given content
//! fingerprint, and how many (phone, amount, currency) payments a batch shares with each
//! recent batch. Both run once per plan; neither needs a per-row index.

use rusqlite::{Connection, params};

use super::batch::{BATCH_COLUMNS, batch_from_row};
use super::span::IN_BATCH;
use super::{Batch, Journal, JournalError};

/// Other batches (not `except_id`) whose fingerprint is `fingerprint`, newest first.
pub fn batches_with_fingerprint(
    conn: &Connection,
    fingerprint: &str,
    except_id: &str,
) -> Result<Vec<Batch>, JournalError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {BATCH_COLUMNS} FROM batches WHERE fingerprint = ?1 AND id != ?2
         ORDER BY created_at DESC"
    ))?;
    let rows = stmt.query_map(params![fingerprint, except_id], batch_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// Record what a batch pays, and how many of its rows repeat an earlier row's payment
/// (`None`: not known, so whoever needs it looks; see `Journal::repeats`).
pub fn set_fingerprint(
    conn: &Connection,
    batch_id: &str,
    fingerprint: &str,
    repeats: Option<u64>,
) -> Result<(), JournalError> {
    conn.execute(
        "UPDATE batches SET fingerprint = ?2, repeats = ?3 WHERE id = ?1",
        params![batch_id, fingerprint, repeats.map(|n| n as i64)],
    )?;
    Ok(())
}

/// A recent batch sharing payments with another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub batch: String,
    pub created_at: i64,
    /// (phone, amount, currency) payments both batches make, counted with repeats.
    pub shared: u64,
}

impl Journal {
    /// For each other batch created at or after `since_ms`, the payments (valid rows' phone,
    /// amount and currency, counted as a multiset) it shares with `batch_id`; batches sharing
    /// none are left out.
    pub fn payee_overlaps(
        &self,
        batch_id: &str,
        since_ms: i64,
    ) -> Result<Vec<Overlap>, JournalError> {
        let mut stmt = self.conn().prepare(
            "SELECT id, created_at FROM batches WHERE id != ?1 AND created_at >= ?2
             ORDER BY created_at DESC",
        )?;
        let recent = stmt
            .query_map(params![batch_id, since_ms], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for (other, created_at) in recent {
            let shared: i64 = self.conn().query_row(
                &format!(
                    "WITH a AS (SELECT r.phone, r.amount_minor, r.currency, COUNT(*) AS n
                                FROM batches b CROSS JOIN rows r
                                WHERE b.id = ?1 AND {IN_BATCH} AND r.idem_key IS NOT NULL
                                GROUP BY 1, 2, 3),
                          o AS (SELECT r.phone, r.amount_minor, r.currency, COUNT(*) AS n
                                FROM batches b CROSS JOIN rows r
                                WHERE b.id = ?2 AND {IN_BATCH} AND r.idem_key IS NOT NULL
                                GROUP BY 1, 2, 3)
                     SELECT COALESCE(SUM(MIN(a.n, o.n)), 0) FROM a JOIN o
                       ON a.phone = o.phone AND a.amount_minor = o.amount_minor
                      AND a.currency = o.currency"
                ),
                params![batch_id, other],
                |r| r.get(0),
            )?;
            if shared > 0 {
                out.push(Overlap {
                    batch: other,
                    created_at,
                    shared: u64::try_from(shared).unwrap_or(0),
                });
            }
        }
        Ok(out)
    }

    /// Valid rows (with a key) of a batch.
    pub fn keyed_row_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            &format!(
                "SELECT COUNT(*) FROM batches b CROSS JOIN rows r
                 WHERE b.id = ?1 AND {IN_BATCH} AND r.idem_key IS NOT NULL"
            ),
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
