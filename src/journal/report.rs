//! The rows of `payrun report`: everything said about one payee, read in file order, and the
//! report's columns declared once, so the CSV header, its cells and the JSON keys cannot drift
//! apart. Columns are only ever added at the end, so scripts reading by position keep working.

use super::rows::{state_of, to_u64};
use super::span::IN_BATCH;
use super::{Journal, JournalError};
use crate::domain::RowState;

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
    /// Who approved the batch (README "Approvals"): principal, key fingerprint, statement
    /// SHA-256 and when checked, for each approver; the same on every row of the batch.
    pub approved_by: Option<String>,
    /// The payout attempt the row is on: 1, or more after `payrun retry` (each with its key).
    pub attempt: u32,
}

impl ReportRow {
    /// The report's columns in CSV order; the JSON keys are the same names.
    pub const COLUMNS: [&'static str; 17] = [
        "line",
        "reference",
        "phone",
        "amount",
        "currency",
        "state",
        "key",
        "provider",
        "provider_reference",
        "request_id",
        "failover_reason",
        "error",
        "attempts",
        "updated_at",
        // Added after the others, so scripts reading columns by position keep working.
        "attention",
        "attempt",
        "approved_by",
    ];

    /// The row's cells in the order of [`ReportRow::COLUMNS`] (absent values empty), as
    /// written; the caller makes them safe for spreadsheets.
    pub fn cells(&self) -> [String; 17] {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        [
            self.line.to_string(),
            opt(&self.reference),
            self.phone.clone(),
            self.amount.clone(),
            self.currency.clone(),
            self.state.to_string(),
            opt(&self.key),
            opt(&self.provider),
            opt(&self.provider_reference),
            opt(&self.request_id),
            opt(&self.failover_reason),
            opt(&self.error),
            self.attempts.to_string(),
            self.updated_at.clone(),
            opt(&self.attention),
            self.attempt.to_string(),
            opt(&self.approved_by),
        ]
    }
}

impl Journal {
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
                    r.attempts, r.updated_at, r.attention, r.attempt
             FROM batches b CROSS JOIN rows r
             WHERE b.id = ?1 AND {IN_BATCH} ORDER BY r.line, r.id"
        ))?;
        let approvals = self.approvals(batch_id)?;
        let approved_by = (!approvals.is_empty()).then(|| {
            approvals
                .iter()
                .map(super::Approval::text)
                .collect::<Vec<_>>()
                .join("; ")
        });
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
                approved_by: approved_by.clone(),
                attempt: u32::try_from(r.get::<_, i64>(15)?).unwrap_or(u32::MAX),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ReportRow {
        ReportRow {
            line: 7,
            reference: Some("ref-7".into()),
            phone: "256700123456".into(),
            amount: "2500.50".into(),
            currency: "UGX".into(),
            state: RowState::Accepted,
            key: Some("key-7".into()),
            provider: Some("relworx".into()),
            provider_reference: Some("PR-7".into()),
            request_id: None,
            failover_reason: Some("timeout".into()),
            error: None,
            attention: Some("amount differs".into()),
            attempts: 2,
            updated_at: "2026-11-21T09:30:00Z".into(),
            approved_by: Some("alice@corp (key SHA256:x, statement sha256 ab, checked t)".into()),
            attempt: 2,
        }
    }

    #[test]
    fn every_column_is_a_json_key_with_the_cell_in_its_place() {
        let json = serde_json::to_value(row()).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), ReportRow::COLUMNS.len(), "{json}");
        for (column, cell) in ReportRow::COLUMNS.iter().zip(row().cells()) {
            let value = &object[*column];
            let shown = match value {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(shown, cell, "column {column}");
        }
    }

    #[test]
    fn columns_keep_their_positions() {
        assert_eq!(
            ReportRow::COLUMNS.join(","),
            "line,reference,phone,amount,currency,state,key,provider,provider_reference,\
             request_id,failover_reason,error,attempts,updated_at,attention,attempt,approved_by"
        );
    }
}
