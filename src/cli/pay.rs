//! The sending half shared by `run` and `resume`: reach the provider (or the in-process
//! sandbox), take the batch lock, show the pre-flight summary and check the balance, confirm,
//! send, then print the final summary and pick the exit code.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::SendArgs;
use super::summary::{BatchFigures, major};
use crate::domain::{Currency, ProviderKind};
use crate::exit::{Exit, Refused};
use crate::journal::{Batch, Journal, JournalActor, JournalError, RowState, StateCount};
use crate::provider::{
    ErrorClass, Provider, ProviderConfig, ProviderError, rohopay::RohopayClient,
    rumbapay::RumbapayClient,
};
use crate::runner::{self, Progress, SendOptions, Stop, StopReason};
use crate::sim::{self, SimConfig, SimHandle};

/// Where payouts go: a real provider from the environment, or the built-in simulator.
pub struct Endpoint {
    pub config: ProviderConfig,
    pub sim: Option<SimHandle>,
}

/// The sandbox's wallet: effectively unlimited unless `--sandbox-balance` says otherwise.
const SANDBOX_BALANCE_MINOR: u64 = 1_000_000_000_000_000;

impl Endpoint {
    pub async fn connect(kind: ProviderKind, send: &SendArgs) -> anyhow::Result<Endpoint> {
        if !send.sandbox {
            return Ok(Endpoint {
                config: ProviderConfig::from_env(kind)?,
                sim: None,
            });
        }
        let balances = match &send.sandbox_balance {
            Some(spec) => SimConfig::parse_balances(spec)
                .map_err(|e| anyhow::anyhow!("--sandbox-balance {spec:?}: {e}"))?,
            None => BTreeMap::new(),
        };
        let sim = sim::spawn(SimConfig {
            balances,
            default_balance_minor: SANDBOX_BALANCE_MINOR,
            ..SimConfig::default()
        })
        .await
        .context("could not start the sandbox simulator")?;
        let base = match kind {
            ProviderKind::Rohopay => sim.rohopay_base_url(),
            ProviderKind::Rumbapay => sim.rumbapay_base_url(),
        };
        let config = ProviderConfig::loopback(kind, &base, "live_sandbox")?;
        Ok(Endpoint {
            config,
            sim: Some(sim),
        })
    }

    fn label(&self) -> String {
        if self.sim.is_some() {
            format!(
                "SANDBOX: the built-in simulator at {} (simulated, no money moves)",
                self.config.base_url
            )
        } else if self.config.is_test_key() {
            format!("TEST mode key at {}", self.config.base_url)
        } else {
            format!("LIVE at {}", self.config.base_url)
        }
    }

    /// Refuse a test key where the provider would refuse the disbursement anyway.
    pub fn check_key(&self, kind: ProviderKind) -> anyhow::Result<()> {
        if kind == ProviderKind::Rohopay && self.config.is_test_key() {
            return Err(Refused(
                "ROHOPAY_API_KEY is a test key (test_…): RohoPay blocks disbursements in test mode. \
                 Use a live_ key, or --sandbox to try payrun without money. Nothing was sent."
                    .into(),
            )
            .into());
        }
        Ok(())
    }
}

/// The command that continues a batch, as printed to the user.
pub fn resume_command(batch: &Batch, journal: &Path) -> String {
    let mut cmd = format!("payrun resume {} --journal {}", batch.id, journal.display());
    if batch.sandbox {
        cmd.push_str(" --sandbox");
    }
    cmd
}

