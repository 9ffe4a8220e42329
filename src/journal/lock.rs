//! The batch lock: one process drives a batch at a time. The owner's pid, host and a heartbeat
//! live in the batch row; a lock whose process is gone (same host) or whose heartbeat is older
//! than [`stale_after_ms`] (30 s unless `PAYRUN_LOCK_STALE_MS` says otherwise) is taken over
//! with a message.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Journal, JournalError, now_ms};

/// A heartbeat older than this marks the lock stale even if the pid looks alive.
pub const STALE_AFTER_MS: i64 = 30_000;
/// How often the owner refreshes its heartbeat.
pub const HEARTBEAT_EVERY_MS: u64 = 5_000;
/// Shortest stale limit `PAYRUN_LOCK_STALE_MS` may set: a heartbeat is refreshed every sixth
/// of the limit, and a busy journal must not make a live owner look frozen.
const MIN_STALE_AFTER_MS: i64 = 1_000;

/// The heartbeat age after which a lock is stale: `PAYRUN_LOCK_STALE_MS` (at least 1 s), else
/// [`STALE_AFTER_MS`]. Every process sharing a journal must use the same value.
pub fn stale_after_ms() -> i64 {
    static STALE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *STALE.get_or_init(|| {
        std::env::var("PAYRUN_LOCK_STALE_MS")
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map_or(STALE_AFTER_MS, |ms| ms.max(MIN_STALE_AFTER_MS))
    })
}

/// How often the owner refreshes its heartbeat: every 5 s, or a sixth of a shorter stale limit.
pub fn heartbeat_every() -> std::time::Duration {
    let ms = u64::try_from(stale_after_ms() / 6).unwrap_or(HEARTBEAT_EVERY_MS);
    std::time::Duration::from_millis(ms.min(HEARTBEAT_EVERY_MS))
}

/// Proof of holding a batch's lock; every journal write of a running batch checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockToken(pub(crate) String);

/// Who held a lock that was taken over, for the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockInfo {
    pub pid: i64,
    pub host: String,
    pub age_ms: i64,
}

/// SQLite could not get its write lock within the busy timeout.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Lock columns of a batch row: token, pid, process start time, host, heartbeat.
type LockColumns = (
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// A process's state letter and start time (clock ticks since boot) from `/proc/<pid>/stat`.
fn proc_stat(pid: i64) -> Option<(char, i64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// This process's start time, recorded with the lock so a reused pid is not mistaken for it.
fn own_start_time() -> Option<i64> {
    proc_stat(i64::from(std::process::id())).map(|(_, start)| start)
}

/// Whether the lock owner (a pid on this host, started at `started`) is still running. A zombie
/// (killed but not yet reaped) is dead; so is a pid now used by a process started later.
fn owner_alive(pid: i64, started: Option<i64>) -> bool {
    if let Some((state, start)) = proc_stat(pid) {
        return state != 'Z' && state != 'X' && started.is_none_or(|s| s == start);
    }
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
        Ok(()) => !std::path::Path::new("/proc/self/stat").exists(),
        Err(nix::errno::Errno::ESRCH) => false,
        Err(_) => true,
    }
}

/// Who holds a batch's lock now, as `status` tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: i64,
    pub host: String,
    /// Age of its heartbeat.
    pub age_ms: i64,
    /// Alive and heartbeating: `run`/`resume` would be refused. A lock whose owner is gone
    /// (killed, crashed) or stale would be taken over.
    pub live: bool,
}

