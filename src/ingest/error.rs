//! File-level failures: the file cannot be read as a payee file at all, so no row can be trusted
//! (exit 2). Row problems are not errors here; they are reported per row and the file goes on.
//! Every message is one line a clerk can act on.

use std::{io, path::PathBuf};

use crate::domain::{Currency, Escaped, ProviderKind, Quoted};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot open {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{} is not a regular file but {kind}; give the path of the payee file itself", path.display())]
    NotRegularFile { path: PathBuf, kind: &'static str },

    #[error("line {line}: the header row {problem}")]
    BadHeader { line: u64, problem: String },

    #[error("cannot read the file: {source}")]
    Read {
        #[source]
        source: io::Error,
    },

    #[error(
        "the file is empty: it needs a header row naming the columns (phone,amount,currency,...) and one row per payee"
    )]
    Empty,

    #[error(
        "line {line}{} is not UTF-8 text (the file was probably saved as ANSI/Latin-1); in the spreadsheet use Save As \"CSV UTF-8\" and try again",
        column.map(|c| format!(", column {c},")).unwrap_or_default()
    )]
    NotUtf8 { line: u64, column: Option<usize> },

    #[error("this is not a CSV text file: {0}")]
    Binary(&'static str),

    #[error(
        "lines end with a carriage return only (old Mac format); save the file as \"CSV UTF-8\" and try again"
    )]
    CarriageReturnOnly,

    #[error(
        "cannot tell the column delimiter: the header has as many {first:?} as {second:?}; pass --delimiter"
    )]
    Delimiter { first: char, second: char },

    #[error(
        "line {line}: the first row must be a header naming the columns (phone, amount, currency, ...), but it looks like payee data: {}",
        Escaped(found)
    )]
    NoHeader { line: u64, found: String },

    #[error("{}; the header has: {}", missing.join("; "), Escaped(&found.join(", ")))]
    MissingColumns {
        /// One description per missing column, naming the aliases that were looked for.
        missing: Vec<String>,
        /// The header cells as written.
        found: Vec<String>,
    },

    #[error("columns {} and {} both give the {meaning}; keep only one of them", Quoted(.first), Quoted(.second))]
    DuplicateColumn {
        first: String,
        second: String,
        meaning: &'static str,
    },

    #[error("--column {choice}: the header has no such column; it has: {}", Escaped(&found.join(", ")))]
    ChosenColumnMissing { choice: String, found: Vec<String> },

    #[error("--column {choice}: {other} is already given a column by another --column")]
    ChosenTwice { choice: String, other: &'static str },

    #[error(
        "cannot read this {kind}: {}; open it in the spreadsheet program and save it again (as .xlsx), or save the payee sheet as \"CSV UTF-8\"",
        Escaped(reason)
    )]
    Workbook { kind: &'static str, reason: String },

    #[error(
        "the workbook is larger than {limit_mib} MiB; save the payee sheet on its own, or as \"CSV UTF-8\""
    )]
    WorkbookTooLarge { limit_mib: u64 },

    #[error(
        "--sheet {}: the workbook has no such sheet; its sheets are: {}",
        Quoted(given),
        quoted_list(found)
    )]
    UnknownSheet { given: String, found: Vec<String> },

    #[error(
        "the workbook has no visible worksheet; name one with --sheet (its sheets are: {})",
        quoted_list(found)
    )]
    NoVisibleSheet { found: Vec<String> },

    #[error(
        "sheet {} is empty: it needs a header row naming the columns (phone, amount, currency, ...) and one row per payee",
        Quoted(sheet)
    )]
    EmptySheet { sheet: String },

    #[error(
        "--sheet {}: this file is CSV text, which has no sheets; --sheet is for .xlsx, .xls and .ods workbooks",
        Quoted(sheet)
    )]
    SheetForCsv { sheet: String },

    #[error(
        "--delimiter: this file is an {kind}, which has no delimiter; --delimiter is for CSV files"
    )]
    DelimiterForWorkbook { kind: &'static str },

    #[error("--currency {currency}: {provider} does not pay {currency}; it pays {}", accepted(*provider))]
    DefaultCurrency {
        currency: Currency,
        provider: ProviderKind,
    },
}

/// `"Payroll", "Bonus"`: sheet names for messages.
fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| Quoted(n).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `UGX, KES, TZS, RWF`: the provider's currencies for messages.
pub(crate) fn accepted(provider: ProviderKind) -> String {
    provider
        .currencies()
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let errors = [
            IngestError::Empty,
            IngestError::NotUtf8 {
                line: 7,
                column: Some(3),
            },
            IngestError::Binary("it looks like an Excel workbook"),
            IngestError::CarriageReturnOnly,
            IngestError::Delimiter {
                first: ',',
                second: ';',
            },
            IngestError::MissingColumns {
                missing: vec!["missing column \"phone\"".into()],
                found: vec!["amount".into()],
            },
            IngestError::DefaultCurrency {
                currency: Currency::GHS,
                provider: ProviderKind::Rohopay,
            },
        ];
        for err in errors {
            let text = err.to_string();
            assert!(!text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn not_utf8_names_line_and_column() {
        let err = IngestError::NotUtf8 {
            line: 500,
            column: Some(6),
        };
        assert!(
            err.to_string()
                .starts_with("line 500, column 6, is not UTF-8"),
            "{err}"
        );
    }
}
