//! The SQLite journal (DESIGN §5): every batch, every row's state, every HTTP attempt.
//! Durable before anything leaves: WAL, `synchronous=FULL`, writes in `BEGIN IMMEDIATE`.
//! The file is created with mode 0600 because it holds phone numbers.
//!
//! [`Journal`] is the synchronous connection; [`JournalActor`] runs it on a dedicated thread
//! for async callers and group-commits their writes.

mod actor;
mod batch;
#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod behaviour_tests;
mod bulk;
mod fingerprint;
mod full;
mod lock;
mod lookup;
mod perms;
mod plan;
mod queries;
mod replan;
mod rows;
mod schema;
mod sending;
mod span;
mod state;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

pub use actor::JournalActor;
pub use batch::{Batch, BatchSettings, NewBatch};
pub use fingerprint::Overlap;
pub use full::{disk_full_message, is_disk_full};
pub use lock::{
    LockInfo, LockToken, check as check_lock, heartbeat, heartbeat_every, stale_after_ms,
};
pub use lookup::{
    Delivery, RowKey, RowRef, delivery, record_delivery, row_by_id, rows_by, sending_rows_like,
};
pub use perms::Tightened;
pub use plan::{PlanItem, PlanSink, PlanStats, PlannedRow, RejectedInsert};
pub use queries::{AttentionRow, ReportRow, StateCount};
pub use replan::{ExistingRow, ReplanWriter};
pub use rows::{
    Attempt, OpenRow, Outcome, UnsettledRow, advance, flag_attention, log_attempt, mark_sending,
    open_rows_page, record_outcome, unsettled_rows,
};
pub use schema::SCHEMA_VERSION;
pub use sending::{Claimed, claim_for_sending};
pub use state::RowState;

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
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_private_wal_journal_with_schema() {
        let (dir, journal) = test_support::temp_journal();
        let mode = std::fs::metadata(dir.path().join("payrun.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let version: i64 = journal
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let sync: i64 = journal
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let page: i64 = journal
            .conn()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(page, PAGE_SIZE);
        assert_eq!(journal.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn reopening_keeps_schema_and_refuses_newer() {
        let (dir, journal) = test_support::temp_journal();
        drop(journal);
        let path = dir.path().join("payrun.db");
        let journal = Journal::open_existing(&path).unwrap();
        journal
            .conn()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        drop(journal);
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::NewerSchema(99))
        ));
    }

    #[test]
    fn open_existing_refuses_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Journal::open_existing(&dir.path().join("nope.db"))
            .err()
            .unwrap();
        assert!(matches!(err, JournalError::Missing(_)));
        assert!(!dir.path().join("nope.db").exists());
    }

    #[test]
    fn two_openers_creating_one_journal_at_once_both_succeed() {
        use std::sync::{Arc, Barrier};
        for _ in 0..300 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("payrun.db");
            let barrier = Arc::new(Barrier::new(2));
            let openers: Vec<_> = (0..2)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Journal::open(&path).map(|j| j.integrity_check().unwrap())
                    })
                })
                .collect();
            for opener in openers {
                assert_eq!(opener.join().unwrap().unwrap(), "ok");
            }
        }
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
