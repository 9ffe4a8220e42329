//! The reading side of a sheet, on its own thread: cells in sheet order become rows (text
//! records with their sheet row numbers and the [`Mark`]s of their cells), sent in chunks over a
//! bounded channel, so a million-row sheet is never held whole and parsing the XML overlaps with
//! checking the rows.
//!
//! `.xlsx` sheets are streamed cell by cell (calamine's `worksheet_cells_reader`). Such a
//! stream gives a formula that has no saved result as an empty cell; to tell the two apart, an
//! empty cell inside the table is looked up in a second, formula-only stream of the same sheet,
//! started the first time an empty cell is met and advanced in step with the first (so at most
//! one more pass over the sheet, and none for a sheet without empty cells). `.xls` and `.ods`
//! sheets are read whole by calamine; their formulas come as a second range.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::SyncSender;

use calamine::{Cell, Data, DataRef, Range, Reader, Xlsx, XlsxError};
use csv::StringRecord;

use super::cell::{self, Mark, Value};
use super::{Book, Bytes, Kind, unreadable};
use crate::ingest::{IngestError, MAX_ROW_BYTES};

/// Rows sent together.
const CHUNK_ROWS: usize = 256;
/// A chunk also goes once its text holds this many bytes.
const CHUNK_BYTES: usize = 1024 * 1024;

/// One non-blank row of the sheet.
#[derive(Debug)]
pub(crate) struct SheetRow {
    /// The row number the spreadsheet shows (1-based).
    pub row: u64,
    /// The cell texts, as wide as the header (the header row: up to its last non-empty cell).
    pub record: StringRecord,
    /// Cells whose text does not tell everything, by column index.
    pub marks: Vec<(usize, Mark)>,
}

/// What the reading thread sends.
pub(crate) enum Msg {
    Rows(Vec<SheetRow>),
    /// Every row was sent.
    End,
    Failed(IngestError),
}

/// Read `sheet` of `book` and send its rows; ends with [`Msg::End`] or [`Msg::Failed`]. Stops
/// early, quietly, when the receiver is gone.
pub(super) fn produce(book: Book, bytes: Bytes, sheet: String, tx: SyncSender<Msg>) {
    let mut out = Emitter {
        tx,
        chunk: Vec::with_capacity(CHUNK_ROWS),
        bytes: 0,
    };
    let kind = book.kind();
    let mut rows = RowBuilder::default();
    let result = catch_unwind(AssertUnwindSafe(|| match book {
        Book::Xlsx(mut book) => stream_xlsx(&mut book, &bytes, &sheet, &mut rows, &mut out),
        Book::Xls(mut book) => {
            let range = book
                .worksheet_range(&sheet)
                .map_err(|e| unreadable(kind, e))?;
            let formulas = book.worksheet_formula(&sheet).ok();
            stream_range(&range, formulas.as_ref(), false, &mut rows, &mut out);
            Ok(())
        }
        Book::Ods(mut book) => {
            let range = book
                .worksheet_range(&sheet)
                .map_err(|e| unreadable(kind, e))?;
            let formulas = book.worksheet_formula(&sheet).ok();
            stream_range(&range, formulas.as_ref(), true, &mut rows, &mut out);
            Ok(())
        }
    }));
    let result = result.unwrap_or_else(|_| Err(unreadable(kind, "the reader failed")));
    out.end(result);
}

/// Rows into chunks into the channel.
struct Emitter {
    tx: SyncSender<Msg>,
    chunk: Vec<SheetRow>,
    bytes: usize,
}

impl Emitter {
    /// Queue one row; false once nobody reads any more.
    fn push(&mut self, row: SheetRow) -> bool {
        self.bytes += row.record.as_byte_record().as_slice().len();
        self.chunk.push(row);
        if self.chunk.len() >= CHUNK_ROWS || self.bytes >= CHUNK_BYTES {
            return self.send_chunk();
        }
        true
    }

