//! What a marked cell means for its row: a spreadsheet error, a formula with no saved result
//! (or, in an `.ods` file, with an empty result, which is how errors are saved there) or a
//! cell too long to read is an error in any column payrun reads; a date or time is an error
//! in the amount or phone column; a number with more decimals than money has is an error in the
//! amount column. Each replaces whatever the text rule said about that same column, so the
//! clerk reads one message naming the cell (`D17`), not a parse error about `#REF!`.

use csv::StringRecord;

use super::cell::{Mark, cell_name};
use crate::ingest::{
    MAX_FIELD_BYTES, MAX_ROW_BYTES, RowError, header::Columns, rules::Draft, source::cell,
};

/// Turn the marks of one row into errors on its draft. A row the rules already judged as a
/// whole (a totals row) keeps its one message.
pub(crate) fn apply_marks(
    draft: &mut Draft<'_>,
    marks: &[(usize, Mark)],
    record: &StringRecord,
    columns: &Columns,
) {
    if marks.is_empty() || draft.errors.iter().any(|e| e.column == "row") {
        return;
    }
    for &(index, mark) in marks {
        let Some(column) = columns.name_at(index) else {
            continue; // a column payrun does not read
        };
        let value = cell(record, index);
        let at = cell_name(index, draft.line);
        let reason = match mark {
            Mark::Error => format!(
                "cell {at} holds the spreadsheet error {value}; fix the formula or type the value (an error is never read as a value)"
            ),
            Mark::NoValue => format!(
                "cell {at} is a formula whose result was never saved in the file (the program that wrote it does not calculate); open and save the file in Excel or LibreOffice, or type the value"
            ),
            Mark::EmptyResult => format!(
                "cell {at} is a formula with an empty result or an error (OpenDocument files keep a formula's error, such as #DIV/0!, only as empty text); fix the formula or type the value"
            ),
            Mark::Date if index == columns.amount => format!(
                "cell {at} is a date or time, not a number; format the column as Number and type the amount again"
            ),
            Mark::Date if index == columns.phone => format!(
                "cell {at} is a date or time, not a phone number; format the column as Text and type the number again"
            ),
            Mark::Unrounded if index == columns.amount => format!(
                "cell {at} holds {value}, more decimals than money has (a formula result?); round it in the sheet, e.g. =ROUND(B2*C2, 2)"
            ),
            Mark::TooLong(len) => format!(
                "cell {at} is {len} bytes long; a cell is read up to {MAX_FIELD_BYTES} bytes and a row up to {MAX_ROW_BYTES}, so this row is not checked"
            ),
            Mark::Date | Mark::Unrounded => continue,
        };
        draft.errors.retain(|e| e.column != column);
        draft
            .errors
            .push(RowError::at(draft.line, column, value, reason));
        if column == "reference" {
            // Not a reference to compare with other rows.
            draft.reference = None;
        }
    }
}
