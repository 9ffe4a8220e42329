//! CSV ingest and validation (README, sections "The CSV format" and "Validation rules"): a
//! payout file streams in, every row comes out either as a checked
//! [`PayeeRow`](crate::domain::PayeeRow) or as a [`RejectedRow`] naming each problem with its
//! physical line, and a [`Summary`] gives counts, totals and warnings.
//!
//! Layout:
//! - `open`: only regular files are read (a FIFO or `/dev/zero` would never end);
//! - `caps`: every field and row within fixed caps, whatever the file holds;
//! - `source`: bytes → records (reader settings, text/binary sniffing, delimiter detection,
//!   physical line numbers);
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
//! length of a value: about 40 bytes per row for duplicate detection, plus the warnings and
//! errors kept for the summary; a value is read up to [`MAX_FIELD_BYTES`], a row up to
//! [`MAX_ROW_BYTES`].

mod caps;
mod defects;
mod error;
mod fields;
mod formula;
mod header;
mod open;
mod outcome;
mod rejects;
mod render;
mod rules;
mod sample;
mod seen;
mod source;
mod stream;

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
pub use render::{render_json, render_text};
pub use rules::MAX_DESCRIPTION_CHARS;
pub use sample::write_sample;
pub use stream::Ingester;

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

/// [`ingest`] a file by path.
pub fn ingest_path(
    path: &Path,
    opts: &IngestOptions,
    on_row: impl FnMut(RowOutcome),
) -> Result<Summary, IngestError> {
    ingest(open_regular(path)?, opts, on_row)
}
