//! `payrun report BATCH`: one line per payee with its state, key, provider ids, error and
//! what needs a person, as CSV (spreadsheet-safe) or JSON, to stdout or `--out`.

use std::io::Write;

use anyhow::Context;

use super::{CsvOrJson, ReportArgs};
use crate::exit::Exit;
use crate::journal::{Journal, JournalError, ReportRow};

const HEADER: [&str; 15] = [
    "line",
    "reference",
    "phone",
    "amount",
    "currency",
    "state",
    "key",
    "provider",
    "provider_reference",
    "request_id",
    "failover_reason",
    "error",
    "attempts",
    "updated_at",
    // Added after the others, so scripts reading columns by position keep working.
    "attention",
];

/// Prefix a cell a spreadsheet would treat as a formula (`=`, `+`, `-`, `@`, tab, CR).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn cells(r: &ReportRow) -> [String; 15] {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    [
        r.line.to_string(),
        opt(&r.reference),
        r.phone.clone(),
        r.amount.clone(),
        r.currency.clone(),
        r.state.to_string(),
        opt(&r.key),
        opt(&r.provider),
        opt(&r.provider_reference),
        opt(&r.request_id),
        opt(&r.failover_reason),
        opt(&r.error),
        r.attempts.to_string(),
        r.updated_at.clone(),
        opt(&r.attention),
    ]
}

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
            w.write_record(HEADER)?;
            journal.report_rows(&batch.id, |r| {
                let row = cells(&r);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_cells() {
        assert_eq!(spreadsheet_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(spreadsheet_safe("+256700"), "'+256700");
        assert_eq!(spreadsheet_safe("-5"), "'-5");
        assert_eq!(spreadsheet_safe("@x"), "'@x");
        assert_eq!(spreadsheet_safe("256700123456"), "256700123456");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
