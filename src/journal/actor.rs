//! The journal on its own thread. Async code never blocks a runtime worker on SQLite: it sends
//! closures here. Writes that arrive while a commit is in progress are grouped into the next
//! transaction (group commit), so thousands of `sending` marks cost a handful of fsyncs while
//! each caller still waits until its own write is durable. A write nobody awaits (a row's
//! outcome) does not wake the thread: it commits with the next awaited one (see [`super::queue`]).

use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::queue::Queue;
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
/// How a write inside the group transaction ended.
enum Ended {
    Ok,
    /// Failed having changed nothing, or inside its own savepoint (rolled back): the others in
    /// the group still commit.
    FailedAlone,
    /// Failed, without a savepoint, after it may have changed something: the whole group is
    /// rolled back and every writer in it told this.
    FailedGroup {
        message: String,
        disk_full: bool,
    },
}

/// Runs inside the group transaction (given the connection) and says how it ended and how to
/// report back; given none, it is not run (its group already failed) and only reports back.
type WriteFn = Box<dyn FnOnce(Option<&Connection>) -> (Ended, Completion) + Send>;

enum Op {
    Call(CallFn),
    /// A write in its own savepoint.
    Write(WriteFn),
    /// A write without a savepoint (no statement journal): see [`JournalActor::write_whole`].
    Whole(WriteFn),
}

/// Most writes folded into one transaction.
const MAX_GROUP: usize = 2048;

/// Handle to the journal thread. Cheap to clone; the thread ends (and hands the [`Journal`]
/// back through [`JournalActor::spawn`]'s join handle) when every handle is dropped.
pub struct JournalActor {
    queue: Arc<Queue<Op>>,
}

impl Clone for JournalActor {
    fn clone(&self) -> Self {
        self.queue.add_handle();
        JournalActor {
            queue: self.queue.clone(),
        }
    }
}

impl Drop for JournalActor {
    fn drop(&mut self) {
        self.queue.drop_handle();
    }
}

impl JournalActor {
    /// Move `journal` onto a dedicated thread.
    pub fn spawn(journal: Journal) -> std::io::Result<(JournalActor, JoinHandle<Journal>)> {
        let queue = Arc::new(Queue::new(MAX_GROUP));
        let served = queue.clone();
        let thread = std::thread::Builder::new()
            .name("payrun-journal".into())
            .spawn(move || serve(journal, &served))?;
        Ok((JournalActor { queue }, thread))
    }

    /// Queue `op`; `awaited` wakes the journal thread for it now.
    fn send(&self, op: Op, awaited: bool) -> Result<(), JournalError> {
        if self.queue.push(op, awaited) {
            Ok(())
        } else {
            Err(JournalError::Closed)
        }
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
        self.send(op, true)?;
        wait.await.map_err(|_| JournalError::Closed)
    }

    /// Run `f` inside a group-committed transaction; returns its value once it is durable on
    /// disk. If `f` fails, its changes are rolled back and the others in the group still commit.
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, JournalError> + Send + 'static,
    ) -> Result<R, JournalError> {
        let (op, wait) = write_op(f, |_| Ended::FailedAlone);
        self.send(Op::Write(op), true)?;
        wait.await.map_err(|_| JournalError::Closed)?
    }

    /// Like [`JournalActor::write`], without a savepoint of its own: for the hot writes of
    /// sending, whose statements each change one row. `f` must fail with
    /// [`JournalError::LockLost`] only before it changed anything; any other failure rolls
    /// back the whole group, and every writer in it is told the commit failed.
    ///
    /// The write is queued when this is called, not when the future is first polled: writes
    /// queued one after the other commit in that order (in one group or in successive ones).
    pub fn write_whole<R, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<R, JournalError>> + use<R, F>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, JournalError> + Send + 'static,
    {
        let (op, wait) = write_op(f, whole_ended);
        let queued = self.send(Op::Whole(op), true);
        async move {
            queued?;
            wait.await.map_err(|_| JournalError::Closed)?
        }
    }

    /// Like [`JournalActor::write_whole`], for a write nobody awaits: it is queued without
    /// waking the journal thread and commits with the next awaited write (or after
    /// [`super::queue::LINGER`]). `then` runs on the journal thread with the result once the
    /// commit is durable or failed. For writes whose loss in a crash is harmless, such as a
    /// row's outcome (the row stays `sending`, and resume resends the same key and body).
    pub fn write_whole_then<R, F, T>(&self, f: F, then: T)
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, JournalError> + Send + 'static,
        T: FnOnce(Result<R, JournalError>) + Send + 'static,
    {
        if self
            .send(Op::Whole(write_fn(f, whole_ended, then)), false)
            .is_err()
        {
            tracing::warn!("journal thread stopped; a row's outcome was not recorded");
        }
    }

    /// Queue a write without waiting for it (it commits with the next group). For records whose
    /// loss in a crash is harmless, such as the attempt log.
    pub fn write_later(
        &self,
        f: impl FnOnce(&Connection) -> Result<(), JournalError> + Send + 'static,
    ) {
        let op: WriteFn = Box::new(move |conn| match conn.map(f) {
            Some(Ok(())) => (Ended::Ok, Box::new(|_| {})),
            Some(Err(e)) => {
                tracing::warn!("journal write failed: {e}");
                (Ended::FailedAlone, Box::new(|_| {}))
            }
            None => (Ended::FailedAlone, Box::new(|_| {})),
        });
        if self.send(Op::Write(op), false).is_err() {
            tracing::warn!("journal thread stopped; a log record was dropped");
        }
    }

    /// Wait until every write queued before this call is durable.
    pub async fn flush(&self) -> Result<(), JournalError> {
        self.write(|_| Ok(())).await
    }
}

