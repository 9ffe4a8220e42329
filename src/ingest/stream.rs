//! One pass over the file (CSV or a sheet, see `input.rs`): header, then every row through the per-row rules and the
//! whole-file ones (duplicate references, repeated payments), each outcome handed to the caller
//! as it streams, then the control checks (`--expect-count`, `--expect-total`).

use std::io::Read;

use csv::StringRecord;

use super::{
    IngestError, IngestOptions, RejectedRow, RowError, RowOutcome, Summary, Warning, WarningKind,
    defects::{check_totals, defect_errors},
    header::{self, Columns},
    input::Source,
    rules::{Draft, Ready, Rules},
    seen::{self, Duplicates, RowKeys, triple_key},
    source::cells,
    workbook::apply_marks,
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
    records: Source<R>,
    columns: Columns,
    headers: Vec<String>,
    warnings: Vec<Warning>,
    file_len: Option<u64>,
}

impl<'o, R: Read> Ingester<'o, R> {
    /// Read and check the header. Fails when the file cannot be a payee file at all.
    pub fn open(input: R, opts: &'o IngestOptions) -> Result<Ingester<'o, R>, IngestError> {
        if let Some(currency) = opts.default_currency
            && !opts.provider.accepts(currency)
        {
            return Err(IngestError::DefaultCurrency {
                currency,
                provider: opts.provider,
            });
        }
        let mut records = Source::open(input, opts)?;
        let (line, headers) = records.header()?;
        let mut warnings = records.take_warnings();
        let (columns, header_warnings) = header::map(&headers, line, opts)?;
        warnings.extend(header_warnings);
        Ok(Ingester {
            opts,
            records,
            columns,
            headers,
            warnings,
            file_len: None,
        })
    }

    /// The file's length in bytes, when it is known (a regular file, not a pipe): the
    /// duplicate tables are then sized up front for the rows its first rows suggest it has,
    /// instead of growing step by step. Changes nothing a row is told.
    pub fn file_len(mut self, bytes: u64) -> Self {
        self.file_len = Some(bytes);
        self
    }

    /// The header row as written.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The column delimiter in use (given, or detected from the header; `,` for a workbook).
    pub fn delimiter(&self) -> u8 {
        self.records.delimiter()
    }

    /// The sheet being read, when the file is a workbook.
    pub fn sheet(&self) -> Option<&str> {
        self.records.sheet()
    }

    /// Check every row, calling `on_row` once per data row in file order, and summarise.
    pub fn run(self, on_row: impl FnMut(RowOutcome)) -> Result<Summary, IngestError> {
        self.pass(true, on_row)
    }

    /// [`Ingester::run`] for a caller that wants only the rejected rows (`payrun validate`):
    /// every row is checked, counted and summarised the same, but valid rows are never built
    /// as [`PayeeRow`](crate::domain::PayeeRow)s (their text is not copied out of the file).
    pub fn run_rejected(
        self,
        mut on_rejected: impl FnMut(RejectedRow),
    ) -> Result<Summary, IngestError> {
        self.pass(false, |outcome| {
            if let RowOutcome::Rejected(row) = outcome {
                on_rejected(row);
            }
        })
    }

    /// The pass over the rows; valid rows reach `on_row` only if `valid_rows`.
    fn pass(
        self,
        valid_rows: bool,
        mut on_row: impl FnMut(RowOutcome),
    ) -> Result<Summary, IngestError> {
        let Ingester {
            opts,
            mut records,
            columns,
            headers,
            warnings,
            file_len,
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
            sheet: records.sheet().map(str::to_string),
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
        let mut marks = Vec::with_capacity(BATCH);
        let header_names = summary.headers.clone();
        // Where the rows start, while the duplicate tables are not sized yet.
        let mut unsized_from = file_len.and(records.position());
        loop {
            lines.clear();
            defects.clear();
            marks.clear();
            let mut failure = None;
            let mut done = false;
            let mut bytes = 0;
            for record in batch.iter_mut() {
                match records.read_into(record) {
                    Ok(Some(line)) => {
                        lines.push(line);
                        defects.push(records.take_defect());
                        marks.push(records.take_marks());
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
            if let (Some(len), Some(start)) = (file_len, unsized_from.take())
                && !done
                && let Some(now) = records.position()
                && let Some(rows) = seen::estimate_rows(len, start, now, lines.len() as u64)
            {
                duplicates.reserve(rows);
            }
            // Drafts borrow the batch's records: one short-lived list per batch.
            let mut drafts = Vec::with_capacity(BATCH);
            for (((record, &line), defect), marks) in
                batch.iter().zip(&lines).zip(&mut defects).zip(&marks)
            {
                let mut draft = rules.check(line, record);
                // A sheet's error cells, dates in money columns, ...: one error each.
                apply_marks(&mut draft, marks, record, &columns);
                if let Some(defect) = defect.take() {
                    // Cut or swallowed: only the defect is reported, and nothing of the row
                    // takes part in duplicate detection.
                    draft.errors = defect_errors(line, &defect, record, &columns, &header_names);
                    drafts.push((draft, RowKeys::default()));
                    continue;
                }
                let keys = RowKeys {
                    reference: draft.reference.map(|r| duplicates.reference_key(r)),
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
            for ((draft, keys), record) in drafts.into_iter().zip(&batch) {
                let row = Row {
                    draft,
                    keys,
                    record,
                };
                let outcome = row.finish(&rules, &columns, &mut duplicates, &mut summary);
                match outcome {
                    Finished::Valid(ready, occurrence) if valid_rows => {
                        on_row(RowOutcome::Valid(ready.into_row(occurrence)));
                    }
                    Finished::Valid(..) => {}
                    Finished::Rejected(row) => on_row(RowOutcome::Rejected(row)),
                }
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

/// One row of a batch after the per-row rules.
struct Row<'r> {
    draft: Draft<'r>,
    keys: RowKeys,
    record: &'r StringRecord,
}

/// A row after every rule: valid (with its occurrence), or rejected.
enum Finished<'r> {
    Valid(Ready<'r>, u32),
    Rejected(RejectedRow),
}

impl<'r> Row<'r> {
    /// The whole-file rules for one row, in file order: duplicate reference, then (for a valid
    /// row) repeated payment and occurrence; the row is counted in `summary`, with its
    /// warnings, before it is handed out.
    fn finish(
        self,
        rules: &Rules<'_>,
        columns: &Columns,
        duplicates: &mut Duplicates,
        summary: &mut Summary,
    ) -> Finished<'r> {
        let Row {
            mut draft,
            keys,
            record,
        } = self;
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
        summary.rows += 1;
        match draft.finish() {
            Ok(mut ready) => {
                let key = keys
                    .triple
                    .unwrap_or_else(|| triple_key(&ready.phone, ready.amount, ready.currency));
                let (first, occurrence) = duplicates.triple(key, line);
                for note in std::mem::take(&mut ready.notes) {
                    summary.warn(note);
                }
                if let Some(first) = first {
                    summary.warn(Warning {
                        line: Some(line),
                        column: None,
                        value: None,
                        message: format!(
                            "same phone, amount and currency as line {first}: this payee will be paid again (remove the row if that is a mistake; if it is meant, run with --allow-repeats)"
                        ),
                        kind: WarningKind::RepeatedPayment,
                    });
                }
                summary.count_valid(&ready);
                Finished::Valid(ready, occurrence)
            }
            Err(errors) => {
                summary.invalid += 1;
                summary.errors.extend(errors.iter().cloned());
                Finished::Rejected(RejectedRow {
                    line,
                    fields: cells(record),
                    errors,
                    reference: reference.to_string(),
                    phone: phone.to_string(),
                    amount: amount.to_string(),
                    currency: currency.to_string(),
                })
            }
        }
    }
}

impl Summary {
    /// Count one valid row in the totals.
    fn count_valid(&mut self, row: &Ready<'_>) {
        let amount = u128::from(row.amount.get());
        *self.totals.entry(row.currency).or_default() += amount;
        *self.counts.entry(row.currency).or_default() += 1;
        if let Some(operator) = row.operator {
            let tally = self
                .operators
                .entry((row.currency, operator.name()))
                .or_default();
            tally.rows += 1;
            tally.total += amount;
        }
        self.valid += 1;
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
