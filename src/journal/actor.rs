//! The journal on its own thread. Async code never blocks a runtime worker on SQLite: it sends
//! closures here. Writes that arrive while a commit is in progress are grouped into the next
//! transaction (group commit), so thousands of `sending` marks cost a handful of fsyncs while
//! each caller still waits until its own write is durable.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::{Journal, JournalError};

type CallFn = Box<dyn FnOnce(&mut Journal) + Send>;
/// Told the commit's fate (`None` = durable, `Some(failure)` = the commit failed).
type Completion = Box<dyn FnOnce(Option<&CommitFailed>) + Send>;

/// Why a group commit failed, for each writer in the group.
struct CommitFailed {
    message: String,
    /// The disk is full: the writers get [`JournalError::DiskFull`] naming the journal.
    disk_full: Option<std::path::PathBuf>,
}

impl CommitFailed {
    fn error(&self) -> JournalError {
        match &self.disk_full {
            Some(path) => JournalError::DiskFull { path: path.clone() },
            None => JournalError::Corrupt(format!("commit failed: {}", self.message)),
        }
    }
}
/// Runs inside the group transaction; says whether it succeeded and how to report back.
type WriteFn = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

enum Op {
    Call(CallFn),
    Write(WriteFn),
}

/// Most writes folded into one transaction.
const MAX_GROUP: usize = 2048;

/// Handle to the journal thread. Cheap to clone; the thread ends (and hands the [`Journal`]
/// back through [`JournalActor::spawn`]'s join handle) when every handle is dropped.
#[derive(Clone)]
pub struct JournalActor {
    tx: mpsc::Sender<Op>,
}

impl JournalActor {
    /// Move `journal` onto a dedicated thread.
    pub fn spawn(journal: Journal) -> std::io::Result<(JournalActor, JoinHandle<Journal>)> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("payrun-journal".into())
            .spawn(move || serve(journal, rx))?;
        Ok((JournalActor { tx }, thread))
    }

    /// Run `f` on the journal thread (outside any group transaction) and return its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Journal) -> R + Send + 'static,
    ) -> Result<R, JournalError> {
        let (done, wait) = oneshot::channel();
        let op = Op::Call(Box::new(move |journal| {
            let _ = done.send(f(journal));
        }));
        self.tx.send(op).map_err(|_| JournalError::Closed)?;
        wait.await.map_err(|_| JournalError::Closed)
    }

    /// Run `f` inside a group-committed transaction; returns its value once it is durable on
    /// disk. If `f` fails, its changes are rolled back and the others in the group still commit.
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, JournalError> + Send + 'static,
    ) -> Result<R, JournalError> {
        let (done, wait) = oneshot::channel::<Result<R, JournalError>>();
        let op: WriteFn = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit_error| {
                let outcome = match commit_error {
                    None => result,
                    Some(failed) => Err(failed.error()),
                };
                let _ = done.send(outcome);
            });
            (ok, completion)
        });
        self.tx
            .send(Op::Write(op))
            .map_err(|_| JournalError::Closed)?;
        wait.await.map_err(|_| JournalError::Closed)?
    }

    /// Queue a write without waiting for it (it commits with the next group). For records whose
    /// loss in a crash is harmless, such as the attempt log.
    pub fn write_later(
        &self,
        f: impl FnOnce(&Connection) -> Result<(), JournalError> + Send + 'static,
    ) {
        let op: WriteFn = Box::new(move |conn| match f(conn) {
            Ok(()) => (true, Box::new(|_| {})),
            Err(e) => {
                tracing::warn!("journal write failed: {e}");
                (false, Box::new(|_| {}))
            }
        });
        if self.tx.send(Op::Write(op)).is_err() {
            tracing::warn!("journal thread stopped; a log record was dropped");
        }
    }

    /// Wait until every write queued before this call is durable.
    pub async fn flush(&self) -> Result<(), JournalError> {
        self.write(|_| Ok(())).await
    }
}

fn serve(mut journal: Journal, rx: mpsc::Receiver<Op>) -> Journal {
    while let Ok(op) = rx.recv() {
        match op {
            Op::Call(f) => f(&mut journal),
            Op::Write(f) => {
                let mut group = vec![f];
                let mut deferred_call = None;
                while group.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(Op::Write(f)) => group.push(f),
                        Ok(Op::Call(f)) => {
                            deferred_call = Some(f);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let path = journal.path().to_path_buf();
                commit_group(journal.conn_mut(), &path, group);
                if let Some(f) = deferred_call {
                    f(&mut journal);
                }
            }
        }
    }
    journal
}

/// One transaction for the whole group; each write in its own savepoint so one failing write
/// does not undo the others. Completions run only after the commit.
fn commit_group(conn: &mut Connection, path: &std::path::Path, group: Vec<WriteFn>) {
    let mut completions = Vec::with_capacity(group.len());
    let committed = (|| -> Result<(), rusqlite::Error> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for f in group {
            let mut sp = tx.savepoint()?;
            let (ok, completion) = f(&sp);
            completions.push(completion);
            if ok {
                sp.commit()?;
            } else {
                sp.rollback()?;
            }
        }
        crate::crash::point("mid-group-commit");
        tx.commit()
    })();
    let error = committed.err().map(|e| CommitFailed {
        message: e.to_string(),
        disk_full: super::is_disk_full(&e).then(|| path.to_path_buf()),
    });
    if let Some(failed) = &error {
        tracing::error!("journal commit failed: {}", failed.message);
    }
    for completion in completions {
        completion(error.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_support::temp_journal;

    #[tokio::test]
    async fn writes_commit_and_failures_roll_back_alone() {
        let (_dir, journal) = temp_journal();
        let (actor, thread) = JournalActor::spawn(journal).unwrap();
        actor
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();
        let mut waits = Vec::new();
        for i in 0..50 {
            let actor = actor.clone();
            waits.push(tokio::spawn(async move {
                actor
                    .write(move |c| {
                        c.execute("INSERT INTO t VALUES (?1)", [i])?;
                        if i % 10 == 0 {
                            return Err(JournalError::Corrupt("boom".into()));
                        }
                        Ok(i)
                    })
                    .await
            }));
        }
        let mut ok = 0;
        for w in waits {
            if w.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 45);
        actor.write_later(|c| Ok(c.execute_batch("INSERT INTO t VALUES (1000)")?));
        actor.flush().await.unwrap();
        let n: i64 = actor
            .call(|j| {
                j.conn()
                    .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                    .unwrap()
            })
            .await
            .unwrap();
        assert_eq!(n, 46);
        drop(actor);
        let journal = thread.join().unwrap();
        assert_eq!(journal.integrity_check().unwrap(), "ok");
    }
}
