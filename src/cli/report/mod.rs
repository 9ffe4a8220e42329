//! `payrun report BATCH`: every payee with its state, provider ids, error and what needs a
//! person — as CSV (spreadsheet-safe) or JSON for scripts, as an Excel workbook of payees and
//! totals, or as one self-contained web page for the person who approves payroll — to
//! standard output or to `--out`, a file created readable by its owner only.

mod page;
mod page_attention;
mod page_parts;
mod sheet;
#[cfg(test)]
mod tests;
mod totals;

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use super::{ReportArgs, ReportFormat};
use crate::exit::Exit;
use crate::ingest::spreadsheet_safe;
use crate::journal::{Batch, Journal, JournalError, ReportRow};

pub fn run(args: ReportArgs) -> anyhow::Result<Exit> {
    let format = format_of(args.format, args.out.as_deref());
    if format == ReportFormat::Xlsx && args.out.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!(
            "an xlsx report is a binary file and standard output is a terminal: give it a file, \
             e.g. `payrun report {} --format xlsx --out {}.xlsx`",
            args.batch,
            args.batch
        );
    }
    let journal = Journal::open_existing(&args.journal.journal)?;
    super::notice_tightened(&journal);
    let batch = journal.batch(&args.batch)?;
    match format {
        ReportFormat::Csv => csv_report(&journal, &batch, destination(args.out.as_deref())?)?,
        ReportFormat::Json => json_report(&journal, &batch, destination(args.out.as_deref())?)?,
        ReportFormat::Html => {
            let context = page::Context {
                batch: &batch,
                journal_path: &args.journal.journal,
            };
            page::write(&journal, &context, destination(args.out.as_deref())?)?;
        }
        ReportFormat::Xlsx => {
            // The workbook is built before the file is touched: a journal that cannot be read
            // leaves an earlier report in place.
            let mut workbook = sheet::build(&journal, &batch)?;
            let out = destination(args.out.as_deref())?;
            workbook
                .save_to_writer(out)
                .context("cannot write the xlsx report")?;
        }
    }
    if let Some(path) = &args.out {
        eprintln!("report of batch {} written to {}", batch.id, path.display());
    }
    Ok(Exit::Ok)
}

/// The format asked for; else the one the `--out` file's extension names; else CSV.
fn format_of(asked: Option<ReportFormat>, out: Option<&Path>) -> ReportFormat {
    let by_extension = || {
        let ext = out?.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(ReportFormat::Csv),
            "json" => Some(ReportFormat::Json),
            "xlsx" => Some(ReportFormat::Xlsx),
            "html" | "htm" => Some(ReportFormat::Html),
            _ => None,
        }
    };
    asked.or_else(by_extension).unwrap_or(ReportFormat::Csv)
}

/// `--out` (created 0600, or tightened to 0600 if it exists), else standard output.
fn destination(out: Option<&Path>) -> anyhow::Result<Box<dyn Write + Send>> {
    Ok(match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            crate::private_file::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(super::out::Stdout)),
    })
}

fn write_failed(e: impl std::fmt::Display) -> JournalError {
    JournalError::Corrupt(format!("cannot write report: {e}"))
}

fn csv_report(journal: &Journal, batch: &Batch, out: Box<dyn Write + Send>) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(ReportRow::COLUMNS)?;
    journal.report_rows(&batch.id, |r| {
        let row = r.cells();
        w.write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned()))
            .map_err(write_failed)
    })?;
    w.flush()?;
    Ok(())
}

fn json_report(
    journal: &Journal,
    batch: &Batch,
    mut out: Box<dyn Write + Send>,
) -> anyhow::Result<()> {
    let mut first = true;
    out.write_all(b"[")?;
    journal.report_rows(&batch.id, |r| {
        let sep: &[u8] = if first { b"\n" } else { b",\n" };
        first = false;
        out.write_all(sep)
            .and_then(|()| serde_json::to_writer(&mut out, &r).map_err(std::io::Error::other))
            .map_err(write_failed)
    })?;
    out.write_all(b"\n]\n")?;
    out.flush()?;
    Ok(())
}
