//! `payrun status [BATCH]`: where a batch stands (rows and money per state, the rows that
//! need a person, how its last run ended and the exact command to run next), or a table of
//! every batch in the journal. Reads the journal only. Times in local time with the offset.

use std::path::Path;

use super::clock;
use super::next_step::{last_run, next_command};
use super::summary::BatchFigures;
use super::{StatusArgs, TextOrJson};
use crate::exit::Exit;
use crate::journal::{Batch, Journal, JournalError};

/// Rows that need a person listed by `status BATCH`; the rest are counted (`report` lists all).
const ATTENTION_LISTED: usize = 20;

/// A batch's figures, its last run and next command; with `list`, the first rows that need a
/// person too.
fn figures(
    journal: &Journal,
    batch: &Batch,
    list: bool,
    path: &Path,
) -> Result<BatchFigures, JournalError> {
    let figures = BatchFigures::new(
        batch,
        &journal.state_counts(&batch.id)?,
        journal.conflict_count(&batch.id)?,
    );
    let attention = journal.attention_count(&batch.id)?;
    let rows = if list {
        Some(journal.attention_rows(&batch.id, ATTENTION_LISTED)?)
    } else {
        None
    };
    let mut f = figures
        .with_attention(attention, rows)
        .with_approvals(journal.approvals(&batch.id)?);
    f.retried = journal
        .retried_counts(&batch.id)?
        .into_iter()
        .map(|(attempt, rows)| (attempt.to_string(), rows))
        .collect();
    let holder = journal.lock_holder(&batch.id)?;
    f.last_run = last_run(batch, holder.as_ref());
    let retryable = journal.retryable_count(&batch.id)?;
    f.next = next_command(batch, &f, retryable, holder.as_ref(), path);
    f.next_text = f.next.is_none().then(|| match &holder {
        Some(h) if h.live => format!("wait: payrun pid {} on {} is on this batch", h.pid, h.host),
        _ if f.attention > 0 => {
            "none by payrun: a person must check the rows above with the provider".into()
        }
        _ => "nothing to do".into(),
    });
    Ok(f)
}

pub fn run(args: StatusArgs) -> anyhow::Result<Exit> {
    let path = &args.journal.journal;
    let journal = Journal::open_existing(path)?;
    super::notice_tightened(&journal);
    match &args.batch {
        Some(id) => {
            let batch = journal.batch(id)?;
            let f = figures(&journal, &batch, true, path)?;
            match args.format {
                TextOrJson::Json => outln!("{}", serde_json::to_string_pretty(&f)?),
                TextOrJson::Text => {
                    out!("{}", f.text());
                    outln!(
                        "  planned {}, updated {}",
                        clock::local(batch.created_at),
                        clock::local(batch.updated_at)
                    );
                }
            }
        }
        None => {
            let batches = journal.list_batches()?;
            let all: Vec<BatchFigures> = batches
                .iter()
                .map(|b| figures(&journal, b, false, path))
                .collect::<Result<_, _>>()?;
            match args.format {
                TextOrJson::Json => outln!("{}", serde_json::to_string_pretty(&all)?),
                TextOrJson::Text if all.is_empty() => {
                    outln!("no batches in {}", path.display())
                }
                TextOrJson::Text => {
                    outln!(
                        "{:<36} {:<9} {:>7}  {:<26}  {:<20}  states",
                        "BATCH",
                        "PROVIDER",
                        "ROWS",
                        "UPDATED",
                        "LAST RUN"
                    );
                    for (f, b) in all.iter().zip(&batches) {
                        let provider = if f.sandbox {
                            format!("{}*", f.provider)
                        } else {
                            f.provider.clone()
                        };
                        let ended = f.last_run.as_ref().map_or("-".to_string(), |r| {
                            format!("{} {}", r.command, r.end.replace('_', " "))
                        });
                        outln!(
                            "{:<36} {:<9} {:>7}  {:<26}  {:<20}  {}",
                            f.batch,
                            provider,
                            f.rows,
                            clock::local(b.updated_at),
                            ended,
                            match f.approvers() {
                                Some(approved) =>
                                    format!("{}; {approved}", f.states_and_attention()),
                                None => f.states_and_attention(),
                            }
                        );
                        if let Some(next) = &f.next {
                            outln!("    next: {next}");
                        }
                    }
                    if all.iter().any(|f| f.sandbox) {
                        outln!("* sandbox (simulated, no money moved)");
                    }
                }
            }
        }
    }
    Ok(Exit::Ok)
}
