//! Turning bytes into records: every CSV reader setting lives here, along with what the csv
//! crate does not do for us: recognising files that are not CSV text (UTF-16, PDF, binary),
//! detecting `;`/tab delimiters from the header line, skipping blank rows, and giving each
//! record its *physical* line number in the file.
//!
//! Line numbers: the csv crate's `Position::line()` is the line where the reader stood before a
//! record, which is off when blank lines or CRLF endings precede it. We read with `\n` as the
//! only terminator and compute the start line of each record exactly from the line count after
//! it: `start = line_after − newlines inside quoted fields − (1 if it ended with '\n')`, plus
//! the line feeds [`Capped`] dropped from over-long records before this one.
//!
//! Between the file and the parser sits [`Capped`], which keeps every field and row within
//! fixed caps; a record it had to cut, or whose quote never closes, comes with its
//! [`Defect`], and its cells are only previews (see [`Records::take_defect`]).

use std::io::{self, Chain, Cursor, Read};

use csv::{ByteRecord, StringRecord};

use super::IngestError;
use super::caps::{Capped, Defect};
use crate::domain::preview;

/// The quote character: the csv crate's default, which payrun never changes.
const QUOTE: u8 = b'"';
/// Read buffer for the csv reader: large enough that the parser rarely waits on the kernel.
const BUFFER_CAPACITY: usize = 256 * 1024;
/// How much of the file is looked at before parsing: the header line, at most this much.
const SNIFF_LIMIT: usize = 64 * 1024;

/// The one place that decides how a payout CSV is parsed.
fn reader_builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .delimiter(delimiter)
        .has_headers(false) // the header is read (and checked) like any record
        .flexible(true) // short and long rows are reported per row, not as a parse failure
        .terminator(csv::Terminator::Any(b'\n')) // exact line numbers; a CR before it is stripped
        .quoting(true)
        .quote(QUOTE)
        .double_quote(true)
        .buffer_capacity(BUFFER_CAPACITY);
    builder
}

/// The same dialect for files payrun writes (rejects), so they read back identically.
pub(crate) fn writer_builder(delimiter: u8) -> csv::WriterBuilder {
    let mut builder = csv::WriterBuilder::new();
    builder
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .flexible(true);
    builder
}

/// Counts what the csv reader pulls from the input, so the end of the file is known exactly.
struct Tap<R> {
    inner: R,
    total: u64,
    eof: bool,
    last: Option<u8>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
        } else {
            self.total += n as u64;
            self.last = buf.get(n - 1).copied();
        }
        Ok(n)
    }
}

type Input<R> = Tap<Capped<Chain<Cursor<Vec<u8>>, R>>>;

/// A stream of non-blank records with their physical line numbers.
pub(crate) struct Records<R: Read> {
    reader: csv::Reader<Input<R>>,
    record: Option<StringRecord>,
    /// A record buffer to read into, recycled from the last record handed out.
    spare: Option<ByteRecord>,
    /// The file starts with Excel's `sep=;` line, which is not the header.
    skip_separator_line: bool,
    delimiter: u8,
    /// Line feeds the capping reader dropped in the records read so far.
    dropped_lines: u64,
    /// What was wrong with the record just read, if anything.
    defect: Option<Defect>,
}

impl<R: Read> Records<R> {
    /// Look at the start of the file, refuse what is not CSV text, settle the delimiter
    /// (`given`, or detected from the header line) and get ready to read.
    #[cfg(test)]
    pub(crate) fn open(mut input: R, given: Option<u8>) -> Result<Records<R>, IngestError> {
        let prefix = sniff(&mut input)?;
        Records::from_prefix(prefix, input, given)
    }

    /// [`Records::open`] for a file whose start (`prefix`, from [`sniff`]) was already read.
    pub(crate) fn from_prefix(
        prefix: Vec<u8>,
        input: R,
        given: Option<u8>,
    ) -> Result<Records<R>, IngestError> {
        check_text(&prefix)?;
        let separator_line = excel_separator_line(&prefix);
        let delimiter = match (given, separator_line) {
            (Some(d), _) | (None, Some(d)) => d,
            (None, None) => detect_delimiter(&prefix)?,
        };
        let tap = Tap {
            inner: Capped::new(Cursor::new(prefix).chain(input), delimiter, QUOTE),
            total: 0,
            eof: false,
            last: None,
        };
        Ok(Records {
            reader: reader_builder(delimiter).from_reader(tap),
            record: None,
            spare: None,
            skip_separator_line: separator_line.is_some(),
            delimiter,
            dropped_lines: 0,
            defect: None,
        })
    }