/// How a failure of a write without a savepoint ends: a lost lock is found before any change;
/// anything else may have changed something.
fn whole_ended(e: &JournalError) -> Ended {
    match e {
        JournalError::LockLost(_) => Ended::FailedAlone,
        _ => Ended::FailedGroup {
            message: e.to_string(),
            disk_full: e.is_disk_full(),
        },
    }
}

/// The op for a write of `f` whose result is awaited; `ended` says how a failure of `f` ends it.
fn write_op<R: Send + 'static>(
    f: impl FnOnce(&Connection) -> Result<R, JournalError> + Send + 'static,
    ended: fn(&JournalError) -> Ended,
) -> (WriteFn, oneshot::Receiver<Result<R, JournalError>>) {
    let (done, wait) = oneshot::channel::<Result<R, JournalError>>();
    let op = write_fn(f, ended, move |result| {
        let _ = done.send(result);
    });
    (op, wait)
}

/// The op for a write of `f`: `ended` says how a failure of `f` ends it, and `deliver` gets
/// its result once the group's commit is durable or failed (or, if the group failed before `f`
/// ran, the commit's failure).
fn write_fn<R: Send + 'static>(
    f: impl FnOnce(&Connection) -> Result<R, JournalError> + Send + 'static,
    ended: fn(&JournalError) -> Ended,
    deliver: impl FnOnce(Result<R, JournalError>) + Send + 'static,
) -> WriteFn {
    Box::new(move |conn| {
        let Some(conn) = conn else {
            let completion: Completion = Box::new(move |commit_error| {
                deliver(Err(
                    commit_error.map_or(JournalError::Closed, CommitFailed::error)
                ));
            });
            return (Ended::FailedAlone, completion);
        };
        let result = f(conn);
        let end = match &result {
            Ok(_) => Ended::Ok,
            Err(e) => ended(e),
        };
        let completion: Completion = Box::new(move |commit_error| {
            deliver(match commit_error {
                None => result,
                Some(failed) => Err(failed.error()),
            });
        });
        (end, completion)
    })
}

/// Why a group was not committed.
enum GroupFailed {
    Sqlite(rusqlite::Error),
    /// A write without a savepoint failed part-way.
    Write {
        message: String,
        disk_full: bool,
    },
}

impl From<rusqlite::Error> for GroupFailed {
    fn from(e: rusqlite::Error) -> Self {
        GroupFailed::Sqlite(e)
    }
}

/// A write waiting for the group transaction: in a savepoint of its own, or not.
struct Queued {
    f: WriteFn,
    savepoint: bool,
}

/// The journal thread: take what is queued, in order; consecutive writes commit as one group
/// (at most [`MAX_GROUP`]), and a call runs between groups.
fn serve(mut journal: Journal, queue: &Queue<Op>) -> Journal {
    /// Closes the queue however this thread ends (a panic included), so no caller waits on a
    /// write that will never run.
    struct CloseOnExit<'a>(&'a Queue<Op>);
    impl Drop for CloseOnExit<'_> {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    let _close = CloseOnExit(queue);
    let path = journal.path().to_path_buf();
    while let Some(ops) = queue.take() {
        let mut group = Vec::new();
        for op in ops {
            match Queued::of(op) {
                Ok(write) => {
                    group.push(write);
                    if group.len() >= MAX_GROUP {
                        commit_group(journal.conn_mut(), &path, std::mem::take(&mut group));
                    }
                }
                Err(call) => {
                    if !group.is_empty() {
                        commit_group(journal.conn_mut(), &path, std::mem::take(&mut group));
                    }
                    call(&mut journal);
                }
            }
        }
        if !group.is_empty() {
            commit_group(journal.conn_mut(), &path, group);
        }
    }
    journal
}

