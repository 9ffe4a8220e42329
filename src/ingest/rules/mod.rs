//! The rules of the README, section "Validation rules", for one row, in isolation: every cell is parsed into its domain type
//! and every problem becomes one [`RowError`] (a row never stops at its first problem).
//! Rules that need the rest of the file (duplicates, controls) live in `stream.rs`; the rules
//! for who is paid (operator, names, description, document, row shape) in `payee.rs`.

use csv::StringRecord;

mod payee;
mod written;

use self::written::Written;
use super::{RowError, Warning, WarningKind, error::accepted, header::Columns, source::cell};
use crate::domain::{
    AmountError, AmountUnit, Country, Currency, Limits, MinorUnits, Operator, PayeeRow, Phone,
    PhoneError, ProviderKind, Quoted, format_major, trim,
};

/// At most this many characters in a description (assumed: no provider documents a limit).
pub const MAX_DESCRIPTION_CHARS: usize = 100;

/// Everything the per-row rules need, computed once per file.
pub(crate) struct Rules<'a> {
    provider: ProviderKind,
    columns: &'a Columns,
    default_currency: Option<Currency>,
    delimiter: char,
    /// Effective (min, max) per currency, indexed like `Currency::ALL`.
    ranges: [(Option<MinorUnits>, Option<MinorUnits>); Currency::ALL.len()],
}

/// A row after the per-row rules: its checked values so far, problems, and notes that become
/// warnings only if the row turns out valid. Its text values borrow the record's cells: they
/// are copied only when a valid row is handed out as a [`PayeeRow`] (see [`Ready::into_row`]).
#[derive(Debug)]
pub(crate) struct Draft<'r> {
    pub line: u64,
    pub reference: Option<&'r str>,
    pub phone: Option<Phone>,
    pub amount: Option<MinorUnits>,
    pub currency: Option<Currency>,
    pub operator: Option<Operator>,
    pub first_name: Option<&'r str>,
    pub last_name: Option<&'r str>,
    pub description: Option<&'r str>,
    pub document: Option<(&'r str, &'r str)>,
    pub errors: Vec<RowError>,
    pub notes: Vec<Warning>,
}

/// A row every per-row rule passed: what it pays, and the notes that become its warnings.
#[derive(Debug)]
pub(crate) struct Ready<'r> {
    pub phone: Phone,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub operator: Option<Operator>,
    pub notes: Vec<Warning>,
    line: u64,
    reference: Option<&'r str>,
    first_name: Option<&'r str>,
    last_name: Option<&'r str>,
    description: Option<&'r str>,
    document: Option<(&'r str, &'r str)>,
}

impl Ready<'_> {
    /// The payee row, paid for the `occurrence`-th time (0: first).
    pub(crate) fn into_row(self, occurrence: u32) -> PayeeRow {
        let owned = |text: Option<&str>| text.map(str::to_string);
        PayeeRow {
            line: self.line,
            reference: owned(self.reference),
            phone: self.phone,
            amount: self.amount,
            currency: self.currency,
            operator: self.operator,
            first_name: owned(self.first_name),
            last_name: owned(self.last_name),
            description: owned(self.description),
            document: self
                .document
                .map(|(kind, value)| (kind.to_string(), value.to_string())),
            occurrence,
        }
    }
}

