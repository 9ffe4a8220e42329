//! The bulk writes behind planning, shaped by what a million rows cost SQLite: many rows per
//! INSERT statement (one statement execution, and one cursor set-up, per [`CHUNK`] rows), and
//! the batch's idempotency keys inserted into `keys` sorted, once its rows are in, so that
//! table grows at one end instead of taking a million random UUIDs one by one.
//!
//! Statements say `OR FAIL`: a failed constraint stops the statement and the error fails the
//! whole plan, whose transaction is then rolled back. With the default `ABORT`, SQLite would
//! copy every page each statement touches into a statement journal so it could undo just that
//! statement, which planning never needs. For the same reason only a batch's first row binds
//! its id (a bound id might not be an integer, which also needs a statement journal); SQLite
//! numbers the following rows on from it, and the planner checks it did.

use std::fmt::Write;

use rusqlite::{CachedStatement, ToSql, Transaction};

use super::JournalError;
use super::items::PlanItem;

/// Rows (and keys) per multi-row INSERT statement.
pub(super) const CHUNK: usize = 64;

const ROW_COLUMNS: &str = "line, identity, idem_key, reference, phone, amount_minor, amount_text,
    currency, request_body, payee_name, payee_operator, payee_description, state, last_error, created_at,
    updated_at";

/// Parameters per planned row in a [`planned_sql`] statement.
const PLANNED_PARAMS: usize = 12;

/// Parameters per row in a [`row_sql`] statement.
const ROW_PARAMS: usize = 14;

/// `INSERT` of `rows` planned rows; `?1` is the timestamp every row of a plan shares.
pub(super) fn planned_sql(rows: usize) -> String {
    let mut sql = format!("INSERT OR FAIL INTO rows ({ROW_COLUMNS}) VALUES ");
    for i in 0..rows {
        sql.push_str(if i == 0 { "(" } else { ",(" });
        for c in 0..PLANNED_PARAMS {
            let _ = write!(sql, "?{},", 2 + i * PLANNED_PARAMS + c);
        }
        sql.push_str("'planned',NULL,?1,?1)");
    }
    sql
}

/// `INSERT` of one row of either kind, with its id bound (`?2`) if `with_id`.
pub(super) fn row_sql(with_id: bool) -> String {
    let (id_column, first) = if with_id { ("id, ", 3) } else { ("", 2) };
    let params: Vec<String> = (first..first + ROW_PARAMS)
        .map(|n| format!("?{n}"))
        .collect();
    format!(
        "INSERT OR FAIL INTO rows ({id_column}{ROW_COLUMNS}) VALUES ({}{},?1,?1)",
        if with_id { "?2," } else { "" },
        params.join(",")
    )
}

