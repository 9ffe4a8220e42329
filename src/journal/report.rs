//! The rows of `payrun report`: everything said about one payee, read in file order, and the
//! report's columns declared once, so the CSV header, its cells and the JSON keys cannot drift
//! apart. Columns are only ever added at the end, so scripts reading by position keep working.
//! Rows are handed to the caller one at a time from one statement, never collected, so a
//! report of a million-row batch reads in constant memory.

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
    /// What the payee file said beyond the payment (none for batches planned by a payrun
    /// before journal version 4, nor for rejected rows).
    pub name: Option<String>,
    pub operator: Option<String>,
    pub description: Option<String>,
    /// The amount in minor units; `None` for a rejected row whose amount was not read.
    #[serde(skip)]
    pub amount_minor: Option<u64>,
    /// The conflict note alone (it is also the start of `error`).
    #[serde(skip)]
    pub conflict: Option<String>,
    /// When the row was planned and last changed, in Unix milliseconds.
    #[serde(skip)]
    pub created_ms: i64,
    #[serde(skip)]
    pub updated_ms: i64,
}

impl ReportRow {
    /// The report's columns in CSV order; the JSON keys are the same names.
    pub const COLUMNS: [&'static str; 20] = [
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
        "name",
        "operator",
        "description",
    ];

    /// The row's cells in the order of [`ReportRow::COLUMNS`] (absent values empty), as
    /// written; the caller makes them safe for spreadsheets.
    pub fn cells(&self) -> [String; 20] {
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
            opt(&self.name),
            opt(&self.operator),
            opt(&self.description),
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
                    r.attempts, r.updated_at, r.attention, r.attempt, r.payee_name,
                    r.payee_operator, r.payee_description, r.amount_minor, r.conflict, r.created_at
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
            let updated_ms: i64 = r.get(13)?;
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
                updated_at: super::format_ms(updated_ms),
                attention: r.get(14)?,
                approved_by: approved_by.clone(),
                attempt: u32::try_from(r.get::<_, i64>(15)?).unwrap_or(u32::MAX),
                name: r.get(16)?,
                operator: r.get(17)?,
                description: r.get(18)?,
                amount_minor: r.get::<_, Option<i64>>(19)?.map(to_u64),
                conflict: r.get(20)?,
                created_ms: r.get(21)?,
                updated_ms,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ReportRow {
        crate::journal::test_support::report_row()
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
             request_id,failover_reason,error,attempts,updated_at,attention,attempt,approved_by,\
             name,operator,description"
        );
    }

    #[test]
    fn rows_carry_what_the_file_said_about_the_payee_in_file_order() {
        use crate::domain::ProviderKind;
        use crate::journal::test_support::{self as ts, temp_journal};
        use crate::journal::{PayeeDetails, PlanItem, PlannedRow};
        let (_dir, mut journal) = temp_journal();
        let items = [
            PlanItem::Planned(PlannedRow {
                details: PayeeDetails {
                    name: Some("Amina Nakato".into()),
                    operator: Some("mpesa".into()),
                    description: Some("June salary".into()),
                },
                ..ts::planned(3, "a", "k-a")
            }),
            PlanItem::Planned(ts::planned(2, "b", "k-b")),
            PlanItem::Rejected(ts::rejected(4)),
        ];
        ts::plan(
            &mut journal,
            &ts::new_batch("b1", ProviderKind::Rumbapay),
            &items,
        )
        .unwrap();
        let mut rows = Vec::new();
        journal
            .report_rows("b1", |r| {
                rows.push(r);
                Ok(())
            })
            .unwrap();
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert_eq!(rows[1].name.as_deref(), Some("Amina Nakato"));
        assert_eq!(rows[1].operator.as_deref(), Some("mpesa"));
        assert_eq!(rows[1].description.as_deref(), Some("June salary"));
        assert_eq!(rows[1].amount_minor, Some(ts::AMOUNT));
        assert!(rows[1].created_ms > 0 && rows[1].updated_ms >= rows[1].created_ms);
        assert_eq!(
            (rows[0].name.as_ref(), rows[0].operator.as_ref()),
            (None, None)
        );
        assert_eq!(rows[2].state, RowState::Rejected);
        assert_eq!(rows[2].amount_minor, None);
    }
}