/// Send every open row of `batch`; returns the exit code.
pub async fn pay(
    journal: Journal,
    batch: Batch,
    send: &SendArgs,
    endpoint: Endpoint,
    journal_path: &Path,
) -> anyhow::Result<Exit> {
    endpoint.check_key(batch.provider)?;
    let (actor, thread) =
        JournalActor::spawn(journal).context("cannot start the journal thread")?;
    let ctx = Ctx {
        actor: actor.clone(),
        batch: &batch,
        send,
        label: endpoint.label(),
        resume: resume_command(&batch, journal_path),
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
    resume: String,
}

async fn with_lock<P: Provider>(provider: Arc<P>, ctx: &Ctx<'_>) -> anyhow::Result<Exit> {
    let id = ctx.batch.id.clone();
    let locked = ctx.actor.call(move |j| j.acquire_lock(&id)).await?;
    let (token, taken_over) = match locked {
        Ok(lock) => lock,
        Err(e @ JournalError::Locked { .. }) => return Err(Refused(e.to_string()).into()),
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
    let (counts, conflicts) = ctx
        .actor
        .call(move |j| Ok::<_, JournalError>((j.state_counts(&id)?, j.conflict_count(&id)?)))
        .await??;
    Ok((BatchFigures::new(ctx.batch, &counts, conflicts), counts))
}

/// Per currency: (minor units never sent, minor units possibly already executed).
fn open_totals(counts: &[StateCount]) -> BTreeMap<String, (u128, u128)> {
    let mut out: BTreeMap<String, (u128, u128)> = BTreeMap::new();
    for c in counts.iter().filter(|c| c.state.is_open()) {
        let entry = out.entry(c.currency.clone()).or_default();
        if c.state == RowState::Planned {
            entry.0 += c.amount_minor;
        } else {
            entry.1 += c.amount_minor;
        }
    }
    out
}

async fn send_locked<P: Provider>(
    provider: Arc<P>,
    ctx: &Ctx<'_>,
    token: crate::journal::LockToken,
) -> anyhow::Result<Exit> {
    let (before, counts) = figures(ctx).await?;
    let open: u64 = [RowState::Planned, RowState::Sending, RowState::InDoubt]
        .iter()
        .map(|s| before.count(*s))
        .sum();
    if open == 0 {
        println!("Nothing left to send in batch {}.", ctx.batch.id);
        print!("{}", before.text());
        return Ok(final_exit(&before, None, ctx));
    }
    let totals = open_totals(&counts);
    println!(
        "Pre-flight for batch {} ({})",
        ctx.batch.id, ctx.batch.file_name
    );
    println!("  provider: {} {}", ctx.batch.provider, ctx.label);
    println!(
        "  to send:  {open} payout(s); {} already with the provider, {} failed, {} rejected",
        before.count(RowState::Accepted) + before.count(RowState::Succeeded),
        before.count(RowState::Failed),
        before.count(RowState::Rejected)
    );
    let mut shortfalls = Vec::new();
    for (currency, (planned, doubtful)) in &totals {
        let mut line = format!("  {currency} {}", major(planned + doubtful, currency));
        if *doubtful > 0 {
            line.push_str(&format!(
                " (of which {} may already be paid: in doubt)",
                major(*doubtful, currency)
            ));
        }
        match check_balance(provider.as_ref(), currency, *planned).await {
            BalanceCheck::Enough(balance) => {
                line.push_str(&format!(" · balance {}", major(balance, currency)))
            }
            BalanceCheck::Short(balance) => {
                line.push_str(&format!(
                    " · balance {} · SHORT by {}",
                    major(balance, currency),
                    major(planned - balance, currency)
                ));
                shortfalls.push(currency.clone());
            }
            BalanceCheck::Unknown(why) => line.push_str(&format!(" · balance not checked: {why}")),
            BalanceCheck::Failed(why) => {
                println!("{line}");
                return Err(Refused(format!(
                    "could not read the {currency} wallet balance ({why}); nothing was sent"
                ))
                .into());
            }
        }
        println!("{line}");
    }
    if !shortfalls.is_empty() {
        return Err(Refused(format!(
            "insufficient balance in {}; top up and run again. Nothing was sent.",
            shortfalls.join(", ")
        ))
        .into());
    }
    if !confirm(ctx.send.yes, open).await? {
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
    let report = runner::send_batch(
        provider,
        ctx.actor.clone(),
        &ctx.batch.id,
        token,
        opts,
        progress.clone(),
        stop,
    )
    .await?;
    interrupts.abort();

    let (after, _) = figures(ctx).await?;
    let secs = report.elapsed.as_secs_f64().max(0.001);
    println!(
        "Sent {} payout(s) in {:.1} s ({:.1}/s achieved, {} HTTP requests)",
        report.dispatched,
        secs,
        report.dispatched as f64 / secs,
        runner::attempts(&progress.tally)
    );
    print!("{}", after.text());
    if report.abandoned > 0 {
        println!(
            "  {} payout(s) were still in flight and stay 'sending'; resume resends them with the same key",
            report.abandoned
        );
    }
    Ok(final_exit(&after, report.stop.as_ref(), ctx))
}

enum BalanceCheck {
    Enough(u128),
    Short(u128),
    Unknown(String),
    Failed(String),
}

/// Balance reads tried before a busy provider (429, 5xx, no connection) refuses the batch.
const BALANCE_TRIES: u32 = 5;

/// Read a balance, waiting out a 429's `Retry-After` (or a short backoff after a 5xx or a
/// failed connection) a few times: a provider asking to slow down is no reason to refuse.
async fn read_balance<P: Provider>(
    provider: &P,
    cur: Currency,
) -> Result<Option<u64>, ProviderError> {
    let mut tries = 1;
    loop {
        let err = match provider.balance(cur).await {
            Err(err) if tries < BALANCE_TRIES => err,
            other => return other,
        };
        let wait = match (&err, err.class()) {
            (ProviderError::RateLimited { retry_after }, _) => {
                retry_after.unwrap_or(Duration::from_secs(1))
            }
            (_, ErrorClass::Retryable) => Duration::from_millis(250 * u64::from(tries)),
            _ => return Err(err),
        };
        tokio::time::sleep(wait.min(Duration::from_secs(30))).await;
        tries += 1;
    }
}

async fn check_balance<P: Provider>(provider: &P, currency: &str, need: u128) -> BalanceCheck {
    let Ok(cur) = Currency::parse(currency) else {
        return BalanceCheck::Unknown(format!("unknown currency {currency}"));
    };
    match read_balance(provider, cur).await {
        Ok(Some(balance)) if u128::from(balance) >= need => BalanceCheck::Enough(balance.into()),
        Ok(Some(balance)) => BalanceCheck::Short(balance.into()),
        Ok(None) if provider.kind() == ProviderKind::Rumbapay => {
            BalanceCheck::Unknown("Rumbapay documents no balance endpoint".into())
        }
        Ok(None) => BalanceCheck::Unknown(format!("the provider did not report a {cur} balance")),
        Err(e) => BalanceCheck::Failed(e.to_string()),
    }
}

/// `--yes`, or a `yes` typed on a terminal.
async fn confirm(yes: bool, open: u64) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Refused(
            "not on a terminal, so payrun cannot ask for confirmation; add --yes to send. Nothing was sent."
                .into(),
        )
        .into());
    }
    eprint!("Send {open} payout(s)? Type yes to continue: ");
    let _ = std::io::stderr().flush();
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// The exit code and the closing advice.
fn final_exit(figures: &BatchFigures, stop: Option<&StopReason>, ctx: &Ctx<'_>) -> Exit {
    let resume = &ctx.resume;
    match stop {
        Some(StopReason::Interrupted) => {
            println!("Interrupted. Nothing is lost; resume with: {resume}");
            return Exit::Interrupted;
        }
        Some(StopReason::InsufficientFunds(why)) => {
            println!("Stopped: the wallet ran out ({why}). Top up, then resume with: {resume}");
            return Exit::Incomplete;
        }
        Some(StopReason::ProviderUnavailable(why)) => {
            println!("Paused: provider unavailable ({why}). Resume later with: {resume}");
            return Exit::Incomplete;
        }
        Some(StopReason::Fatal(why)) => {
            println!("Stopped: {why}. Fix the configuration, then resume with: {resume}");
            return Exit::Usage;
        }
        Some(StopReason::LockLost) => {
            println!(
                "Stopped: another payrun process took over batch {}.",
                figures.batch
            );
            return Exit::Incomplete;
        }
        Some(StopReason::JournalFailed(why)) => {
            println!("Stopped: the journal could not record a step ({why}). Resume with: {resume}");
            return Exit::Usage;
        }
        None => {}
    }
    if figures.all_good() {
        if figures.count(RowState::Accepted) > 0 {
            println!(
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
        println!("  {open} payout(s) not settled yet; resume with: {resume}");
    }
    if figures.count(RowState::Failed) + figures.count(RowState::Rejected) > 0 {
        println!(
            "  see `payrun report {}` for each failed or rejected row",
            figures.batch
        );
    }
    Exit::Incomplete
}