    /// The defect of the record just read: a field or the row over the caps, or a quote never
    /// closed. Such a record's cells are previews (at most 40 characters each), never values
    /// to judge or pay.
    pub(crate) fn take_defect(&mut self) -> Option<Defect> {
        self.defect.take()
    }

    pub(crate) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// How far into the file the records read so far reach, in bytes.
    pub(crate) fn position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next record that is not blank (only spaces, tabs and delimiters), with the physical
    /// line it starts on. A record that is not UTF-8 ends the file with [`IngestError::NotUtf8`].
    pub(crate) fn next_record(&mut self) -> Result<Option<(u64, &StringRecord)>, IngestError> {
        if let Some(old) = self.record.take() {
            self.spare = Some(old.into_byte_record());
        }
        Ok(match self.read()? {
            Some((line, record)) => Some((line, &*self.record.insert(record))),
            None => None,
        })
    }

    /// Like [`Records::next_record`], into a record the caller keeps (buffers are recycled,
    /// so a steady stream of rows allocates nothing).
    pub(crate) fn read_into(&mut self, out: &mut StringRecord) -> Result<Option<u64>, IngestError> {
        Ok(match self.read()? {
            Some((line, record)) => {
                let old = std::mem::replace(out, record);
                self.spare = Some(old.into_byte_record());
                Some(line)
            }
            None => None,
        })
    }

    fn read(&mut self) -> Result<Option<(u64, StringRecord)>, IngestError> {
        let mut bytes = self.spare.take().unwrap_or_default();
        self.defect = None;
        loop {
            let more = self
                .reader
                .read_byte_record(&mut bytes)
                .map_err(read_error)?;
            if !more {
                self.spare = Some(bytes);
                return Ok(None);
            }
            let line = self.start_line(&bytes) + self.dropped_lines;
            let defect = self.reader.get_mut().inner.take_defect(line);
            if let Some(defect) = &defect {
                self.dropped_lines += defect.dropped_newlines;
            }
            let unclosed = defect.as_ref().is_some_and(|d| d.unclosed_quote.is_some());
            if is_blank(&bytes) && !unclosed {
                continue;
            }
            if self.skip_separator_line {
                self.skip_separator_line = false;
                continue;
            }
            if defect.is_some() {
                // Cut values may end inside a UTF-8 sequence: only previews are handed on.
                let mut record = StringRecord::new();
                for field in bytes.iter() {
                    record.push_field(&preview(&String::from_utf8_lossy(field)));
                }
                self.defect = defect; // `bytes` may be a megabyte: not kept for reuse
                return Ok(Some((line, record)));
            }
            return match StringRecord::from_byte_record(bytes) {
                Ok(record) => Ok(Some((line, record))),
                Err(err) => Err(IngestError::NotUtf8 {
                    line,
                    column: Some(err.utf8_error().field() + 1),
                }),
            };
        }
    }

    /// Physical line where `record` (just read) starts; see the module comment.
    fn start_line(&self, record: &ByteRecord) -> u64 {
        let after = self.reader.position();
        let tap = self.reader.get_ref();
        let at_end = tap.eof && after.byte() == tap.total;
        // A file ending inside an unclosed quote has its last line feed inside the record.
        let ended_with_newline =
            !at_end || (tap.last == Some(b'\n') && !tap.inner.ended_in_quote());
        // Almost no record holds a line break: look for one at memchr speed before counting.
        let bytes = record.as_slice();
        let inside = if bytes.contains(&b'\n') {
            bytes.iter().filter(|&&b| b == b'\n').count() as u64
        } else {
            0
        };
        after
            .line()
            .saturating_sub(inside)
            .saturating_sub(u64::from(ended_with_newline))
            .max(1)
    }
}