    fn send_chunk(&mut self) -> bool {
        if self.chunk.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_ROWS));
        self.bytes = 0;
        self.tx.send(Msg::Rows(chunk)).is_ok()
    }

    fn end(mut self, result: Result<(), IngestError>) {
        let sent = self.send_chunk();
        let last = match result {
            Ok(()) => Msg::End,
            Err(err) => Msg::Failed(err),
        };
        if sent {
            let _ = self.tx.send(last);
        }
    }
}

/// Cells in sheet order → rows. The first non-blank row is the header and sets the width:
/// cells to the right of the header's last non-empty cell are not read.
#[derive(Default)]
struct RowBuilder {
    width: Option<usize>,
    /// The row being built (0-based, as calamine counts).
    row: Option<u32>,
    fields: Vec<String>,
    marks: Vec<(usize, Mark)>,
    /// Bytes of text in the row so far, to keep a row within [`MAX_ROW_BYTES`].
    row_bytes: usize,
    /// The receiver is gone: nothing more to do.
    stopped: bool,
}

impl RowBuilder {
    /// The next cell is on `row`: finish the row before when it is another. False once nobody
    /// reads any more.
    fn enter(&mut self, row: u32, out: &mut Emitter) -> bool {
        if self.row != Some(row) {
            self.flush(out);
            self.row = Some(row);
        }
        !self.stopped
    }

    /// A data cell of the table (not the header, not right of it).
    fn in_table(&self, column: u32) -> bool {
        self.width.is_some_and(|width| (column as usize) < width)
    }

    /// The cell at `column` of the current row; `found` is what its formula says when that
    /// replaces the value (no saved result, an unknown one).
    fn put(&mut self, column: u32, value: Value<'_>, found: Option<Mark>) {
        let column = column as usize;
        if self.width.is_some_and(|width| column >= width)
            || (matches!(value, Value::Empty) && found.is_none())
        {
            return;
        }
        if self.fields.len() <= column {
            self.fields.resize_with(column + 1, String::new);
        }
        let field = &mut self.fields[column];
        let mark = match found {
            Some(mark) => {
                field.clear();
                Some(mark)
            }
            None => cell::read(value, field),
        };
        let mark = if self.row_bytes + field.len() > MAX_ROW_BYTES as usize {
            let len = field.len();
            *field = crate::domain::preview(field);
            Some(Mark::TooLong(len))
        } else {
            mark
        };
        self.row_bytes += field.len();
        if let Some(mark) = mark {
            self.marks.push((column, mark));
        }
    }

    /// Send the row being built unless it is blank, and start afresh.
    fn flush(&mut self, out: &mut Emitter) {
        let Some(row) = self.row.take() else {
            return;
        };
        let blank = self.marks.is_empty() && self.fields.iter().all(|f| f.trim().is_empty());
        if !blank && !self.stopped {
            let width = *self.width.get_or_insert_with(|| {
                // The header: up to its last cell with something in it.
                let last = self.fields.iter().rposition(|f| !f.trim().is_empty());
                let marked = self.marks.iter().map(|(c, _)| *c).max();
                last.max(marked).map_or(0, |c| c + 1)
            });
            let mut record = StringRecord::with_capacity(self.row_bytes, width);
            for index in 0..width {
                record.push_field(self.fields.get(index).map_or("", String::as_str));
            }
            let marks = std::mem::take(&mut self.marks);
            let sent = out.push(SheetRow {
                row: u64::from(row) + 1,
                record,
                marks,
            });
            self.stopped = !sent;
        }
        for field in &mut self.fields {
            field.clear();
        }
        self.marks.clear();
        self.row_bytes = 0;
    }
}

/// What [`pump`] stopped for.
enum Pumped {
    Done,
    /// An empty cell at (row, column) that may be a formula with no saved result.
    NeedsProbe((u32, u32)),
}

