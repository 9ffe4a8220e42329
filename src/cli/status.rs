//! `payrun status [BATCH]`: where a batch stands (rows and money per state, and the rows that
//! need a person), or a table of every batch in the journal. Reads the journal only.

use super::summary::BatchFigures;
use super::{StatusArgs, TextOrJson};
use crate::exit::Exit;
use crate::journal::{Batch, Journal, JournalError};

/// Rows that need a person listed by `status BATCH`; the rest are counted (`report` lists all).
const ATTENTION_LISTED: usize = 20;

/// A batch's figures; with `list`, the first rows that need a person too.
fn figures(journal: &Journal, batch: &Batch, list: bool) -> Result<BatchFigures, JournalError> {
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
    Ok(figures
        .with_attention(attention, rows)
        .with_approvals(journal.approvals(&batch.id)?))
}

pub fn run(args: StatusArgs) -> anyhow::Result<Exit> {
    let journal = Journal::open_existing(&args.journal.journal)?;
    super::notice_tightened(&journal);
    match &args.batch {
        Some(id) => {
            let batch = journal.batch(id)?;
            let f = figures(&journal, &batch, true)?;
            match args.format {
                TextOrJson::Json => outln!("{}", serde_json::to_string_pretty(&f)?),
                TextOrJson::Text => out!("{}", f.text()),
            }
        }
        None => {
            let all: Vec<BatchFigures> = journal
                .list_batches()?
                .iter()
                .map(|b| figures(&journal, b, false))
                .collect::<Result<_, _>>()?;
            match args.format {
                TextOrJson::Json => outln!("{}", serde_json::to_string_pretty(&all)?),
                TextOrJson::Text if all.is_empty() => {
                    outln!("no batches in {}", args.journal.journal.display())
                }
                TextOrJson::Text => {
                    outln!(
                        "{:<36} {:<9} {:>7}  {:<20}  states",
                        "BATCH",
                        "PROVIDER",
                        "ROWS",
                        "UPDATED"
                    );
                    for f in &all {
                        let provider = if f.sandbox {
                            format!("{}*", f.provider)
                        } else {
                            f.provider.clone()
                        };
                        outln!(
                            "{:<36} {:<9} {:>7}  {:<20}  {}",
                            f.batch,
                            provider,
                            f.rows,
                            f.updated_at.get(..19).unwrap_or(&f.updated_at),
                            match f.approvers() {
                                Some(approved) =>
                                    format!("{}; {approved}", f.states_and_attention()),
                                None => f.states_and_attention(),
                            }
                        );
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
