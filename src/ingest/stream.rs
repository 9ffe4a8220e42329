//! One pass over the file: header, then every row through the per-row rules and the
//! whole-file ones (duplicate references, repeated payments), each outcome handed to the caller
//! as it streams, then the control checks (`--expect-count`, `--expect-total`).

use std::io::Read;

use super::{
    IngestError, IngestOptions, RejectedRow, RowError, RowOutcome, Summary, Warning, WarningKind,
    header::{self, Columns},
    rules::Rules,
    seen::Duplicates,
    source::{Records, cells},
};
use crate::domain::format_major;

/// A file whose header has been read and understood, ready to stream its rows.
///
/// [`super::ingest`] is `open` + `run`; use the two steps when something must be prepared from
/// the header before rows arrive (e.g. a rejects file with the same columns).
pub struct Ingester<'o, R: Read> {
    opts: &'o IngestOptions,
    records: Records<R>,
    columns: Columns,
    headers: Vec<String>,
    warnings: Vec<Warning>,
}

impl<'o, R: Read> Ingester<'o, R> {
    /// Read and check the header. Fails when the file cannot be a payout CSV at all.
    pub fn open(input: R, opts: &'o IngestOptions) -> Result<Ingester<'o, R>, IngestError> {
        if let Some(currency) = opts.default_currency
            && !opts.provider.accepts(currency)
        {
            return Err(IngestError::DefaultCurrency {
                currency,
                provider: opts.provider,
            });
        }
        let mut records = Records::open(input, opts.delimiter)?;
        let (line, headers) = match records.next_record()? {
            Some((line, record)) => (line, cells(record)),
            None => return Err(IngestError::Empty),
        };
        let (columns, warnings) = header::map(&headers, line, opts)?;
        Ok(Ingester {
            opts,
            records,
            columns,
            headers,
            warnings,
        })
    }

    /// The header row as written.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The column delimiter in use (given, or detected from the header).
    pub fn delimiter(&self) -> u8 {
        self.records.delimiter()
    }

    /// Check every row, calling `on_row` once per data row in file order, and summarise.
    pub fn run(self, mut on_row: impl FnMut(RowOutcome)) -> Result<Summary, IngestError> {
        let Ingester {
            opts,
            mut records,
            columns,
            headers,
            warnings,
        } = self;
        let delimiter = records.delimiter();
        let rules = Rules::new(
            opts.provider,
            &columns,
            opts.default_currency,
            &opts.limits,
            delimiter,
        );
        let mut duplicates = Duplicates::new();
        let mut summary = Summary {
            headers,
            delimiter,
            warnings,
            ..Summary::default()
        };

        while let Some((line, record)) = records.next_record()? {
            summary.rows += 1;
            let mut draft = rules.check(line, record);
            let [reference, phone, amount, currency] = rules.raw_key_cells(record);
            if let Some(written) = &draft.reference
                && let Some(first) = duplicates.reference(written, line)
            {
                draft.errors.push(RowError::at(
                    line,
                    "reference",
                    reference,
                    format!("duplicate reference, first used on line {first}"),
                ));
            }
            draft
                .errors
                .sort_by_key(|error| columns.position(&error.column));
            match draft.finish() {
                Ok((mut row, notes)) => {
                    let (first, occurrence) =
                        duplicates.triple(&row.phone, row.amount, row.currency, line);
                    row.occurrence = occurrence;
                    summary.warnings.extend(notes);
                    if let Some(first) = first {
                        summary.warnings.push(Warning {
                            line: Some(line),
                            column: None,
                            value: None,
                            message: format!(
                                "same phone, amount and currency as line {first}: this payee will be paid again (remove the row if that is a mistake)"
                            ),
                            kind: WarningKind::RepeatedPayment,
                        });
                    }
                    *summary.totals.entry(row.currency).or_default() +=
                        u128::from(row.amount.get());
                    *summary.counts.entry(row.currency).or_default() += 1;
                    summary.valid += 1;
                    on_row(RowOutcome::Valid(row));
                }
                Err(errors) => {
                    summary.invalid += 1;
                    summary.errors.extend(errors.iter().cloned());
                    on_row(RowOutcome::Rejected(RejectedRow {
                        line,
                        fields: cells(record),
                        errors,
                        reference: reference.to_string(),
                        phone: phone.to_string(),
                        amount: amount.to_string(),
                        currency: currency.to_string(),
                    }));
                }
            }
        }

        if summary.rows == 0 {
            summary.warnings.push(Warning {
                line: None,
                column: None,
                value: None,
                message: "the file has a header but no payee rows".into(),
                kind: WarningKind::NoRows,
            });
        }
        check_controls(&mut summary, opts);
        Ok(summary)
    }
}

/// `--expect-count` and `--expect-total`: control figures from the payroll system.
fn check_controls(summary: &mut Summary, opts: &IngestOptions) {
    if let Some(expected) = opts.expect_count
        && expected != summary.rows
    {
        summary.errors.push(RowError {
            line: None,
            column: "expect-count".into(),
            value: expected.to_string(),
            reason: format!(
                "the file has {} payee rows, but --expect-count says {expected}",
                summary.rows
            ),
        });
    }
    for control in &opts.expect_totals {
        let currency = control.currency;
        let total = summary.totals.get(&currency).copied().unwrap_or(0);
        let expected = u128::from(control.amount.get());
        if total == expected {
            continue;
        }
        let not_counted = match summary.invalid {
            0 => String::new(),
            1 => " (1 invalid row is not counted)".into(),
            n => format!(" ({n} invalid rows are not counted)"),
        };
        summary.errors.push(RowError {
            line: None,
            column: "expect-total".into(),
            value: format!("{}{currency}", format_major(expected, currency)),
            reason: format!(
                "the valid {currency} rows total {} {currency}, but --expect-total says {} {currency}{not_counted}",
                format_major(total, currency),
                format_major(expected, currency),
            ),
        });
    }
}
