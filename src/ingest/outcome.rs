//! What ingest hands back: one outcome per data row as the file streams, then a summary of the
//! whole file. These types are the contract with `payrun validate` and the payout runner, so
//! they carry the clerk-facing wording (line, column, value as written, reason) ready to print.

use std::{collections::BTreeMap, fmt};

use serde::Serialize;

use crate::domain::{Currency, Escaped, PayeeRow, Quoted};

/// The result of checking one data row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    /// Every rule passed: the row can be paid.
    Valid(PayeeRow),
    /// At least one rule failed: the row must not be paid.
    Rejected(RejectedRow),
}

/// A data row that broke at least one rule, with everything needed to report it, write it to a
/// rejects file, or journal it as rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRow {
    /// Physical line number in the file where the row starts (header = line 1).
    pub line: u64,
    /// The record as written, in file order (for `--rejects`).
    pub fields: Vec<String>,
    /// One entry per problem; never empty.
    pub errors: Vec<RowError>,
    /// Raw cells as written (empty when the column is absent), for journaling rejected rows.
    pub reference: String,
    pub phone: String,
    pub amount: String,
    pub currency: String,
}

/// One problem: a cell of a row, or (with `line: None`) a file-level control mismatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Physical line of the row; `None` only for file-level problems (`--expect-count`,
    /// `--expect-total`).
    pub line: Option<u64>,
    /// payrun's name for the column (`phone`, `amount`, ...), `row` for a problem with the
    /// row's shape, or the control flag for file-level problems.
    pub column: String,
    /// The cell exactly as written.
    pub value: String,
    /// What is wrong and what to do about it, for the person who prepared the file.
    pub reason: String,
}

impl RowError {
    pub(crate) fn at(line: u64, column: &str, value: &str, reason: impl Into<String>) -> RowError {
        RowError {
            line: Some(line),
            column: column.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "line {line}, {} {}: {}",
                Escaped(&self.column),
                Quoted(&self.value),
                Escaped(&self.reason)
            ),
            None => write!(f, "{}: {}", Escaped(&self.column), Escaped(&self.reason)),
        }
    }
}

/// What a warning is about, so output can group many warnings of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Header columns payrun does not use.
    UnknownColumns,
    /// A `name` column ignored because `first_name`/`last_name` are present.
    NameColumnIgnored,
    /// A header with no data rows.
    NoRows,
    /// A phone rewritten to international digits.
    PhoneNormalised,
    /// A row with an empty reference (its identity falls back to phone, amount and currency).
    EmptyReference,
    /// Same phone, amount and currency as an earlier valid row: it will be paid again.
    RepeatedPayment,
    /// An operator written as clerks write it (`M-Pesa`), read as Rumbapay's name (`mpesa`).
    OperatorSynonym,
    /// A workbook with data on several sheets, read without `--sheet`.
    Sheets,
    /// An amount written with thousands separators or the row's currency code, read as plain.
    AmountAsWritten,
}

impl WarningKind {
    /// How to describe a group of these in a summary line ("12 more `<label>`").
    pub fn label(self) -> &'static str {
        match self {
            WarningKind::UnknownColumns => "unknown-column warnings",
            WarningKind::NameColumnIgnored => "ignored-name warnings",
            WarningKind::NoRows => "empty-file warnings",
            WarningKind::PhoneNormalised => "normalised phone numbers",
            WarningKind::EmptyReference => "rows without a reference",
            WarningKind::RepeatedPayment => "repeated payments",
            WarningKind::OperatorSynonym => "operators read by another name",
            WarningKind::AmountAsWritten => "amounts read as written",
            WarningKind::Sheets => "sheet warnings",
        }
    }
}

