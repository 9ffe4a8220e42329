//! Paying a planned batch, the part shared by `run` and `resume`: take the batch lock, check the
//! batch goes where it was planned to go, read the balance (the pre-flight), ask for
//! confirmation, send every open row, settle a sandbox batch at once, and report where the batch
//! stands. The caller decides what the result means to a person (and to an exit code).

use std::sync::Arc;

use anyhow::Context;

use super::endpoint::Endpoint;
use super::observer::Observer;
use super::open::Prepared;
use super::preflight::Preflight;
use super::reconcile;
use super::retry::{self, RetryRequest};
use super::send::{self, Progress, SendOptions, SendReport, Stop, StopReason};
use crate::domain::RunEnd;
use crate::exit::Refused;
use crate::journal::{
    Batch, Journal, JournalActor, JournalError, LockInfo, LockToken, NewAttempt, StateCount,
    begin_attempts, format_ms, run_ended, run_started,
};
use crate::provider::{self, Provider};

/// Asked once, after the pre-flight, whether to send `open` payouts.
pub trait Confirm {
    fn confirm(&self, open: u64) -> impl Future<Output = anyhow::Result<bool>>;
}

/// Sends without asking (`--yes`).
pub struct Yes;

impl Confirm for Yes {
    async fn confirm(&self, _open: u64) -> anyhow::Result<bool> {
        Ok(true)
    }
}

/// Where a batch stands in the journal.
#[derive(Clone, Debug)]
pub struct Standing {
    pub counts: Vec<StateCount>,
    pub conflicts: u64,
    /// Rows marked as needing a person.
    pub attention: u64,
}

/// What paying did.
#[derive(Debug)]
pub enum Paid {
    /// No row was open: nothing was sent. `notes` are the warnings planning left.
    NothingLeft {
        notes: Vec<String>,
        standing: Standing,
    },
    Sent(Box<Sent>),
}

#[derive(Debug)]
pub struct Sent {
    pub report: SendReport,
    /// A sandbox batch is asked for its final states at once: how many rows changed.
    pub sandbox_updated: Option<usize>,
    pub standing: Standing,
}

/// Which command pays: `run` and `resume` send every open row; `retry` gives failed rows a
/// new attempt and sends only those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Resume,
    Retry(RetryRequest),
}

impl Command {
    /// The name recorded as the batch's last run.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Run => "run",
            Command::Resume => "resume",
            Command::Retry(_) => "retry",
        }
    }
}

/// How to pay: the sending options, whether the sandbox wallet has a limit, and which command.
pub struct PayOptions {
    pub send: SendOptions,
    pub sandbox_limited: bool,
    pub command: Command,
}

/// How a run ended, for the journal (and `status`), from why sending stopped.
pub fn run_end(stop: Option<&StopReason>) -> (RunEnd, Option<String>) {
    match stop {
        None => (RunEnd::Finished, None),
        Some(StopReason::Interrupted) => (RunEnd::Interrupted, None),
        Some(StopReason::InsufficientFunds(why)) => (RunEnd::WalletEmpty, Some(why.clone())),
        Some(StopReason::ProviderUnavailable(why)) => {
            (RunEnd::ProviderUnavailable, Some(why.clone()))
        }
        Some(StopReason::ProviderPaused { wait, until_ms }) => (
            RunEnd::ProviderUnavailable,
            Some(format!(
                "the provider asked for a pause of {} s (HTTP 429 Retry-After), until {}",
                wait.as_secs(),
                format_ms(*until_ms)
            )),
        ),
        Some(StopReason::Fatal(why)) => (RunEnd::CredentialsRefused, Some(why.clone())),
        Some(StopReason::LockLost) => (RunEnd::LockLost, None),
        Some(StopReason::JournalFailed(why)) => (RunEnd::JournalFailed, Some(why.clone())),
    }
}

