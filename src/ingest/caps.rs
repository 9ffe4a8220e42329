//! Bounded memory whatever the file holds. The csv crate grows its record buffer to the size of
//! the largest field and row it meets, so a single 1 GB value would cost gigabytes before any
//! rule could refuse it. [`Capped`] sits between the file and the csv parser: it follows the
//! parser's own reading of quotes, delimiters and line feeds byte by byte, and drops what lies
//! beyond [`MAX_FIELD_BYTES`] in a value and [`MAX_ROW_BYTES`] in a row, so the parser never
//! holds more. Whatever it drops is recorded as a [`Defect`] of that record (which field, how
//! long, how many line feeds were dropped so line numbers stay physical), and so is a quote
//! that is never closed. The structure the parser sees stays that of the file: records end
//! where the file's records end, so the rows after a long one are read normally.
//!
//! The lexer mirrors csv-core's reader with `double_quote`, no escape character and `\n` as the
//! terminator: a quote opens a quoted value only at the start of a field; inside one, `""` is a
//! quote and `"` followed by anything else closes it; a `\r` is ordinary data.

use std::collections::VecDeque;
use std::io::{self, Read};

/// The longest value read, in bytes as written in the file.
pub const MAX_FIELD_BYTES: u64 = 64 * 1024;
/// The longest row read, in bytes as written in the file.
pub const MAX_ROW_BYTES: u64 = 1024 * 1024;
/// Long fields listed per record; a row can hold only 16 at the caps above anyway.
const LONG_FIELDS_KEPT: usize = 16;
/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// What the reader could not hand over intact for one record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Defect {
    /// Physical line where the record starts.
    pub start_line: u64,
    /// Line feeds of the record the parser did not see (inside dropped bytes).
    pub dropped_newlines: u64,
    /// Fields longer than the cap: (index in the row, length in bytes).
    pub long_fields: Vec<(usize, u64)>,
    /// The row's length in bytes, when it is longer than [`MAX_ROW_BYTES`].
    pub long_row: Option<u64>,
    /// A quote never closed: the field it opened, the line it opened on, and the file's last line.
    pub unclosed_quote: Option<UnclosedQuote>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UnclosedQuote {
    pub field: usize,
    pub line: u64,
    pub last_line: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lex {
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted value: a second quote makes it data, anything else closes it.
    QuoteInQuoted,
}

/// An [`io::Read`] adapter that caps fields and rows (see the module comment).
pub(crate) struct Capped<R> {
    inner: R,
    delimiter: u8,
    quote: u8,
    field_cap: u64,
    row_cap: u64,
    input: Vec<u8>,
    pos: usize,
    /// A byte owed to the reader that did not fit in its buffer.
    carry: Option<u8>,
    inner_done: bool,
    finished: bool,
    state: Lex,
    /// Physical line of the next byte.
    line: u64,
    last_byte: Option<u8>,
    record_start: u64,
    record_empty: bool,
    field_index: usize,
    field_len: u64,
    quote_opened: (usize, u64),
    row_len: u64,
    row_kept: u64,
    /// Dropping the rest of the row: only its final line feed goes through.
    row_dropping: bool,
    /// A quote inside an over-long quoted value, held back until the next byte says whether it
    /// closes the value (forwarded) or is half of `""` (dropped with its pair).
    pending_quote: bool,
    current: Defect,
    defects: VecDeque<Defect>,
    /// The file ended inside a quoted value.
    ended_in_quote: bool,
    /// Take the fast paths ([`Capped::whole_lines`], [`Capped::plain_run`]); off only in the
    /// tests that check they give what the byte-by-byte lexer gives.
    fast: bool,
}

impl<R: Read> Capped<R> {
    pub(crate) fn new(inner: R, delimiter: u8, quote: u8) -> Capped<R> {
        Capped::with_caps(inner, delimiter, quote, MAX_FIELD_BYTES, MAX_ROW_BYTES)
    }

    pub(crate) fn with_caps(
        inner: R,
        delimiter: u8,
        quote: u8,
        field_cap: u64,
        row_cap: u64,
    ) -> Capped<R> {
        Capped {
            inner,
            delimiter,
            quote,
            field_cap,
            row_cap,
            input: Vec::new(),
            pos: 0,
            carry: None,
            inner_done: false,
            finished: false,
            state: Lex::StartField,
            line: 1,
            last_byte: None,
            record_start: 1,
            record_empty: true,
            field_index: 0,
            field_len: 0,
            quote_opened: (0, 1),
            row_len: 0,
            row_kept: 0,
            row_dropping: false,
            pending_quote: false,
            current: Defect::default(),
            defects: VecDeque::new(),
            ended_in_quote: false,
            fast: true,
        }
    }

    /// The same reader without its fast paths: every byte through [`Capped::step`].
    #[cfg(test)]
    pub(crate) fn stepwise(mut self) -> Capped<R> {
        self.fast = false;
        self
    }

    /// The defect of the record starting on `line`, if it has one. Defects of records before
    /// it (there are none when records are asked for in order) are discarded.
    pub(crate) fn take_defect(&mut self, line: u64) -> Option<Defect> {
        while let Some(front) = self.defects.front() {
            if front.start_line > line {
                return None;
            }
            let defect = self.defects.pop_front();
            if defect.as_ref().is_some_and(|d| d.start_line == line) {
                return defect;
            }
        }
        None
    }

    /// The file ended inside a quoted value: its last line feed is part of that value.
    pub(crate) fn ended_in_quote(&self) -> bool {
        self.ended_in_quote
    }

    fn fill(&mut self) -> io::Result<()> {
        self.input.resize(CHUNK, 0);
        loop {
            match self.inner.read(&mut self.input) {
                Ok(n) => {
                    self.input.truncate(n);
                    self.pos = 0;
                    self.inner_done = n == 0;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.input.clear();
                    self.pos = 0;
                    return Err(err);
                }
            }
        }
    }

    /// The parser is inside a quoted value (what it has been given so far).
    fn parser_quoted(&self) -> bool {
        self.state == Lex::InQuoted || (self.state == Lex::QuoteInQuoted && self.pending_quote)
    }

    /// Count one byte of the row; true if it may go to the parser.
    fn keep_in_row(&mut self, out: &mut Out<'_>) -> bool {
        self.row_len += 1;
        if self.row_dropping {
            return false;
        }
        if self.row_kept >= self.row_cap {
            self.row_dropping = true;
            if self.parser_quoted() {
                // Close the value for the parser; the row is refused anyway.
                out.push(self.quote);
            }
            self.pending_quote = false;
            return false;
        }
        true
    }

    fn forward(&mut self, b: u8, out: &mut Out<'_>) {
        self.row_kept += 1;
        out.push(b);
    }

    fn data(&mut self, b: u8, out: &mut Out<'_>) {
        self.field_len += 1;
        if self.keep_in_row(out) && self.field_len <= self.field_cap {
            self.forward(b, out);
        } else if b == b'\n' {
            self.current.dropped_newlines += 1;
        }
    }

    fn end_field(&mut self) {
        if self.field_len > self.field_cap && self.current.long_fields.len() < LONG_FIELDS_KEPT {
            self.current
                .long_fields
                .push((self.field_index, self.field_len));
        }
        self.field_index += 1;
        self.field_len = 0;
        self.state = Lex::StartField;
    }

    fn delimiter(&mut self, out: &mut Out<'_>) {
        if self.keep_in_row(out) {
            self.forward(self.delimiter, out);
        }
        self.end_field();
    }

    /// The record ends (at an unquoted line feed, forwarded, or at the end of the file).
    fn end_record(&mut self, newline: bool, out: &mut Out<'_>) {
        self.end_field();
        if self.row_dropping {
            self.current.long_row = Some(self.row_len);
        }
        let mut defect = std::mem::take(&mut self.current);
        if !defect.long_fields.is_empty()
            || defect.long_row.is_some()
            || defect.dropped_newlines > 0
            || defect.unclosed_quote.is_some()
        {
            defect.start_line = self.record_start;
            self.defects.push_back(defect);
        }
        if newline {
            out.push(b'\n');
        }
        self.field_index = 0;
        self.row_len = 0;
        self.row_kept = 0;
        self.row_dropping = false;
        self.pending_quote = false;
        self.record_empty = true;
        self.record_start = self.line + u64::from(newline);
    }

    fn step(&mut self, b: u8, out: &mut Out<'_>) {
        let quote = b == self.quote;
        let delimiter = b == self.delimiter;
        let newline = b == b'\n';
        if !newline || self.state == Lex::InQuoted {
            self.record_empty = false;
        }
        match self.state {
            Lex::StartField if quote => {
                // Counted while the parser is still outside quotes, then the value opens.
                self.data(b, out);
                self.state = Lex::InQuoted;
                self.quote_opened = (self.field_index, self.line);
            }
            Lex::StartField | Lex::InField if delimiter => self.delimiter(out),
            Lex::StartField | Lex::InField if newline => self.end_record(true, out),
            Lex::StartField | Lex::InField => {
                self.state = Lex::InField;
                self.data(b, out);
            }
            Lex::InQuoted if quote => {
                self.field_len += 1;
                let kept = self.keep_in_row(out); // before the state moves: see `parser_quoted`
                self.state = Lex::QuoteInQuoted;
                if kept {
                    if self.field_len <= self.field_cap {
                        self.forward(b, out);
                    } else {
                        self.pending_quote = true;
                    }
                }
            }
            Lex::InQuoted => self.data(b, out),
            Lex::QuoteInQuoted if quote => {
                // `""`: a quote inside the value. Its first half was forwarded or held back;
                // the second goes the same way so the parser sees pairs only.
                self.field_len += 1;
                let kept = self.keep_in_row(out);
                self.state = Lex::InQuoted;
                if self.pending_quote {
                    self.pending_quote = false;
                } else if kept {
                    self.forward(b, out);
                }
            }
            Lex::QuoteInQuoted => {
                if std::mem::take(&mut self.pending_quote) {
                    self.forward(self.quote, out); // it closed the value after all
                }
                self.state = Lex::InField;
                if delimiter {
                    self.delimiter(out);
                } else if newline {
                    self.end_record(true, out);
                } else {
                    self.data(b, out);
                }
            }
        }
        if newline {
            self.line += 1;
        }
        self.last_byte = Some(b);
    }

    /// The fastest path: whole records that are one line with no quote, at most as long as the
    /// caps, copied at once from the start of a record. For such a line [`Capped::step`]
    /// would forward every byte, record no defect and end where it began (the start of a
    /// record), one line further on. Returns how many bytes it took; 0 leaves the bytes to the
    /// other paths.
    fn whole_lines(&mut self, out: &mut Out<'_>) -> usize {
        let at_record_start = self.state == Lex::StartField
            && self.field_index == 0
            && self.row_len == 0
            && !self.row_dropping
            && !self.pending_quote;
        if !self.fast || !at_record_start || out.carry.is_some() {
            return 0;
        }
        debug_assert!(self.record_empty && self.current == Defect::default());
        let rest = &self.input[self.pos..];
        let rest = &rest[..rest.len().min(out.buf.len() - out.n)];
        // A line no longer than both caps cannot hold a field or a row over them.
        let longest = self.field_cap.min(self.row_cap);
        let mut taken = 0;
        let mut lines = 0;
        while let Some(end) = memchr::memchr2(self.quote, b'\n', &rest[taken..]) {
            if rest[taken + end] != b'\n' || end as u64 > longest {
                break;
            }
            taken += end + 1;
            lines += 1;
        }
        if taken == 0 {
            return 0;
        }
        out.buf[out.n..out.n + taken].copy_from_slice(&rest[..taken]);
        out.n += taken;
        self.pos += taken;
        self.line += lines;
        self.record_start = self.line;
        self.last_byte = Some(b'\n');
        taken
    }

    /// The fast path: a run of plain bytes inside a value, up to the next byte that matters
    /// (delimiter or line feed outside quotes, quote or line feed inside) and within the caps,
    /// copied at once. Returns how many bytes it took; 0 leaves the byte to [`Capped::step`].
    fn plain_run(&mut self, out: &mut Out<'_>) -> usize {
        if !self.fast || self.row_dropping || self.pending_quote || out.carry.is_some() {
            return 0;
        }
        let rest = &self.input[self.pos..];
        let room = (self.field_cap.saturating_sub(self.field_len))
            .min(self.row_cap.saturating_sub(self.row_kept))
            .min((out.buf.len() - out.n) as u64)
            .min(rest.len() as u64) as usize;
        let rest = &rest[..room];
        let end = match self.state {
            Lex::InField => memchr::memchr2(self.delimiter, b'\n', rest),
            Lex::InQuoted => memchr::memchr2(self.quote, b'\n', rest),
            Lex::StartField | Lex::QuoteInQuoted => return 0,
        }
        .unwrap_or(rest.len());
        if end == 0 {
            return 0;
        }
        out.buf[out.n..out.n + end].copy_from_slice(&rest[..end]);
        out.n += end;
        self.last_byte = Some(rest[end - 1]);
        self.pos += end;
        let n = end as u64;
        self.field_len += n;
        self.row_len += n;
        self.row_kept += n;
        self.record_empty = false;
        end
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.finished = true;
        if self.state == Lex::InQuoted {
            self.ended_in_quote = true;
            let last_line = match self.last_byte {
                Some(b'\n') => self.line - 1,
                _ => self.line,
            };
            let (field, line) = self.quote_opened;
            self.current.unclosed_quote = Some(UnclosedQuote {
                field,
                line,
                last_line,
            });
        }
        if std::mem::take(&mut self.pending_quote) {
            out.push(self.quote);
        }
        if !self.record_empty {
            self.end_record(false, out);
        }
    }
}

/// The reader's buffer, with room for one byte more in the adapter's carry.
struct Out<'a> {
    buf: &'a mut [u8],
    n: usize,
    carry: &'a mut Option<u8>,
}

impl Out<'_> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        } else {
            *self.carry = Some(b);
        }
    }

    fn full(&self) -> bool {
        self.n >= self.buf.len() || self.carry.is_some()
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut carry = self.carry.take();
        let mut n = 0;
        if let Some(b) = carry.take() {
            buf[0] = b;
            n = 1;
        }
        let mut out = Out {
            buf,
            n,
            carry: &mut carry,
        };
        loop {
            if out.full() || self.finished {
                break;
            }
            if self.pos == self.input.len() {
                if self.inner_done {
                    self.finish(&mut out);
                    break;
                }
                if out.n > 0 {
                    break; // hand over what there is before possibly waiting
                }
                self.fill()?;
                continue;
            }
            while self.pos < self.input.len() && !out.full() {
                if self.whole_lines(&mut out) > 0 || self.plain_run(&mut out) > 0 {
                    continue;
                }
                let b = self.input[self.pos];
                self.pos += 1;
                self.step(b, &mut out);
            }
            if out.n > 0 && self.pos == self.input.len() {
                break;
            }
        }
        let n = out.n;
        self.carry = carry;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
