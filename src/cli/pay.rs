//! The sending half shared by `run` and `resume`: reach the provider (or the in-process
//! sandbox), take the batch lock, show the pre-flight summary and check the balance, confirm,
//! send, then print the final summary and pick the exit code.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::SendArgs;
pub use super::endpoint::Endpoint;
use super::preflight;
use super::summary::BatchFigures;
use crate::domain::ProviderKind;
use crate::exit::{Exit, Refused};
use crate::journal::{
    Batch, Journal, JournalActor, JournalError, LockInfo, LockToken, RowState, StateCount,
};
use crate::provider::{Provider, rohopay::RohopayClient, rumbapay::RumbapayClient};
use crate::runner::{self, Progress, SendOptions, Stop, StopReason};

/// The command that continues a batch, as printed to the user.
pub fn resume_command(batch: &Batch, journal: &Path) -> String {
    let mut cmd = format!("payrun resume {} --journal {}", batch.id, journal.display());
    if batch.sandbox {
        cmd.push_str(" --sandbox");
    }
    cmd
}

/// What `run` settled before sending: the batch lock if it took it to change the batch, and
/// warnings the pre-flight must show.
#[derive(Debug, Default)]
pub struct Prepared {
    pub lock: Option<(LockToken, Option<LockInfo>)>,
    pub notes: Vec<String>,
}

/// Send every open row of `batch`; returns the exit code.
pub async fn pay(
    journal: Journal,
    batch: Batch,
    send: &SendArgs,
    endpoint: Endpoint,
    journal_path: &Path,
    prepared: Prepared,
) -> anyhow::Result<Exit> {
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
        send,
        label: endpoint.label(),
        base_url: endpoint.config.base_url.to_string(),
        resume: resume_command(&batch, journal_path),
        held: std::sync::Mutex::new(prepared.lock),
        notes: prepared.notes,
    };
    let result = match batch.provider {
        ProviderKind::Rohopay => {
            let client =
                RohopayClient::new(&endpoint.config).context("cannot build the HTTP client")?;
            with_lock(Arc::new(client), &ctx).await
        }
        ProviderKind::Rumbapay => {
            let client =
                RumbapayClient::new(&endpoint.config).context("cannot build the HTTP client")?;
            with_lock(Arc::new(client), &ctx).await
        }
    };
    drop(ctx);
    drop(actor);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    if let Some(sim) = endpoint.sim {
        sim.shutdown().await;
    }
    result
}

struct Ctx<'a> {
    actor: JournalActor,
    batch: &'a Batch,
    send: &'a SendArgs,
    label: String,
    /// Where this run sends.
    base_url: String,
    resume: String,
    /// The lock `run` already took (to change the batch), handed over to the sending.
    held: std::sync::Mutex<Option<(LockToken, Option<LockInfo>)>>,
    notes: Vec<String>,
}

async fn with_lock<P: Provider>(provider: Arc<P>, ctx: &Ctx<'_>) -> anyhow::Result<Exit> {
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
        eprintln!(
            "note: took over batch {} from payrun pid {} on {} (no sign of life for {} s)",
            ctx.batch.id,
            old.pid,
            old.host,
            old.age_ms / 1000
        );
    }
    let result = send_locked(provider, ctx, token.clone()).await;
    let id = ctx.batch.id.clone();
    if let Ok(Err(e)) = ctx.actor.call(move |j| j.release_lock(&id, &token)).await {
        eprintln!("warning: could not release the batch lock: {e}");
    }
    result
}

async fn figures(ctx: &Ctx<'_>) -> anyhow::Result<(BatchFigures, Vec<StateCount>)> {
    let id = ctx.batch.id.clone();
    let (counts, conflicts, attention) = ctx
        .actor
        .call(move |j| {
            Ok::<_, JournalError>((
                j.state_counts(&id)?,
                j.conflict_count(&id)?,
                j.attention_count(&id)?,
            ))
        })
        .await??;
    let figures = BatchFigures::new(ctx.batch, &counts, conflicts).with_attention(attention, None);
    Ok((figures, counts))
}