/// Insert `rows`, all planned, with `stmt` = [`planned_sql`] of `rows.len()`.
pub(super) fn insert_planned(
    stmt: &mut CachedStatement<'_>,
    now: i64,
    rows: &[PlanItem],
) -> Result<(), JournalError> {
    let planned = rows
        .iter()
        .map(|item| match item {
            PlanItem::Planned(r) => Ok(r),
            PlanItem::Rejected(_) => Err(JournalError::Corrupt(
                "a rejected row among planned ones".into(),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let numbers: Vec<(i64, i64, &str)> = planned
        .iter()
        .map(|r| (r.line as i64, r.amount_minor as i64, r.currency.code()))
        .collect();
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(1 + rows.len() * PLANNED_PARAMS);
    params.push(&now);
    for (r, (line, amount, currency)) in planned.iter().zip(&numbers) {
        params.extend([
            line as &dyn ToSql,
            &r.identity,
            &r.key,
            &r.reference,
            &r.phone,
            amount,
            &r.amount_text,
            currency,
            &r.body,
            &r.details.name,
            &r.details.operator,
            &r.details.description,
        ]);
    }
    stmt.execute(&params[..])?;
    Ok(())
}

/// Insert one row of either kind with `stmt` = [`row_sql`]`(id.is_some())`.
pub(super) fn insert_row(
    stmt: &mut CachedStatement<'_>,
    now: i64,
    id: Option<i64>,
    item: &PlanItem,
) -> Result<(), JournalError> {
    let mut params: Vec<&dyn ToSql> = vec![&now];
    if let Some(id) = &id {
        params.push(id);
    }
    let identity;
    let (line, amount_minor, currency);
    match item {
        PlanItem::Planned(r) => {
            (line, amount_minor, currency) = (
                r.line as i64,
                Some(r.amount_minor as i64),
                r.currency.code(),
            );
            params.extend([
                &line as &dyn ToSql,
                &r.identity,
                &r.key,
                &r.reference,
                &r.phone,
                &amount_minor,
                &r.amount_text,
                &currency,
                &r.body,
                &r.details.name,
                &r.details.operator,
                &r.details.description,
                &"planned",
                &None::<&str>,
            ]);
        }
        PlanItem::Rejected(r) => {
            identity = r.identity();
            line = r.line as i64;
            params.extend([
                &line as &dyn ToSql,
                &identity,
                &None::<&str>,
                if r.reference.is_empty() {
                    &None::<&str> as &dyn ToSql
                } else {
                    &r.reference
                },
                &r.phone,
                &None::<i64>,
                &r.amount,
                &r.currency,
                &None::<&[u8]>,
                &None::<&str>,
                &None::<&str>,
                &None::<&str>,
                &"rejected",
                &r.error,
            ]);
        }
    }
    stmt.execute(&params[..])?;
    Ok(())
}

/// The keys of a batch being planned, with their row ids, kept until its rows are all in.
/// payrun's keys are UUIDs in canonical text form, kept as 16 bytes (their text sorts like
/// their number); anything else is kept as text.
#[derive(Default)]
pub(super) struct Keys {
    uuids: Vec<(u128, i64)>,
    others: Vec<(String, i64)>,
}

impl Keys {
    pub fn push(&mut self, key: &str, row_id: i64) {
        match uuid::Uuid::try_parse(key) {
            Ok(u)
                if *u
                    .hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer())
                    == *key =>
            {
                self.uuids.push((u.as_u128(), row_id));
            }
            _ => self.others.push((key.to_string(), row_id)),
        }
    }

    /// Insert every key into `keys`, in key order.
    pub fn write(mut self, tx: &Transaction<'_>) -> Result<(), JournalError> {
        self.uuids.sort_unstable();
        self.others.sort_unstable();
        let mut many = tx.prepare_cached(&keys_sql(CHUNK))?;
        let mut one = tx.prepare_cached(&keys_sql(1))?;
        // One set of strings, rewritten for each chunk.
        let mut text: Vec<(String, i64)> = vec![(String::with_capacity(36), 0); CHUNK];
        let mut buf = uuid::Uuid::encode_buffer();
        for chunk in self.uuids.chunks(CHUNK) {
            for ((u, id), (key, row_id)) in chunk.iter().zip(text.iter_mut()) {
                key.clear();
                key.push_str(
                    uuid::Uuid::from_u128(*u)
                        .hyphenated()
                        .encode_lower(&mut buf),
                );
                *row_id = *id;
            }
            insert_keys(&mut many, &mut one, &text[..chunk.len()])?;
        }
        for chunk in self.others.chunks(CHUNK) {
            insert_keys(&mut many, &mut one, chunk)?;
        }
        Ok(())
    }
}

/// `INSERT` of `rows` (key, row id) pairs into `keys`.
fn keys_sql(rows: usize) -> String {
    let pairs: Vec<String> = (0..rows)
        .map(|i| format!("(?{},?{})", 2 * i + 1, 2 * i + 2))
        .collect();
    format!(
        "INSERT OR FAIL INTO keys (idem_key, row_id) VALUES {}",
        pairs.join(",")
    )
}

fn insert_keys(
    many: &mut CachedStatement<'_>,
    one: &mut CachedStatement<'_>,
    keys: &[(String, i64)],
) -> Result<(), JournalError> {
    if keys.len() == CHUNK {
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(2 * CHUNK);
        for (key, id) in keys {
            params.extend([key as &dyn ToSql, id]);
        }
        many.execute(&params[..])?;
    } else {
        for (key, id) in keys {
            one.execute(rusqlite::params![key, id])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_parameters() {
        assert!(planned_sql(2).ends_with(
            "(?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,'planned',NULL,?1,?1),\
             (?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,'planned',NULL,?1,?1)"
        ));
        assert!(row_sql(true).contains("(id, line,"));
        assert!(
            row_sql(true)
                .ends_with("VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?1,?1)")
        );
        assert!(
            row_sql(false)
                .ends_with("VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?1,?1)")
        );
        assert!(keys_sql(2).ends_with("VALUES (?1,?2),(?3,?4)"));
    }

    #[test]
    fn uuid_text_sorts_like_its_number() {
        let mut keys: Vec<uuid::Uuid> = (0..200u128)
            .map(|i| {
                uuid::Uuid::from_u128(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))
            })
            .collect();
        keys.sort();
        let text: Vec<String> = keys.iter().map(|k| k.hyphenated().to_string()).collect();
        let mut sorted = text.clone();
        sorted.sort();
        assert_eq!(text, sorted);
    }
}
