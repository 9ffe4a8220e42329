//! `payrun reconcile BATCH`: ask the provider for the final state of every accepted or
//! in-doubt payout, record what changed, and say so in a few lines: the counts by outcome, the
//! rows that became failed with the provider's reason, and what still needs a person (rows it
//! could not settle, and every row of the batch an answer or callback contradicted). Exit 1
//! when any row became failed or needs a person. `--verbose` lists every row checked.

use std::num::NonZeroU32;

use super::ReconcileArgs;
use super::reconcile_progress::ReconcileProgress;
use super::summary::attention_line;
use crate::batch::reconcile::{self, Flagged, ReconcileReport};
use crate::domain::RowState;
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
    if args.verbose {
        print_every_row(&done.report);
    } else if done.report.checked > 0 {
        outln!("(--verbose lists every row checked)");
    }
    let failed = done.report.became_failed().count();
    Ok(if needs_a_person == 0 && failed == 0 {
        Exit::Ok
    } else {
        Exit::Incomplete
    })
}

/// Rows listed at most per section; the rest are counted.
const SHOWN: usize = 50;

/// Print what reconcile did, the rows that failed and what needs a person; returns how many
/// rows need one.
fn print_report(batch: &Batch, report: &ReconcileReport, flagged: &Flagged) -> u64 {
    outln!(
        "Reconciled batch {}: checked {} payout(s)",
        batch.id,
        report.checked
    );
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
        "  {} changed{}, {} still pending at the provider, {} unchanged, {} need a person",
        report.changes.len(),
        changed_to(report),
        report.still_pending,
        report.unchanged.len(),
        needs_a_person
    );
    print_failed(batch, report);
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

/// `" (4 succeeded, 1 failed)"`: what the changed rows became; empty when none changed.
fn changed_to(report: &ReconcileReport) -> String {
    let mut by_state: std::collections::BTreeMap<RowState, usize> = Default::default();
    for c in &report.changes {
        *by_state.entry(c.to).or_default() += 1;
    }
    if by_state.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = by_state
        .iter()
        .map(|(state, n)| match state {
            RowState::Accepted => format!("{n} accepted, pending at the provider"),
            state => format!("{n} {state}"),
        })
        .collect();
    format!(" ({})", parts.join(", "))
}

/// The rows that became failed, each with the reason the journal holds (the provider's words
/// when it gave any).
fn print_failed(batch: &Batch, report: &ReconcileReport) {
    let failed: Vec<_> = report.became_failed().collect();
    if failed.is_empty() {
        return;
    }
    outln!("Failed ({}): the provider did not pay them", failed.len());
    for c in failed.iter().take(SHOWN) {
        outln!(
            "  line {} {}: {}",
            c.line,
            c.reference.as_deref().unwrap_or("-"),
            c.reason.as_deref().unwrap_or("no reason recorded")
        );
    }
    if failed.len() > SHOWN {
        outln!(
            "  ... and {} more: `payrun report {}` lists them all (column error)",
            failed.len() - SHOWN,
            batch.id
        );
    }
    outln!(
        "  to pay them again, each under a new key: payrun retry {}",
        batch.id
    );
}

/// `--verbose`: every row checked, in file order, with what became of it.
fn print_every_row(report: &ReconcileReport) {
    let reference = |r: &Option<String>| r.as_deref().unwrap_or("-").to_owned();
    let mut rows: Vec<(u64, String)> = Vec::with_capacity(report.checked as usize);
    for c in &report.changes {
        rows.push((
            c.line,
            format!(
                "{} {}: {} → {}",
                c.line,
                reference(&c.reference),
                c.from,
                c.to
            ),
        ));
    }
    for (seen, what) in [
        (&report.pending, "still pending at the provider"),
        (&report.unchanged, "unchanged"),
    ] {
        for s in seen {
            rows.push((
                s.line,
                format!(
                    "{} {}: {}, {what}",
                    s.line,
                    reference(&s.reference),
                    s.state
                ),
            ));
        }
    }
    for a in &report.attention {
        rows.push((
            a.line,
            format!(
                "{} {}: needs a person: {}",
                a.line,
                reference(&a.reference),
                a.why
            ),
        ));
    }
    rows.sort_by_key(|(line, _)| *line);
    outln!("Every row checked:");
    for (_, text) in rows {
        outln!("  line {text}");
    }
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
