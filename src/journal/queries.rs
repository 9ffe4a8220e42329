//! Reads behind `status` and `report`: rows and money per state and currency, conflicts, and
//! every row of a batch in file order.

use super::rows::{state_of, to_u64};
use super::span::IN_BATCH;
use super::{Journal, JournalError, RowState};

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
    /// What a person must look at: an answer or callback that contradicted the request.
    pub attention: Option<String>,
    pub attempts: u32,
    pub updated_at: String,
}

impl Journal {
    /// Rows and money per state and currency for one batch.
    pub fn state_counts(&self, batch_id: &str) -> Result<Vec<StateCount>, JournalError> {
        self.counts(batch_id, "", "")
    }

    /// Rows and money per open state (planned, sending, in doubt) and currency. Reads only the
    /// open-rows index, so it is instant even for a million-row batch with ten rows left.
    pub fn open_counts(&self, batch_id: &str) -> Result<Vec<StateCount>, JournalError> {
        self.counts(
            batch_id,
            "INDEXED BY rows_open",
            "AND r.state IN ('planned','sending','in_doubt')",
        )
    }

    /// Rows and money per state and currency, for the rows `filter` (an SQL condition) keeps,
    /// read through `index` (an `INDEXED BY` clause, or nothing for the table itself).
    fn counts(
        &self,
        batch_id: &str,
        index: &str,
        filter: &str,
    ) -> Result<Vec<StateCount>, JournalError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT r.state, r.currency, COUNT(*), COALESCE(SUM(r.amount_minor), 0)
             FROM batches b CROSS JOIN rows r {index}
             WHERE b.id = ?1 AND {IN_BATCH} {filter}
             GROUP BY r.state, r.currency ORDER BY r.state, r.currency"
        ))?;
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
            &format!(
                "SELECT COUNT(*) FROM batches b CROSS JOIN rows r INDEXED BY rows_conflict
                 WHERE b.id = ?1 AND {IN_BATCH} AND r.conflict IS NOT NULL"
            ),
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }

    /// Number of rows that need a person: an answer or callback contradicted the request.
    pub fn attention_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            &format!(
                "SELECT COUNT(*) FROM batches b CROSS JOIN rows r INDEXED BY rows_attention
                 WHERE b.id = ?1 AND {IN_BATCH} AND r.attention IS NOT NULL"
            ),
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
        let mut stmt = self.conn().prepare(&format!(
            "SELECT r.line, r.reference, r.phone, r.amount_text, r.currency, r.state, r.idem_key,
                    COALESCE(r.routed_provider, CASE WHEN r.idem_key IS NOT NULL AND r.attempts > 0
                        THEN b.provider END),
                    COALESCE(r.provider_reference, r.provider_id), r.request_id, r.failover_reason,
                    CASE WHEN r.conflict IS NULL THEN r.last_error
                         WHEN r.last_error IS NULL THEN 'conflict: ' || r.conflict
                         ELSE 'conflict: ' || r.conflict || '; ' || r.last_error END,
                    r.attempts, r.updated_at, r.attention
             FROM batches b CROSS JOIN rows r
             WHERE b.id = ?1 AND {IN_BATCH} ORDER BY r.line, r.id"
        ))?;
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
                attention: r.get(14)?,
            })?;
        }
        Ok(())
    }

    /// Total rows of a batch.
    pub fn row_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            &format!(
                "SELECT COUNT(*) FROM batches b CROSS JOIN rows r WHERE b.id = ?1 AND {IN_BATCH}"
            ),
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }
}