impl<'a> Rules<'a> {
    pub(crate) fn new(
        provider: ProviderKind,
        columns: &'a Columns,
        default_currency: Option<Currency>,
        limits: &Limits,
        delimiter: u8,
    ) -> Rules<'a> {
        Rules {
            provider,
            columns,
            default_currency,
            delimiter: char::from(delimiter),
            ranges: Currency::ALL.map(|c| limits.range(provider, c)),
        }
    }

    /// The raw reference, phone, amount and currency cells (for a rejected row).
    pub(crate) fn raw_key_cells<'r>(&self, record: &'r StringRecord) -> [&'r str; 4] {
        let c = self.columns;
        let at = |index: Option<usize>| index.map_or("", |i| cell(record, i));
        [
            at(c.reference),
            at(Some(c.phone)),
            at(Some(c.amount)),
            at(c.currency),
        ]
    }

    /// Apply every per-row rule to `record`, which starts on physical line `line`.
    pub(crate) fn check<'r>(&self, line: u64, record: &'r StringRecord) -> Draft<'r> {
        let c = self.columns;
        let mut draft = Draft {
            line,
            reference: None,
            phone: None,
            amount: None,
            currency: None,
            operator: None,
            first_name: None,
            last_name: None,
            description: None,
            document: None,
            errors: Vec::new(),
            notes: Vec::new(),
        };
        let at = |index: Option<usize>| index.map_or("", |i| cell(record, i));

        // A totals row pasted under the payees is one problem, not one per cell.
        if let Some(label) = totals_label(record, cell(record, c.phone)) {
            draft.fail(
                "row",
                label,
                "looks like a totals row: delete it, or let --skip-invalid leave it out",
            );
            return draft;
        }

        // Currency first: it decides the phone's country, the amount's decimals, the operators.
        let currency_raw = at(c.currency);
        let parsed = self.currency(&mut draft, currency_raw);
        let country = parsed.map(Currency::country);

        if let Some(raw) = c.reference.map(|i| cell(record, i)) {
            match trim(raw) {
                "" => draft.notes.push(Warning {
                    line: Some(line),
                    column: Some("reference".into()),
                    value: Some(raw.to_string()),
                    message: "is empty; this row is identified by its phone, amount and currency"
                        .into(),
                    kind: WarningKind::EmptyReference,
                }),
                reference => draft.reference = Some(reference),
            }
        }
        self.phone(&mut draft, cell(record, c.phone), country);
        self.amount(&mut draft, cell(record, c.amount), parsed);
        if let Some(index) = c.operator {
            self.operator(&mut draft, cell(record, index), country);
        }
        self.names(&mut draft, record);
        self.description(&mut draft, at(c.description));
        self.document(&mut draft, at(c.document_type), at(c.document_value));
        self.shape(&mut draft, record);
        draft
    }

    /// The row's currency (or `--currency`), if it is one payrun knows. Errors are recorded;
    /// the currency is returned even when the provider refuses it, so the other cells can still
    /// be checked against its country.
    fn currency(&self, draft: &mut Draft<'_>, raw: &str) -> Option<Currency> {
        if trim(raw).is_empty() {
            if self.default_currency.is_none() {
                draft.fail(
                    "currency",
                    raw,
                    "is missing; write the ISO code (UGX, KES, ...) or give --currency",
                );
            }
            draft.currency = self.default_currency;
            return self.default_currency;
        }
        match Currency::parse(raw) {
            Ok(currency) if self.provider.accepts(currency) => {
                draft.currency = Some(currency);
                Some(currency)
            }
            Ok(currency) => {
                draft.fail(
                    "currency",
                    raw,
                    format!(
                        "{} does not pay {currency}; it pays {}",
                        self.provider,
                        accepted(self.provider)
                    ),
                );
                Some(currency)
            }
            Err(_) => {
                let hint = payee::local_currency_hint(raw)
                    .map(|(what, code)| format!(" ({what}? write {code})"))
                    .unwrap_or_default();
                draft.fail(
                    "currency",
                    raw,
                    format!(
                        "is not a currency {} pays{hint}; use one of {}",
                        self.provider,
                        accepted(self.provider)
                    ),
                );
                None
            }
        }
    }

    fn phone(&self, draft: &mut Draft<'_>, raw: &str, country: Option<Country>) {
        match Phone::parse(raw, country) {
            Ok((phone, normalised)) => {
                if normalised {
                    draft.notes.push(Warning {
                        line: Some(draft.line),
                        column: Some("phone".into()),
                        value: Some(raw.to_string()),
                        message: format!("normalised {} to {phone}", Quoted(raw)),
                        kind: WarningKind::PhoneNormalised,
                    });
                }
                draft.phone = Some(phone);
            }
            Err(PhoneError::Missing) => draft.fail(
                "phone",
                raw,
                "is missing; every row needs the payee's mobile-money number",
            ),
            Err(err) => draft.fail("phone", raw, err.to_string()),
        }
    }

    fn amount(&self, draft: &mut Draft<'_>, written: &str, currency: Option<Currency>) {
        let column = self.columns.amount_name;
        let read;
        let raw = match written::undecorate(trim(written), currency) {
            Written::Plain => written,
            Written::Refused(why) => return draft.fail(column, written, why),
            Written::Read(plain) => {
                read = plain;
                &read
            }
        };
        let parsed = match (self.columns.amount_unit, currency) {
            (AmountUnit::Minor, _) => MinorUnits::parse_minor(raw),
            (AmountUnit::Major, Some(currency)) => MinorUnits::parse_major(raw, currency),
            // Unknown currency: check what does not depend on it. Any decimals up to 2 are
            // accepted here; the currency error already stops the row.
            (AmountUnit::Major, None) => match MinorUnits::parse_major(raw, Currency::KES) {
                Err(AmountError::TooManyDecimals { .. }) => return,
                other => other,
            },
        };
        let amount = match parsed {
            Ok(amount) => amount,
            Err(AmountError::Missing) => {
                return draft.fail(column, written, "is missing; every row needs an amount");
            }
            Err(err) => return draft.fail(column, written, err.to_string()),
        };
        draft.amount = Some(amount);
        let Some(currency) = draft.currency else {
            return;
        };
        if raw != written {
            draft.notes.push(Warning {
                line: Some(draft.line),
                column: Some(column.to_string()),
                value: Some(written.to_string()),
                message: format!(
                    "{:?} read as {} {currency}",
                    written,
                    amount.to_major_string(currency)
                ),
                kind: WarningKind::AmountAsWritten,
            });
        }
        let (min, max) = self.ranges[currency as usize];
        if let Some(min) = min.filter(|min| amount < *min) {
            let source = if self.provider.documented_min(currency) == Some(min) {
                format!("the minimum documented by {}", self.provider)
            } else {
                "from the limits file".to_string()
            };
            draft.fail(
                column,
                written,
                format!(
                    "is below the minimum of {} {currency} for {} ({source})",
                    format_major(u128::from(min.get()), currency),
                    self.provider
                ),
            );
        }
        if let Some(max) = max.filter(|max| amount > *max) {
            draft.fail(
                column,
                written,
                format!(
                    "is above the maximum of {} {currency} for {} (from the limits file)",
                    format_major(u128::from(max.get()), currency),
                    self.provider
                ),
            );
        }
    }
}

