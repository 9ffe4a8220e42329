//! The workbook itself: what kind it is (told by its first bytes), its bytes, the calamine
//! reader for it, and which sheet is read (`--sheet`, or the first visible worksheet, with a
//! warning when several sheets hold data).

use std::fmt::Display;
use std::io::{Cursor, Read};
use std::sync::Arc;

use calamine::{Data, DataRef, Ods, Reader, Sheet, SheetType, SheetVisible, Xls, Xlsx};

use crate::domain::Quoted;
use crate::ingest::{IngestError, Warning, WarningKind};

/// The largest workbook read (it is held in memory while its sheet is read).
pub const MAX_WORKBOOK_BYTES: u64 = 256 * 1024 * 1024;

/// The kinds of workbook payrun reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Xlsx,
    Xls,
    Ods,
}

impl Kind {
    /// The kind of workbook the file's first bytes say it is, if any.
    pub(crate) fn sniff(prefix: &[u8]) -> Option<Kind> {
        if prefix.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            return Some(Kind::Xls);
        }
        if !prefix.starts_with(b"PK\x03\x04") {
            return None;
        }
        // OpenDocument: the first zip entry is `mimetype`, stored, holding the media type.
        let len = |at: usize| {
            prefix
                .get(at..at + 2)
                .map(|b| usize::from(b[0]) | usize::from(b[1]) << 8)
        };
        if let (Some(name), Some(extra)) = (len(26), len(28))
            && prefix.get(30..30 + name) == Some(b"mimetype")
            && prefix.get(30 + name + extra..).is_some_and(|rest| {
                rest.starts_with(b"application/vnd.oasis.opendocument.spreadsheet")
            })
        {
            return Some(Kind::Ods);
        }
        Some(Kind::Xlsx)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Xlsx => "Excel workbook (.xlsx)",
            Kind::Xls => "Excel 97-2003 workbook (.xls)",
            Kind::Ods => "OpenDocument spreadsheet (.ods)",
        }
    }
}

/// The workbook's bytes, shared by the readers of one file.
#[derive(Clone, Debug)]
pub(crate) struct Bytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An open workbook of any kind.
pub(crate) enum Book {
    Xlsx(Xlsx<Cursor<Bytes>>),
    Xls(Xls<Cursor<Bytes>>),
    Ods(Ods<Cursor<Bytes>>),
}

impl Book {
    pub(super) fn open(kind: Kind, bytes: &Bytes) -> Result<Book, IngestError> {
        let reader = Cursor::new(bytes.clone());
        let failed = |e: &dyn Display| unreadable(kind, e);
        Ok(match kind {
            Kind::Xlsx => Book::Xlsx(Xlsx::new(reader).map_err(|e| failed(&e))?),
            Kind::Xls => Book::Xls(Xls::new(reader).map_err(|e| failed(&e))?),
            Kind::Ods => Book::Ods(Ods::new(reader).map_err(|e| failed(&e))?),
        })
    }

    pub(super) fn kind(&self) -> Kind {
        match self {
            Book::Xlsx(_) => Kind::Xlsx,
            Book::Xls(_) => Kind::Xls,
            Book::Ods(_) => Kind::Ods,
        }
    }

    pub(super) fn sheets(&self) -> Vec<Sheet> {
        match self {
            Book::Xlsx(b) => b.sheets_metadata().to_vec(),
            Book::Xls(b) => b.sheets_metadata().to_vec(),
            Book::Ods(b) => b.sheets_metadata().to_vec(),
        }
    }

    /// Whether the sheet has at least one cell with something in it (reads up to that cell).
    pub(super) fn has_data(&mut self, name: &str) -> bool {
        fn any<E>(range: Result<calamine::Range<Data>, E>) -> bool {
            range.is_ok_and(|r| r.used_cells().any(|(_, _, v)| *v != Data::Empty))
        }
        match self {
            Book::Xlsx(book) => {
                let Ok(mut cells) = book.worksheet_cells_reader(name) else {
                    return false;
                };
                while let Ok(Some(cell)) = cells.next_cell() {
                    if !matches!(cell.get_value(), DataRef::Empty) {
                        return true;
                    }
                }
                false
            }
            Book::Xls(book) => any(book.worksheet_range(name)),
            Book::Ods(book) => any(book.worksheet_range(name)),
        }
    }
}

/// The refusal for a workbook calamine cannot read.
pub(crate) fn unreadable(kind: Kind, err: impl Display) -> IngestError {
    IngestError::Workbook {
        kind: kind.name(),
        reason: err.to_string(),
    }
}

/// The sheet [`SheetRows::open`] would read from the workbook `prefix` + `input`.
pub(crate) fn sheet_to_read<R: Read>(
    kind: Kind,
    prefix: Vec<u8>,
    input: R,
    wanted: Option<&str>,
) -> Result<String, IngestError> {
    let bytes = read_all(prefix, input)?;
    choose(&Book::open(kind, &bytes)?.sheets(), wanted)
}

