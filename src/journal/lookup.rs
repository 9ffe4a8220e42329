//! Finding the row a provider's webhook is about, and the table of webhook deliveries already
//! handled. A callback names a payout by the provider's id or by the idempotency key payrun
//! sent; these queries turn either into a row of a batch sent through that provider. All take
//! a bare [`Connection`] so they run inside the group transaction of
//! [`JournalActor::write`](super::JournalActor::write), next to the state change they decide.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::JournalError;
use super::schema::open_states;
use crate::domain::ProviderKind;
use crate::domain::RowState;

/// What a webhook needs to know about a row: where it is, where it stands, what it pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRef {
    pub id: i64,
    pub batch_id: String,
    pub line: u64,
    pub state: RowState,
    /// Accepted on a "duplicate reference" answer, not confirmed by the provider yet.
    pub unconfirmed: bool,
    /// International digits.
    pub phone: String,
    /// `None` only for rejected rows, which were never sent.
    pub amount_minor: Option<u64>,
    pub currency: String,
    /// The idempotency key payrun sent (Rumbapay's `reference`); `None` for rejected rows.
    pub key: Option<String>,
}

/// How a callback names its payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKey<'a> {
    /// RohoPay `data.id` / Rumbapay `identifier`, journaled from the payout's answer.
    ProviderId(&'a str),
    /// RohoPay `data.internal_reference`.
    InternalReference(&'a str),
    /// The idempotency key payrun sent (Rumbapay's `reference`).
    IdemKey(&'a str),
    /// Rumbapay `request_id`.
    RequestId(&'a str),
}

/// A webhook delivery already handled, by SHA-256 of its raw body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Lower-case hex SHA-256 of the raw body.
    pub digest: String,
    pub provider: ProviderKind,
    pub row_id: Option<i64>,
    pub received_at: i64,
    /// What was done: `succeeded`, `ignored: already succeeded`, `mismatch`, `unknown`...
    pub outcome: String,
}

const ROW_COLUMNS: &str = "r.id, b.id, r.line, r.state, r.unconfirmed, r.phone,
    r.amount_minor, r.currency, r.idem_key";

fn row_ref(r: &Row<'_>) -> rusqlite::Result<(RowRef, String)> {
    let state: String = r.get(3)?;
    Ok((
        RowRef {
            id: r.get(0)?,
            batch_id: r.get(1)?,
            line: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            state: RowState::Planned,
            unconfirmed: r.get(4)?,
            phone: r.get(5)?,
            amount_minor: r
                .get::<_, Option<i64>>(6)?
                .and_then(|a| u64::try_from(a).ok()),
            currency: r.get(7)?,
            key: r.get(8)?,
        },
        state,
    ))
}

fn with_state((mut row, state): (RowRef, String)) -> Result<RowRef, JournalError> {
    row.state = RowState::parse(&state).ok_or_else(|| {
        JournalError::Corrupt(format!("row {} has unknown state {state:?}", row.id))
    })?;
    Ok(row)
}

/// The rows of batches sent through `provider` that `key` names: normally none or one; two
/// means the name is ambiguous (the list stops at two) and no row may be picked.
pub fn rows_by(
    conn: &Connection,
    provider: ProviderKind,
    key: RowKey<'_>,
) -> Result<Vec<RowRef>, JournalError> {
    // Keys are found through their own table, the others through their partial indexes.
    let (from, column, value) = match key {
        RowKey::ProviderId(v) => ("rows r", "r.provider_id", v),
        RowKey::InternalReference(v) => ("rows r", "r.internal_reference", v),
        RowKey::IdemKey(v) => (
            "keys k CROSS JOIN rows r ON r.id = k.row_id",
            "k.idem_key",
            v,
        ),
        RowKey::RequestId(v) => ("rows r", "r.request_id", v),
    };
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM {from} JOIN batches b ON b.seq = r.batch
         WHERE {column} = ?1 AND b.provider = ?2 ORDER BY r.id LIMIT 2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let found = stmt
        .query_map(params![value, provider.name()], row_ref)?
        .collect::<Result<Vec<_>, _>>()?;
    found.into_iter().map(with_state).collect()
}

/// The row with this id.
pub fn row_by_id(conn: &Connection, row_id: i64) -> Result<Option<RowRef>, JournalError> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM rows r JOIN batches b ON b.seq = r.batch WHERE r.id = ?1"
    );
    conn.prepare_cached(&sql)?
        .query_row([row_id], row_ref)
        .optional()?
        .map(with_state)
        .transpose()
}

