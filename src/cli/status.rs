//! `payrun status [BATCH]`: where a batch stands (rows and money per state), or a table of
//! every batch in the journal. Reads the journal only.

use super::summary::BatchFigures;
use super::{StatusArgs, TextOrJson};
use crate::exit::Exit;
use crate::journal::{Batch, Journal, JournalError};

fn figures(journal: &Journal, batch: &Batch) -> Result<BatchFigures, JournalError> {
    Ok(BatchFigures::new(
        batch,
        &journal.state_counts(&batch.id)?,
        journal.conflict_count(&batch.id)?,
    ))
}

pub fn run(args: StatusArgs) -> anyhow::Result<Exit> {
    let journal = Journal::open_existing(&args.journal.journal)?;
    match &args.batch {
        Some(id) => {
            let batch = journal.batch(id)?;
            let f = figures(&journal, &batch)?;
            match args.format {
                TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&f)?),
                TextOrJson::Text => print!("{}", f.text()),
            }
        }
        None => {
            let all: Vec<BatchFigures> = journal
                .list_batches()?
                .iter()
                .map(|b| figures(&journal, b))
                .collect::<Result<_, _>>()?;
            match args.format {
                TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&all)?),
                TextOrJson::Text if all.is_empty() => {
                    println!("no batches in {}", args.journal.journal.display())
                }
                TextOrJson::Text => {
                    println!(
                        "{:<36} {:<9} {:>7}  {:<20}  states",
                        "BATCH", "PROVIDER", "ROWS", "UPDATED"
                    );
                    for f in &all {
                        let provider = if f.sandbox {
                            format!("{}*", f.provider)
                        } else {
                            f.provider.clone()
                        };
                        println!(
                            "{:<36} {:<9} {:>7}  {:<20}  {}",
                            f.batch,
                            provider,
                            f.rows,
                            f.updated_at.get(..19).unwrap_or(&f.updated_at),
                            f.states_line()
                        );
                    }
                    if all.iter().any(|f| f.sandbox) {
                        println!("* sandbox (simulated, no money moved)");
                    }
                }
            }
        }
    }
    Ok(Exit::Ok)
}
