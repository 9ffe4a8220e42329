//! Reading a journal file the way a test needs it: one row type and one reader for every
//! test — the crash-and-fault checker, the webhook tests, the pay tests — so all of them judge
//! the same columns. Read-write opens never create a file (an empty file made here would
//! change what payrun finds next) and wait out payrun's own locks.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row};

/// One row of the journal's `rows` table.
#[derive(Clone, Debug, Default)]
pub struct JournalRow {
    pub id: i64,
    /// Line in the file (the header is line 1).
    pub line: u64,
    pub identity: String,
    /// `None` for a keyless row (rejected, or a conflict).
    pub key: Option<String>,
    pub state: String,
    pub phone: String,
    /// `None` when the amount cell could not be read.
    pub amount_minor: Option<u64>,
    /// The amount in major units, as the request carries it.
    pub amount_text: String,
    pub currency: String,
    pub provider_id: Option<String>,
    pub internal_reference: Option<String>,
    pub request_id: Option<String>,
    /// The note for a person: an answer or callback contradicted the request.
    pub attention: Option<String>,
}

impl JournalRow {
    /// In doubt because the provider contradicted the request, and told to a person: payrun's
    /// final word on such a row (it is never counted as paid, and resuming cannot settle it
    /// while the provider keeps contradicting).
    pub fn needs_a_person(&self) -> bool {
        self.state == "in_doubt" && self.attention.is_some()
    }

    /// The idempotency key of a row that has one.
    pub fn key(&self) -> &str {
        self.key.as_deref().expect("a keyed row")
    }

    /// The amount in minor units of a row whose amount was read.
    pub fn minor(&self) -> u64 {
        self.amount_minor.expect("a row with an amount")
    }
}

const COLUMNS: &str = "id, line, identity, idem_key, state, phone, amount_minor, amount_text,
                       currency, provider_id, internal_reference, request_id, attention";

fn read_row(r: &Row<'_>) -> rusqlite::Result<JournalRow> {
    Ok(JournalRow {
        id: r.get(0)?,
        line: r.get::<_, i64>(1)?.try_into().unwrap_or(0),
        identity: r.get(2)?,
        key: r.get(3)?,
        state: r.get(4)?,
        phone: r.get(5)?,
        amount_minor: r.get::<_, Option<i64>>(6)?.and_then(|a| a.try_into().ok()),
        amount_text: r.get(7)?,
        currency: r.get(8)?,
        provider_id: r.get(9)?,
        internal_reference: r.get(10)?,
        request_id: r.get(11)?,
        attention: r.get(12)?,
    })
}

/// A connection to an existing journal (never creating one), waiting out payrun's locks.
pub fn open_journal(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// A read-only connection to a journal another connection writes.
pub fn peek(path: &Path) -> Connection {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the journal exists");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn
}

/// Every row of `batch` in the journal file at `path`, in id order.
pub fn journal_rows(path: &Path, batch: &str) -> rusqlite::Result<Vec<JournalRow>> {
    let conn = open_journal(path)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM rows WHERE batch = (SELECT seq FROM batches WHERE id = ?1)
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([batch], read_row)?;
    rows.collect()
}

/// Every row of every batch of the journal at `path`, in id order.
pub fn rows(path: &Path) -> Vec<JournalRow> {
    let conn = peek(path);
    let mut stmt = conn
        .prepare(&format!("SELECT {COLUMNS} FROM rows ORDER BY id"))
        .expect("the rows table");
    stmt.query_map([], read_row)
        .expect("rows")
        .map(|r| r.expect("a readable row"))
        .collect()
}

/// One HTTP attempt of a payout as the journal logged it (`events` of kind `send`).
#[derive(Clone, Debug)]
pub struct SendAttempt {
    /// When the request left: the answer's time less its latency (ms since the epoch).
    pub started_ms: i64,
    /// When the answer (or the error) came back.
    pub ended_ms: i64,
    pub outcome: String,
}

/// Every payout attempt in the journal at `path`, in the order the answers came back.
pub fn send_attempts(path: &Path) -> Vec<SendAttempt> {
    let conn = peek(path);
    let mut stmt = conn
        .prepare(
            "SELECT at - COALESCE(latency_ms, 0), at, outcome FROM events WHERE kind = 'send'
             ORDER BY at, id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(SendAttempt {
            started_ms: r.get(0)?,
            ended_ms: r.get(1)?,
            outcome: r.get(2)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