impl Queued {
    /// The write `op` is, or the call it is.
    fn of(op: Op) -> Result<Queued, CallFn> {
        match op {
            Op::Call(f) => Err(f),
            Op::Write(f) => Ok(Queued { f, savepoint: true }),
            Op::Whole(f) => Ok(Queued {
                f,
                savepoint: false,
            }),
        }
    }
}

/// One transaction for the whole group. A write queued with [`JournalActor::write`] runs in
/// its own savepoint, so its failure does not undo the others; one queued with
/// [`JournalActor::write_whole`] runs without (no statement journal), and a failure that may
/// have changed something fails the group. Completions run only after the commit.
fn commit_group(conn: &mut Connection, path: &std::path::Path, group: Vec<Queued>) {
    let mut completions = Vec::with_capacity(group.len());
    let mut queued = group.into_iter();
    let committed = (|| -> Result<(), GroupFailed> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for Queued { f, savepoint } in queued.by_ref() {
            if !savepoint {
                let (end, completion) = f(Some(&tx));
                completions.push(completion);
                if let Ended::FailedGroup { message, disk_full } = end {
                    return Err(GroupFailed::Write { message, disk_full });
                }
                continue;
            }
            let mut sp = tx.savepoint()?;
            let (end, completion) = f(Some(&sp));
            completions.push(completion);
            if matches!(end, Ended::Ok) {
                sp.commit()?;
            } else {
                sp.rollback()?;
            }
        }
        crate::crash::point("mid-group-commit");
        Ok(tx.commit()?)
    })();
    // Writes the failure left unrun are told too, not dropped.
    completions.extend(queued.map(|q| (q.f)(None).1));
    let error = committed.err().map(|e| match e {
        GroupFailed::Sqlite(e) => CommitFailed {
            message: e.to_string(),
            disk_full: super::is_disk_full(&e).then(|| path.to_path_buf()),
        },
        GroupFailed::Write { message, disk_full } => CommitFailed {
            message,
            disk_full: disk_full.then(|| path.to_path_buf()),
        },
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

    /// Hold the journal thread until `release` is sent, so the writes queued meanwhile form
    /// one group.
    fn hold(actor: &JournalActor) -> std::sync::mpsc::Sender<()> {
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let call: CallFn = Box::new(move |_| {
            started_tx.send(()).unwrap();
            let _ = wait.recv();
        });
        actor.send(Op::Call(call), true).unwrap();
        started.recv().unwrap();
        release
    }

    fn count(c: &Connection) -> Result<i64, JournalError> {
        Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)
    }

    #[tokio::test]
    async fn a_whole_write_failing_part_way_fails_its_group_and_a_lost_lock_fails_alone() {
        let (_dir, journal) = temp_journal();
        let (actor, _thread) = JournalActor::spawn(journal).unwrap();
        actor
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();

        // A lost lock (found before any change): the others of the group commit.
        let release = hold(&actor);
        let a = actor.write_whole(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?));
        let lost = actor.write_whole(|_| Err::<usize, _>(JournalError::LockLost("b".into())));
        let c = actor.write_whole(|c| Ok(c.execute("INSERT INTO t VALUES (3)", [])?));
        release.send(()).unwrap();
        assert_eq!(a.await.unwrap(), 1);
        assert!(matches!(lost.await, Err(JournalError::LockLost(_))));
        assert_eq!(c.await.unwrap(), 1);
        assert_eq!(actor.write_whole(count).await.unwrap(), 2);

        // A failure after a change: nothing of the group is kept, and every writer is told,
        // including those queued after it, which never ran.
        let release = hold(&actor);
        let a = actor.write_whole(|c| Ok(c.execute("INSERT INTO t VALUES (4)", [])?));
        let broken = actor.write_whole(|c| {
            c.execute("INSERT INTO t VALUES (5)", [])?;
            Err::<usize, _>(JournalError::Corrupt("part-way".into()))
        });
        let after = actor.write_whole(|c| Ok(c.execute("INSERT INTO t VALUES (6)", [])?));
        release.send(()).unwrap();
        for result in [a.await, broken.await, after.await] {
            match result {
                Err(JournalError::Corrupt(m)) => assert!(m.contains("part-way"), "{m}"),
                other => panic!("the group failed: {other:?}"),
            }
        }
        assert_eq!(actor.write_whole(count).await.unwrap(), 2);
    }

    /// A panic on the journal thread (here in a completion: completions now run the caller's
    /// code there) must fail the writes queued after it, as a closed journal does (it did with
    /// the channel this queue replaced), not leave them waiting forever.
    #[tokio::test]
    async fn a_panic_on_the_journal_thread_fails_later_writes_instead_of_hanging() {
        let (_dir, journal) = temp_journal();
        let (actor, thread) = JournalActor::spawn(journal).unwrap();
        actor.write_whole_then(
            |_| Ok(()),
            |_: Result<(), JournalError>| panic!("a completion panicked"),
        );
        let wait = std::time::Duration::from_secs(5);
        let first = tokio::time::timeout(wait, actor.write(|_| Ok(()))).await;
        assert!(
            matches!(first, Ok(Err(JournalError::Closed))),
            "the write grouped with the panic: {first:?}"
        );
        let second = tokio::time::timeout(wait, actor.write(|_| Ok(()))).await;
        assert!(
            matches!(second, Ok(Err(JournalError::Closed))),
            "a write after the journal thread died: {second:?} (Err(Elapsed) = hangs)"
        );
        assert!(thread.join().is_err(), "the journal thread panicked");
    }

    #[tokio::test]
    async fn a_write_nobody_awaits_commits_with_the_next_awaited_one_and_then_reports() {
        let (_dir, journal) = temp_journal();
        let (actor, _thread) = JournalActor::spawn(journal).unwrap();
        actor
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();
        let (told, reports) = std::sync::mpsc::channel();
        let release = hold(&actor);
        {
            let told = told.clone();
            actor.write_whole_then(
                |c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?),
                move |r| told.send(r.map_err(|e| e.to_string())).unwrap(),
            );
        }
        let lost = told.clone();
        actor.write_whole_then(
            |_| Err::<usize, _>(JournalError::LockLost("b".into())),
            move |r| lost.send(r.map_err(|e| e.to_string())).unwrap(),
        );
        assert!(reports.try_recv().is_err(), "not run before its commit");
        release.send(()).unwrap();
        // The awaited write after them commits them in the same group, in order.
        assert_eq!(actor.write_whole(count).await.unwrap(), 1);
        assert_eq!(reports.try_recv().unwrap(), Ok(1));
        assert!(reports.try_recv().unwrap().unwrap_err().contains("lock"));

        // Alone, it still commits, once it has waited the linger.
        let started = std::time::Instant::now();
        actor.write_whole_then(
            |c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?),
            move |r| told.send(r.map_err(|e| e.to_string())).unwrap(),
        );
        let report = tokio::task::spawn_blocking(move || reports.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(report, Ok(1));
        assert!(started.elapsed() >= super::super::queue::LINGER);
        assert_eq!(actor.write_whole(count).await.unwrap(), 2);
    }

    /// A journal thread that dies (a bug) fails the writes waiting on it and every later one;
    /// none waits forever.
    #[tokio::test]
    async fn a_dead_journal_thread_closes_its_writes_instead_of_hanging() {
        let (_dir, journal) = temp_journal();
        let (actor, thread) = JournalActor::spawn(journal).unwrap();
        let release = hold(&actor);
        let queued = actor.write_whole(|_| Ok(()));
        let (then_tx, then_rx) = std::sync::mpsc::channel();
        actor.write_whole_then(|_| Ok(()), move |r| then_tx.send(r.is_err()).unwrap());
        actor
            .send(
                Op::Call(Box::new(|_| panic!("a bug on the journal thread"))),
                true,
            )
            .unwrap();
        let behind = actor.write_whole(|_| Ok(()));
        release.send(()).unwrap();
        let within = std::time::Duration::from_secs(5);
        // The two writes before the bug committed; the one behind it never runs.
        assert!(tokio::time::timeout(within, queued).await.unwrap().is_ok());
        assert_eq!(then_rx.recv_timeout(within), Ok(false));
        let behind = tokio::time::timeout(within, behind).await.unwrap();
        assert!(matches!(behind, Err(JournalError::Closed)), "{behind:?}");
        let later = tokio::time::timeout(within, actor.write(|_| Ok(()))).await;
        assert!(matches!(later, Ok(Err(JournalError::Closed))), "{later:?}");
        assert!(thread.join().is_err(), "the thread panicked");
    }

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
