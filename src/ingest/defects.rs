//! What a record the capping reader had to cut (or that an unclosed quote swallowed) tells the
//! clerk, and the whole-file check that per-currency totals fit in one amount. Kept apart from
//! the pass over the file so `stream.rs` stays about the pass.

use csv::StringRecord;

use super::{
    IngestError, RowError, Summary,
    caps::{Defect, MAX_FIELD_BYTES, MAX_ROW_BYTES},
    header::Columns,
    source::cell,
};
use crate::domain::{MinorUnits, format_major};

/// A header that was cut or swallowed by an open quote cannot name the columns.
pub(super) fn header_defect(line: u64, defect: &Defect) -> IngestError {
    let problem = match (defect.unclosed_quote, defect.long_row) {
        (Some(quote), _) => format!(
            "has a quote opened on line {} that is never closed, so the whole file reads as the \
             header; close the quote (\") or remove it",
            quote.line
        ),
        (None, Some(len)) => format!(
            "is {len} bytes long; at most {MAX_ROW_BYTES} bytes of a row are read. Is this a \
             payee list saved as CSV?"
        ),
        (None, None) => format!(
            "has a name over {MAX_FIELD_BYTES} bytes long. Is this a payee list saved as CSV?"
        ),
    };
    IngestError::BadHeader { line, problem }
}

/// The problems of a record the reader had to cut, or that an unclosed quote swallowed.
pub(super) fn defect_errors(
    line: u64,
    defect: &Defect,
    record: &StringRecord,
    columns: &Columns,
    headers: &[String],
) -> Vec<RowError> {
    let name = |index: usize| match columns.name_at(index) {
        Some(name) => name.to_string(),
        None => match headers.get(index).map(|h| h.trim()) {
            Some(header) if !header.is_empty() => header.to_string(),
            _ => format!("column {}", index + 1),
        },
    };
    if let Some(quote) = defect.unclosed_quote {
        let lines = quote.last_line.saturating_sub(quote.line) + 1;
        let span = if lines == 1 {
            format!("line {} (the last line)", quote.line)
        } else {
            format!(
                "lines {} to {} ({lines} lines, to the end of the file)",
                quote.line, quote.last_line
            )
        };
        return vec![RowError::at(
            quote.line,
            &name(quote.field),
            cell(record, quote.field),
            format!(
                "a quote opened here is never closed, so {span} read as one value and no row in \
                 them is checked or paid; close the quote (\") or remove it"
            ),
        )];
    }
    let mut errors: Vec<RowError> = defect
        .long_fields
        .iter()
        .map(|&(index, len)| {
            RowError::at(
                line,
                &name(index),
                cell(record, index),
                format!(
                    "is {len} bytes long; at most {MAX_FIELD_BYTES} bytes of a value are read, \
                     so this row is not checked"
                ),
            )
        })
        .collect();
    if let Some(len) = defect.long_row {
        errors.push(RowError::at(
            line,
            "row",
            cell(record, 0),
            format!(
                "is {len} bytes long; at most {MAX_ROW_BYTES} bytes of a row are read, so this \
                 row is not checked (a closing quote may be missing)"
            ),
        ));
    }
    if errors.is_empty() {
        errors.push(RowError::at(
            line,
            "row",
            cell(record, 0),
            "could not be read whole",
        ));
    }
    errors
}

/// A currency whose valid rows add up to more than one amount can hold (`i64` minor units)
/// cannot be journaled, paid or totalled safely: refuse the file, naming the currency.
pub(super) fn check_totals(summary: &mut Summary) {
    let limit = u128::from(MinorUnits::MAX);
    let over: Vec<_> = summary
        .totals
        .iter()
        .filter(|(_, total)| **total > limit)
        .map(|(currency, total)| (*currency, *total))
        .collect();
    for (currency, total) in over {
        summary.errors.push(RowError {
            line: None,
            column: "total".into(),
            value: currency.code().to_string(),
            reason: format!(
                "the valid {currency} rows total {} {currency}, more than payrun can pay in one \
                 batch (at most {} {currency} per currency); split the file or check the amounts",
                format_major(total, currency),
                format_major(limit, currency),
            ),
        });
    }
}
