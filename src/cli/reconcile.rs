//! `payrun reconcile BATCH`: ask the provider for the final state of every accepted or
//! in-doubt payout, record what changed, and list what still needs a person: rows it could not
//! settle, and every row of the batch an answer or callback contradicted (exit 1 if any).

use std::num::NonZeroU32;

use super::ReconcileArgs;
use super::reconcile_progress::ReconcileProgress;
use super::summary::attention_line;
use crate::batch::reconcile::{self, Flagged, ReconcileReport};
use crate::exit::Exit;
use crate::journal::{AttentionRow, Batch};

pub fn run(args: ReconcileArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(run_async(args, settings))
}

async fn run_async(
    args: ReconcileArgs,
    settings: &super::config::Settings,
) -> anyhow::Result<Exit> {
    let rate = NonZeroU32::new(args.rate).unwrap_or(NonZeroU32::MIN);
    let concurrency = usize::try_from(args.concurrency).unwrap_or(4);
    let observer = ReconcileProgress::new("reconcile", None);
    let done = reconcile::reconcile_batch(
        &args.journal.journal,
        &args.batch,
        rate,
        concurrency,
        SHOWN,
        &observer,
        super::notice_tightened,
        |kind| settings.provider_config(kind),
    )
    .await?;
    let needs_a_person = print_report(&done.batch, &done.report, &done.flagged);
    Ok(if needs_a_person == 0 {
        Exit::Ok
    } else {
        Exit::Incomplete
    })
}

/// Rows listed at most per section; the rest are counted.
const SHOWN: usize = 50;

/// Print what reconcile did and what needs a person; returns how many rows need one.
fn print_report(batch: &Batch, report: &ReconcileReport, flagged: &Flagged) -> u64 {
    outln!(
        "Reconciled batch {}: checked {} payout(s)",
        batch.id,
        report.checked
    );
    for c in report.changes.iter().take(SHOWN) {
        outln!(
            "  line {} {}: {} → {}",
            c.line,
            c.reference.as_deref().unwrap_or("-"),
            c.from,
            c.to
        );
    }
    if report.changes.len() > SHOWN {
        outln!("  ... and {} more change(s)", report.changes.len() - SHOWN);
    }
    // A row reconcile could not settle may be marked too: count it once.
    let unmarked: Vec<_> = report
        .attention
        .iter()
        .filter(|a| {
            !flagged
                .rows
                .iter()
                .any(|f| f.line == a.line && f.reference == a.reference)
        })
        .collect();
    let needs_a_person = flagged.count + unmarked.len() as u64;
    outln!(
        "  {} changed, {} still pending at the provider, {} need a person",
        report.changes.len(),
        report.still_pending,
        needs_a_person
    );
    if needs_a_person == 0 {
        return 0;
    }
    outln!("Needs a person:");
    for a in &unmarked {
        outln!(
            "  line {} {}: {}",
            a.line,
            a.reference.as_deref().unwrap_or("-"),
            a.why
        );
    }
    for f in &flagged.rows {
        outln!("  {}", attention_line(f));
        outln!("    next: {}", next_step(batch, f));
    }
    let more = flagged.count.saturating_sub(flagged.rows.len() as u64);
    if more > 0 {
        outln!(
            "  ... and {more} more the provider contradicted: `payrun report {}` lists them all \
             (column attention)",
            batch.id
        );
    }
    needs_a_person
}

/// What to do with a row the provider contradicted.
fn next_step(batch: &Batch, row: &AttentionRow) -> String {
    let provider = batch.provider.name();
    let payout = match (&row.provider_id, &row.key) {
        (Some(id), _) => format!("payout {id}"),
        (None, Some(key)) => format!("the payout with reference {key}"),
        (None, None) => "this payout".to_owned(),
    };
    format!(
        "ask {provider} what {payout} paid, to whom, and whether it is final; do not pay it \
         again (even if it shows failed) until {provider} confirms it was not paid"
    )
}
