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
use super::send::{self, Progress, SendOptions, SendReport, Stop};
use crate::exit::Refused;
use crate::ingest::Summary;
use crate::journal::{Batch, Journal, JournalActor, JournalError, LockInfo, LockToken, StateCount};
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

/// How to pay: the sending options and whether the sandbox wallet has a limit.
pub struct PayOptions {
    pub send: SendOptions,
    pub sandbox_limited: bool,
    /// `--allow-repeats`: rows repeating an earlier row's phone, amount and currency are meant.
    pub allow_repeats: bool,
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
    // Only the open rows and the row count: both come from indexes, so a resume of a huge
    // batch with a few rows left starts sending at once.
    let id = ctx.batch.id.clone();
    let operators = provider::operator_path(ctx.batch.provider);
    let ahead = ctx
        .actor
        .call(move |j| {
            let counts = j.open_counts(&id)?;
            let open = counts.iter().any(|c| c.rows > 0);
            Ok::<_, JournalError>(Ahead {
                total_rows: j.row_count(&id)?,
                // A whole-batch pass: only when something is left to send.
                repeats: if open {
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
    let mut notes = ctx.notes.clone();
    notes.extend(ctx.endpoint.check_planned(&ctx.actor, ctx.batch).await?);
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

    let stop = Arc::new(Stop::default());
    let progress = Arc::new(Progress::new(ctx.observer.clone()));
    let send = ctx.opts.send.clone();
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
    if ctx.endpoint.is_sandbox() && report.stop.is_none() {
        // The simulator settles at once; ask it now, so the demo ends with final states.
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
    let standing = standing(&ctx.actor, &ctx.batch.id).await?;
    Ok(Paid::Sent(Box::new(Sent {
        report,
        sandbox_updated,
        standing,
    })))
}
