//! The approvals a batch was paid under (README "Approvals"): who approved it, with which key,
//! which statement, checked when. Written when sending starts, read by `status`, `report` and
//! the approval check of `resume` (the largest payout per currency).

use rusqlite::params;

use super::rows::to_u64;
use super::span::IN_BATCH;
use super::{Journal, JournalError, format_ms};

/// One approval of a batch, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Approval {
    pub principal: String,
    /// `SHA256:...` of the approver's public key.
    pub key_fingerprint: String,
    /// SHA-256 of the statement's bytes.
    pub statement_sha256: String,
    /// When the signatures were checked (RFC 3339).
    pub checked_at: String,
}

impl Approval {
    /// `alice@corp (key SHA256:..., statement sha256 ..., checked ...)`.
    pub fn text(&self) -> String {
        format!(
            "{} (key {}, statement sha256 {}, checked {})",
            self.principal, self.key_fingerprint, self.statement_sha256, self.checked_at
        )
    }
}

impl Journal {
    /// Record that `batch_id` is paid under the statement `statement_sha256`, approved by each
    /// (principal, key fingerprint), checked at `checked_at` (Unix milliseconds). Checking
    /// the same approval again updates when it was checked.
    pub fn record_approvals(
        &mut self,
        batch_id: &str,
        statement_sha256: &str,
        checked_at: i64,
        approvals: &[(String, String)],
    ) -> Result<(), JournalError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO approvals (batch, principal, key_fingerprint, statement_sha256, checked_at)
                 SELECT seq, ?2, ?3, ?4, ?5 FROM batches WHERE id = ?1
                 ON CONFLICT (batch, statement_sha256, principal)
                 DO UPDATE SET key_fingerprint = excluded.key_fingerprint, checked_at = excluded.checked_at",
            )?;
            for (principal, fingerprint) in approvals {
                let n = insert.execute(params![
                    batch_id,
                    principal,
                    fingerprint,
                    statement_sha256,
                    checked_at
                ])?;
                if n == 0 {
                    return Err(JournalError::BatchNotFound(batch_id.to_string()));
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The approvals recorded for a batch, oldest check first.
    pub fn approvals(&self, batch_id: &str) -> Result<Vec<Approval>, JournalError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.principal, a.key_fingerprint, a.statement_sha256, a.checked_at
             FROM batches b JOIN approvals a ON a.batch = b.seq
             WHERE b.id = ?1 ORDER BY a.checked_at, a.principal",
        )?;
        let rows = stmt.query_map([batch_id], |r| {
            Ok(Approval {
                principal: r.get(0)?,
                key_fingerprint: r.get(1)?,
                statement_sha256: r.get(2)?,
                checked_at: format_ms(r.get(3)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Per currency, the largest amount among the batch's rows that are paid or to be paid
    /// (not rejected) and the first line carrying it.
    pub fn largest_payouts(&self, batch_id: &str) -> Result<Vec<(String, u64, u64)>, JournalError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT r.currency, MAX(r.amount_minor) FROM batches b CROSS JOIN rows r
             WHERE b.id = ?1 AND {IN_BATCH} AND r.state <> 'rejected'
             GROUP BY r.currency ORDER BY r.currency"
        ))?;
        let largest: Vec<(String, i64)> = stmt
            .query_map([batch_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut line_of = self.conn().prepare_cached(&format!(
            "SELECT MIN(r.line) FROM batches b CROSS JOIN rows r
             WHERE b.id = ?1 AND {IN_BATCH} AND r.state <> 'rejected'
               AND r.currency = ?2 AND r.amount_minor = ?3"
        ))?;
        let mut out = Vec::with_capacity(largest.len());
        for (currency, amount) in largest {
            let line: i64 = line_of.query_row(params![batch_id, currency, amount], |r| r.get(0))?;
            out.push((currency, to_u64(amount), to_u64(line)));
        }
        Ok(out)
    }
}
