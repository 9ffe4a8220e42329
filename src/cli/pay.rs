//! The sending half shared by `run` and `resume`, on screen: build the sending options from
//! the flags, hand the batch to [`batch::pay`](crate::batch::pay), then print the final summary
//! and pick the exit code.

use std::io::IsTerminal;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use super::SendArgs;
use super::observer::{CliObserver, resume_command};
use super::summary::BatchFigures;
use crate::batch::approval::Approved;
use crate::batch::endpoint::{Endpoint, Target};
use crate::batch::open::Prepared;
use crate::batch::pay::{self, Command, Confirm, Paid, PayOptions, Standing};
use crate::batch::send::{self, SendOptions, StopReason};
use crate::domain::RowState;
use crate::exit::Exit;
use crate::journal::{Batch, Journal};

/// The sending options the flags (and `PAYRUN_MAX_TRIES`) ask for.
pub fn send_options(send: &SendArgs) -> SendOptions {
    let defaults = SendOptions::default();
    SendOptions {
        rate: NonZeroU32::new(send.rate).unwrap_or(NonZeroU32::MIN),
        concurrency: usize::try_from(send.concurrency).unwrap_or(4),
        max_tries: std::env::var("PAYRUN_MAX_TRIES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(defaults.max_tries),
        ..defaults
    }
}

/// Where the flags send: the built-in simulator with `--sandbox`, else provider `kind` with
/// the credentials of the environment or the config file's profile.
pub fn target(
    send: &SendArgs,
    settings: &super::config::Settings,
    kind: crate::domain::ProviderKind,
) -> anyhow::Result<Target> {
    Ok(if send.sandbox {
        Target::Sandbox {
            balance: send.sandbox_balance.clone(),
        }
    } else {
        Target::Config(settings.provider_config(kind)?)
    })
}

/// `--yes`, or a `yes` typed on a terminal.
pub struct Terminal {
    pub yes: bool,
}

impl Confirm for Terminal {
    async fn confirm(&self, open: u64) -> anyhow::Result<bool> {
        super::preflight::confirm(self.yes, open).await
    }

    fn asks_a_person(&self) -> bool {
        !self.yes && std::io::stdin().is_terminal()
    }
}

fn figures(batch: &Batch, standing: &Standing) -> BatchFigures {
    BatchFigures::new(batch, &standing.counts, standing.conflicts)
        .with_attention(standing.attention, None)
}

/// The batch lock, the pre-flight and the sending of `batch` by `command`, whose journal is
/// `journal_path`, under `approved` when the policy asks for an approval; returns the exit code.
pub async fn pay(
    journal: Journal,
    batch: Batch,
    send: &SendArgs,
    endpoint: Endpoint,
    journal_path: &Path,
    approved: Option<Approved>,
    command: Command,
) -> anyhow::Result<Exit> {
    let retry = matches!(command, Command::Retry(_));
    let opts = PayOptions {
        send: send_options(send),
        sandbox_limited: send.sandbox_balance.is_some(),
        allow_repeats: send.allow_repeats,
        command,
    };
    let paid = pay::pay(
        journal,
        batch.clone(),
        endpoint,
        Prepared {
            approved,
            ..Prepared::default()
        },
        opts,
        Arc::new(CliObserver::new(journal_path)),
        &Terminal { yes: send.yes },
    )
    .await?;
    if retry && let Paid::NothingLeft { standing, .. } = &paid {
        outln!("Nothing to retry in batch {}.", batch.id);
        let figures = figures(&batch, standing);
        out!("{}", figures.text());
        return Ok(if figures.all_good() {
            Exit::Ok
        } else {
            Exit::Incomplete
        });
    }
    Ok(render(&batch, paid, journal_path))
}

/// The run's closing lines and its exit code.
pub fn render(batch: &Batch, paid: Paid, journal_path: &Path) -> Exit {
    let resume = resume_command(batch, journal_path);
    match paid {
        Paid::NothingLeft { notes, standing } => {
            for note in &notes {
                outln!("warning: {note}");
            }
            let before = figures(batch, &standing);
            outln!("Nothing left to send in batch {}.", batch.id);
            out!("{}", before.text());
            final_exit(&before, None, batch, &resume)
        }
        Paid::Sent(sent) => {
            let report = &sent.report;
            outln!(
                "{}",
                super::summary::run_line(&report.counts, report.elapsed)
            );
            if let Some(updated) = sent.sandbox_updated {
                outln!(
                    "Sandbox: asked the simulator for final states: {updated} payout(s) updated"
                );
            }
            let after = figures(batch, &sent.standing);
            out!("{}", after.text());
            if report.abandoned > 0 {
                outln!(
                    "  {} payout(s) were still in flight and stay 'sending'; resume resends them with the same key",
                    report.abandoned
                );
            }
            final_exit(&after, report.stop.as_ref(), batch, &resume)
        }
    }
}

/// The exit code and the closing advice.
fn final_exit(
    figures: &BatchFigures,
    stop: Option<&StopReason>,
    batch: &Batch,
    resume: &str,
) -> Exit {
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
                batch.provider.name(),
                wait.as_secs(),
                crate::journal::format_ms(*until_ms),
                send::MAX_PROVIDER_PAUSE.as_secs() / 60
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
    if figures.count(RowState::Failed) > 0 && open == 0 {
        outln!(
            "  once their cause is fixed, `payrun retry {}` pays the failed rows again (each under a new key)",
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