/// Something the clerk should look at that does not stop the row from being paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Physical line, or `None` for the file as a whole.
    pub line: Option<u64>,
    pub column: Option<String>,
    /// The cell as written, when the warning is about one cell.
    pub value: Option<String>,
    pub message: String,
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, {column}: {}", self.message),
            (Some(line), None) => write!(f, "line {line}: {}", self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

/// Warnings of one kind kept for the summary; the rest are only counted, so a million-row file
/// whose every phone is written `+256 ...` does not hold a million warnings in memory.
pub const WARNINGS_KEPT_PER_KIND: u64 = 1000;

/// The valid rows of one currency paid through one mobile operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperatorTotal {
    pub rows: u64,
    /// Minor units.
    pub total: u128,
}

/// The whole file, once every row has been seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data rows (blank lines are not rows).
    pub rows: u64,
    pub valid: u64,
    pub invalid: u64,
    /// Total of the valid rows per currency, in minor units.
    pub totals: BTreeMap<Currency, u128>,
    /// Number of valid rows per currency.
    pub counts: BTreeMap<Currency, u64>,
    /// Valid rows and their total per currency and mobile operator (rows that name one).
    pub operators: BTreeMap<(Currency, &'static str), OperatorTotal>,
    /// The first [`WARNINGS_KEPT_PER_KIND`] warnings of each kind, in file order. Added only
    /// through [`Summary::warn`], which counts them in `warning_counts`.
    pub warnings: Vec<Warning>,
    /// How many warnings of each kind there were, kept or not.
    pub warning_counts: BTreeMap<WarningKind, u64>,
    /// Every row error, in file order, then the file-level ones.
    pub errors: Vec<RowError>,
    /// The header row as written.
    pub headers: Vec<String>,
    /// The column delimiter used to read the file (`,` for a workbook).
    pub delimiter: u8,
    /// The sheet read, when the file is a workbook.
    pub sheet: Option<String>,
}

impl Summary {
    /// Keep `warning` unless its kind already has [`WARNINGS_KEPT_PER_KIND`]; count it either way.
    pub fn warn(&mut self, warning: Warning) {
        let count = self.warning_counts.entry(warning.kind).or_default();
        *count += 1;
        if *count <= WARNINGS_KEPT_PER_KIND {
            self.warnings.push(warning);
        }
    }

    /// Every warning, including those not kept.
    pub fn warnings_total(&self) -> u64 {
        self.warning_counts.values().sum()
    }

    /// Kinds whose warnings were not all kept, with how many were dropped.
    pub fn warnings_omitted(&self) -> impl Iterator<Item = (WarningKind, u64)> + '_ {
        self.warning_counts
            .iter()
            .filter(|(_, n)| **n > WARNINGS_KEPT_PER_KIND)
            .map(|(kind, n)| (*kind, n - WARNINGS_KEPT_PER_KIND))
    }

    /// No row error and no file-level error (warnings are allowed).
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_error_reads_like_the_design_example() {
        let err = RowError::at(
            17,
            "phone",
            "2.567E+11",
            "looks like a number mangled by a spreadsheet; format the column as text",
        );
        assert_eq!(
            err.to_string(),
            "line 17, phone \"2.567E+11\": looks like a number mangled by a spreadsheet; format the column as text"
        );
    }

    #[test]
    fn control_characters_in_values_are_escaped_when_printed() {
        let err = RowError::at(3, "phone", "\u{1b}[31m", "bad");
        assert!(!err.to_string().contains('\u{1b}'), "{err}");
    }

    #[test]
    fn file_level_errors_have_no_line() {
        let err = RowError {
            line: None,
            column: "expect-count".into(),
            value: "50".into(),
            reason: "the file has 48 payee rows, but --expect-count says 50".into(),
        };
        assert_eq!(
            err.to_string(),
            "expect-count: the file has 48 payee rows, but --expect-count says 50"
        );
        assert_eq!(
            serde_json::to_value(&err).unwrap()["line"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn clean_means_no_errors_even_with_warnings() {
        let mut summary = Summary::default();
        summary.warnings.push(Warning {
            line: Some(2),
            column: None,
            value: None,
            message: "x".into(),
            kind: WarningKind::EmptyReference,
        });
        assert!(summary.is_clean());
        summary.errors.push(RowError::at(2, "phone", "", "missing"));
        assert!(!summary.is_clean());
    }
}
