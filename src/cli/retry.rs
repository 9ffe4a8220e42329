//! `payrun retry BATCH`: pay again the rows whose last attempt definitively failed, each under
//! a new key, after a pre-flight that lists them with their failure reasons and totals and
//! says which rows are not retried, and why. The journal decides and records; this prints.

use anyhow::Context;

use super::RetryArgs;
use super::pay;
use super::summary::{grouped, major, printable};
use crate::batch::endpoint::Endpoint;
use crate::batch::open::check_sandbox;
use crate::batch::pay::Command;
use crate::batch::retry::{Held, RetryPlan, RetryRequest};
use crate::domain::RowState;
use crate::exit::Exit;
use crate::journal::{Batch, Journal};

/// Rows listed one per line; the rest are counted (`payrun report` lists every row).
const LISTED: usize = 50;

pub fn run(args: RetryArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(retry(args, settings))
}

async fn retry(args: RetryArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    let path = args.journal.journal.clone();
    let id = args.batch.clone();
    let (journal, batch) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let journal = Journal::open_existing(&path)?;
        super::notice_tightened(&journal);
        let batch = journal.batch(&id)?;
        Ok((journal, batch))
    })
    .await??;
    check_sandbox(&batch, args.send.sandbox)?;
    let target = pay::target(&args.send, settings, batch.provider)?;
    let endpoint = Endpoint::connect(batch.provider, &target)
        .await
        .with_context(|| format!("cannot reach {} for batch {}", batch.provider, batch.id))?;
    let only = (!args.only.is_empty()).then(|| args.only.clone());
    pay::pay(
        journal,
        batch,
        &args.send,
        endpoint,
        &args.journal.journal,
        // The failed rows of a batch already sent under its approval (if the policy asked).
        None,
        Command::Retry(RetryRequest { only }),
    )
    .await
}

fn who(line: u64, reference: Option<&str>) -> String {
    match reference {
        Some(r) => format!("line {line} {}", printable(r)),
        None => format!("line {line}"),
    }
}

/// Why a row is not retried, with what to do about it.
fn why(held: &Held, batch: &str) -> String {
    match held {
        Held::NeedsPerson(note) => format!(
            "needs a person: {}; ask the provider before paying it again",
            printable(note)
        ),
        Held::Conflict(note) => format!(
            "the file changed it after it was sent ({})",
            printable(note)
        ),
        Held::MayBeWithProvider => {
            format!("may already be with the provider; `payrun reconcile {batch}` settles it")
        }
        Held::ProviderHasIt => "the provider has it".into(),
        Held::NotSentYet => format!("not sent yet; `payrun resume {batch}` sends it"),
        Held::Withdrawn => "never to be sent".into(),
    }
}

/// What retry will do, before the pre-flight.
pub fn show(batch: &Batch, plan: &RetryPlan) {
    let id = &batch.id;
    outln!(
        "Retry of batch {id}: {} failed payout(s) get a new attempt with a new key",
        plan.retried.len()
    );
    for r in plan.retried.iter().take(LISTED) {
        outln!(
            "  {} {} {}: attempt {} (attempt {} failed: {})",
            who(r.row.line, r.row.reference.as_deref()),
            r.row.currency,
            grouped(&major(u128::from(r.row.amount_minor), &r.row.currency)),
            r.next.failed_attempt + 1,
            r.next.failed_attempt,
            printable(r.row.error.as_deref().unwrap_or("no reason recorded"))
        );
    }
    if plan.retried.len() > LISTED {
        outln!(
            "  ... and {} more (`payrun report {id}` lists every row)",
            plan.retried.len() - LISTED
        );
    }
    let counted: u64 = plan.others.iter().map(|(_, n)| n).sum();
    if plan.held.is_empty() && counted == 0 && plan.missing_lines.is_empty() {
        return;
    }
    outln!("Not retried, and why:");
    for h in plan.held.iter().take(LISTED) {
        outln!(
            "  {} ({}{}): {}",
            who(h.line, h.reference.as_deref()),
            h.state.as_str().replace('_', " "),
            if h.attempt > 1 {
                format!(", attempt {}", h.attempt)
            } else {
                String::new()
            },
            why(&h.why, id)
        );
    }
    if plan.held.len() > LISTED {
        outln!("  ... and {} more", plan.held.len() - LISTED);
    }
    for (state, n) in &plan.others {
        let reason = match state {
            RowState::Succeeded | RowState::Accepted => "the provider has them".to_string(),
            RowState::Planned => format!("not sent yet; `payrun resume {id}` sends them"),
            _ => "never to be sent".to_string(),
        };
        outln!("  {n} {}: {reason}", state.as_str().replace('_', " "));
    }
    for line in &plan.missing_lines {
        outln!("  line {line}: no row of batch {id} is on that line");
    }
}
