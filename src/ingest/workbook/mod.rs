//! Spreadsheets read directly (README, "The payee file"): `.xlsx`, `.xls` and `.ods`
//! workbooks, recognised by their content (a zip with or without OpenDocument's `mimetype`
//! entry, or an OLE compound file), never by the file name, and read with calamine.
//!
//! One sheet is read: `--sheet NAME`, or the first visible worksheet (a warning names every
//! sheet with data when there are several). Its rows come out like CSV records: text cells, the
//! sheet's own row numbers as line numbers, blank rows skipped, the first non-blank row as the
//! header; plus, per row, the cells whose type the text does not show ([`Mark`]), which
//! `marks.rs` turns into errors on that row where they matter.
//!
//! Memory: the workbook's bytes (at most [`MAX_WORKBOOK_BYTES`]) and calamine's shared-string
//! table are held; `.xlsx` sheets are then streamed (see `produce.rs`) and never held whole.
//! `.xls` and `.ods` sheets are read whole by calamine, which is fine for the sizes those
//! formats are used at.

mod book;
mod cell;
mod marks;
mod produce;

use std::io::Read;
use std::sync::mpsc::{Receiver, sync_channel};

use calamine::{Sheet, SheetType};
use csv::StringRecord;

pub use book::MAX_WORKBOOK_BYTES;
use book::{Book, Bytes, choose, read_all, several_sheets};
pub(crate) use book::{Kind, sheet_to_read, unreadable};
pub(crate) use cell::Mark;
pub(crate) use marks::apply_marks;
use produce::{Msg, SheetRow};

use super::{IngestError, Warning};

/// Chunks of rows in flight between the reading thread and the rules.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The rows of one sheet, as they arrive from the reading thread.
pub(crate) struct SheetRows {
    kind: Kind,
    sheet: String,
    rx: Receiver<Msg>,
    chunk: std::vec::IntoIter<SheetRow>,
    /// The marks of the row just read.
    marks: Vec<(usize, Mark)>,
    ended: bool,
    warnings: Vec<Warning>,
}

impl SheetRows {
    /// Read the whole workbook (`prefix` then the rest of `input`), choose the sheet and start
    /// reading it on its own thread.
    pub(crate) fn open<R: Read>(
        kind: Kind,
        prefix: Vec<u8>,
        input: R,
        wanted: Option<&str>,
    ) -> Result<SheetRows, IngestError> {
        let bytes = read_all(prefix, input)?;
        let mut book = Book::open(kind, &bytes)?;
        let sheets = book.sheets();
        let sheet = choose(&sheets, wanted)?;
        let mut warnings = Vec::new();
        if wanted.is_none() {
            let with_data: Vec<&Sheet> = sheets
                .iter()
                .filter(|s| s.typ == SheetType::WorkSheet)
                .filter(|s| book.has_data(&s.name))
                .collect();
            if with_data.len() > 1 {
                warnings.push(several_sheets(&with_data, &sheet));
            }
        }
        let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
        let name = sheet.clone();
        std::thread::Builder::new()
            .name("payrun-sheet".into())
            .spawn(move || produce::produce(book, bytes, name, tx))
            .map_err(|source| IngestError::Read { source })?;
        Ok(SheetRows {
            kind,
            sheet,
            rx,
            chunk: Vec::new().into_iter(),
            marks: Vec::new(),
            ended: false,
            warnings,
        })
    }

    /// The sheet being read.
    pub(crate) fn sheet(&self) -> &str {
        &self.sheet
    }

    /// Warnings about the choice of sheet (handed out once).
    pub(crate) fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// The header row: its row number and cells. An empty sheet is an error naming it.
    pub(crate) fn header(&mut self) -> Result<(u64, Vec<String>), IngestError> {
        match self.next_row()? {
            Some(row) => Ok((row.row, row.record.iter().map(str::to_string).collect())),
            None => Err(IngestError::EmptySheet {
                sheet: self.sheet.clone(),
            }),
        }
    }

    /// The next non-blank row into `out`; its row number.
    pub(crate) fn read_into(&mut self, out: &mut StringRecord) -> Result<Option<u64>, IngestError> {
        Ok(self.next_row()?.map(|row| {
            *out = row.record;
            self.marks = row.marks;
            row.row
        }))
    }

    /// The marks of the row just read.
    pub(crate) fn take_marks(&mut self) -> Vec<(usize, Mark)> {
        std::mem::take(&mut self.marks)
    }

    fn next_row(&mut self) -> Result<Option<SheetRow>, IngestError> {
        loop {
            if let Some(row) = self.chunk.next() {
                return Ok(Some(row));
            }
            if self.ended {
                return Ok(None);
            }
            let msg = self.rx.recv();
            self.ended = !matches!(msg, Ok(Msg::Rows(_)));
            match msg {
                Ok(Msg::Rows(chunk)) => self.chunk = chunk.into_iter(),
                Ok(Msg::End) => return Ok(None),
                Ok(Msg::Failed(err)) => return Err(err),
                Err(_) => {
                    return Err(unreadable(
                        self.kind,
                        "the reader stopped before the end of the sheet",
                    ));
                }
            }
        }
    }
}
