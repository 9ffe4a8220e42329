//! The one set of journal fixtures for unit tests: a journal in a temp dir, batches and
//! planned rows built the way the planner writes them, rows put in a state the way sending
//! or a webhook leaves them, and the batch's rows read back whole. Tests tweak a fixture with
//! struct-update syntax rather than writing their own SQL or builders.

use super::*;
use crate::domain::{Currency, ProviderKind, RowState};

/// The phone every fixture row pays unless a test says otherwise.
pub const PHONE: &str = "256700123456";
/// The amount (UGX, minor units = major units) every fixture row pays unless told otherwise.
pub const AMOUNT: u64 = 25_000;

/// A journal in a fresh temp dir; keep the dir alive as long as the journal.
pub fn temp_journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("payrun.db")).unwrap();
    (dir, journal)
}

/// [`temp_journal`] without fsync (`synchronous=OFF`), for tests of planning that write many
/// rows and are not about durability.
pub fn temp_journal_unsynced() -> (tempfile::TempDir, Journal) {
    let (dir, journal) = temp_journal();
    journal
        .conn()
        .pragma_update(None, "synchronous", "OFF")
        .unwrap();
    (dir, journal)
}

/// A sandbox batch `id` for `provider`, with a file hash of its own.
pub fn new_batch(id: &str, provider: ProviderKind) -> NewBatch {
    let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    NewBatch {
        id: id.to_string(),
        file_name: format!("{id}.csv"),
        file_path: format!("/tmp/{id}.csv"),
        file_sha256: format!("{hex:0>64}"),
        provider,
        sandbox: true,
        base_url: "http://127.0.0.1:1".into(),
        settings: BatchSettings::default(),
    }
}

/// A planned row on `line` with `identity` and `key`: [`PHONE`], [`AMOUNT`] UGX, body `{}`,
/// no reference (a derived identity).
pub fn planned(line: u64, identity: &str, key: &str) -> PlannedRow {
    PlannedRow {
        line,
        identity: identity.to_string(),
        key: key.to_string(),
        reference: None,
        phone: PHONE.into(),
        amount_minor: AMOUNT,
        amount_text: AMOUNT.to_string(),
        currency: Currency::UGX,
        body: b"{}".to_vec(),
        details: PayeeDetails::default(),
    }
}

/// An invalid row on `line`, as the planner records one.
pub fn rejected(line: u64) -> RejectedInsert {
    RejectedInsert {
        line,
        reference: String::new(),
        phone: "2.567E+11".into(),
        amount: "abc".into(),
        currency: "UGX".into(),
        error: "phone: mangled".into(),
    }
}

/// Plan `batch` with `items`, handed over in two writes as the planner hands over chunks.
pub fn plan(
    journal: &mut Journal,
    batch: &NewBatch,
    items: &[PlanItem],
) -> Result<PlanStats, JournalError> {
    journal
        .plan_new_batch(batch, |sink| {
            let (a, b) = items.split_at(items.len() / 2);
            sink.write(a);
            sink.write(b);
            Ok::<(), String>(())
        })
        .map(|r| r.unwrap().0)
}

/// Plan a sandbox batch `id` of `provider` whose rows have `keys` (identity `id-<key>`), on
/// lines 2 onwards, each [`planned`] otherwise.
pub fn plan_keys(journal: &mut Journal, id: &str, provider: ProviderKind, keys: &[&str]) {
    let items: Vec<PlanItem> = keys
        .iter()
        .zip(2..)
        .map(|(key, line)| PlanItem::Planned(planned(line, &format!("id-{key}"), key)))
        .collect();
    plan(journal, &new_batch(id, provider), &items).unwrap();
}

/// The id of the row with idempotency key `key`.
pub fn id_of_key(journal: &Journal, key: &str) -> i64 {
    journal
        .conn()
        .query_row("SELECT id FROM rows WHERE idem_key = ?1", [key], |r| {
            r.get(0)
        })
        .unwrap()
}

/// The id of the row with `identity` (unique in a journal of one batch).
pub fn id_of_identity(journal: &Journal, identity: &str) -> i64 {
    journal
        .conn()
        .query_row("SELECT id FROM rows WHERE identity = ?1", [identity], |r| {
            r.get(0)
        })
        .unwrap()
}

/// The state of row `id`.
pub fn state_of(journal: &Journal, id: i64) -> RowState {
    let s: String = journal
        .conn()
        .query_row("SELECT state FROM rows WHERE id = ?1", [id], |r| r.get(0))
        .unwrap();
    RowState::parse(&s).unwrap()
}

/// Put row `id` in `state` by hand, with no provider facts: for states a test needs without
/// going through sending (settled rows for counts, `sending` for lookups).
pub fn force_state(journal: &Journal, id: i64, state: RowState) {
    journal
        .conn()
        .execute(
            "UPDATE rows SET state = ?2 WHERE id = ?1",
            rusqlite::params![id, state.as_str()],
        )
        .unwrap();
}