impl Journal {
    /// Who holds the batch's lock, if anyone (read without taking it).
    pub fn lock_holder(&self, batch_id: &str) -> Result<Option<Holder>, JournalError> {
        let held: Option<LockColumns> = self
            .conn()
            .query_row(
                "SELECT lock_token, lock_pid, lock_started, lock_host, lock_heartbeat FROM batches
                 WHERE id = ?1",
                [batch_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((Some(_), pid, started, host, heartbeat)) = held else {
            return Ok(None);
        };
        let (pid, host) = (pid.unwrap_or(0), host.unwrap_or_default());
        let age_ms = now_ms() - heartbeat.unwrap_or(0);
        let dead = host == hostname() && !owner_alive(pid, started);
        Ok(Some(Holder {
            pid,
            host,
            age_ms,
            live: !dead && age_ms < stale_after_ms(),
        }))
    }

    /// Take the batch's lock. Returns the token and, when a stale lock was taken over, who
    /// held it. If another process holds SQLite's write lock for longer than the busy timeout
    /// (it is frozen mid-commit, say), the answer is [`JournalError::Locked`] naming the batch's
    /// owner rather than a raw "database is locked": WAL readers are never blocked.
    pub fn acquire_lock(
        &mut self,
        batch_id: &str,
    ) -> Result<(LockToken, Option<LockInfo>), JournalError> {
        match self.try_acquire_lock(batch_id) {
            Err(JournalError::Sqlite(e)) if is_busy(&e) => Err(self.busy_holder(batch_id)),
            other => other,
        }
    }

    /// Who holds the batch, read without the write lock.
    fn busy_holder(&self, batch_id: &str) -> JournalError {
        let holder: rusqlite::Result<(Option<i64>, Option<String>, Option<i64>)> =
            self.conn().query_row(
                "SELECT lock_pid, lock_host, lock_heartbeat FROM batches WHERE id = ?1",
                [batch_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            );
        match holder {
            Ok((Some(pid), host, heartbeat)) => JournalError::Locked {
                batch: batch_id.to_string(),
                pid,
                host: host.unwrap_or_default(),
                age_s: (now_ms() - heartbeat.unwrap_or(0)) / 1000,
            },
            _ => JournalError::Busy,
        }
    }

    fn try_acquire_lock(
        &mut self,
        batch_id: &str,
    ) -> Result<(LockToken, Option<LockInfo>), JournalError> {
        let host = hostname();
        let pid = i64::from(std::process::id());
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<LockColumns> = tx
            .query_row(
                "SELECT lock_token, lock_pid, lock_started, lock_host, lock_heartbeat FROM batches
                 WHERE id = ?1",
                [batch_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((token, held_pid, held_started, held_host, heartbeat)) = current else {
            return Err(JournalError::BatchNotFound(batch_id.to_string()));
        };
        let now = now_ms();
        let mut taken_over = None;
        if token.is_some() {
            let held_pid = held_pid.unwrap_or(0);
            let held_host = held_host.unwrap_or_default();
            let age_ms = now - heartbeat.unwrap_or(0);
            let dead = held_host == host && !owner_alive(held_pid, held_started);
            if !dead && age_ms < stale_after_ms() {
                return Err(JournalError::Locked {
                    batch: batch_id.to_string(),
                    pid: held_pid,
                    host: held_host,
                    age_s: age_ms / 1000,
                });
            }
            taken_over = Some(LockInfo {
                pid: held_pid,
                host: held_host,
                age_ms,
            });
        }
        let new_token = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "UPDATE batches SET lock_token = ?2, lock_pid = ?3, lock_started = ?4, lock_host = ?5,
                                lock_heartbeat = ?6
             WHERE id = ?1",
            params![batch_id, new_token, pid, own_start_time(), host, now],
        )?;
        tx.commit()?;
        Ok((LockToken(new_token), taken_over))
    }

    /// Give the lock back (no-op if it was taken over meanwhile).
    pub fn release_lock(&self, batch_id: &str, token: &LockToken) -> Result<(), JournalError> {
        self.conn().execute(
            "UPDATE batches SET lock_token = NULL, lock_pid = NULL, lock_started = NULL,
                                lock_host = NULL, lock_heartbeat = NULL, updated_at = ?3
             WHERE id = ?1 AND lock_token = ?2",
            params![batch_id, token.0, now_ms()],
        )?;
        Ok(())
    }
}

/// Refresh the heartbeat (inside a write transaction); fails if the lock was taken over.
pub fn heartbeat(
    tx: &rusqlite::Connection,
    batch_id: &str,
    token: &LockToken,
) -> Result<(), JournalError> {
    let changed = tx.execute(
        "UPDATE batches SET lock_heartbeat = ?3, updated_at = ?3 WHERE id = ?1 AND lock_token = ?2",
        params![batch_id, token.0, now_ms()],
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(JournalError::LockLost(batch_id.to_string()))
    }
}

/// Fails unless `token` still holds the batch's lock (checked in the same transaction as a write).
pub fn check(
    tx: &rusqlite::Connection,
    batch_id: &str,
    token: &LockToken,
) -> Result<(), JournalError> {
    let held: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM batches WHERE id = ?1 AND lock_token = ?2")?
        .query_row(params![batch_id, token.0], |r| r.get(0))
        .optional()?;
    held.map(|_| ())
        .ok_or_else(|| JournalError::LockLost(batch_id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_held_busy_by_another_process_names_the_batch_owner() {
        use crate::journal::test_support::{new_batch, plan, temp_journal};
        let (dir, mut owner) = temp_journal();
        plan(
            &mut owner,
            &new_batch("b1", crate::domain::ProviderKind::Rohopay),
            &[],
        )
        .unwrap();
        owner.acquire_lock("b1").unwrap();
        // The owner freezes while holding SQLite's write lock.
        owner.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut other = crate::journal::Journal::open(&dir.path().join("payrun.db")).unwrap();
        other
            .conn()
            .busy_timeout(std::time::Duration::from_millis(50))
            .unwrap();
        match other.acquire_lock("b1") {
            Err(JournalError::Locked { pid, .. }) => assert_eq!(pid, i64::from(std::process::id())),
            other => panic!("expected Locked naming the owner, got {other:?}"),
        }
        owner.conn().execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn reads_own_process_and_spots_zombies_and_reuse() {
        let me = i64::from(std::process::id());
        let (state, start) = proc_stat(me).expect("/proc is readable");
        assert_ne!(state, 'Z');
        assert!(owner_alive(me, Some(start)));
        assert!(
            !owner_alive(me, Some(start + 1)),
            "same pid, other start time = pid reuse"
        );
        assert!(!owner_alive(2_147_483_646, None));

        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        // Wait until the child has exited without reaping it (WNOWAIT): from then on it is a
        // zombie until `child.wait()` below, whatever the machine's speed.
        nix::sys::wait::waitid(
            nix::sys::wait::Id::Pid(nix::unistd::Pid::from_raw(child.id() as i32)),
            nix::sys::wait::WaitPidFlag::WEXITED | nix::sys::wait::WaitPidFlag::WNOWAIT,
        )
        .unwrap();
        assert!(
            !owner_alive(pid, None),
            "an exited, unreaped child is a zombie, not an owner"
        );
        child.wait().unwrap();
    }
}