/// Pay every open row of `batch` through `endpoint`. The journal is owned by a thread of its
/// own for the duration; the endpoint (and a sandbox simulator) is shut down at the end.
pub async fn pay<C: Confirm>(
    journal: Journal,
    batch: Batch,
    endpoint: Endpoint,
    prepared: Prepared,
    opts: PayOptions,
    observer: Arc<dyn Observer>,
    confirm: &C,
) -> anyhow::Result<Paid> {
    if let Err(e) = endpoint.check_key(batch.provider) {
        if let Some((token, _)) = &prepared.lock {
            let _ = journal.release_lock(&batch.id, token);
        }
        return Err(e);
    }
    let (actor, thread) =
        JournalActor::spawn(journal).context("cannot start the journal thread")?;
    let ctx = Ctx {
        actor: actor.clone(),
        batch: &batch,
        endpoint: &endpoint,
        opts,
        observer,
        held: std::sync::Mutex::new(prepared.lock),
        notes: prepared.notes,
    };
    let client = provider::connect(batch.provider, &endpoint.config)
        .context("cannot build the HTTP client")?;
    let result = with_lock(Arc::new(client), &ctx, confirm).await;
    drop(ctx);
    drop(actor);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    endpoint.shutdown().await;
    result
}

struct Ctx<'a> {
    actor: JournalActor,
    batch: &'a Batch,
    endpoint: &'a Endpoint,
    opts: PayOptions,
    observer: Arc<dyn Observer>,
    /// The lock `run` already took (to change the batch), handed over to the sending.
    held: std::sync::Mutex<Option<(LockToken, Option<LockInfo>)>>,
    notes: Vec<String>,
}

