//! One pass over the file: header, then every row through the per-row rules and the
//! whole-file ones (duplicate references, repeated payments), each outcome handed to the caller
//! as it streams, then the control checks (`--expect-count`, `--expect-total`).

use std::io::Read;

use csv::StringRecord;

use super::{
    IngestError, IngestOptions, RejectedRow, RowError, RowOutcome, Summary, Warning, WarningKind,
    defects::{check_totals, defect_errors, header_defect},
    header::{self, Columns},
    rules::{Draft, Rules},
    seen::{Duplicates, RowKeys, triple_key},
    source::{Records, cells},
};
use crate::domain::format_major;

/// Rows checked together, so that their duplicate-table lookups overlap in memory.
const BATCH: usize = 128;
/// A batch also ends once its rows hold this many bytes, so long rows cannot pile up.
const BATCH_BYTES: usize = 2 * 1024 * 1024;
/// A record buffer that held more than this is dropped after use rather than recycled.
const RECYCLE_BYTES: usize = 64 * 1024;

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
        if let Some(defect) = records.take_defect() {
            return Err(header_defect(line, &defect));
        }
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
            ..Summary::default()
        };
        // Through `warn`, like every other warning: the count shown is the count of the list.
        for warning in warnings {
            summary.warn(warning);
        }

        // Rows are read and checked in batches so that the duplicate-table lookups of a whole
        // batch can be started together (see `Duplicates::warm`); outcomes still stream in
        // file order, one row at a time.
        let mut batch: Vec<StringRecord> = (0..BATCH).map(|_| StringRecord::new()).collect();
        let mut lines = Vec::with_capacity(BATCH);
        let mut defects = Vec::with_capacity(BATCH);
        let mut drafts = Vec::with_capacity(BATCH);
        let header_names = summary.headers.clone();
        loop {
            lines.clear();
            defects.clear();
            let mut failure = None;
            let mut done = false;
            let mut bytes = 0;
            for record in batch.iter_mut() {
                match records.read_into(record) {
                    Ok(Some(line)) => {
                        lines.push(line);
                        defects.push(records.take_defect());
                        bytes += record.as_byte_record().as_slice().len();
                        if bytes > BATCH_BYTES {
                            break;
                        }
                    }
                    Ok(None) => {
                        done = true;
                        break;
                    }
                    Err(err) => {
                        failure = Some(err);
                        break;
                    }
                }
            }
            for ((record, &line), defect) in batch.iter().zip(&lines).zip(&mut defects) {
                let mut draft = rules.check(line, record);
                if let Some(defect) = defect.take() {
                    // Cut or swallowed: only the defect is reported, and nothing of the row
                    // takes part in duplicate detection.
                    draft.errors = defect_errors(line, &defect, record, &columns, &header_names);
                    drafts.push((draft, RowKeys::default()));
                    continue;
                }
                let keys = RowKeys {
                    reference: draft
                        .reference
                        .as_deref()
                        .map(|r| duplicates.reference_key(r)),
                    triple: match (&draft.phone, draft.amount, draft.currency) {
                        (Some(phone), Some(amount), Some(currency)) if draft.errors.is_empty() => {
                            Some(triple_key(phone, amount, currency))
                        }
                        _ => None,
                    },
                };
                drafts.push((draft, keys));
            }
            duplicates.warm(drafts.iter().map(|(_, keys)| keys));
            for ((draft, keys), record) in drafts.drain(..).zip(&batch) {
                let mut outcome =
                    finish_row(draft, keys, record, &rules, &columns, &mut duplicates);
                summary.record(&mut outcome);
                on_row(outcome.0);
            }
            for record in batch.iter_mut() {
                if record.as_byte_record().as_slice().len() > RECYCLE_BYTES {
                    *record = StringRecord::new();
                }
            }
            if let Some(err) = failure {
                return Err(err);
            }
            if done {
                break;
            }
        }

        if summary.rows == 0 {
            summary.warn(Warning {
                line: None,
                column: None,
                value: None,
                message: "the file has a header but no payee rows".into(),
                kind: WarningKind::NoRows,
            });
        }
        check_totals(&mut summary);
        check_controls(&mut summary, opts);
        Ok(summary)
    }
}

/// The whole-file rules for one row, in file order: duplicate reference, then (for a valid
/// row) repeated payment and occurrence.
fn finish_row(
    mut draft: Draft,
    keys: RowKeys,
    record: &StringRecord,
    rules: &Rules<'_>,
    columns: &Columns,
    duplicates: &mut Duplicates,
) -> (RowOutcome, Vec<Warning>) {
    let line = draft.line;
    let [reference, phone, amount, currency] = rules.raw_key_cells(record);
    if let Some(key) = keys.reference
        && let Some(first) = duplicates.reference(key, line)
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
        Ok((mut row, mut notes)) => {
            let key = keys
                .triple
                .unwrap_or_else(|| triple_key(&row.phone, row.amount, row.currency));
            let (first, occurrence) = duplicates.triple(key, line);
            row.occurrence = occurrence;
            if let Some(first) = first {
                notes.push(Warning {
                    line: Some(line),
                    column: None,
                    value: None,
                    message: format!(
                        "same phone, amount and currency as line {first}: this payee will be paid again (remove the row if that is a mistake)"
                    ),
                    kind: WarningKind::RepeatedPayment,
                });
            }
            (RowOutcome::Valid(row), notes)
        }
        Err(errors) => (
            RowOutcome::Rejected(RejectedRow {
                line,
                fields: cells(record),
                errors,
                reference: reference.to_string(),
                phone: phone.to_string(),
                amount: amount.to_string(),
                currency: currency.to_string(),
            }),
            Vec::new(),
        ),
    }
}

impl Summary {
    /// Count one row's outcome.
    fn record(&mut self, (outcome, notes): &mut (RowOutcome, Vec<Warning>)) {
        self.rows += 1;
        for note in notes.drain(..) {
            self.warn(note);
        }
        match outcome {
            RowOutcome::Valid(row) => {
                *self.totals.entry(row.currency).or_default() += u128::from(row.amount.get());
                *self.counts.entry(row.currency).or_default() += 1;
                if let Some(operator) = row.operator {
                    let tally = self
                        .operators
                        .entry((row.currency, operator.name()))
                        .or_default();
                    tally.rows += 1;
                    tally.total += u128::from(row.amount.get());
                }
                self.valid += 1;
            }
            RowOutcome::Rejected(row) => {
                self.invalid += 1;
                self.errors.extend(row.errors.iter().cloned());
            }
        }
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
