//! Ingest and validation (README, sections "The payee file" and "Validation rules"): a
//! payout file (CSV, or a sheet of an `.xlsx`, `.xls` or `.ods` workbook) streams in, every row comes out either as a checked
//! [`PayeeRow`](crate::domain::PayeeRow) or as a [`RejectedRow`] naming each problem with its
//! physical line, and a [`Summary`] gives counts, totals and warnings.
//!
//! Layout:
//! - `open`: only regular files are read (a FIFO or `/dev/zero` would never end);
//! - `caps`: every field and row within fixed caps, whatever the file holds;
//! - `input`: CSV or workbook, told by the first bytes;
//! - `source`: bytes → records (reader settings, text/binary sniffing, delimiter detection,
//!   physical line numbers);
//! - `workbook`: a sheet → records with its row numbers, typed cells read exactly, and the
//!   cells (errors, formulas with no result, dates) that are errors on their row;
//! - `fields`: the fields payrun reads, their aliases and `--column` choices; `header`: the
//!   header row → column indices;
//! - `rules`: the per-row rules; `seen`: duplicate detection in bounded memory;
//! - `stream`: the pass over the file and the control totals; `defects`: what a cut or
//!   swallowed record and an overflowing total tell the clerk;
//! - `outcome`, `error`: what callers get back;
//! - `rejects`, `render`: the rejects file and the text/JSON report; `formula`: the guard
//!   against CSV injection for every CSV payrun writes;
//! - `sample`: large valid files for benchmarks.
//!
//! Memory is bounded by the number of problems reported, never by the number of rows or the
//! length of a value: about 44 bytes per row (per estimated row, when the file's length is known
//! and the tables are sized up front) for duplicate detection, plus the warnings and
//! errors kept for the summary; a value is read up to [`MAX_FIELD_BYTES`], a row up to
//! [`MAX_ROW_BYTES`]. A workbook adds its own bytes (at most [`MAX_WORKBOOK_BYTES`]) and its
//! shared-string table; its rows are streamed like CSV rows.

mod caps;
mod defects;
mod error;
mod fields;
mod formula;
mod header;
mod input;
mod open;
mod outcome;
mod rejects;
mod render;
mod rules;
mod sample;
mod seen;
mod source;
mod stream;
mod workbook;

#[cfg(test)]
mod tests;

use std::{io::Read, path::Path};

pub use caps::{MAX_FIELD_BYTES, MAX_ROW_BYTES};
pub use error::IngestError;
pub use fields::{ColumnChoice, ColumnChoiceError};
pub use formula::spreadsheet_safe;
pub use open::open_regular;
pub use outcome::{
    OperatorTotal, RejectedRow, RowError, RowOutcome, Summary, Warning, WarningKind,
};
pub use rejects::RejectsWriter;
pub use render::{render_json, render_text, render_warnings};
pub use rules::MAX_DESCRIPTION_CHARS;
pub use sample::write_sample;
pub use stream::Ingester;
pub use workbook::MAX_WORKBOOK_BYTES;

use crate::domain::{AmountUnit, Currency, Limits, Money, ProviderKind};

/// How to read and judge a file; built by the CLI from `InputArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOptions {
    pub provider: ProviderKind,
    /// Column delimiter; `None` detects `,`, `;` or tab from the header line.
    pub delimiter: Option<u8>,
    /// Currency for rows whose currency cell is empty or absent (`--currency`).
    pub default_currency: Option<Currency>,
    /// How the `amount` column is written (`amount_minor` is always minor units).
    pub amount_unit: AmountUnit,
    pub limits: Limits,
    /// `--expect-count`: the number of data rows the file must have.
    pub expect_count: Option<u64>,
    /// `--expect-total`: the total of the valid rows per currency.
    pub expect_totals: Vec<Money>,
    /// `--column FIELD="Header"`: headers no alias covers.
    pub columns: Vec<ColumnChoice>,
    /// `--sheet NAME`: the sheet of a workbook to read (default: the first visible one).
    pub sheet: Option<String>,
}

impl IngestOptions {
    /// Defaults for a provider: detected delimiter, major units, no limits, no controls.
    pub fn new(provider: ProviderKind) -> IngestOptions {
        IngestOptions {
            provider,
            delimiter: None,
            default_currency: None,
            amount_unit: AmountUnit::Major,
            limits: Limits::default(),
            expect_count: None,
            expect_totals: Vec::new(),
            columns: Vec::new(),
            sheet: None,
        }
    }
}

/// Check a whole file in one pass. `on_row` is called once per data row, in file order, as the
/// file streams. On `Err` (e.g. a line that is not UTF-8 halfway through) the caller must
/// discard the rows it was given.
pub fn ingest<R: Read>(
    input: R,
    opts: &IngestOptions,
    on_row: impl FnMut(RowOutcome),
) -> Result<Summary, IngestError> {
    Ingester::open(input, opts)?.run(on_row)
}

/// The sheet of a workbook that [`ingest`] reads with `wanted` (`--sheet`), or its first
/// visible worksheet; `None` for CSV text (where a `wanted` sheet is an error). Reads the
/// whole workbook but none of its rows.
pub fn sheet_to_read<R: Read>(
    input: R,
    wanted: Option<&str>,
) -> Result<Option<String>, IngestError> {
    input::sheet_to_read(input, wanted)
}

/// [`ingest`] a file by path.
pub fn ingest_path(
    path: &Path,
    opts: &IngestOptions,
    on_row: impl FnMut(RowOutcome),
) -> Result<Summary, IngestError> {
    let file = open_regular(path)?;
    let len = file.metadata().map(|m| m.len()).ok();
    let ingester = Ingester::open(file, opts)?;
    match len {
        Some(len) => ingester.file_len(len),
        None => ingester,
    }
    .run(on_row)
}
