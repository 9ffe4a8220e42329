//! Sending a planned batch: page through its open rows in plan order, dispatch each to a task
//! under a concurrency bound and a rate limit, keep the batch lock's heartbeat, and stop
//! cleanly (draining what is in flight) on Ctrl-C, an empty wallet, refused credentials or an
//! unreachable provider. Every row's fate is in the journal before this returns.

mod ahead;
pub(crate) mod backoff;
pub mod pacer;
mod progress;
mod row;
mod source;
pub mod stop;
pub mod tally;
#[cfg(test)]
mod tests;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

pub use pacer::Pacer;
pub use progress::Progress;
pub use stop::{Stop, StopReason};
pub use tally::{RunCounts, Tally};

use super::observer::SendStart;
use crate::journal::{JournalActor, JournalError, LockToken, heartbeat, heartbeat_every};
use crate::provider::Provider;
use row::Shared;
use source::OpenRows;

/// How to send.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// Payouts per second.
    pub rate: NonZeroU32,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Attempts per row per run for retryable errors (429s not counted).
    pub max_tries: u32,
    /// Consecutive transport failures (all workers) that pause the batch.
    pub unavailable_after: u32,
    /// How long Ctrl-C waits for in-flight requests.
    pub drain_timeout: Duration,
    /// Longest provider-asked pause (429 `Retry-After`) waited out within a run; a longer one
    /// stops the batch for a later resume.
    pub max_pause: Duration,
    /// Send only these open rows (by journal id): `retry` sends the rows it gave a new
    /// attempt and leaves the batch's other open rows to `resume`. `None`: every open row.
    pub only: Option<Arc<std::collections::HashSet<i64>>>,
}

/// Longest pause a provider may ask for (429 `Retry-After`) that payrun waits out within a run.
pub const MAX_PROVIDER_PAUSE: Duration = Duration::from_secs(15 * 60);

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            rate: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            concurrency: 4,
            max_tries: 8,
            unavailable_after: 25,
            drain_timeout: Duration::from_secs(35),
            max_pause: MAX_PROVIDER_PAUSE,
            only: None,
        }
    }
}

/// What a send pass did.
#[derive(Debug)]
pub struct SendReport {
    /// Rows handed to a worker (whether or not a request left for them: see
    /// [`Tally::counts`] for what happened to each).
    pub dispatched: u64,
    /// Rows still in flight when draining timed out (left `sending`, resolved on resume).
    pub abandoned: usize,
    pub stop: Option<StopReason>,
    pub elapsed: Duration,
    /// What happened to the open rows, by their recorded outcomes.
    pub counts: RunCounts,
}

/// Send every open row of `batch_id` (`open` of them). The caller holds the batch lock
/// (`token`) and owns the journal actor; `stop` may be thrown from outside (Ctrl-C).
#[allow(clippy::too_many_arguments)]
pub async fn send_batch<P: Provider>(
    provider: Arc<P>,
    journal: JournalActor,
    batch_id: &str,
    token: LockToken,
    opts: SendOptions,
    progress: Arc<Progress>,
    stop: Arc<Stop>,
    open: u64,
) -> Result<SendReport, JournalError> {
    let shared = Arc::new(Shared {
        provider,
        journal: journal.clone(),
        batch_id: Arc::from(batch_id),
        token: token.clone(),
        pacer: Pacer::new(opts.rate),
        stop: stop.clone(),
        progress: progress.clone(),
        consecutive_transport: AtomicU32::new(0),
        opts: opts.clone(),
    });
    let heartbeat_task =
        spawn_heartbeat(journal.clone(), batch_id.to_string(), token, stop.clone());
    progress.observer().sending(&SendStart {
        total: open,
        tally: progress.tally.clone(),
        stop: stop.clone(),
    });
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut rows = OpenRows::new(journal.clone(), batch_id, opts.only.clone());
    let dispatched = match ahead::rows_ahead(opts.concurrency, opts.rate.get()) {
        0 => one_at_a_time(&shared, &mut rows, &limit, &mut tasks).await?,
        ahead => ahead::send(&shared, &mut rows, &limit, &mut tasks, ahead).await?,
    };

    let abandoned = drain(&mut tasks, &stop, opts.drain_timeout).await;
    heartbeat_task.abort();
    let flushed = journal.flush().await;
    let reason = stop.reason();
    progress.observer().sent(reason.as_ref());
    flushed?;
    Ok(SendReport {
        dispatched,
        abandoned,
        stop: reason,
        elapsed: progress.elapsed(),
        counts: progress.tally.counts(open),
    })
}

/// Send every row of `rows`, each claimed only once a slot is free for it.
async fn one_at_a_time<P: Provider>(
    shared: &Arc<Shared<P>>,
    rows: &mut OpenRows,
    limit: &Arc<Semaphore>,
    tasks: &mut JoinSet<()>,
) -> Result<u64, JournalError> {
    let mut dispatched = 0u64;
    while !shared.stop.is_set() {
        let Some(row) = rows.next().await? else {
            break;
        };
        let Some(slot) = slot(shared, limit).await else {
            break;
        };
        tasks.spawn(row::dispatch(shared.clone(), row, slot));
        dispatched += 1;
        while tasks.try_join_next().is_some() {}
    }
    Ok(dispatched)
}

/// A free slot of the run's `--concurrency`, or `None` once the run is stopping.
async fn slot<P>(shared: &Shared<P>, limit: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    let slot = tokio::select! {
        slot = limit.clone().acquire_owned() => slot.ok(),
        _ = shared.stop.wait() => None,
    };
    slot.filter(|_| !shared.stop.is_set())
}

/// Let in-flight rows finish. After an interrupt, wait at most `timeout`; rows still in
/// flight then stay `sending` in the journal and are resolved by the next resume.
async fn drain(tasks: &mut JoinSet<()>, stop: &Stop, timeout: Duration) -> usize {
    let interrupted = matches!(stop.reason(), Some(StopReason::Interrupted));
    if !interrupted {
        while tasks.join_next().await.is_some() {}
        return 0;
    }
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(timeout, all).await.is_err() {
        let left = tasks.len();
        tasks.abort_all();
        return left;
    }
    0
}

/// Refresh the lock's heartbeat; a lost lock stops the run.
fn spawn_heartbeat(
    journal: JournalActor,
    batch_id: String,
    token: LockToken,
    stop: Arc<Stop>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(heartbeat_every());
        every.tick().await;
        loop {
            every.tick().await;
            let (batch, token) = (batch_id.clone(), token.clone());
            match journal.write(move |c| heartbeat(c, &batch, &token)).await {
                Ok(()) => {}
                Err(JournalError::LockLost(_)) => {
                    stop.trigger(StopReason::LockLost);
                    return;
                }
                Err(e) => tracing::warn!("could not refresh the batch lock: {e}"),
            }
        }
    })
}