async fn with_lock<P: Provider, C: Confirm>(
    provider: Arc<P>,
    ctx: &Ctx<'_>,
    confirm: &C,
) -> anyhow::Result<Paid> {
    let id = ctx.batch.id.clone();
    let held = ctx.held.lock().ok().and_then(|mut held| held.take());
    let locked = match held {
        Some(lock) => Ok(lock),
        None => ctx.actor.call(move |j| j.acquire_lock(&id)).await?,
    };
    let (token, taken_over) = match locked {
        Ok(lock) => lock,
        Err(e @ (JournalError::Locked { .. } | JournalError::Busy)) => {
            return Err(Refused(e.to_string()).into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(old) = taken_over {
        ctx.observer.took_over(&ctx.batch.id, &old);
    }
    let result = send_locked(provider, ctx, token.clone(), confirm).await;
    let id = ctx.batch.id.clone();
    if let Ok(Err(e)) = ctx.actor.call(move |j| j.release_lock(&id, &token)).await {
        tracing::warn!("could not release the batch lock: {e}");
    }
    result
}

/// Where `batch` stands in the journal behind `actor`.
pub async fn standing(actor: &JournalActor, batch: &str) -> anyhow::Result<Standing> {
    let id = batch.to_string();
    Ok(actor
        .call(move |j| {
            Ok::<_, JournalError>(Standing {
                counts: j.state_counts(&id)?,
                conflicts: j.conflict_count(&id)?,
                attention: j.attention_count(&id)?,
            })
        })
        .await??)
}

async fn send_locked<P: Provider, C: Confirm>(
    provider: Arc<P>,
    ctx: &Ctx<'_>,
    token: LockToken,
    confirm: &C,
) -> anyhow::Result<Paid> {
    // Read again under the lock: `cancel` may have withdrawn the batch since it was opened.
    let id = ctx.batch.id.clone();
    let fresh = ctx.actor.call(move |j| j.batch(&id)).await??;
    if fresh.cancelled_at.is_some() {
        return Err(Refused(format!(
            "batch {0} was cancelled (`payrun cancel`): nothing more is sent in it. Rows that may \
             already be with the provider are settled by `payrun reconcile {0}`. Nothing was sent.",
            ctx.batch.id
        ))
        .into());
    }
    let mut notes = ctx.notes.clone();
    notes.extend(ctx.endpoint.check_planned(&ctx.actor, ctx.batch).await?);
    let id = ctx.batch.id.clone();
    // Only the open rows and the row count: both come from indexes, so a resume of a huge
    // batch with a few rows left starts sending at once.
    let (open_counts, total) = ctx
        .actor
        .call(move |j| Ok::<_, JournalError>((j.open_counts(&id)?, j.row_count(&id)?)))
        .await??;
    // What this command sends: every open row, or (retry) the failed rows it re-keys.
    let (to_send, attempts) = match &ctx.opts.command {
        Command::Retry(req) => {
            let (req, batch) = (req.clone(), ctx.batch.clone());
            let plan = ctx
                .actor
                .call(move |j| retry::plan(j, &batch, &req))
                .await??;
            ctx.observer.retry_plan(ctx.batch, &plan);
            let still_open: u64 = open_counts.iter().map(|c| c.rows).sum();
            if still_open > 0 {
                notes.push(format!(
                    "{still_open} other row(s) of this batch are still open (planned, sending or in doubt); \
                     retry leaves them alone: `payrun resume {}` sends them",
                    ctx.batch.id
                ));
            }
            let attempts: Vec<NewAttempt> = plan.retried.iter().map(|r| r.next.clone()).collect();
            (plan.counts(), Some(attempts))
        }
        Command::Run | Command::Resume => (open_counts, None),
    };
    let open: u64 = to_send.iter().map(|c| c.rows).sum();
    if open == 0 {
        let standing = standing(&ctx.actor, &ctx.batch.id).await?;
        return Ok(Paid::NothingLeft { notes, standing });
    }
    let sandbox_unlimited = ctx.endpoint.is_sandbox() && !ctx.opts.sandbox_limited;
    let preflight = Preflight::check(
        provider.as_ref(),
        ctx.endpoint.destination(),
        &to_send,
        total,
        sandbox_unlimited,
        notes,
    )
    .await;
    ctx.observer.preflight(ctx.batch, &preflight);
    if let Some(refused) = preflight.refusal() {
        return Err(refused.into());
    }
    if !confirm.confirm(open).await? {
        return Err(Refused("not confirmed; nothing was sent".into()).into());
    }

    // Durable before anything leaves: the run's start and, for retry, every new attempt's key
    // and body with its row `planned` again, in one transaction under the lock.
    let (id, lock, command) = (ctx.batch.id.clone(), token.clone(), ctx.opts.command.name());
    let started = ctx
        .actor
        .write(move |c| {
            let started = match attempts {
                Some(attempts) => Some(begin_attempts(c, &id, &lock, &attempts)?),
                None => None,
            };
            run_started(c, &id, &lock, command)?;
            Ok(started)
        })
        .await?;
    let mut send = ctx.opts.send.clone();
    let open = match started {
        Some(ids) => {
            let n = ids.len() as u64;
            send.only = Some(Arc::new(ids.into_iter().collect()));
            n
        }
        None => open,
    };
    let result = send_and_settle(provider, ctx, token.clone(), send, open).await;
    let (end, detail) = match &result {
        Ok((report, _)) => run_end(report.stop.as_ref()),
        Err(e) => (RunEnd::JournalFailed, Some(e.to_string())),
    };
    let id = ctx.batch.id.clone();
    if let Err(e) = ctx
        .actor
        .write(move |c| run_ended(c, &id, &token, end, detail.as_deref()))
        .await
    {
        tracing::warn!("could not record how the run ended: {e}");
    }
    let (report, sandbox_updated) = result?;
    let standing = standing(&ctx.actor, &ctx.batch.id).await?;
    Ok(Paid::Sent(Box::new(Sent {
        report,
        sandbox_updated,
        standing,
    })))
}

/// Send `open` rows, then, in the sandbox (whose simulator settles at once), ask for their
/// final states. `retry` leaves that to `reconcile`: it never asks about rows in doubt.
async fn send_and_settle<P: Provider>(
    provider: Arc<P>,
    ctx: &Ctx<'_>,
    token: LockToken,
    send: SendOptions,
    open: u64,
) -> anyhow::Result<(SendReport, Option<usize>)> {
    let stop = Arc::new(Stop::default());
    let progress = Arc::new(Progress::new(ctx.observer.clone()));
    let (rate, concurrency) = (send.rate, send.concurrency);
    let report = send::send_batch(
        provider.clone(),
        ctx.actor.clone(),
        &ctx.batch.id,
        token.clone(),
        send,
        progress,
        stop,
        open,
    )
    .await?;
    let mut sandbox_updated = None;
    let retrying = matches!(ctx.opts.command, Command::Retry(_));
    if ctx.endpoint.is_sandbox() && report.stop.is_none() && !retrying {
        let settled = reconcile::reconcile(
            provider,
            ctx.actor.clone(),
            &ctx.batch.id,
            token,
            rate,
            concurrency,
            ctx.observer.as_ref(),
        )
        .await?;
        sandbox_updated = Some(settled.changes.len());
    }
    Ok((report, sandbox_updated))
}
