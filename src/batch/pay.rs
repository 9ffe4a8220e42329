//! Paying a planned batch, the part shared by `run` and `resume`: take the batch lock, check the
//! batch goes where it was planned to go, read the balance (the pre-flight), ask for
//! confirmation, send every open row, settle a sandbox batch at once, and report where the batch
//! stands. The caller decides what the result means to a person (and to an exit code).

use std::sync::Arc;

use anyhow::Context;

use super::approval::Approved;
use super::endpoint::Endpoint;
use super::observer::Observer;
use super::open::Prepared;
use super::preflight::{Ahead, Preflight};
use super::reconcile;
use super::retry::{self, RetryRequest};
use super::send::{self, Progress, SendOptions, SendReport, Stop, StopReason};
use crate::domain::RunEnd;
use crate::exit::Refused;
use crate::ingest::Summary;
use crate::journal::{
    Batch, Journal, JournalActor, JournalError, LockInfo, LockToken, NewAttempt, StateCount,
    begin_attempts, format_ms, run_ended, run_started,
};
use crate::provider::{self, Provider};

/// Asked once, after the pre-flight, whether to send `open` payouts.
pub trait Confirm {
    fn confirm(&self, open: u64) -> impl Future<Output = anyhow::Result<bool>>;

    /// Whether a person answers, after seeing the pre-flight (then their `yes` also accepts
    /// the repeated payments it lists).
    fn asks_a_person(&self) -> bool {
        false
    }
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
    /// `--allow-repeats`: rows repeating an earlier row's phone, amount and currency are meant.
    pub allow_repeats: bool,
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
        validation: std::sync::Mutex::new(prepared.validation),
        approved: prepared.approved,
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
    /// What validation saw when this run planned the file, for the pre-flight.
    validation: std::sync::Mutex<Option<Box<Summary>>>,
    /// The approval the batch is paid under, recorded when sending starts.
    approved: Option<Approved>,
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

/// Write the batch's approvals to the journal: sending starts under them.
async fn record_approval(
    actor: &JournalActor,
    batch: &str,
    approved: &Approved,
) -> anyhow::Result<()> {
    let (id, sha, at) = (
        batch.to_string(),
        approved.statement_sha256.clone(),
        approved.checked_at,
    );
    let who: Vec<(String, String)> = approved
        .counted
        .iter()
        .map(|c| (c.principal.clone(), c.fingerprint.clone()))
        .collect();
    actor
        .call(move |j| j.record_approvals(&id, &sha, at, &who))
        .await??;
    Ok(())
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
    let operators = provider::operator_path(ctx.batch.provider);
    // Repeats are planned rows: retry never sends those, so it does not look for them.
    let repeats_matter = !matches!(ctx.opts.command, Command::Retry(_));
    let ahead = ctx
        .actor
        .call(move |j| {
            let counts = j.open_counts(&id)?;
            let open = counts.iter().any(|c| c.rows > 0);
            Ok::<_, JournalError>(Ahead {
                total_rows: j.row_count(&id)?,
                // A whole-batch pass: only when something is left to send.
                repeats: if open && repeats_matter {
                    j.repeats(&id)?
                } else {
                    Default::default()
                },
                operators: match operators {
                    Some(path) if open => j.open_operator_counts(&id, path)?,
                    _ => Vec::new(),
                },
                counts,
            })
        })
        .await??;
    // What this command sends: every open row, or (retry) the failed rows it re-keys.
    let (ahead, attempts) = match &ctx.opts.command {
        Command::Retry(req) => {
            let (req, batch) = (req.clone(), ctx.batch.clone());
            let plan = ctx
                .actor
                .call(move |j| retry::plan(j, &batch, &req))
                .await??;
            ctx.observer.retry_plan(ctx.batch, &plan);
            let still_open: u64 = ahead.counts.iter().map(|c| c.rows).sum();
            if still_open > 0 {
                notes.push(format!(
                    "{still_open} other row(s) of this batch are still open (planned, sending or in doubt); \
                     retry leaves them alone: `payrun resume {}` sends them",
                    ctx.batch.id
                ));
            }
            let attempts: Vec<NewAttempt> = plan.retried.iter().map(|r| r.next.clone()).collect();
            let ahead = Ahead {
                counts: plan.counts(),
                operators: Vec::new(),
                ..ahead
            };
            (ahead, Some(attempts))
        }
        Command::Run | Command::Resume => (ahead, None),
    };
    let open: u64 = ahead.counts.iter().map(|c| c.rows).sum();
    if open == 0 {
        let standing = standing(&ctx.actor, &ctx.batch.id).await?;
        return Ok(Paid::NothingLeft { notes, standing });
    }
    let sandbox_unlimited = ctx.endpoint.is_sandbox() && !ctx.opts.sandbox_limited;
    let mut preflight = Preflight::check(
        provider.as_ref(),
        ctx.endpoint.destination(),
        ahead,
        sandbox_unlimited,
        notes,
    )
    .await;
    preflight.validation = ctx.validation.lock().ok().and_then(|mut v| v.take());
    preflight.approved = ctx.approved.clone();
    ctx.observer.preflight(ctx.batch, &preflight);
    if let Some(refused) = preflight.refusal() {
        return Err(refused.into());
    }
    if let Some(refused) =
        preflight.repeats_refusal(ctx.opts.allow_repeats, confirm.asks_a_person())
    {
        return Err(refused.into());
    }
    if !confirm.confirm(open).await? {
        return Err(Refused("not confirmed; nothing was sent".into()).into());
    }
    if let Some(approved) = &ctx.approved {
        record_approval(&ctx.actor, &ctx.batch.id, approved).await?;
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