fn stream_xlsx(
    book: &mut Xlsx<Cursor<Bytes>>,
    bytes: &Bytes,
    sheet: &str,
    rows: &mut RowBuilder,
    out: &mut Emitter,
) -> Result<(), IngestError> {
    let failed = |e: calamine::XlsxError| unreadable(Kind::Xlsx, e);
    // calamine does not export the cell reader's type: its methods are passed as closures.
    let mut cells = book.worksheet_cells_reader(sheet).map_err(failed)?;
    let mut next_cell = || cells.next_cell();
    let (row, column) = match pump(&mut next_cell, None::<&mut Probe<fn() -> _>>, rows, out)? {
        Pumped::Done => return Ok(()),
        Pumped::NeedsProbe(at) => at,
    };
    let mut second: Xlsx<Cursor<Bytes>> = Xlsx::new(Cursor::new(bytes.clone())).map_err(failed)?;
    let mut formulas = second.worksheet_cells_reader(sheet).map_err(failed)?;
    let mut probe = Probe {
        next_formula: || formulas.next_formula(),
        ahead: None,
    };
    let found = probe.has_formula((row, column))?.then_some(Mark::NoValue);
    rows.put(column, Value::Empty, found);
    pump(&mut next_cell, Some(&mut probe), rows, out)?;
    Ok(())
}

/// Feed the cells of `cells` to `rows` until the end, or until an empty table cell needs a
/// `probe` there is not yet.
fn pump<'a, F>(
    next_cell: &mut impl FnMut() -> Result<Option<Cell<DataRef<'a>>>, XlsxError>,
    mut probe: Option<&mut Probe<F>>,
    rows: &mut RowBuilder,
    out: &mut Emitter,
) -> Result<Pumped, IngestError>
where
    F: FnMut() -> Result<Option<Cell<String>>, XlsxError>,
{
    while let Some(cell) = next_cell().map_err(|e| unreadable(Kind::Xlsx, e))? {
        let (row, column) = cell.get_position();
        if !rows.enter(row, out) {
            return Ok(Pumped::Done);
        }
        let value = cell.get_value();
        let mut found = None;
        if matches!(value, DataRef::Empty) && rows.in_table(column) {
            match probe.as_mut() {
                Some(probe) => found = probe.has_formula((row, column))?.then_some(Mark::NoValue),
                None => return Ok(Pumped::NeedsProbe((row, column))),
            }
        }
        rows.put(column, Value::from(value), found);
    }
    rows.flush(out);
    Ok(Pumped::Done)
}

/// The formula-only stream of the same sheet, advanced in step with the cell stream.
struct Probe<F> {
    /// The formula reader's `next_formula`.
    next_formula: F,
    /// The last cell read: its position and whether it has a formula.
    ahead: Option<((u32, u32), bool)>,
}

impl<F> Probe<F>
where
    F: FnMut() -> Result<Option<Cell<String>>, XlsxError>,
{
    /// Whether the cell at `at` has a formula. Positions must come in sheet order.
    fn has_formula(&mut self, at: (u32, u32)) -> Result<bool, IngestError> {
        loop {
            if let Some((position, formula)) = self.ahead {
                if position == at {
                    return Ok(formula);
                }
                if position > at {
                    return Ok(false);
                }
            }
            match (self.next_formula)().map_err(|e| unreadable(Kind::Xlsx, e))? {
                Some(cell) => {
                    self.ahead = Some((cell.get_position(), !cell.get_value().is_empty()));
                }
                None => {
                    self.ahead = Some(((u32::MAX, u32::MAX), false));
                    return Ok(false);
                }
            }
        }
    }
}

