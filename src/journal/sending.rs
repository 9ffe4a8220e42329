//! Claiming a row for sending: in one transaction it is marked `sending` and the key and body
//! stored at that moment are read, so what leaves is exactly what the journal says (never a
//! copy read earlier, which an edited file may have replaced since).

use rusqlite::{Connection, params};

use super::rows::mark_sending;
use super::{JournalError, now_ms};
use crate::domain::RowState;

/// The request a claimed row is sent with, as stored when it was marked `sending`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub key: String,
    pub body: Vec<u8>,
}

/// Mark a row `sending` (committed before its request leaves) and return its stored key and
/// body; `None` if the row is no longer open (e.g. a webhook settled it) and must not be sent.
pub fn claim_for_sending(conn: &Connection, row_id: i64) -> Result<Option<Claimed>, JournalError> {
    // An UPDATE, then a read by rowid inside the same transaction: cheaper than `RETURNING`,
    // which SQLite runs through a temporary table.
    if !mark_sending(conn, row_id)? {
        return Ok(None);
    }
    let found: (Option<String>, Option<Vec<u8>>) = conn
        .prepare_cached("SELECT idem_key, request_body FROM rows WHERE id = ?1")?
        .query_row([row_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    match found {
        (Some(key), Some(body)) => Ok(Some(Claimed { key, body })),
        _ => Err(JournalError::Corrupt(format!(
            "open row {row_id} has no key or body"
        ))),
    }
}

/// Give back a row claimed ahead of its request when the run stops before sending it: it
/// returns to `state`, the state it was claimed from (`planned`, or `in_doubt`/`sending` from
/// an earlier run), as if never claimed. A row no longer `sending` is left alone.
pub fn put_back(conn: &Connection, row_id: i64, state: RowState) -> Result<(), JournalError> {
    conn.prepare_cached(
        "UPDATE rows SET state = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'sending'",
    )?
    .execute(params![row_id, state.as_str(), now_ms()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKind;
    use crate::journal::test_support::{
        force_state, id_of_key, new_batch, plan, planned, state_of, temp_journal,
    };
    use crate::journal::{PlanItem, PlannedRow};

    #[test]
    fn returns_what_is_stored_when_claimed_and_nothing_for_a_settled_row() {
        let (_dir, mut journal) = temp_journal();
        let rows = [
            PlanItem::Planned(PlannedRow {
                body: br#"{"a":1}"#.to_vec(),
                ..planned(2, "E1", "k1")
            }),
            PlanItem::Planned(planned(3, "E2", "k2")),
        ];
        plan(&mut journal, &new_batch("b", ProviderKind::Rohopay), &rows).unwrap();
        let (k1, k2) = (id_of_key(&journal, "k1"), id_of_key(&journal, "k2"));
        force_state(&journal, k2, RowState::Succeeded);
        let claimed = claim_for_sending(journal.conn(), k1).unwrap().unwrap();
        assert_eq!(claimed.key, "k1");
        assert_eq!(claimed.body, br#"{"a":1}"#);
        assert_eq!(state_of(&journal, k1), RowState::Sending);
        assert_eq!(claim_for_sending(journal.conn(), k2).unwrap(), None);
        put_back(journal.conn(), k1, RowState::Planned).unwrap();
        assert_eq!(state_of(&journal, k1), RowState::Planned);
        put_back(journal.conn(), k2, RowState::Planned).unwrap();
        assert_eq!(
            state_of(&journal, k2),
            RowState::Succeeded,
            "only a sending row"
        );
    }
}
