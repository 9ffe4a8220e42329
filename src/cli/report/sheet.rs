//! `report --format xlsx`: an Excel workbook a finance manager opens as it is. The first sheet
//! lists every payee in file order with typed cells — the phone is text (Excel never turns it
//! into `2.5647E+11`), the amount a number in major units with the currency's decimals, the
//! times real dates — and the second totals the batch per currency and operator by what became
//! of each payee. Cells are written as strings or numbers, never as formulas, so nothing a payee
//! file holds can run when the workbook is opened.
//!
//! The payee sheet is written row by row to a temporary file (constant memory mode), so a large
//! batch never sits in memory; only the totals, a few lines per currency and operator, do.

use anyhow::Context;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use super::totals::{Bucket, Figures, Totals};
use crate::domain::{Currency, RowState, format_major};
use crate::journal::{Batch, Journal, JournalError, ReportRow};

/// Rows of one Excel sheet, the header included.
const EXCEL_ROWS: u64 = 1_048_576;

/// Excel's longest text in one cell.
const CELL_CHARS: usize = 32_767;

/// The payee sheet's columns: header and width.
const PAYEE_COLUMNS: [(&str, f64); 18] = [
    ("Line", 6.0),
    ("Reference", 14.0),
    ("Name", 24.0),
    ("Phone", 15.0),
    ("Operator", 10.0),
    ("Amount", 14.0),
    ("Currency", 9.0),
    ("State", 10.0),
    ("Attempt", 8.0),
    ("Provider reference", 20.0),
    ("Request id", 20.0),
    ("Network", 10.0),
    ("Failure reason / note", 40.0),
    ("Needs a person", 30.0),
    ("Description", 24.0),
    ("Planned (UTC)", 19.0),
    ("Last change (UTC)", 19.0),
    ("Idempotency key", 37.0),
];

struct Formats {
    header: Format,
    text: Format,
    date: Format,
    /// Amount formats by the currency's decimals (0 or 2).
    whole: Format,
    cents: Format,
    total: Format,
    total_whole: Format,
    total_cents: Format,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_border_bottom(FormatBorder::Thin);
        Formats {
            text: Format::new().set_num_format("@"),
            date: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            whole: Format::new().set_num_format("#,##0"),
            cents: Format::new().set_num_format("#,##0.00"),
            total: Format::new().set_bold(),
            total_whole: Format::new().set_bold().set_num_format("#,##0"),
            total_cents: Format::new().set_bold().set_num_format("#,##0.00"),
            header: header.set_align(FormatAlign::Center),
        }
    }

    fn amount(&self, currency: &str, bold: bool) -> &Format {
        match (decimals(currency) > 0, bold) {
            (false, false) => &self.whole,
            (true, false) => &self.cents,
            (false, true) => &self.total_whole,
            (true, true) => &self.total_cents,
        }
    }
}

fn decimals(currency: &str) -> u32 {
    Currency::parse(currency).map_or(0, Currency::exponent)
}

/// The cell value of an amount: major units as a number. The one place payrun turns money
/// into a float, at the output boundary: the exact decimal text is parsed, so the cell holds
/// the double nearest to the amount, which Excel shows exactly with the currency's decimals.
fn major_value(minor: u128, currency: &str) -> f64 {
    let text = match Currency::parse(currency) {
        Ok(c) => format_major(minor, c),
        Err(_) => minor.to_string(),
    };
    text.parse().unwrap_or(f64::NAN)
}