/// A sheet calamine read whole (`.xls`, `.ods`), with its formulas when it has them.
///
/// OpenDocument saves a formula's error as an empty text value (its text, `#DIV/0!`, only in
/// the displayed paragraph, which calamine does not keep): with `empty_text_unknown`, a formula
/// whose value is empty text is [`Mark::EmptyResult`], an error on its row.
fn stream_range(
    range: &Range<Data>,
    formulas: Option<&Range<String>>,
    empty_text_unknown: bool,
    rows: &mut RowBuilder,
    out: &mut Emitter,
) {
    if let Some((top, left)) = range.start() {
        for (i, cells) in range.rows().enumerate() {
            let row = top + i as u32;
            if !rows.enter(row, out) {
                return;
            }
            for (j, data) in cells.iter().enumerate() {
                let column = left + j as u32;
                let formula = || {
                    rows.in_table(column)
                        && formulas
                            .and_then(|f| f.get_value((row, column)))
                            .is_some_and(|f| !f.is_empty())
                };
                let found = match data {
                    Data::Empty if formula() => Some(Mark::NoValue),
                    Data::String(s) if empty_text_unknown && s.is_empty() && formula() => {
                        Some(Mark::EmptyResult)
                    }
                    _ => None,
                };
                rows.put(column, Value::from(data), found);
            }
        }
    }
    rows.flush(out);
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;

    /// Rows of a small range, as the reading thread would send them.
    fn rows_of(cells: &[((u32, u32), Data)], formulas: &[((u32, u32), &str)]) -> Vec<SheetRow> {
        let range = Range::from_sparse(
            cells
                .iter()
                .map(|(at, v)| calamine::Cell::new(*at, v.clone()))
                .collect(),
        );
        let formulas = Range::from_sparse(
            formulas
                .iter()
                .map(|(at, f)| calamine::Cell::new(*at, f.to_string()))
                .collect(),
        );
        let (tx, rx) = sync_channel(1000);
        let mut out = Emitter {
            tx,
            chunk: Vec::new(),
            bytes: 0,
        };
        stream_range(
            &range,
            Some(&formulas),
            true,
            &mut RowBuilder::default(),
            &mut out,
        );
        out.end(Ok(()));
        let mut rows = Vec::new();
        while let Ok(msg) = rx.recv() {
            match msg {
                Msg::Rows(chunk) => rows.extend(chunk),
                Msg::End => break,
                Msg::Failed(err) => panic!("{err}"),
            }
        }
        rows
    }

    fn texts(row: &SheetRow) -> Vec<&str> {
        row.record.iter().collect()
    }

    #[test]
    fn header_is_the_first_non_blank_row_and_sets_the_width() {
        let s = |t: &str| Data::String(t.into());
        let rows = rows_of(
            &[
                ((1, 1), s("phone")),
                ((1, 2), s("amount")),
                ((1, 3), s("  ")),
                ((2, 1), Data::Float(256_700_123_456.0)),
                ((2, 2), Data::Float(1234.56)),
                ((2, 5), s("a note right of the table")),
                ((3, 5), s("only right of the table")),
                ((5, 2), Data::Float(10.0)),
            ],
            &[],
        );
        let got: Vec<(u64, Vec<&str>)> = rows.iter().map(|r| (r.row, texts(r))).collect();
        assert_eq!(
            got,
            vec![
                (2, vec!["", "phone", "amount"]),
                (3, vec!["", "256700123456", "1234.56"]),
                (6, vec!["", "", "10"]),
            ]
        );
    }

    #[test]
    fn formulas_without_a_saved_result_and_errors_are_marked() {
        let rows = rows_of(
            &[
                ((0, 0), Data::String("phone".into())),
                ((0, 1), Data::String("amount".into())),
                ((1, 0), Data::Float(256_700_123_456.0)),
                ((1, 1), Data::Empty),
                ((2, 0), Data::Float(256_700_123_457.0)),
                ((2, 1), Data::Error(calamine::CellErrorType::Ref)),
                ((3, 0), Data::String(String::new())),
                ((3, 1), Data::String(String::new())),
            ],
            &[((1, 1), "SUM(C2:D2)"), ((3, 1), "of:=1/0")],
        );
        assert_eq!(rows[1].marks, vec![(1, Mark::NoValue)]);
        assert_eq!(texts(&rows[1]), vec!["256700123456", ""]);
        assert_eq!(rows[2].marks, vec![(1, Mark::Error)]);
        assert_eq!(texts(&rows[2]), vec!["256700123457", "#REF!"]);
        assert_eq!(rows[3].marks, vec![(1, Mark::EmptyResult)]);
        assert_eq!(rows[3].row, 4);
    }
}
