//! Reads behind `status` and `reconcile`: rows and money per state and currency, conflicts,
//! and the rows that need a person (`report`'s rows are in `report`).

use super::rows::{state_of, to_u64};
use super::schema::OPEN;
use super::span::IN_BATCH;
use super::{Journal, JournalError};
use crate::domain::RowState;

/// Rows and money per state and currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCount {
    pub state: RowState,
    pub currency: String,
    pub rows: u64,
    pub amount_minor: u128,
    /// The part of `amount_minor` on rows that need a person (a contradicting answer or
    /// callback): never counted as paid, whatever their state says.
    pub contested_minor: u128,
}

/// A row that needs a person: an answer or callback contradicted its request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AttentionRow {
    pub line: u64,
    pub reference: Option<String>,
    pub state: RowState,
    /// What contradicted what (the row's `attention` note).
    pub reason: String,
    /// The provider's name for the payout (RohoPay `id`, Rumbapay `request_id`), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A sum of amounts taken in two halves so SQLite never overflows: `SUM()` over `i64` fails
/// with "integer overflow" once a total passes `i64::MAX` (three rows of the largest amount
/// would make every later status, report and resume of the batch fail). Each amount is
/// `high · 2^32 + low` with `low < 2^32`; a batch has fewer than 2^32 rows, so neither half's
/// sum can overflow, and the total is rebuilt exactly in 128 bits.
pub(super) fn exact_sum(high: i64, low: i64) -> u128 {
    let total = i128::from(high) * (1i128 << 32) + i128::from(low);
    u128::try_from(total).unwrap_or(0)
}

impl Journal {
    /// Rows and money per state and currency for one batch.
    pub fn state_counts(&self, batch_id: &str) -> Result<Vec<StateCount>, JournalError> {
        self.counts(batch_id, "", "")
    }