/// How many rows sent through `provider` are `sending` right now (their answer, and with it
/// the provider's id, not journaled yet) with this phone, amount and currency. A callback
/// that outruns the answer to its own request can only be one of these.
pub fn sending_rows_like(
    conn: &Connection,
    provider: ProviderKind,
    phone: &str,
    amount_minor: u64,
    currency: &str,
) -> Result<u64, JournalError> {
    // The repeated open-states condition lets SQLite use the partial index of open rows.
    let n: i64 = conn
        .prepare_cached(concat!(
            "SELECT COUNT(*) FROM rows r JOIN batches b ON b.seq = r.batch WHERE ",
            open_states!(),
            " AND r.state = 'sending'
               AND r.provider_id IS NULL AND r.phone = ?1 AND r.amount_minor = ?2
               AND r.currency = ?3 AND b.provider = ?4",
        ))?
        .query_row(
            params![
                phone,
                i64::try_from(amount_minor).unwrap_or(i64::MAX),
                currency,
                provider.name()
            ],
            |r| r.get(0),
        )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The delivery with this body digest, if it was handled before.
pub fn delivery(conn: &Connection, digest: &str) -> Result<Option<Delivery>, JournalError> {
    let found = conn
        .prepare_cached(
            "SELECT digest, provider, row_id, received_at, outcome
             FROM webhook_deliveries WHERE digest = ?1",
        )?
        .query_row([digest], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    let Some((digest, provider, row_id, received_at, outcome)) = found else {
        return Ok(None);
    };
    let provider = ProviderKind::parse(&provider).ok_or_else(|| {
        JournalError::Corrupt(format!(
            "webhook delivery {digest} has unknown provider {provider:?}"
        ))
    })?;
    Ok(Some(Delivery {
        digest,
        provider,
        row_id,
        received_at,
        outcome,
    }))
}

/// Record a handled delivery; a delivery recorded before (e.g. as `unknown`) is overwritten.
pub fn record_delivery(conn: &Connection, d: &Delivery) -> Result<(), JournalError> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (digest, provider, row_id, received_at, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (digest) DO UPDATE SET provider = excluded.provider,
            row_id = excluded.row_id, received_at = excluded.received_at,
            outcome = excluded.outcome",
    )?
    .execute(params![
        d.digest,
        d.provider.name(),
        d.row_id,
        d.received_at,
        d.outcome
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PayoutRefs;
    use crate::journal::test_support::{id_of_key as id_of, plan_keys as plan, temp_journal};
    use crate::journal::{Outcome, record_outcome};

    #[test]
    fn finds_rows_by_each_name_within_the_provider() {
        let (_dir, mut journal) = temp_journal();
        plan(&mut journal, "roho", ProviderKind::Rohopay, &["k1", "k2"]);
        plan(&mut journal, "rumba", ProviderKind::Rumbapay, &["k3"]);
        let k1 = id_of(&journal, "k1");
        let conn = journal.conn();
        conn.execute("UPDATE rows SET state = 'sending' WHERE id = ?1", [k1])
            .unwrap();
        let outcome = Outcome {
            state: Some(RowState::Accepted),
            refs: PayoutRefs {
                provider_id: Some("P1".into()),
                internal_reference: Some("RHP-1".into()),
                request_id: Some("R1".into()),
                ..PayoutRefs::default()
            },
            ..Outcome::default()
        };
        record_outcome(conn, k1, 1, &outcome).unwrap();

        for key in [
            RowKey::ProviderId("P1"),
            RowKey::InternalReference("RHP-1"),
            RowKey::IdemKey("k1"),
            RowKey::RequestId("R1"),
        ] {
            let found = rows_by(conn, ProviderKind::Rohopay, key).unwrap();
            assert_eq!(found.len(), 1, "{key:?}");
            let row = &found[0];
            assert_eq!((row.id, row.line, row.state), (k1, 2, RowState::Accepted));
            assert_eq!(row.batch_id, "roho");
            assert_eq!(row.amount_minor, Some(25_000));
            assert_eq!(row.key.as_deref(), Some("k1"));
            assert_eq!(
                (row.phone.as_str(), row.currency.as_str()),
                ("256700123456", "UGX")
            );
            assert!(
                rows_by(conn, ProviderKind::Rumbapay, key)
                    .unwrap()
                    .is_empty(),
                "{key:?} belongs to a RohoPay batch"
            );
        }
        assert!(
            rows_by(conn, ProviderKind::Rohopay, RowKey::ProviderId("nope"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            rows_by(conn, ProviderKind::Rumbapay, RowKey::IdemKey("k3")).unwrap()[0].state,
            RowState::Planned
        );
        assert_eq!(row_by_id(conn, k1).unwrap().unwrap().id, k1);
        assert_eq!(row_by_id(conn, 9999).unwrap(), None);
    }

    #[test]
    fn an_ambiguous_name_returns_both_rows() {
        let (_dir, mut journal) = temp_journal();
        plan(
            &mut journal,
            "roho",
            ProviderKind::Rohopay,
            &["k1", "k2", "k3"],
        );
        journal
            .conn()
            .execute_batch("UPDATE rows SET provider_id = 'SAME'")
            .unwrap();
        let found = rows_by(
            journal.conn(),
            ProviderKind::Rohopay,
            RowKey::ProviderId("SAME"),
        );
        assert_eq!(found.unwrap().len(), 2);
    }

    #[test]
    fn counts_rows_still_waiting_for_their_answer() {
        let (_dir, mut journal) = temp_journal();
        plan(&mut journal, "roho", ProviderKind::Rohopay, &["k1", "k2"]);
        let conn = journal.conn();
        let like = |c: &Connection| {
            sending_rows_like(c, ProviderKind::Rohopay, "256700123456", 25_000, "UGX").unwrap()
        };
        assert_eq!(like(conn), 0, "planned rows were never sent");
        conn.execute_batch("UPDATE rows SET state = 'sending'")
            .unwrap();
        assert_eq!(like(conn), 2);
        assert_eq!(
            sending_rows_like(conn, ProviderKind::Rohopay, "256700123456", 25_001, "UGX").unwrap(),
            0
        );
        assert_eq!(
            sending_rows_like(conn, ProviderKind::Rumbapay, "256700123456", 25_000, "UGX").unwrap(),
            0
        );
        conn.execute_batch("UPDATE rows SET provider_id = 'P' WHERE idem_key = 'k1'")
            .unwrap();
        assert_eq!(
            like(conn),
            1,
            "a row with its answer journaled is findable by id"
        );
    }

    #[test]
    fn deliveries_round_trip_and_are_overwritten() {
        let (_dir, journal) = temp_journal();
        let conn = journal.conn();
        assert_eq!(delivery(conn, "abc").unwrap(), None);
        let mut d = Delivery {
            digest: "abc".into(),
            provider: ProviderKind::Rumbapay,
            row_id: None,
            received_at: 5,
            outcome: "unknown".into(),
        };
        record_delivery(conn, &d).unwrap();
        assert_eq!(delivery(conn, "abc").unwrap().as_ref(), Some(&d));
        d.row_id = Some(7);
        d.outcome = "succeeded".into();
        record_delivery(conn, &d).unwrap();
        assert_eq!(delivery(conn, "abc").unwrap(), Some(d));
    }
}