/// A record's cell as written: the CR of a CRLF line ending is not part of the last cell.
pub(crate) fn cell(record: &StringRecord, index: usize) -> &str {
    let text = record.get(index).unwrap_or("");
    if index + 1 == record.len() {
        text.strip_suffix('\r').unwrap_or(text)
    } else {
        text
    }
}

/// Every cell of a record as written.
pub(crate) fn cells(record: &StringRecord) -> Vec<String> {
    (0..record.len())
        .map(|i| cell(record, i).to_string())
        .collect()
}

fn is_blank(record: &ByteRecord) -> bool {
    record
        .iter()
        .all(|field| field.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')))
}

fn read_error(err: csv::Error) -> IngestError {
    match err.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Read { source },
        other => IngestError::Read {
            source: io::Error::other(format!("{other:?}")),
        },
    }
}

/// The start of the file up to the end of its first non-blank line (the header), or the first
/// 64 KiB when there is no such line break.
pub(crate) fn sniff<R: Read>(input: &mut R) -> Result<Vec<u8>, IngestError> {
    let mut prefix = Vec::with_capacity(8 * 1024);
    let mut chunk = [0u8; 8 * 1024];
    while prefix.len() < SNIFF_LIMIT && !header_line(&prefix).ends_with(b"\n") {
        match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => prefix.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(IngestError::Read { source }),
        }
    }
    Ok(prefix)
}

/// The first non-blank line of `prefix`, with its `\n` when the prefix holds all of it.
fn header_line(prefix: &[u8]) -> &[u8] {
    let Some(first) = prefix.iter().position(|b| !b.is_ascii_whitespace()) else {
        return &[];
    };
    let start = prefix[..first]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let rest = &prefix[start..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => &rest[..=end],
        None => rest,
    }
}

/// Refuse files that are not CSV text, with a message that says what they look like.
fn check_text(prefix: &[u8]) -> Result<(), IngestError> {
    if prefix.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::Empty);
    }
    // Workbooks (zip, OLE) never get here: `input.rs` sends them to `workbook`.
    let starts = |magic: &[u8]| prefix.starts_with(magic);
    if starts(b"%PDF") {
        return Err(IngestError::Binary(
            "it is a PDF; export the payee list from the source system as CSV",
        ));
    }
    if starts(b"\xFF\xFE") || starts(b"\xFE\xFF") {
        return Err(IngestError::Binary(
            "it is saved as UTF-16 (Excel's \"Unicode Text\"); save it as \"CSV UTF-8\" instead",
        ));
    }
    let first_line = header_line(prefix);
    if first_line.contains(&0) {
        return Err(IngestError::Binary(
            "it contains binary data (zero bytes); export the payee list as \"CSV UTF-8\"",
        ));
    }
    let controls = first_line
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
        .count();
    if controls > 0 {
        return Err(IngestError::Binary(
            "its first line contains control characters; export the payee list as \"CSV UTF-8\"",
        ));
    }
    if !prefix.contains(&b'\n') && prefix.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') {
        return Err(IngestError::CarriageReturnOnly);
    }
    Ok(())
}

/// Excel writes `sep=;` as the first line of some CSV exports to name the delimiter.
fn excel_separator_line(prefix: &[u8]) -> Option<u8> {
    let line = header_line(prefix);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    match line.trim_ascii_end() {
        [s, e, p, b'=', delimiter] if [*s, *e, *p].eq_ignore_ascii_case(b"sep") => Some(*delimiter),
        _ => None,
    }
}