async fn send_locked<P: Provider>(
    provider: Arc<P>,
    ctx: &Ctx<'_>,
    token: crate::journal::LockToken,
) -> anyhow::Result<Exit> {
    // Only the open rows and the row count: both come from indexes, so a resume of a huge
    // batch with a few rows left starts sending at once.
    let id = ctx.batch.id.clone();
    let (open_counts, total) = ctx
        .actor
        .call(move |j| Ok::<_, JournalError>((j.open_counts(&id)?, j.row_count(&id)?)))
        .await??;
    let mut notes = ctx.notes.clone();
    notes.extend(check_endpoint(ctx).await?);
    let open: u64 = open_counts.iter().map(|c| c.rows).sum();
    if open == 0 {
        for note in &notes {
            outln!("warning: {note}");
        }
        let (before, _) = figures(ctx).await?;
        outln!("Nothing left to send in batch {}.", ctx.batch.id);
        out!("{}", before.text());
        return Ok(final_exit(&before, None, ctx));
    }
    let sandbox_unlimited = ctx.batch.sandbox && ctx.send.sandbox_balance.is_none();
    preflight::show_and_check(
        provider.as_ref(),
        ctx.batch,
        &ctx.label,
        &open_counts,
        total,
        sandbox_unlimited,
        &notes,
    )
    .await?;
    if !preflight::confirm(ctx.send.yes, open).await? {
        return Err(Refused("not confirmed; nothing was sent".into()).into());
    }

    let stop = Arc::new(Stop::default());
    let interrupts = super::signals::watch(stop.clone(), ctx.resume.clone());
    let progress = Arc::new(Progress::new(open, false));
    let defaults = SendOptions::default();
    let opts = SendOptions {
        rate: NonZeroU32::new(ctx.send.rate).unwrap_or(NonZeroU32::MIN),
        concurrency: usize::try_from(ctx.send.concurrency).unwrap_or(4),
        max_tries: std::env::var("PAYRUN_MAX_TRIES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(defaults.max_tries),
        ..defaults
    };
    let (rate, concurrency) = (opts.rate, opts.concurrency);
    let report = runner::send_batch(
        provider.clone(),
        ctx.actor.clone(),
        &ctx.batch.id,
        token.clone(),
        opts,
        progress.clone(),
        stop,
    )
    .await?;
    interrupts.abort();
    let counts = progress.tally.counts(open);
    outln!("{}", super::summary::run_line(&counts, report.elapsed));
    if ctx.batch.sandbox && report.stop.is_none() {
        // The simulator settles at once; ask it now, so the demo ends with final states.
        let watch = super::reconcile_progress::ReconcileProgress::new("sandbox", "the simulator");
        let settled = super::reconcile::with_token(
            provider,
            &ctx.actor,
            ctx.batch,
            token,
            rate,
            concurrency,
            &watch,
        )
        .await?;
        watch.finish();
        outln!(
            "Sandbox: asked the simulator for final states: {} payout(s) updated",
            settled.changes.len()
        );
    }

    let (after, _) = figures(ctx).await?;
    out!("{}", after.text());
    if report.abandoned > 0 {
        outln!(
            "  {} payout(s) were still in flight and stay 'sending'; resume resends them with the same key",
            report.abandoned
        );
    }
    Ok(final_exit(&after, report.stop.as_ref(), ctx))
}

/// The batch is sent where it was planned to go. Another base URL is named in the pre-flight;
/// another provider host is refused while rows may be with the first one (sending, in doubt,
/// accepted): asking the new host about them, or sending them there again, could pay twice.
/// Sandbox batches get a new simulator, and port, on every run: not checked.
async fn check_endpoint(ctx: &Ctx<'_>) -> anyhow::Result<Vec<String>> {
    let batch = ctx.batch;
    let planned = shown_base_url(&batch.base_url);
    if batch.sandbox || planned == ctx.base_url {
        return Ok(Vec::new());
    }
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    if host(&planned) != host(&ctx.base_url) {
        let id = batch.id.clone();
        let counts = ctx.actor.call(move |j| j.state_counts(&id)).await??;
        let with_first: u64 = counts
            .iter()
            .filter(|c| {
                matches!(
                    c.state,
                    RowState::Sending | RowState::InDoubt | RowState::Accepted
                )
            })
            .map(|c| c.rows)
            .sum();
        if with_first > 0 {
            return Err(Refused(format!(
                "batch {} was sent to {} and {with_first} of its payout(s) may be with that provider \
                 (sending, in doubt or accepted), but this run would send to {}, another host. Sending them \
                 there could pay them twice. Point the provider's base URL variable back to {} to continue \
                 this batch. Nothing was sent.",
                batch.id, planned, ctx.base_url, planned
            ))
            .into());
        }
    }
    Ok(vec![format!(
        "batch {} was planned to be sent to {}; this run sends to {}",
        batch.id, planned, ctx.base_url
    )])
}

/// A base URL read from the journal, without the user name and password an older payrun may
/// have stored in it.
fn shown_base_url(stored: &str) -> String {
    match url::Url::parse(stored) {
        Ok(mut url) => {
            // Both fail only for URLs that cannot have credentials.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => crate::provider::without_userinfo(stored),
    }
}

/// The exit code and the closing advice.
fn final_exit(figures: &BatchFigures, stop: Option<&StopReason>, ctx: &Ctx<'_>) -> Exit {
    let resume = &ctx.resume;
    match stop {
        Some(StopReason::Interrupted) => {
            outln!("Interrupted. Nothing is lost; resume with: {resume}");
            return Exit::Interrupted;
        }
        Some(StopReason::InsufficientFunds(why)) => {
            outln!("Stopped: the wallet ran out ({why}). Top up, then resume with: {resume}");
            return Exit::Incomplete;
        }
        Some(StopReason::ProviderPaused { wait, until_ms }) => {
            outln!(
                "Stopped: provider unavailable, resume later. {} asked payrun to pause for {} s (HTTP 429 \
                 Retry-After), until {}: longer than the {} min payrun waits within a run. The rows not \
                 sent stay planned. After that time, resume with: {resume}",
                ctx.batch.provider.name(),
                wait.as_secs(),
                crate::journal::format_ms(*until_ms),
                runner::MAX_PROVIDER_PAUSE.as_secs() / 60
            );
            return Exit::Incomplete;
        }
        Some(StopReason::ProviderUnavailable(why)) => {
            outln!("Paused: provider unavailable ({why}). Resume later with: {resume}");
            return Exit::Incomplete;
        }
        Some(StopReason::Fatal(why)) => {
            outln!("Stopped: {why}. Fix the configuration, then resume with: {resume}");
            return Exit::Usage;
        }
        Some(StopReason::LockLost) => {
            outln!(
                "Stopped: another payrun process took over batch {}.",
                figures.batch
            );
            return Exit::Incomplete;
        }
        Some(StopReason::JournalFailed(why)) => {
            outln!("Stopped: the journal could not record a step ({why}). Resume with: {resume}");
            return Exit::Usage;
        }
        None => {}
    }
    if figures.all_good() {
        if figures.count(RowState::Accepted) > 0 {
            outln!(
                "  {} accepted payout(s) are pending at the provider; final status arrives by webhook (payrun listen) or `payrun reconcile {}`",
                figures.count(RowState::Accepted),
                figures.batch
            );
        }
        return Exit::Ok;
    }
    let open = figures.count(RowState::Planned)
        + figures.count(RowState::Sending)
        + figures.count(RowState::InDoubt);
    if open > 0 {
        outln!("  {open} payout(s) not settled yet; resume with: {resume}");
    }
    if figures.count(RowState::Failed) + figures.count(RowState::Rejected) > 0 {
        outln!(
            "  see `payrun report {}` for each failed or rejected row",
            figures.batch
        );
    }
    if figures.attention > 0 {
        outln!(
            "  {} row(s) need a person: the provider said something that contradicts what was sent; \
             see `payrun status {}` and do not pay them again until the provider confirms",
            figures.attention,
            figures.batch
        );
    }
    Exit::Incomplete
}
