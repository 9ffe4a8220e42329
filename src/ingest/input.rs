//! Which reader a payee file needs, decided by its first bytes: a workbook (`.xlsx`, `.xls`,
//! `.ods`) goes to `workbook`, anything else to the CSV reader of `source` (which refuses what
//! is not CSV text). Either way the pass over the file (`stream.rs`) sees the same thing: a
//! header, then non-blank records with their line numbers (a sheet's row numbers), plus what
//! only one kind of input has: the defects of a cut CSV record, the marks of a sheet's cells.

use std::io::Read;

use csv::StringRecord;

use super::caps::Defect;
use super::source::{Records, cells, sniff};
use super::workbook::{Kind, Mark, SheetRows};
use super::{IngestError, IngestOptions, Warning};

/// The delimiter reported for a workbook (and used for its rejects file).
const SHEET_DELIMITER: u8 = b',';

/// The sheet a workbook is read at (`--sheet`, or its first visible worksheet); `None` for CSV
/// text, where `--sheet` is refused.
pub(crate) fn sheet_to_read<R: Read>(
    mut input: R,
    wanted: Option<&str>,
) -> Result<Option<String>, IngestError> {
    let prefix = sniff(&mut input)?;
    match (Kind::sniff(&prefix), wanted) {
        (Some(kind), _) => super::workbook::sheet_to_read(kind, prefix, input, wanted).map(Some),
        (None, Some(sheet)) => Err(IngestError::SheetForCsv {
            sheet: sheet.to_string(),
        }),
        (None, None) => Ok(None),
    }
}

/// One per file, never moved around in bulk: the CSV reader's size does not matter here.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Source<R: Read> {
    Csv(Records<R>),
    Sheet(SheetRows),
}

impl<R: Read> Source<R> {
    /// Look at the start of `input` and open the reader it needs. `--sheet` is refused for CSV
    /// text and `--delimiter` for a workbook.
    pub(crate) fn open(mut input: R, opts: &IngestOptions) -> Result<Source<R>, IngestError> {
        let prefix = sniff(&mut input)?;
        match Kind::sniff(&prefix) {
            Some(kind) => {
                if opts.delimiter.is_some() {
                    return Err(IngestError::DelimiterForWorkbook { kind: kind.name() });
                }
                let rows = SheetRows::open(kind, prefix, input, opts.sheet.as_deref())?;
                Ok(Source::Sheet(rows))
            }
            None => {
                if let Some(sheet) = &opts.sheet {
                    return Err(IngestError::SheetForCsv {
                        sheet: sheet.clone(),
                    });
                }
                Ok(Source::Csv(Records::from_prefix(
                    prefix,
                    input,
                    opts.delimiter,
                )?))
            }
        }
    }

    /// The header row: its line and cells as written. A CSV header cut by the caps is refused.
    pub(crate) fn header(&mut self) -> Result<(u64, Vec<String>), IngestError> {
        match self {
            Source::Csv(records) => {
                let (line, headers) = match records.next_record()? {
                    Some((line, record)) => (line, cells(record)),
                    None => return Err(IngestError::Empty),
                };
                if let Some(defect) = records.take_defect() {
                    return Err(super::defects::header_defect(line, &defect));
                }
                Ok((line, headers))
            }
            Source::Sheet(rows) => rows.header(),
        }
    }

    /// Warnings about the input itself (which sheet was read), handed out once.
    pub(crate) fn take_warnings(&mut self) -> Vec<Warning> {
        match self {
            Source::Csv(_) => Vec::new(),
            Source::Sheet(rows) => rows.take_warnings(),
        }
    }

    /// The next non-blank record into `out`; its line.
    pub(crate) fn read_into(&mut self, out: &mut StringRecord) -> Result<Option<u64>, IngestError> {
        match self {
            Source::Csv(records) => records.read_into(out),
            Source::Sheet(rows) => rows.read_into(out),
        }
    }

    /// The defect of the CSV record just read (see [`Records::take_defect`]).
    pub(crate) fn take_defect(&mut self) -> Option<Defect> {
        match self {
            Source::Csv(records) => records.take_defect(),
            Source::Sheet(_) => None,
        }
    }

    /// The marked cells of the sheet row just read.
    pub(crate) fn take_marks(&mut self) -> Vec<(usize, Mark)> {
        match self {
            Source::Csv(_) => Vec::new(),
            Source::Sheet(rows) => rows.take_marks(),
        }
    }

    pub(crate) fn delimiter(&self) -> u8 {
        match self {
            Source::Csv(records) => records.delimiter(),
            Source::Sheet(_) => SHEET_DELIMITER,
        }
    }

    /// How far into a CSV file the records read so far reach, in bytes (`None` for a
    /// workbook, whose rows are not laid out in its bytes).
    pub(crate) fn position(&self) -> Option<u64> {
        match self {
            Source::Csv(records) => Some(records.position()),
            Source::Sheet(_) => None,
        }
    }

    /// The sheet read, for a workbook.
    pub(crate) fn sheet(&self) -> Option<&str> {
        match self {
            Source::Csv(_) => None,
            Source::Sheet(rows) => Some(rows.sheet()),
        }
    }
}