/// The label of a totals row: its first non-empty cell is `Total`, `Totals`, `Grand total`
/// or `Sum` (any letter case, a trailing `:` allowed) and its phone cell is empty.
fn totals_label<'r>(record: &'r StringRecord, phone: &str) -> Option<&'r str> {
    if !phone.trim().is_empty() {
        return None;
    }
    let first = record.iter().map(str::trim).find(|c| !c.is_empty())?;
    let word = first.trim_end_matches(':').trim().to_ascii_lowercase();
    let word = word.split_whitespace().collect::<Vec<_>>().join(" ");
    matches!(word.as_str(), "total" | "totals" | "grand total" | "sum").then_some(first)
}

impl<'r> Draft<'r> {
    fn fail(&mut self, column: &str, value: &str, reason: impl Into<String>) {
        self.errors
            .push(RowError::at(self.line, column, value, reason));
    }

    /// The row's checked values when every rule passed, else the errors.
    pub(crate) fn finish(mut self) -> Result<Ready<'r>, Vec<RowError>> {
        match (self.phone, self.amount, self.currency) {
            (Some(phone), Some(amount), Some(currency)) if self.errors.is_empty() => Ok(Ready {
                phone,
                amount,
                currency,
                operator: self.operator,
                notes: self.notes,
                line: self.line,
                reference: self.reference,
                first_name: self.first_name,
                last_name: self.last_name,
                description: self.description,
                document: self.document,
            }),
            (phone, amount, currency) => {
                if self.errors.is_empty() {
                    // Unreachable by construction; never let a row through half-checked.
                    let missing = [
                        ("phone", phone.is_none()),
                        ("amount", amount.is_none()),
                        ("currency", currency.is_none()),
                    ];
                    for (column, _) in missing.iter().filter(|(_, m)| *m) {
                        self.errors
                            .push(RowError::at(self.line, column, "", "could not be read"));
                    }
                }
                Err(self.errors)
            }
        }
    }
}
