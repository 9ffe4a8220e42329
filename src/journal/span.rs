//! Which rows belong to which batch. A row's id is `seq * 2^32 + n`, where `seq` is its
//! batch's `batches.seq` and n counts the batch's rows from 1 in the order they were written.
//! A batch's rows are therefore one range of the table's key, and of any index on `id`: no
//! batch column or batch index has to be written per row, which is most of what planning a
//! million rows costs SQLite, and batch-scoped reads stay index-driven in a shared journal.

use rusqlite::{Connection, OptionalExtension};

use super::JournalError;

/// Rows a batch can hold: n runs from 1 to `SPAN - 1`.
pub(crate) const SPAN: i64 = 1 << 32;

/// SQL condition: row `r` belongs to batch `b`. Written with `b` as the outer table of a
/// `CROSS JOIN` (found by its id), SQLite reads the batch as one id range.
pub(crate) const IN_BATCH: &str =
    "r.id BETWEEN b.seq * 4294967296 AND b.seq * 4294967296 + 4294967295";

/// The id of row n of the batch with this seq, if n fits in the batch's range.
pub(crate) fn row_id(seq: i64, n: i64) -> Result<i64, JournalError> {
    if !(1..SPAN).contains(&n) || !(1..i64::MAX / SPAN).contains(&seq) {
        return Err(JournalError::Corrupt(format!(
            "batch {seq} cannot hold row number {n} (at most {} rows per batch)",
            SPAN - 1
        )));
    }
    Ok(seq * SPAN + n)
}

/// The id the next row appended to batch `batch_id` gets (`--allow-changed-file` adds rows to
/// an existing batch).
pub(crate) fn next_row_id(conn: &Connection, batch_id: &str) -> Result<i64, JournalError> {
    let found: Option<(i64, Option<i64>)> = conn
        .query_row(
            &format!(
                "SELECT b.seq, (SELECT MAX(r.id) FROM rows r WHERE {IN_BATCH})
                 FROM batches b WHERE b.id = ?1"
            ),
            [batch_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((seq, last)) = found else {
        return Err(JournalError::BatchNotFound(batch_id.to_string()));
    };
    let n = last.map_or(1, |id| id - seq * SPAN + 1);
    row_id(seq, n)
}

/// Record `key` as the idempotency key of row `row_id`; a key already taken is an error
/// (SQLite's constraint error), so no key is ever sent for two rows.
pub(crate) fn insert_key(conn: &Connection, key: &str, row_id: i64) -> Result<(), JournalError> {
    conn.prepare_cached("INSERT INTO keys (idem_key, row_id) VALUES (?1, ?2)")?
        .execute(rusqlite::params![key, row_id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_stay_inside_their_batch() {
        assert_eq!(row_id(1, 1).unwrap(), SPAN + 1);
        assert_eq!(row_id(3, SPAN - 1).unwrap(), 4 * SPAN - 1);
        for (seq, n) in [(3, SPAN), (3, 0), (0, 1)] {
            // SPAN would be row 0 of batch 4; row 0 and batch 0 do not exist.
            assert!(
                matches!(row_id(seq, n), Err(JournalError::Corrupt(m)) if m.contains("cannot hold row number")),
                "batch {seq} row {n}"
            );
        }
    }
}
