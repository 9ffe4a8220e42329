//! Tests of the journal as a whole, on real SQLite files: opening and creating it here;
//! batches sharing one journal in `batches`; planning, the lock and forward-only state in
//! `behaviour`.

mod batches;
mod behaviour;

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
