//! Claiming a row for sending: one statement marks it `sending` and returns the key and body
//! stored at that moment, so what leaves is exactly what the journal says (never a copy read
//! earlier, which an edited file may have replaced since).

use rusqlite::{Connection, OptionalExtension, params};

use super::{JournalError, now_ms};

/// The request a claimed row is sent with, as stored when it was marked `sending`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub key: String,
    pub body: Vec<u8>,
}

/// Mark a row `sending` (committed before its request leaves) and return its stored key and
/// body; `None` if the row is no longer open (e.g. a webhook settled it) and must not be sent.
pub fn claim_for_sending(conn: &Connection, row_id: i64) -> Result<Option<Claimed>, JournalError> {
    let found: Option<(Option<String>, Option<Vec<u8>>)> = conn
        .prepare_cached(
            "UPDATE rows SET state = 'sending', updated_at = ?2
             WHERE id = ?1 AND state IN ('planned','sending','in_doubt')
             RETURNING idem_key, request_body",
        )?
        .query_row(params![row_id, now_ms()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match found {
        None => Ok(None),
        Some((Some(key), Some(body))) => Ok(Some(Claimed { key, body })),
        Some(_) => Err(JournalError::Corrupt(format!(
            "open row {row_id} has no key or body"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_support::temp_journal;

    #[test]
    fn returns_what_is_stored_when_claimed_and_nothing_for_a_settled_row() {
        let (_dir, journal) = temp_journal();
        journal
            .conn()
            .execute_batch(
                "INSERT INTO batches (id, file_name, file_path, file_sha256, provider, sandbox,
                    base_url, settings, created_at, updated_at)
                 VALUES ('b', 'f', 'f', 'x', 'rohopay', 0, 'u', '{}', 0, 0);
                 INSERT INTO rows (id, line, identity, idem_key, phone, amount_minor, amount_text,
                    currency, request_body, state, created_at, updated_at)
                 VALUES (4294967297, 2, 'E1', 'k1', '256700123456', 5000, '5000', 'UGX', X'7B7D',
                    'planned', 0, 0),
                        (4294967298, 3, 'E2', 'k2', '256700123457', 6000, '6000', 'UGX', X'7B7D',
                    'succeeded', 0, 0);
                 UPDATE rows SET request_body = X'7B2261223A317D' WHERE id = 4294967297;",
            )
            .unwrap();
        let claimed = claim_for_sending(journal.conn(), 4_294_967_297)
            .unwrap()
            .unwrap();
        assert_eq!(claimed.key, "k1");
        assert_eq!(claimed.body, br#"{"a":1}"#);
        let state: String = journal
            .conn()
            .query_row("SELECT state FROM rows WHERE id = 4294967297", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(state, "sending");
        assert_eq!(
            claim_for_sending(journal.conn(), 4_294_967_298).unwrap(),
            None
        );
    }
}