/// Send row `id` as `batch::send` does: claimed (`sending`, committed first), then, unless
/// `outcome` is `Sending` (the process died with the request in flight), its outcome recorded.
/// Returns false if the row was not open and nothing was sent.
pub fn send(journal: &Journal, id: i64, outcome: RowState) -> bool {
    if claim_for_sending(journal.conn(), id).unwrap().is_none() {
        return false;
    }
    if outcome != RowState::Sending {
        let recorded = Outcome {
            state: Some(outcome),
            ..Outcome::default()
        };
        record_outcome(journal.conn(), id, 1, &recorded).unwrap();
    }
    true
}

/// A row of a batch as stored, every column a test of planning looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRow {
    pub id: i64,
    pub line: u64,
    pub identity: String,
    pub reference: Option<String>,
    pub key: Option<String>,
    pub body: Option<Vec<u8>>,
    pub phone: String,
    pub amount_minor: Option<u64>,
    pub currency: String,
    pub state: RowState,
    pub conflict: Option<String>,
    pub last_error: Option<String>,
}

/// Every row of `batch_id`, in id order.
pub fn stored_rows(journal: &Journal, batch_id: &str) -> Vec<StoredRow> {
    let mut stmt = journal
        .conn()
        .prepare(&format!(
            "SELECT r.id, r.line, r.identity, r.reference, r.idem_key, r.request_body, r.phone,
                    r.amount_minor, r.currency, r.state, r.conflict, r.last_error
             FROM batches b CROSS JOIN rows r WHERE b.id = ?1 AND {}
             ORDER BY r.id",
            span::IN_BATCH
        ))
        .unwrap();
    stmt.query_map([batch_id], |r| {
        let state: String = r.get(9)?;
        Ok(StoredRow {
            id: r.get(0)?,
            line: rows::to_u64(r.get(1)?),
            identity: r.get(2)?,
            reference: r.get(3)?,
            key: r.get(4)?,
            body: r.get(5)?,
            phone: r.get(6)?,
            amount_minor: r.get::<_, Option<i64>>(7)?.map(rows::to_u64),
            currency: r.get(8)?,
            state: RowState::parse(&state).unwrap(),
            conflict: r.get(10)?,
            last_error: r.get(11)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// What a test reads back about one row: its state and the facts webhooks and answers leave.
#[derive(Clone, Debug)]
pub struct RowSeen {
    pub state: RowState,
    pub routed_provider: Option<String>,
    pub unconfirmed: bool,
    pub last_error: Option<String>,
    pub attention: Option<String>,
}

/// Row `id` as it stands.
pub fn row_seen(journal: &Journal, id: i64) -> RowSeen {
    journal
        .conn()
        .query_row(
            "SELECT state, routed_provider, unconfirmed, last_error, attention
             FROM rows WHERE id = ?1",
            [id],
            |r| {
                let state: String = r.get(0)?;
                Ok(RowSeen {
                    state: RowState::parse(&state).unwrap(),
                    routed_provider: r.get(1)?,
                    unconfirmed: r.get(2)?,
                    last_error: r.get(3)?,
                    attention: r.get(4)?,
                })
            },
        )
        .unwrap()
}

/// Put row `id` in `state` with exactly these provider ids (a `None` clears one) and
/// `unconfirmed` flag: a row as an answer or an earlier run left it.
pub fn set_facts(
    journal: &Journal,
    id: i64,
    state: RowState,
    provider_id: Option<&str>,
    request_id: Option<&str>,
    unconfirmed: bool,
) {
    journal
        .conn()
        .execute(
            "UPDATE rows SET state = ?2, provider_id = ?3, request_id = ?4, unconfirmed = ?5
             WHERE id = ?1",
            rusqlite::params![id, state.as_str(), provider_id, request_id, unconfirmed],
        )
        .unwrap();
}

/// The outcomes of the event log, oldest first, of events of `kind` (every kind if `None`).
pub fn event_outcomes(journal: &Journal, kind: Option<&str>) -> Vec<String> {
    let mut stmt = journal
        .conn()
        .prepare("SELECT outcome FROM events WHERE ?1 IS NULL OR kind = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([kind], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every webhook delivery remembered: its outcome and the row it was applied to, if any.
pub fn deliveries(journal: &Journal) -> Vec<(String, Option<i64>)> {
    let mut stmt = journal
        .conn()
        .prepare("SELECT outcome, row_id FROM webhook_deliveries ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Whether `err` is SQLite refusing a write for a constraint (a unique index, say).
pub fn is_constraint(err: &JournalError) -> bool {
    matches!(
        err,
        JournalError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

/// A report row with every field set, for tests of what is written from one.
pub fn report_row() -> ReportRow {
    ReportRow {
        line: 7,
        reference: Some("ref-7".into()),
        phone: "256700123456".into(),
        amount: "2500.50".into(),
        currency: "KES".into(),
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
        name: Some("Amina Nakato".into()),
        operator: None,
        description: Some("=HYPERLINK(\"x\")".into()),
        amount_minor: Some(250_050),
        conflict: None,
        created_ms: 1_795_253_400_000,
        updated_ms: 1_795_253_400_000,
    }
}
