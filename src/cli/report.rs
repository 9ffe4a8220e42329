//! `payrun report BATCH`: one line per payee with its state, key, provider ids, error and
//! what needs a person, as CSV (spreadsheet-safe) or JSON, to stdout or `--out`.

use std::io::Write;

use anyhow::Context;

use super::{CsvOrJson, ReportArgs};
use crate::exit::Exit;
use crate::ingest::spreadsheet_safe;
use crate::journal::{Journal, JournalError, ReportRow};

pub fn run(args: ReportArgs) -> anyhow::Result<Exit> {
    let journal = Journal::open_existing(&args.journal.journal)?;
    super::notice_tightened(&journal);
    let batch = journal.batch(&args.batch)?;
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            crate::private_file::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(super::out::Stdout)),
    };
    match args.format {
        CsvOrJson::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(ReportRow::COLUMNS)?;
            journal.report_rows(&batch.id, |r| {
                let row = r.cells();
                w.write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned()))
                    .map_err(|e| JournalError::Corrupt(format!("cannot write report: {e}")))
            })?;
            w.flush()?;
        }
        CsvOrJson::Json => {
            let mut out = out;
            let mut first = true;
            out.write_all(b"[")?;
            journal.report_rows(&batch.id, |r| {
                let sep: &[u8] = if first { b"\n" } else { b",\n" };
                first = false;
                out.write_all(sep)
                    .and_then(|()| {
                        serde_json::to_writer(&mut out, &r).map_err(std::io::Error::other)
                    })
                    .map_err(|e| JournalError::Corrupt(format!("cannot write report: {e}")))
            })?;
            out.write_all(b"\n]\n")?;
            out.flush()?;
        }
    }
    if let Some(path) = &args.out {
        eprintln!("report of batch {} written to {}", batch.id, path.display());
    }
    Ok(Exit::Ok)
}
