//! What the pre-flight shows about the rows a run is about to send, beyond their counts:
//! repeated payments (a planned row with the same phone, amount and currency as an earlier row
//! of its batch — the usual trace of a row pasted twice) and the open money per mobile
//! operator. Both are read from the journal, so `resume` and a second `run` of a batch planned
//! earlier see exactly what the first `run` saw.

use rusqlite::OptionalExtension;

use super::queries::exact_sum;
use super::rows::to_u64;
use super::schema::OPEN;
use super::span::IN_BATCH;
use super::{Journal, JournalError};

/// Repeated pairs kept for the pre-flight to list; the rest are only counted.
pub const REPEATS_KEPT: usize = 1000;

/// Planned rows that repeat an earlier row's phone, amount and currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Repeats {
    /// Every such row.
    pub count: u64,
    /// The first [`REPEATS_KEPT`], in line order.
    pub pairs: Vec<Repeat>,
}

/// One repeated row and the first row it repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat {
    pub line: u64,
    pub first: u64,
}

/// Open rows and money of one currency through one operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorCount {
    pub currency: String,
    pub operator: String,
    pub rows: u64,
    pub amount_minor: u128,
}

impl Journal {
    /// The planned rows of `batch_id` that repeat an earlier row (in any state but rejected)
    /// with the same phone, amount and currency. One pass over the batch's rows, unless
    /// planning recorded that none of its rows repeats another (`batches.repeats` = 0).
    pub fn repeats(&self, batch_id: &str) -> Result<Repeats, JournalError> {
        let counted: Option<Option<i64>> = self
            .conn()
            .prepare_cached("SELECT repeats FROM batches WHERE id = ?1")?
            .query_row([batch_id], |r| r.get(0))
            .optional()?;
        if counted == Some(Some(0)) {
            return Ok(Repeats::default());
        }
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT line, first FROM (
                 SELECT r.line AS line, r.state AS state,
                        MIN(r.line) OVER (PARTITION BY r.phone, r.amount_minor, r.currency) AS first
                 FROM batches b CROSS JOIN rows r
                 WHERE b.id = ?1 AND {IN_BATCH} AND r.state != 'rejected'
                       AND r.amount_minor IS NOT NULL)
             WHERE state = 'planned' AND line > first
             ORDER BY line"
        ))?;
        let mut rows = stmt.query([batch_id])?;
        let mut repeats = Repeats::default();
        while let Some(row) = rows.next()? {
            repeats.count += 1;
            if repeats.pairs.len() < REPEATS_KEPT {
                repeats.pairs.push(Repeat {
                    line: to_u64(row.get(0)?),
                    first: to_u64(row.get(1)?),
                });
            }
        }
        Ok(repeats)
    }

    /// Open rows (planned, sending, in doubt) and money per currency and operator, the operator
    /// read from each stored request body at `operator_path` (a JSON path the provider module
    /// names). Reads only the open-rows index.
    pub fn open_operator_counts(
        &self,
        batch_id: &str,
        operator_path: &str,
    ) -> Result<Vec<OperatorCount>, JournalError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT r.currency, json_extract(CAST(r.request_body AS TEXT), ?2) AS operator, COUNT(*),
                    COALESCE(SUM(r.amount_minor >> 32), 0),
                    COALESCE(SUM(r.amount_minor & 4294967295), 0)
             FROM batches b CROSS JOIN rows r INDEXED BY rows_open
             WHERE b.id = ?1 AND {IN_BATCH} AND {OPEN}
                   AND json_valid(CAST(r.request_body AS TEXT))
             GROUP BY 1, 2 HAVING operator IS NOT NULL ORDER BY 1, 2"
        ))?;
        let mut rows = stmt.query((batch_id, operator_path))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(OperatorCount {
                currency: r.get(0)?,
                operator: r.get(1)?,
                rows: to_u64(r.get(2)?),
                amount_minor: exact_sum(r.get(3)?, r.get(4)?),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProviderKind, RowState};
    use crate::journal::test_support::{
        force_state, id_of_key, new_batch, plan, planned, rejected, temp_journal,
    };
    use crate::journal::{PlanItem, PlannedRow};

    fn row(line: u64, key: &str, phone: &str, amount: u64, operator: &str) -> PlanItem {
        PlanItem::Planned(PlannedRow {
            phone: phone.into(),
            amount_minor: amount,
            body: format!(r#"{{"mobile_money":{{"operator":"{operator}"}}}}"#).into_bytes(),
            ..planned(line, &format!("id-{key}"), key)
        })
    }

    #[test]
    fn planned_rows_repeating_an_earlier_row_are_listed_with_its_line() {
        let (_dir, mut journal) = temp_journal();
        let items = [
            row(2, "a", "256700000001", 100, "x"),
            row(3, "b", "256700000002", 100, "x"),
            row(4, "c", "256700000001", 100, "x"), // repeats 2
            row(5, "d", "256700000001", 200, "x"), // another amount: not a repeat
            PlanItem::Rejected(rejected(6)),
            row(7, "e", "256700000002", 100, "x"), // repeats 3
            row(8, "f", "256700000001", 100, "x"), // repeats 2 (not 4)
        ];
        plan(
            &mut journal,
            &new_batch("b1", ProviderKind::Rumbapay),
            &items,
        )
        .unwrap();
        let pairs = |r: &Repeats| {
            r.pairs
                .iter()
                .map(|p| (p.line, p.first))
                .collect::<Vec<_>>()
        };
        let repeats = journal.repeats("b1").unwrap();
        assert_eq!(repeats.count, 3);
        assert_eq!(pairs(&repeats), [(4, 2), (7, 3), (8, 2)]);
        // Once sent, a repeat is no longer ahead of the run; the first row's state does not
        // matter.
        force_state(&journal, id_of_key(&journal, "c"), RowState::Succeeded);
        force_state(&journal, id_of_key(&journal, "a"), RowState::Succeeded);
        assert_eq!(pairs(&journal.repeats("b1").unwrap()), [(7, 3), (8, 2)]);
        assert_eq!(journal.repeats("nope").unwrap(), Repeats::default());

        // Planning's count is trusted when it says none (no pass over the batch), and only then.
        let count = |n: Option<i64>| {
            journal
                .conn()
                .execute("UPDATE batches SET repeats = ?1 WHERE id = 'b1'", [n])
                .unwrap();
            journal.repeats("b1").unwrap().count
        };
        assert_eq!(count(Some(0)), 0);
        assert_eq!(count(Some(3)), 2);
        assert_eq!(count(None), 2);
    }

    #[test]
    fn open_money_is_counted_per_currency_and_operator_from_the_stored_body() {
        let (_dir, mut journal) = temp_journal();
        let items = [
            row(2, "a", "256700000001", 100, "mtn"),
            row(3, "b", "256700000002", 250, "mtn"),
            row(4, "c", "256700000003", 7, "airtel"),
            row(5, "d", "256700000004", 9, "airtel"),
        ];
        plan(
            &mut journal,
            &new_batch("b1", ProviderKind::Rumbapay),
            &items,
        )
        .unwrap();
        force_state(&journal, id_of_key(&journal, "d"), RowState::Succeeded);
        let got = journal
            .open_operator_counts("b1", "$.mobile_money.operator")
            .unwrap();
        let got: Vec<_> = got
            .iter()
            .map(|c| {
                (
                    c.currency.as_str(),
                    c.operator.as_str(),
                    c.rows,
                    c.amount_minor,
                )
            })
            .collect();
        assert_eq!(got, [("UGX", "airtel", 1, 7), ("UGX", "mtn", 2, 350)]);
        // A body without that field names no operator.
        assert!(
            journal
                .open_operator_counts("b1", "$.nothing")
                .unwrap()
                .is_empty()
        );
    }
}
