//! The SQLite journal (README, section "The journal"): every batch, every row's state, every
//! HTTP attempt. Durable before anything leaves: WAL, `synchronous=FULL`, writes in
//! `BEGIN IMMEDIATE`. The file is created with mode 0600 because it holds phone numbers.
//!
//! [`Journal`] is the synchronous connection; [`JournalActor`] runs it on a dedicated thread
//! for async callers and group-commits their writes.
//!
//! # One storage API
//!
//! All SQL text of the crate lives in this module, behind operations named for what they do
//! (`plan_new_batch`, `begin_replan`, `claim_for_sending`, `record_outcome`, …); nothing
//! outside `journal/` prepares a statement. The style follows one rule, the transaction:
//!
//! - an operation that owns its transaction, or reads outside one, is a method on
//!   [`Journal`] (`plan_new_batch`, `begin_replan` and its [`ReplanWriter`], `acquire_lock`,
//!   the reads behind `status` and `report`);
//! - an operation that must run inside a transaction someone else holds is a function over
//!   `&Connection` (`claim_for_sending`, `record_outcome`, `heartbeat`, the webhook lookups).
//!   The actor folds many callers' writes into one group commit and hands each closure the
//!   group's transaction, not a `Journal`: `actor.write(move |c| heartbeat(c, ..))`. A method
//!   on `Journal` could not take part in that transaction, and a write that opened its own
//!   would lose the group commit that makes thousands of `sending` marks cost a few fsyncs.
//!
//! Callers outside `journal/` reach the connection (`Journal::conn`) only to hand it to one
//! of those functions.

mod actor;
mod approvals;
mod batch;
mod bulk;
mod fingerprint;
mod full;
mod items;
mod lock;
mod lookup;
mod open_rows;
mod perms;
mod plan;
mod queries;
mod queue;
mod replan;
mod report;
mod retry;
mod rows;
mod runs;
mod schema;
mod sending;
mod span;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

pub use actor::JournalActor;
pub use approvals::Approval;
pub use batch::{Batch, BatchSettings, LastRun, NewBatch};
pub use fingerprint::Overlap;
pub use full::{disk_full_message, is_disk_full};
pub use items::{PayeeDetails, PlanItem, PlanStats, PlannedRow, RejectedInsert};
pub use lock::{
    Holder, LockInfo, LockToken, check as check_lock, heartbeat, heartbeat_every, stale_after_ms,
};
pub use lookup::{
    Delivery, RowKey, RowRef, delivery, record_delivery, row_by_id, rows_by, sending_rows_like,
};
pub use open_rows::{OperatorCount, REPEATS_KEPT, Repeat, Repeats};
pub use perms::Tightened;
pub use plan::PlanSink;
pub use queries::{AttentionRow, StateCount};
pub use replan::{ExistingRow, ReplanWriter};
pub use report::ReportRow;
pub use retry::{
    EarlierAttempt, FailedRow, NewAttempt, OtherRow, RetryScan, begin_attempts, earlier_attempts,
};
pub use rows::{
    Attempt, OpenRow, Outcome, UnsettledRow, advance, flag_attention, log_attempt, mark_sending,
    open_rows_page, record_outcome, unsettled_rows,
};
pub use runs::{Cancelled, HeldRow, run_ended, run_started};
pub use schema::SCHEMA_VERSION;
pub use sending::{Claimed, claim_for_sending, put_back};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create journal {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}; payrun keeps its journal private (0600) because it holds phone numbers")]
    NotPrivate(#[source] std::io::Error),
    #[error(
        "no journal at {0} (a journal is created by `payrun run`; pass --journal to use another)"
    )]
    Missing(PathBuf),
    #[error("the journal was written by a newer payrun (schema version {0}); upgrade payrun")]
    NewerSchema(i64),
    #[error("no batch {} in this journal (see `payrun status` for the list)", crate::domain::Quoted(.0))]
    BatchNotFound(String),
    #[error(
        "batch {batch} is being sent by another payrun (pid {pid} on {host}, last seen {age_s} s ago); wait for it to finish or stop it first"
    )]
    Locked {
        batch: String,
        pid: i64,
        host: String,
        age_s: i64,
    },
    #[error(
        "the journal is busy: another payrun is writing to it and did not finish in time; try again"
    )]
    Busy,
    #[error("this process no longer holds the lock on batch {0}; another payrun took it over")]
    LockLost(String),
    #[error("{}", disk_full_message(.path))]
    DiskFull { path: PathBuf },
    #[error("journal is corrupt: {0}")]
    Corrupt(String),
    #[error("the journal thread has stopped")]
    Closed,
}

impl JournalError {
    /// The disk (or the quota) holding the journal is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            JournalError::DiskFull { .. } => true,
            JournalError::Sqlite(e) => is_disk_full(e),
            _ => false,
        }
    }
}

/// A synchronous connection to the journal.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// Journal files found readable by others and narrowed to 0600 on opening.
    tightened: Vec<Tightened>,
}

impl Journal {
    /// Open the journal, creating it (mode 0600) and its schema if needed.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        create_private(path)?;
        Self::connect(path)
    }

    /// Open an existing journal; a missing file is an error rather than a new empty journal.
    pub fn open_existing(path: &Path) -> Result<Journal, JournalError> {
        if !path.exists() {
            return Err(JournalError::Missing(path.to_path_buf()));
        }
        Self::connect(path)
    }

    fn connect(path: &Path) -> Result<Journal, JournalError> {
        let mut tightened = perms::tighten(path).map_err(JournalError::NotPrivate)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // For a new journal only (an existing one keeps its own). 16 KiB pages: planning a
        // million rows writes a third of a gigabyte through the WAL and back, and larger pages
        // mean a quarter of the page writes, splits and checkpoint copies.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode = switch_to_wal(&conn)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Corrupt(format!(
                "could not switch to WAL mode (got {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Up to 64 MiB of page cache, for planning: a million-row batch is one transaction, and
        // what does not fit spills to the WAL before the commit.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        // The -wal and -shm files now exist; SQLite made them with the journal's mode.
        tightened.extend(perms::tighten(path).map_err(JournalError::NotPrivate)?);
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
            tightened,
        })
    }

    /// Journal files that other users could read and that this open narrowed to 0600.
    pub fn tightened(&self) -> &[Tightened] {
        &self.tightened
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// `PRAGMA integrity_check`: "ok" for a healthy file.
    pub fn integrity_check(&self) -> Result<String, JournalError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// Page size of a new journal.
const PAGE_SIZE: i64 = 16_384;

/// How long a statement waits for another process's lock on the journal.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// `PRAGMA journal_mode=WAL`, retried while another process holds the lock it needs. SQLite
/// answers SQLITE_BUSY here at once instead of calling the busy handler, so two payruns
/// creating the same new journal at the same moment would otherwise fail with "database is
/// locked". Once one has switched the file to WAL, the other's retry finds it done.
fn switch_to_wal(conn: &Connection) -> Result<String, rusqlite::Error> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Create the file with mode 0600 if it does not exist. SQLite gives its -wal and -shm files
/// the same permissions as the database file.
fn create_private(path: &Path) -> Result<(), JournalError> {
    use std::os::unix::fs::OpenOptionsExt;
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(JournalError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Milliseconds since the Unix epoch: the journal's timestamp unit.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Render a journal timestamp as RFC 3339 UTC (`2026-11-21T09:30:00.123Z`).
pub fn format_ms(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
