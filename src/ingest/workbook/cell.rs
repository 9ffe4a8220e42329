//! One spreadsheet cell as payrun reads it: the text a careful CSV export of it would hold, and a
//! [`Mark`] when the cell's type says something that text alone would hide (an error, a formula
//! with no saved result, a date, a number with more decimals than money has).
//!
//! Numbers become text by their shortest decimal form: Rust's `Display` for `f64` prints the
//! fewest digits that read back as the same number, without exponent, so a cell holding
//! 1234.56 becomes `1234.56` (never `1234.5599999999999`) and a phone stored as the number
//! 256700123456 becomes `256700123456` (no `.0`). The exact decimal parsers of the row rules
//! then read that text; no arithmetic is ever done on the `f64`.

use std::fmt::Write as _;

use calamine::{CellErrorType, Data, DataRef, ExcelDateTime};

use crate::domain::preview;
use crate::ingest::MAX_FIELD_BYTES;

/// More decimals than this is more than any currency has: a formula result left unrounded.
const MONEY_DECIMALS: usize = 3;

/// What a cell holds, whichever format it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Empty,
    Text(&'a str),
    Float(f64),
    Int(i64),
    Bool(bool),
    Date(ExcelDateTime),
    /// ISO 8601 text for a date or a duration (OpenDocument keeps dates as text).
    DateText(&'a str),
    Error(&'a CellErrorType),
}

impl<'a> From<&'a Data> for Value<'a> {
    fn from(data: &'a Data) -> Value<'a> {
        match data {
            Data::Empty => Value::Empty,
            Data::String(s) => Value::Text(s),
            Data::Float(f) => Value::Float(*f),
            Data::Int(i) => Value::Int(*i),
            Data::Bool(b) => Value::Bool(*b),
            Data::DateTime(d) => Value::Date(*d),
            Data::DateTimeIso(s) | Data::DurationIso(s) => Value::DateText(s),
            Data::Error(e) => Value::Error(e),
        }
    }
}

impl<'a> From<&'a DataRef<'_>> for Value<'a> {
    fn from(data: &'a DataRef<'_>) -> Value<'a> {
        match data {
            DataRef::Empty => Value::Empty,
            DataRef::String(s) => Value::Text(s),
            DataRef::SharedString(s) => Value::Text(s),
            DataRef::Float(f) => Value::Float(*f),
            DataRef::Int(i) => Value::Int(*i),
            DataRef::Bool(b) => Value::Bool(*b),
            DataRef::DateTime(d) => Value::Date(*d),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Value::DateText(s),
            DataRef::Error(e) => Value::Error(e),
        }
    }
}

/// What the text of a cell does not say by itself. Which marks are errors depends on the
/// column (see `marks.rs`): a date is a fine description but never an amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The cell holds a spreadsheet error (`#REF!`, `#N/A`, ...).
    Error,
    /// A formula whose result was never saved in the file.
    NoValue,
    /// An OpenDocument formula whose saved value is empty text: an empty result or an error.
    EmptyResult,
    /// A date or a time.
    Date,
    /// A number with more decimals than any currency has (e.g. 1234.5600000000002).
    Unrounded,
    /// Text longer than [`MAX_FIELD_BYTES`] (its length in bytes); only a preview is kept.
    TooLong(usize),
}

/// Write the text of `value` into `out` (cleared first) and say what else it is.
pub(crate) fn read(value: Value<'_>, out: &mut String) -> Option<Mark> {
    out.clear();
    match value {
        Value::Empty => None,
        Value::Text(text) if text.len() as u64 > MAX_FIELD_BYTES => {
            out.push_str(&preview(text));
            Some(Mark::TooLong(text.len()))
        }
        Value::Text(text) => {
            out.push_str(text);
            is_error_text(text).then_some(Mark::Error)
        }
        Value::Float(number) => {
            let _ = write!(out, "{number}");
            let decimals = out
                .split_once('.')
                .map_or(0, |(_, fraction)| fraction.len());
            (number.is_finite() && decimals > MONEY_DECIMALS).then_some(Mark::Unrounded)
        }
        Value::Int(number) => {
            let _ = write!(out, "{number}");
            None
        }
        Value::Bool(b) => {
            out.push_str(if b { "TRUE" } else { "FALSE" });
            None
        }
        Value::Date(date) => {
            write_date(date, out);
            Some(Mark::Date)
        }
        Value::DateText(text) => {
            out.push_str(text);
            Some(Mark::Date)
        }
        Value::Error(error) => {
            let _ = write!(out, "{error}");
            Some(Mark::Error)
        }
    }
}

