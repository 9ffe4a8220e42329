//! `payrun cancel BATCH`: withdraw a batch. Every row still `planned` becomes `cancelled` and is
//! never sent by `run`, `resume` or `retry`; rows that may already be with the provider are
//! listed with the command that settles them. A batch another live payrun is sending is
//! refused, naming that process.

use super::CancelArgs;
use super::summary::{grouped, major, printable};
use crate::domain::RowState;
use crate::exit::{Exit, Refused};
use crate::journal::{Journal, JournalError};

/// Rows that may be with the provider listed one per line; the rest are counted.
const LISTED: usize = 50;

pub fn run(args: CancelArgs) -> anyhow::Result<Exit> {
    let path = &args.journal.journal;
    let mut journal = Journal::open_existing(path)?;
    super::notice_tightened(&journal);
    let batch = journal.batch(&args.batch)?;
    let id = batch.id.clone();
    let (token, taken_over) = match journal.acquire_lock(&id) {
        Ok(lock) => lock,
        Err(e @ (JournalError::Locked { .. } | JournalError::Busy)) => {
            return Err(Refused(format!("{e}. Nothing was cancelled.")).into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(old) = taken_over {
        eprintln!(
            "note: took over batch {id} from payrun pid {} on {} (no sign of life for {} s)",
            old.pid,
            old.host,
            old.age_ms / 1000
        );
    }
    let result = cancel(&mut journal, &args, &token);
    if let Err(e) = journal.release_lock(&id, &token) {
        tracing::warn!("could not release the batch lock: {e}");
    }
    result
}

fn cancel(
    journal: &mut Journal,
    args: &CancelArgs,
    token: &crate::journal::LockToken,
) -> anyhow::Result<Exit> {
    let id = args.batch.as_str();
    let planned: Vec<_> = journal
        .open_counts(id)?
        .into_iter()
        .filter(|c| c.state == RowState::Planned)
        .collect();
    let rows: u64 = planned.iter().map(|c| c.rows).sum();
    outln!("Cancel batch {id}: {rows} payout(s) not sent yet will never be sent");
    for c in &planned {
        outln!(
            "  {} {} in {} payout(s)",
            c.currency,
            grouped(&major(c.amount_minor, &c.currency)),
            c.rows
        );
    }
    if !confirm(args.yes, rows)? {
        return Err(Refused("not confirmed; nothing was cancelled".into()).into());
    }
    let done = journal.cancel_batch(id, token, LISTED)?;
    outln!(
        "Cancelled batch {id}: {} payout(s) withdrawn; nothing more is sent in this batch.",
        done.cancelled
    );
    let journal_path = args.journal.journal.display();
    if done.in_doubt_total > 0 {
        outln!(
            "{} payout(s) may already be with the provider (sent, answer not known); this settles them: \
             payrun reconcile {id} --journal {journal_path}",
            done.in_doubt_total
        );
        for r in &done.in_doubt {
            outln!(
                "  line {}{} ({})",
                r.line,
                r.reference
                    .as_deref()
                    .map(|r| format!(" {}", printable(r)))
                    .unwrap_or_default(),
                r.state.as_str().replace('_', " ")
            );
        }
        let more = done.in_doubt_total - done.in_doubt.len() as u64;
        if more > 0 {
            outln!("  ... and {more} more (`payrun report {id}` lists every row)");
        }
    }
    if done.accepted > 0 {
        outln!(
            "{} payout(s) are with the provider (accepted); their final state arrives by webhook \
             (payrun listen) or: payrun reconcile {id} --journal {journal_path}",
            done.accepted
        );
    }
    Ok(Exit::Ok)
}

/// `--yes`, or a `yes` typed on a terminal.
fn confirm(yes: bool, rows: u64) -> anyhow::Result<bool> {
    use std::io::{IsTerminal, Write};
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Refused(
            "not on a terminal, so payrun cannot ask for confirmation; add --yes to cancel. Nothing was cancelled."
                .into(),
        )
        .into());
    }
    eprint!("Withdraw {rows} payout(s) for good? Type yes to continue: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().eq_ignore_ascii_case("yes"))
}