    /// Rows and money per open state (planned, sending, in doubt) and currency. Reads only the
    /// open-rows index, so it is instant even for a million-row batch with ten rows left.
    pub fn open_counts(&self, batch_id: &str) -> Result<Vec<StateCount>, JournalError> {
        self.counts(batch_id, "INDEXED BY rows_open", &format!("AND {OPEN}"))
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
            "SELECT r.state, r.currency, COUNT(*),
                    COALESCE(SUM(r.amount_minor >> 32), 0),
                    COALESCE(SUM(r.amount_minor & 4294967295), 0),
                    COALESCE(SUM(CASE WHEN r.attention IS NOT NULL THEN r.amount_minor >> 32 END), 0),
                    COALESCE(SUM(CASE WHEN r.attention IS NOT NULL THEN r.amount_minor & 4294967295 END), 0)
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
                amount_minor: exact_sum(r.get(3)?, r.get(4)?),
                contested_minor: exact_sum(r.get(5)?, r.get(6)?),
            });
        }
        Ok(out)
    }

    /// Number of rows carrying a changed-file conflict note.
    pub fn conflict_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        self.noted_count(batch_id, "conflict", "rows_conflict")
    }

    /// Number of rows that need a person: an answer or callback contradicted the request.
    pub fn attention_count(&self, batch_id: &str) -> Result<u64, JournalError> {
        self.noted_count(batch_id, "attention", "rows_attention")
    }

    /// Rows of a batch whose note `column` is set, read through its partial `index` so a
    /// million-row batch with a few notes is not scanned.
    fn noted_count(&self, batch_id: &str, column: &str, index: &str) -> Result<u64, JournalError> {
        let n: i64 = self.conn().query_row(
            &format!(
                "SELECT COUNT(*) FROM batches b CROSS JOIN rows r INDEXED BY {index}
                 WHERE b.id = ?1 AND {IN_BATCH} AND r.{column} IS NOT NULL"
            ),
            [batch_id],
            |r| r.get(0),
        )?;
        Ok(to_u64(n))
    }

    /// The first `limit` rows of a batch that need a person, in file order.
    pub fn attention_rows(
        &self,
        batch_id: &str,
        limit: usize,
    ) -> Result<Vec<AttentionRow>, JournalError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT r.line, r.reference, r.state, r.attention,
                    COALESCE(r.provider_id, r.request_id), r.idem_key
             FROM batches b CROSS JOIN rows r INDEXED BY rows_attention
             WHERE b.id = ?1 AND {IN_BATCH} AND r.attention IS NOT NULL
             ORDER BY r.line, r.id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(rusqlite::params![batch_id, limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let state: String = r.get(2)?;
            out.push(AttentionRow {
                line: to_u64(r.get(0)?),
                reference: r.get(1)?,
                state: state_of(&state)?,
                reason: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                provider_id: r.get(4)?,
                key: r.get(5)?,
            });
        }
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKind;
    use crate::journal::PlannedRow;
    use crate::journal::test_support::{id_of_key, new_batch, plan, planned, temp_journal};
    use crate::journal::{PlanItem, flag_attention};

    #[test]
    fn sums_past_i64_are_exact() {
        let max = i64::MAX;
        let (high, low) = (max >> 32, max & 0xFFFF_FFFF);
        assert_eq!(exact_sum(high, low), u128::from(max as u64));
        assert_eq!(
            exact_sum(3 * high, 3 * low),
            3 * u128::from(max as u64),
            "three rows of the largest amount"
        );
        assert_eq!(exact_sum(0, 0), 0);
    }

    /// Batch `id` with `n` planned rows on lines 2.. (row ids in its own range).
    fn plan_n(journal: &mut Journal, id: &str, n: u64) {
        let rows: Vec<PlanItem> = (2..n + 2)
            .map(|line| {
                PlanItem::Planned(PlannedRow {
                    reference: Some(format!("EMP-{line}")),
                    ..planned(line, &format!("{id}-{line}"), &format!("{id}-k{line}"))
                })
            })
            .collect();
        plan(journal, &new_batch(id, ProviderKind::Rohopay), &rows).unwrap();
    }

    fn flag(journal: &Journal, key: &str, reason: &str) {
        flag_attention(journal.conn(), id_of_key(journal, key), reason).unwrap();
    }

    #[test]
    fn lists_and_counts_the_rows_that_need_a_person_per_batch() {
        let (_dir, mut journal) = temp_journal();
        plan_n(&mut journal, "a", 5);
        plan_n(&mut journal, "b", 5);
        assert_eq!(journal.attention_count("a").unwrap(), 0);
        assert!(journal.attention_rows("a", 10).unwrap().is_empty());
        flag(&journal, "a-k5", "another amount");
        flag(&journal, "a-k3", "another phone");
        flag(&journal, "a-k3", "another phone");
        flag(&journal, "a-k3", "successful after failed");
        flag(&journal, "b-k2", "another currency");

        assert_eq!(journal.attention_count("a").unwrap(), 2);
        assert_eq!(journal.attention_count("b").unwrap(), 1);
        let rows = journal.attention_rows("a", 10).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [3, 5],
            "file order, this batch only"
        );
        assert_eq!(rows[0].reference.as_deref(), Some("EMP-3"));
        assert_eq!(rows[0].state, RowState::Planned);
        assert_eq!(
            rows[0].reason, "another phone; successful after failed",
            "a repeated reason is kept once"
        );
        assert_eq!(rows[0].key.as_deref(), Some("a-k3"));
        assert_eq!(journal.attention_rows("a", 1).unwrap().len(), 1);

        let mut reported = Vec::new();
        journal
            .report_rows("a", |r| {
                reported.push(r.attention);
                Ok(())
            })
            .unwrap();
        assert_eq!(
            reported[1].as_deref(),
            Some("another phone; successful after failed")
        );
        assert_eq!(reported[0], None);
    }

    #[test]
    fn money_on_rows_that_need_a_person_is_counted_apart() {
        let (_dir, mut journal) = temp_journal();
        plan_n(&mut journal, "a", 3);
        journal
            .conn()
            .execute_batch("UPDATE rows SET state = 'succeeded'")
            .unwrap();
        flag(&journal, "a-k2", "amount 2500.00 UGX in the answer");
        let counts = journal.state_counts("a").unwrap();
        assert_eq!(counts.len(), 1, "{counts:?}");
        assert_eq!(counts[0].amount_minor, 75_000);
        assert_eq!(counts[0].contested_minor, 25_000);
    }
}