/// Text cut to what one Excel cell holds.
fn cell_text(text: &str) -> &str {
    match text.char_indices().nth(CELL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The payout attempt a row is on (1, or more after `payrun retry`); none for a row that was
/// never to be paid (rejected in the file).
fn attempt(row: &ReportRow) -> Option<u32> {
    (row.state != RowState::Rejected || row.key.is_some()).then_some(row.attempt)
}

/// What the reason column says: the error for rows not paid; for paid rows only a conflict
/// note (a stale error from an earlier, answered attempt would mislead).
fn reason(row: &ReportRow) -> Option<&str> {
    if row.state.is_good() {
        row.conflict.as_deref()
    } else {
        row.error.as_deref()
    }
}

/// Build the workbook for `batch`, reading the journal once.
pub fn build(journal: &Journal, batch: &Batch) -> anyhow::Result<Workbook> {
    let rows = journal.row_count(&batch.id)?;
    if rows >= EXCEL_ROWS {
        anyhow::bail!(
            "batch {} has {rows} payees, more than one Excel sheet holds ({}); use \
             `payrun report {} --format csv`",
            batch.id,
            EXCEL_ROWS - 1,
            batch.id
        );
    }
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let mut totals = Totals::default();
    {
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name("Payees")?;
        for (col, (title, width)) in (0u16..).zip(PAYEE_COLUMNS) {
            sheet.set_column_width(col, width)?;
            sheet.write_string_with_format(0, col, title, &formats.header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let mut at = 0u32;
        journal.report_rows(&batch.id, |row| {
            at += 1;
            totals.add(&row);
            payee_row(sheet, at, &row, &formats)
                .map_err(|e| JournalError::Corrupt(format!("cannot write the xlsx report: {e}")))
        })?;
        sheet.autofilter(0, 0, at, (PAYEE_COLUMNS.len() - 1) as u16)?;
    }
    let approvals: Vec<String> = journal
        .approvals(&batch.id)?
        .iter()
        .map(crate::journal::Approval::text)
        .collect();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Totals")?;
    totals_sheet(sheet, batch, &approvals, &totals, &formats)
        .context("cannot write the totals sheet")?;
    Ok(workbook)
}

fn payee_row(
    sheet: &mut Worksheet,
    at: u32,
    row: &ReportRow,
    f: &Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let text = |sheet: &mut Worksheet, col: u16, value: Option<&str>| match value {
        Some(v) if !v.is_empty() => sheet
            .write_string_with_format(at, col, cell_text(v), &f.text)
            .map(|_| ()),
        _ => Ok(()),
    };
    sheet.write_number(at, 0, row.line as f64)?;
    text(sheet, 1, row.reference.as_deref())?;
    text(sheet, 2, row.name.as_deref())?;
    text(sheet, 3, Some(&row.phone))?;
    text(sheet, 4, row.operator.as_deref())?;
    match row.amount_minor {
        Some(minor) => {
            let value = major_value(u128::from(minor), &row.currency);
            sheet.write_number_with_format(at, 5, value, f.amount(&row.currency, false))?;
        }
        // A rejected row's amount as written, which may not be a number at all.
        None => text(sheet, 5, Some(&row.amount))?,
    }
    text(sheet, 6, Some(&row.currency))?;
    text(sheet, 7, Some(row.state.as_str()))?;
    if let Some(n) = attempt(row) {
        sheet.write_number(at, 8, n)?;
    }
    text(sheet, 9, row.provider_reference.as_deref())?;
    text(sheet, 10, row.request_id.as_deref())?;
    text(sheet, 11, row.provider.as_deref())?;
    text(sheet, 12, reason(row))?;
    text(sheet, 13, row.attention.as_deref())?;
    text(sheet, 14, row.description.as_deref())?;
    for (col, ms) in [(15, row.created_ms), (16, row.updated_ms)] {
        if let Ok(when) = ExcelDateTime::from_timestamp(ms.div_euclid(1000)) {
            sheet.write_datetime_with_format(at, col, when, &f.date)?;
        }
    }
    text(sheet, 17, row.key.as_deref())
}

/// Who approved the batch, then one line per currency and operator and the currency's total
/// in bold, each with the payees and amount requested and in every bucket.
fn totals_sheet(
    sheet: &mut Worksheet,
    batch: &Batch,
    approvals: &[String],
    totals: &Totals,
    f: &Formats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let title = format!(
        "Batch {} ({}{}), file {}: totals per currency and operator",
        batch.id,
        batch.provider.name(),
        if batch.sandbox { ", sandbox" } else { "" },
        batch.file_name
    );
    sheet.write_string_with_format(0, 0, title, &f.total)?;
    let approved = if approvals.is_empty() {
        "Approved by: none recorded".to_owned()
    } else {
        format!("Approved by: {}", approvals.join("; "))
    };
    sheet.write_string(1, 0, cell_text(&approved))?;
    sheet.set_column_width(0, 10)?;
    sheet.set_column_width(1, 14)?;
    let groups: Vec<(&str, Option<Bucket>)> = std::iter::once(("Requested", None))
        .chain(Bucket::ALL.iter().map(|b| (b.label(), Some(*b))))
        .collect();
    sheet.write_string_with_format(2, 0, "Currency", &f.header)?;
    sheet.write_string_with_format(2, 1, "Operator", &f.header)?;
    sheet.write_string_with_format(3, 0, "", &f.header)?;
    sheet.write_string_with_format(3, 1, "", &f.header)?;
    for (i, (label, _)) in (0u16..).zip(&groups) {
        let col = 2 + 2 * i;
        sheet.merge_range(2, col, 2, col + 1, label, &f.header)?;
        sheet.write_string_with_format(3, col, "Payees", &f.header)?;
        sheet.write_string_with_format(3, col + 1, "Amount", &f.header)?;
        sheet.set_column_width(col, 8)?;
        sheet.set_column_width(col + 1, 16)?;
    }
    sheet.set_freeze_panes(4, 2)?;
    let mut at = 4u32;
    for (currency, all) in &totals.by_currency {
        let operators = totals
            .by_operator
            .iter()
            .filter(|((c, _), _)| c == currency);
        for ((cur, operator), figures) in operators {
            let name = if operator.is_empty() {
                "(none)"
            } else {
                operator
            };
            sheet.write_string(at, 0, cur)?;
            sheet.write_string(at, 1, name)?;
            figure_cells(sheet, at, cur, figures, &groups, f, false)?;
            at += 1;
        }
        sheet.write_string_with_format(at, 0, currency, &f.total)?;
        sheet.write_string_with_format(at, 1, "All operators", &f.total)?;
        figure_cells(sheet, at, currency, all, &groups, f, true)?;
        at += 2;
    }
    Ok(())
}

fn figure_cells(
    sheet: &mut Worksheet,
    at: u32,
    currency: &str,
    figures: &Figures,
    groups: &[(&str, Option<Bucket>)],
    f: &Formats,
    bold: bool,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (i, (_, bucket)) in (0u16..).zip(groups) {
        let tally = bucket.map_or(figures.requested, |b| figures.get(b));
        let col = 2 + 2 * i;
        let count_format = if bold { &f.total } else { &f.whole };
        sheet.write_number_with_format(at, col, tally.rows as f64, count_format)?;
        // Rejected rows' amounts were never read as money: their total is left empty.
        if *bucket != Some(Bucket::Rejected) {
            let value = major_value(tally.minor, currency);
            sheet.write_number_with_format(at, col + 1, value, f.amount(currency, bold))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_the_nearest_number_in_major_units() {
        assert_eq!(major_value(250_050, "KES"), 2500.5);
        assert_eq!(major_value(1, "KES"), 0.01);
        assert_eq!(major_value(62_350_000, "UGX"), 62_350_000.0);
        assert_eq!(major_value(7, "???"), 7.0);
        assert_eq!(decimals("KES"), 2);
        assert_eq!(decimals("UGX"), 0);
    }

    #[test]
    fn long_text_is_cut_to_one_cell_on_a_char_boundary() {
        let long = "é".repeat(CELL_CHARS + 5);
        assert_eq!(cell_text(&long).chars().count(), CELL_CHARS);
        assert_eq!(cell_text("short"), "short");
    }

    #[test]
    fn paid_rows_show_only_a_conflict_as_their_reason() {
        let mut row = crate::journal::test_support::report_row();
        row.state = RowState::Succeeded;
        row.error = Some("no answer from the provider (timed out)".into());
        assert_eq!(reason(&row), None);
        row.conflict = Some("the file changed".into());
        assert_eq!(reason(&row), Some("the file changed"));
        row.state = RowState::Failed;
        assert_eq!(
            reason(&row),
            Some("no answer from the provider (timed out)")
        );
    }

    #[test]
    fn rejected_rows_are_on_no_attempt() {
        let mut row = crate::journal::test_support::report_row();
        assert_eq!(attempt(&row), Some(2));
        row.state = RowState::Rejected;
        row.key = None;
        assert_eq!(attempt(&row), None);
    }
}