/// A spreadsheet error written as text (OpenDocument files keep a formula's error that way):
/// Excel's `#REF!`, `#N/A`, ... and LibreOffice's `Err:502`.
fn is_error_text(text: &str) -> bool {
    const ERRORS: [&str; 14] = [
        "#DIV/0!",
        "#N/A",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#REF!",
        "#VALUE!",
        "#DATA!",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#UNKNOWN!",
    ];
    let text = text.trim();
    ERRORS.iter().any(|e| e.eq_ignore_ascii_case(text))
        || text
            .strip_prefix("Err:")
            .is_some_and(|code| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
}

/// `2026-11-30`, `2026-11-30 14:05:00`, or a duration as `36:15:00`.
fn write_date(date: ExcelDateTime, out: &mut String) {
    if date.is_duration() {
        // Not money: a duration shown to the clerk, rounded to the second.
        let seconds = (date.as_f64() * 86_400.0).round() as i64;
        let sign = if seconds < 0 { "-" } else { "" };
        let s = seconds.unsigned_abs();
        let _ = write!(out, "{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        return;
    }
    let (year, month, day, hour, minute, second, milli) = date.to_ymd_hms_milli();
    let _ = write!(out, "{year:04}-{month:02}-{day:02}");
    if (hour, minute, second, milli) != (0, 0, 0, 0) {
        let _ = write!(out, " {hour:02}:{minute:02}:{second:02}");
    }
}

/// A cell's name as the spreadsheet shows it: column 3 (0-based) of row 17 is `D17`.
pub(crate) fn cell_name(column: usize, row: u64) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &row.to_string()
}

#[cfg(test)]
mod tests {
    use calamine::ExcelDateTimeType;

    use super::*;
    use crate::domain::{Currency, MinorUnits};

    fn text(value: Value<'_>) -> (String, Option<Mark>) {
        let mut out = String::from("left over");
        let mark = read(value, &mut out);
        (out, mark)
    }

    /// The minor units a numeric amount cell pays, through the same parser as CSV text.
    fn pays(number: f64, currency: Currency) -> Option<u64> {
        let (written, _) = text(Value::Float(number));
        MinorUnits::parse_major(&written, currency)
            .ok()
            .map(MinorUnits::get)
    }

    #[test]
    fn amounts_are_their_shortest_decimal_form() {
        assert_eq!(text(Value::Float(1234.56)), ("1234.56".into(), None));
        assert_eq!(pays(1234.56, Currency::KES), Some(123_456));
        assert_eq!(pays(0.1, Currency::KES), Some(10));
        assert_eq!(pays(2500.5, Currency::KES), Some(250_050));
        assert_eq!(pays(1_400_000.0, Currency::UGX), Some(1_400_000));
        // Every cent value from 0.01 to 100000.00 reads back as exactly itself.
        for cents in (1..10_000_000u64).step_by(997) {
            let number = cents as f64 / 100.0;
            assert_eq!(pays(number, Currency::KES), Some(cents), "{number}");
        }
    }

    #[test]
    fn unrounded_formula_results_are_marked_never_rounded() {
        let sum = 0.1 + 0.2;
        assert_eq!(
            text(Value::Float(sum)),
            ("0.30000000000000004".into(), Some(Mark::Unrounded))
        );
        assert_eq!(pays(sum, Currency::KES), None);
        assert_eq!(
            text(Value::Float(1.1 * 3.0)),
            ("3.3000000000000003".into(), Some(Mark::Unrounded))
        );
        assert_eq!(
            text(Value::Float(1e-7)),
            ("0.0000001".into(), Some(Mark::Unrounded))
        );
        assert_eq!(text(Value::Float(0.125)), ("0.125".into(), None));
    }

    #[test]
    fn huge_and_negative_numbers_are_written_out_and_refused_by_the_amount_rule() {
        let (huge, mark) = text(Value::Float(1e20));
        assert_eq!((huge.as_str(), mark), ("100000000000000000000", None));
        assert_eq!(pays(1e20, Currency::UGX), None);
        assert_eq!(text(Value::Float(-1500.25)), ("-1500.25".into(), None));
        assert_eq!(pays(-1500.25, Currency::KES), None);
        assert_eq!(text(Value::Int(-3)), ("-3".into(), None));
        assert_eq!(
            text(Value::Float(f64::NAN)),
            ("NaN".into(), None),
            "refused as not a number by the rule"
        );
    }

    #[test]
    fn whole_numbers_are_digits_without_a_decimal_point() {
        assert_eq!(text(Value::Float(256_700_123_456.0)).0, "256700123456");
        // A phone that lost its leading zero stays 9 digits, for the phone rule to say so.
        assert_eq!(text(Value::Float(772_123_456.0)).0, "772123456");
        assert_eq!(text(Value::Float(1002.0)).0, "1002");
        assert_eq!(text(Value::Int(254_712_345_678)).0, "254712345678");
    }

    #[test]
    fn errors_are_marked_with_their_spreadsheet_text() {
        assert_eq!(
            text(Value::Error(&CellErrorType::Ref)),
            ("#REF!".into(), Some(Mark::Error))
        );
        assert_eq!(
            text(Value::Error(&CellErrorType::NA)),
            ("#N/A".into(), Some(Mark::Error))
        );
        assert_eq!(
            text(Value::Text("#DIV/0!")),
            ("#DIV/0!".into(), Some(Mark::Error))
        );
        assert_eq!(text(Value::Text("Err:502")).1, Some(Mark::Error));
        assert_eq!(text(Value::Text("Err:")).1, None);
        assert_eq!(text(Value::Text("#1 agent")).1, None);
    }

    #[test]
    fn dates_are_iso_text_and_marked() {
        let date = ExcelDateTime::new(46_356.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(
            text(Value::Date(date)),
            ("2026-11-30".into(), Some(Mark::Date))
        );
        let at = ExcelDateTime::new(46_356.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(text(Value::Date(at)).0, "2026-11-30 12:00:00");
        let span = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(text(Value::Date(span)).0, "36:00:00");
        assert_eq!(
            text(Value::DateText("2026-11-30")),
            ("2026-11-30".into(), Some(Mark::Date))
        );
    }

    #[test]
    fn other_cells() {
        assert_eq!(text(Value::Empty), (String::new(), None));
        assert_eq!(text(Value::Bool(true)).0, "TRUE");
        assert_eq!(text(Value::Text(" 0772 123 456 ")).0, " 0772 123 456 ");
        let long = "x".repeat(MAX_FIELD_BYTES as usize + 1);
        let (shown, mark) = text(Value::Text(&long));
        assert!(shown.chars().count() < 50, "{shown}");
        assert_eq!(mark, Some(Mark::TooLong(long.len())));
    }

    #[test]
    fn cell_names_are_column_letters_and_row() {
        assert_eq!(cell_name(0, 1), "A1");
        assert_eq!(cell_name(3, 17), "D17");
        assert_eq!(cell_name(25, 2), "Z2");
        assert_eq!(cell_name(26, 2), "AA2");
        assert_eq!(cell_name(701, 9), "ZZ9");
        assert_eq!(cell_name(702, 9), "AAA9");
        assert_eq!(cell_name(16_383, 1), "XFD1");
    }
}
