//! The send state machine driven for real: [`row::dispatch`](super::row) sends a planned row
//! of a real SQLite journal through a scripted provider, with paused tokio time so backoff and
//! `Retry-After` pauses cost nothing, and the test reads back what the journal says.

mod fake;
mod machine;
mod money;
mod pause;

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use super::row::{self, Shared};
use super::{Pacer, Progress, SendOptions, Stop};
use crate::domain::ProviderKind;
use crate::domain::RowState;
use crate::journal::test_support::{self, new_batch, plan, planned, temp_journal};
use crate::journal::{
    JournalActor, LockToken, OpenRow, Outcome, PlanItem, PlannedRow, mark_sending, open_rows_page,
    record_outcome,
};
use fake::{Reply, Scripted};

fn idle_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

/// What the journal says about a row after it was sent.
#[derive(Clone, Debug)]
pub struct Final {
    pub state: RowState,
    pub error: Option<String>,
    pub attention: Option<String>,
    /// The replies the sender consumed.
    pub used: Vec<Reply>,
    /// Whether the run was stopped (empty wallet, refused credentials).
    pub stopped: bool,
    /// Why, if it was.
    pub reason: Option<super::StopReason>,
    /// What the run's figures say about this row.
    pub counts: super::RunCounts,
}

const CHUNK: usize = 2048;

/// One journal, rows planned in chunks (one batch each), handed out one per case.
pub struct Bench {
    _dir: tempfile::TempDir,
    /// One runtime with paused time for every case: backoff and pauses advance it instantly.
    runtime: Option<tokio::runtime::Runtime>,
    journal: JournalActor,
    rows: VecDeque<(OpenRow, Arc<str>, LockToken)>,
    chunks: u32,
}

impl Bench {
    pub fn new() -> Bench {
        let (dir, journal) = temp_journal();
        // What is under test is the state machine, not fsync: no disk flush per commit.
        journal
            .conn()
            .pragma_update(None, "synchronous", "OFF")
            .unwrap();
        let (journal, _thread) = JournalActor::spawn(journal).unwrap();
        let runtime = Some(idle_runtime());
        Bench {
            _dir: dir,
            runtime,
            journal,
            rows: VecDeque::new(),
            chunks: 0,
        }
    }

    async fn plan_chunk(&mut self) {
        self.chunks += 1;
        let id = format!("machine-{}", self.chunks);
        let batch = id.clone();
        let token = self
            .journal
            .call(move |j| {
                let rows: Vec<PlanItem> = (0..CHUNK)
                    .map(|i| {
                        PlanItem::Planned(PlannedRow {
                            body: fake::body(),
                            ..planned(
                                i as u64 + 2,
                                &format!("id-{i}"),
                                &format!("{batch}-key-{i}"),
                            )
                        })
                    })
                    .collect();
                plan(j, &new_batch(&batch, ProviderKind::Rohopay), &rows).unwrap();
                j.acquire_lock(&batch).unwrap().0
            })
            .await
            .unwrap();
        let batch = id.clone();
        let rows = self
            .journal
            .call(move |j| open_rows_page(j.conn(), &batch, 0, CHUNK).unwrap())
            .await
            .unwrap();
        let id: Arc<str> = Arc::from(id.as_str());
        self.rows
            .extend(rows.into_iter().map(|r| (r, id.clone(), token.clone())));
    }

    /// Send one fresh row, starting `planned` or (a resume) `in_doubt`, through `script`.
    pub fn send(&mut self, start: RowState, script: &[Reply], max_tries: u32) -> Final {
        let runtime = self.runtime.take().unwrap();
        let end = runtime.block_on(self.send_async(start, script, max_tries));
        self.runtime = Some(runtime);
        end
    }

    async fn send_async(&mut self, start: RowState, script: &[Reply], max_tries: u32) -> Final {
        if self.rows.is_empty() {
            self.plan_chunk().await;
        }
        let (mut row, batch_id, token) = self.rows.pop_front().unwrap();
        let id = row.id;
        if start == RowState::InDoubt {
            let earlier = Outcome {
                state: Some(RowState::InDoubt),
                error: Some("no answer (earlier run)".into()),
                ..Outcome::default()
            };
            self.journal
                .write(move |c| {
                    mark_sending(c, id)?;
                    record_outcome(c, id, 1, &earlier)
                })
                .await
                .unwrap();
            row.state = RowState::InDoubt;
        }
        let provider = Arc::new(Scripted::new(script));
        let stop = Arc::new(Stop::default());
        let opts = SendOptions {
            rate: NonZeroU32::new(1_000_000).unwrap(),
            concurrency: 1,
            max_tries,
            unavailable_after: u32::MAX,
            drain_timeout: Duration::from_secs(1),
            max_pause: super::MAX_PROVIDER_PAUSE,
            only: None,
        };
        let progress = Arc::new(Progress::quiet());
        let shared = Arc::new(Shared {
            provider: provider.clone(),
            journal: self.journal.clone(),
            batch_id,
            token,
            pacer: Pacer::new(opts.rate),
            stop: stop.clone(),
            progress: progress.clone(),
            consecutive_transport: AtomicU32::new(0),
            opts,
        });
        let slot = Arc::new(tokio::sync::Semaphore::new(1))
            .acquire_owned()
            .await
            .unwrap();
        row::dispatch(shared, row, slot).await;
        // The journal thread serves in order: the read below sees every write queued above.
        let seen = self
            .journal
            .call(move |j| test_support::row_seen(j, id))
            .await
            .unwrap();
        Final {
            state: seen.state,
            error: seen.last_error,
            attention: seen.attention,
            used: provider.used(),
            stopped: stop.is_set(),
            reason: stop.reason(),
            counts: progress.tally.counts(1),
        }
    }
}