/// `,` unless the header line has more `;` or tabs (outside quotes). A tie is refused.
fn detect_delimiter(prefix: &[u8]) -> Result<u8, IngestError> {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in header_line(prefix).iter().take_while(|&&b| b != b'\n') {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| *d == b) {
            entry.1 += 1;
        }
    }
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let [(best, n_best), (second, n_second), _] = counts;
    if n_best == 0 {
        return Ok(b',');
    }
    if n_best == n_second {
        return Err(IngestError::Delimiter {
            first: char::from(best),
            second: char::from(second),
        });
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8]) -> Vec<(u64, Vec<String>)> {
        let mut records = Records::open(data, None).unwrap();
        let mut out = Vec::new();
        while let Some((line, record)) = records.next_record().unwrap() {
            out.push((line, cells(record)));
        }
        out
    }

    #[test]
    fn line_numbers_are_physical_with_blank_lines_crlf_and_quoted_newlines() {
        let data = b"\xEF\xBB\xBFa,b\r\n\r\n\n1,2\r\n\"x\r\ny\",3\r\n\n4,\"5\"\r\n\r\n,\n  \n6,7";
        let got = lines(data);
        let want: Vec<(u64, Vec<String>)> = vec![
            (1, vec!["a".into(), "b".into()]),
            (4, vec!["1".into(), "2".into()]),
            (5, vec!["x\r\ny".into(), "3".into()]),
            (8, vec!["4".into(), "5".into()]),
            (12, vec!["6".into(), "7".into()]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn last_line_with_and_without_final_newline() {
        assert_eq!(lines(b"a\nb\n")[1].0, 2);
        assert_eq!(lines(b"a\nb")[1].0, 2);
        assert_eq!(lines(b"a\n\"b\nc\"")[1].0, 2);
    }

    #[test]
    fn detects_semicolon_and_tab_but_not_inside_quotes() {
        assert_eq!(
            detect_delimiter(b"phone;amount;currency\n").ok(),
            Some(b';')
        );
        assert_eq!(
            detect_delimiter(b"phone\tamount\tcurrency\r\n").ok(),
            Some(b'\t')
        );
        assert_eq!(
            detect_delimiter(b"phone,amount,currency\n").ok(),
            Some(b',')
        );
        assert_eq!(detect_delimiter(b"\"a;b;c\",amount\n").ok(), Some(b','));
        assert_eq!(detect_delimiter(b"phone\n").ok(), Some(b','));
        assert_eq!(detect_delimiter(b"\n\na;b\n").ok(), Some(b';'));
        assert!(matches!(
            detect_delimiter(b"a,b;c\n"),
            Err(IngestError::Delimiter { .. })
        ));
    }

    #[test]
    fn excel_separator_line_names_the_delimiter_and_is_not_the_header() {
        let got = lines(b"\xEF\xBB\xBFsep=;\r\nphone;amount\r\n1;2\r\n");
        assert_eq!(got[0], (2, vec!["phone".to_string(), "amount".to_string()]));
        assert_eq!(got[1].0, 3);
        let got = lines(b"SEP=|\na|b,c\n");
        assert_eq!(got[0].1, vec!["a".to_string(), "b,c".to_string()]);
        assert_eq!(
            lines(b"sep,x\n1,2\n")[0].1,
            vec!["sep".to_string(), "x".into()]
        );
    }

    #[test]
    fn refuses_what_is_not_csv_text() {
        let refused = |data: &[u8]| Records::open(data, None).err();
        assert!(matches!(refused(b""), Some(IngestError::Empty)));
        assert!(matches!(refused(b"\n\n  \n"), Some(IngestError::Empty)));
        assert!(matches!(
            refused(b"\xFF\xFEp\x00h\x00"),
            Some(IngestError::Binary(_))
        ));
        assert!(matches!(
            refused(b"ph\x00one,amount\n"),
            Some(IngestError::Binary(_))
        ));
        assert!(matches!(
            refused(b"phone,amount\r256700123456,1000\r"),
            Some(IngestError::CarriageReturnOnly)
        ));
        assert!(refused(b"phone,amount\n").is_none());
        assert!(refused(b"\n\r\nphone;amount\n").is_none());
    }

    #[test]
    fn not_utf8_names_the_physical_line() {
        let mut records = Records::open(&b"a,b\n\n1,2\n3,caf\xE9\n"[..], None).unwrap();
        assert_eq!(records.next_record().unwrap().unwrap().0, 1);
        assert_eq!(records.next_record().unwrap().unwrap().0, 3);
        match records.next_record() {
            Err(IngestError::NotUtf8 { line, column }) => {
                assert_eq!((line, column), (4, Some(2)))
            }
            other => panic!("{:?}", other.map(|o| o.map(|(l, _)| l))),
        }
    }

    #[test]
    fn crlf_is_not_part_of_the_last_cell() {
        let got = lines(b"a,b\r\n1,\"2\"\r\n");
        assert_eq!(got[1].1, vec!["1".to_string(), "2".to_string()]);
    }
}