/// The whole file, within [`MAX_WORKBOOK_BYTES`].
pub(super) fn read_all<R: Read>(prefix: Vec<u8>, input: R) -> Result<Bytes, IngestError> {
    let mut bytes = prefix;
    let room = (MAX_WORKBOOK_BYTES + 1).saturating_sub(bytes.len() as u64);
    input
        .take(room)
        .read_to_end(&mut bytes)
        .map_err(|source| IngestError::Read { source })?;
    if bytes.len() as u64 > MAX_WORKBOOK_BYTES {
        return Err(IngestError::WorkbookTooLarge {
            limit_mib: MAX_WORKBOOK_BYTES / (1024 * 1024),
        });
    }
    Ok(Bytes(Arc::new(bytes)))
}

/// `--sheet NAME` (exactly, else ignoring case and surrounding spaces), or the first visible
/// worksheet.
pub(super) fn choose(sheets: &[Sheet], wanted: Option<&str>) -> Result<String, IngestError> {
    let names = || sheets.iter().map(|s| s.name.clone()).collect();
    let found = match wanted {
        Some(wanted) => sheets
            .iter()
            .find(|s| s.name == wanted)
            .or_else(|| {
                let wanted = wanted.trim().to_lowercase();
                sheets
                    .iter()
                    .find(|s| s.name.trim().to_lowercase() == wanted)
            })
            .ok_or_else(|| IngestError::UnknownSheet {
                given: wanted.to_string(),
                found: names(),
            })?,
        None => sheets
            .iter()
            .find(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
            .ok_or_else(|| IngestError::NoVisibleSheet { found: names() })?,
    };
    Ok(found.name.clone())
}

/// The warning for a workbook with data on several sheets and no `--sheet`.
pub(super) fn several_sheets(with_data: &[&Sheet], chosen: &str) -> Warning {
    let list = with_data
        .iter()
        .map(|s| match s.visible {
            SheetVisible::Visible => Quoted(&s.name).to_string(),
            _ => format!("{} (hidden)", Quoted(&s.name)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Warning {
        line: None,
        column: None,
        value: Some(
            with_data
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        message: format!(
            "the workbook has {} sheets with data: {list}; reading {}, the first visible one (pass --sheet NAME to read another)",
            with_data.len(),
            Quoted(chosen)
        ),
        kind: WarningKind::Sheets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(name: &str, visible: SheetVisible) -> Sheet {
        Sheet {
            name: name.into(),
            typ: SheetType::WorkSheet,
            visible,
        }
    }

    #[test]
    fn kinds_are_told_by_content() {
        assert_eq!(Kind::sniff(b"PK\x03\x04\x14\x00rest"), Some(Kind::Xlsx));
        let mut ods = b"PK\x03\x04".to_vec();
        ods.extend_from_slice(&[0; 22]);
        ods.extend_from_slice(&[8, 0, 0, 0]);
        ods.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet");
        assert_eq!(Kind::sniff(&ods), Some(Kind::Ods));
        let odt = String::from_utf8_lossy(&ods).replace("spreadsheet", "text");
        assert_eq!(Kind::sniff(odt.as_bytes()), Some(Kind::Xlsx));
        assert_eq!(
            Kind::sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"),
            Some(Kind::Xls)
        );
        assert_eq!(Kind::sniff(b"phone,amount\n"), None);
        assert_eq!(Kind::sniff(b"PK"), None);
    }

    #[test]
    fn the_first_visible_worksheet_unless_one_is_named() {
        let sheets = [
            sheet("Lookups", SheetVisible::Hidden),
            sheet("Payroll", SheetVisible::Visible),
            sheet("Bonus ", SheetVisible::Visible),
        ];
        assert_eq!(choose(&sheets, None).unwrap(), "Payroll");
        assert_eq!(choose(&sheets, Some("Bonus ")).unwrap(), "Bonus ");
        assert_eq!(choose(&sheets, Some("bonus")).unwrap(), "Bonus ");
        assert_eq!(choose(&sheets, Some("Lookups")).unwrap(), "Lookups");
        match choose(&sheets, Some("November")) {
            Err(err @ IngestError::UnknownSheet { .. }) => {
                let text = err.to_string();
                assert!(text.contains("\"Lookups\", \"Payroll\""), "{text}");
            }
            other => panic!("{other:?}"),
        }
        let hidden = [sheet("Only", SheetVisible::VeryHidden)];
        assert!(matches!(
            choose(&hidden, None),
            Err(IngestError::NoVisibleSheet { .. })
        ));
    }

    #[test]
    fn the_sheets_warning_names_every_sheet_with_data() {
        let a = sheet("Payroll", SheetVisible::Visible);
        let b = sheet("Old", SheetVisible::Hidden);
        let warning = several_sheets(&[&a, &b], "Payroll");
        assert_eq!(
            warning.message,
            "the workbook has 2 sheets with data: \"Payroll\", \"Old\" (hidden); reading \"Payroll\", the first visible one (pass --sheet NAME to read another)"
        );
    }
}
