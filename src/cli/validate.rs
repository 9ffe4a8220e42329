//! `payrun validate`: check a payout file in one pass and tell the clerk every problem with its
//! line, the warnings, and the totals they are about to pay; optionally write the invalid rows
//! to a spreadsheet-safe rejects file. Exit 0 when every row is valid, 1 when not, 2 when the
//! file cannot be read at all.

use std::{
    io::{self, Write},
    path::Path,
};

use anyhow::{Context, bail};

use super::{InputArgs, TextOrJson, ValidateArgs};
use crate::{
    domain::Limits,
    exit::Exit,
    ingest::{IngestOptions, Ingester, RejectsWriter, open_regular, render_json, render_text},
};

/// Ingest options from the input flags (loads `--limits`); shared with `payrun run`.
pub(crate) fn ingest_options(args: &InputArgs) -> anyhow::Result<IngestOptions> {
    let limits = match &args.limits {
        Some(path) => Limits::load(path)?,
        None => Limits::default(),
    };
    let provider = args.provider()?;
    if let Some(currency) = args.currency
        && !provider.accepts(currency)
    {
        bail!(
            "--currency {currency}: {} does not pay {currency}; it pays {}",
            provider,
            provider
                .currencies()
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(IngestOptions {
        provider,
        delimiter: args.delimiter,
        default_currency: args.currency,
        amount_unit: args.amount_unit,
        limits,
        expect_count: args.expect_count,
        expect_totals: args.expect_total.clone(),
        columns: args.column.clone(),
        sheet: args.sheet.clone(),
    })
}

pub fn run(args: ValidateArgs) -> anyhow::Result<Exit> {
    let opts = ingest_options(&args.input)?;
    let path = &args.input.file;
    let shown = path.display();
    let file = open_regular(path)?;
    let len = file.metadata().map(|m| m.len()).ok();
    let mut ingester = Ingester::open(file, &opts).with_context(|| shown.to_string())?;
    if let Some(len) = len {
        ingester = ingester.file_len(len);
    }

    let mut rejects = match &args.rejects {
        Some(out) => {
            refuse_overwriting_input(path, out)?;
            let writer = RejectsWriter::create(out, ingester.headers(), ingester.delimiter())
                .with_context(|| format!("cannot create rejects file {}", out.display()))?;
            Some(writer)
        }
        None => None,
    };
    let mut write_failure: Option<io::Error> = None;
    let summary = ingester
        .run_rejected(|row| {
            if let Some(writer) = rejects.as_mut()
                && write_failure.is_none()
                && let Err(err) = writer.write(&row)
            {
                write_failure = Some(err);
            }
        })
        .with_context(|| shown.to_string())?;
    let rejects_note = match rejects {
        Some(writer) => {
            let out = writer.path().display().to_string();
            if let Some(err) = write_failure {
                return Err(err).context(format!("cannot write rejects file {out}"));
            }
            let rows = writer
                .finish()
                .with_context(|| format!("cannot write rejects file {out}"))?;
            Some(format!(
                "Rejects: {rows} invalid {} written to {out}",
                if rows == 1 { "row" } else { "rows" }
            ))
        }
        None => None,
    };

    let report = |out: &mut dyn Write| -> io::Result<()> {
        match args.format {
            TextOrJson::Json => writeln!(out, "{}", render_json(&summary))?,
            TextOrJson::Text => {
                match &summary.sheet {
                    Some(sheet) => writeln!(
                        out,
                        "{shown}, sheet {}, for {}",
                        crate::domain::Quoted(sheet),
                        opts.provider
                    )?,
                    None => writeln!(out, "{shown} for {}", opts.provider)?,
                }
                writeln!(out)?;
                render_text(&summary, out)?;
                if let Some(note) = &rejects_note {
                    writeln!(out, "{note}")?;
                }
            }
        }
        out.flush()
    };
    // `payrun validate ... | head`: the reader has seen enough; the exit code still counts.
    report(&mut super::out::Stdout).context("cannot write the report to standard output")?;
    if let (TextOrJson::Json, Some(note)) = (args.format, &rejects_note) {
        eprintln!("{note}");
    }
    Ok(if summary.is_clean() {
        Exit::Ok
    } else {
        Exit::Incomplete
    })
}

/// `--rejects` pointing at the input file would destroy it.
fn refuse_overwriting_input(input: &Path, rejects: &Path) -> anyhow::Result<()> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), rejects.canonicalize())
        && a == b
    {
        bail!(
            "--rejects {} is the input file itself; choose another file name",
            rejects.display()
        );
    }
    Ok(())
}
