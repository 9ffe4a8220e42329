//! The header row: which cell holds which field. Names are matched once, through the aliases
//! and `--column` choices of [`fields`](super::fields), so the per-row code only deals with
//! column indices. Missing, ambiguous and unknown columns are decided here, for the whole file.

use super::fields::{Field, normalise};
use super::{IngestError, IngestOptions, Warning, WarningKind};
use crate::domain::{AmountUnit, ProviderKind, Quoted};

/// Where each field is in a row. Indices are into the record; a row shorter than the header
/// simply has empty cells there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Columns {
    pub phone: usize,
    pub amount: usize,
    /// How the amount column is written (`amount_minor` is always minor units).
    pub amount_unit: AmountUnit,
    /// `amount` or `amount_minor`, for messages.
    pub amount_name: &'static str,
    pub currency: Option<usize>,
    pub reference: Option<usize>,
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    /// A single `name` column, used only when `first_name`/`last_name` are absent.
    pub name: Option<usize>,
    pub operator: Option<usize>,
    pub description: Option<usize>,
    pub document_type: Option<usize>,
    pub document_value: Option<usize>,
    /// Number of header cells.
    pub width: usize,
}

impl Columns {
    /// payrun's name for the column at `index`, if payrun reads that column.
    pub(crate) fn name_at(&self, index: usize) -> Option<&'static str> {
        const NAMES: [&str; 11] = [
            "phone",
            "amount",
            "currency",
            "reference",
            "first_name",
            "last_name",
            "name",
            "operator",
            "description",
            "document_type",
            "document_value",
        ];
        NAMES
            .into_iter()
            .find(|name| self.position(name) == index)
            .map(|name| {
                if name == "amount" {
                    self.amount_name
                } else {
                    name
                }
            })
    }

    /// Where a column (payrun's name for it) sits in the row, to list a row's problems in the
    /// order the clerk sees the columns. Problems with the row's shape come last.
    pub(crate) fn position(&self, column: &str) -> usize {
        let index = match column {
            "phone" => Some(self.phone),
            "amount" | "amount_minor" => Some(self.amount),
            "currency" => self.currency,
            "reference" => self.reference,
            "first_name" => self.first_name,
            "last_name" => self.last_name,
            "name" => self.name,
            "operator" => self.operator,
            "description" => self.description,
            "document_type" => self.document_type,
            "document_value" => self.document_value,
            _ => None,
        };
        index.unwrap_or(usize::MAX)
    }
}

/// The header cell each `--column` choice names, or the error naming the headers found.
fn chosen_columns(
    headers: &[String],
    opts: &IngestOptions,
) -> Result<Vec<(Field, usize)>, IngestError> {
    let mut chosen: Vec<(Field, usize)> = Vec::new();
    for choice in &opts.columns {
        let Some(index) = headers.iter().position(|h| choice.matches(h)) else {
            return Err(IngestError::ChosenColumnMissing {
                choice: choice.to_string(),
                found: headers.iter().map(|h| h.trim().to_string()).collect(),
            });
        };
        if let Some(&(other, _)) = chosen
            .iter()
            .find(|(f, i)| f.same_place(choice.field()) || *i == index)
        {
            return Err(IngestError::ChosenTwice {
                choice: choice.to_string(),
                other: other.name(),
            });
        }
        chosen.push((choice.field(), index));
    }
    Ok(chosen)
}

/// Map the header row (cells as written, on physical line `line`) to columns.
pub(crate) fn map(
    headers: &[String],
    line: u64,
    opts: &IngestOptions,
) -> Result<(Columns, Vec<Warning>), IngestError> {
    let mut found: Vec<(Field, usize)> = Vec::new();
    let mut unknown = Vec::new();
    let chosen = chosen_columns(headers, opts)?;
    for (index, raw) in headers.iter().enumerate() {
        let name = normalise(raw);
        // A `--column` choice names its header; a header that would alias a chosen field is
        // just another column.
        let field = match chosen.iter().find(|(_, i)| *i == index) {
            Some(&(field, _)) => Some(field),
            None => Field::of(&name).filter(|f| !chosen.iter().any(|(c, _)| c.same_place(*f))),
        };
        match field {
            Some(field) => {
                if let Some(&(_, first)) = found.iter().find(|(f, _)| f.same_place(field)) {
                    return Err(IngestError::DuplicateColumn {
                        first: headers[first].trim().to_string(),
                        second: raw.trim().to_string(),
                        meaning: field.meaning(),
                    });
                }
                found.push((field, index));
            }
            None if name.is_empty() => {}
            None => unknown.push(raw.trim().to_string()),
        }
    }
    let get = |field: Field| found.iter().find(|(f, _)| *f == field).map(|(_, i)| *i);

    if found.is_empty()
        && headers.iter().any(|h| {
            h.trim()
                .starts_with(|c: char| c.is_ascii_digit() || c == '+')
        })
    {
        return Err(IngestError::NoHeader {
            line,
            found: headers.join(", "),
        });
    }

    let mut missing = Vec::new();
    let phone = get(Field::Phone);
    if phone.is_none() {
        missing.push(format!(
            "missing column \"phone\" (also accepted: {}; or --column phone=\"HEADER\")",
            Field::Phone.aliases()
        ));
    }
    let (amount, amount_unit, amount_name) = match (get(Field::Amount), get(Field::AmountMinor)) {
        (Some(i), _) => (Some(i), opts.amount_unit, "amount"),
        (None, Some(i)) => (Some(i), AmountUnit::Minor, "amount_minor"),
        (None, None) => {
            missing.push(format!(
                "missing column \"amount\" (also accepted: {}; \"amount_minor\" for whole minor units; or --column amount=\"HEADER\")",
                Field::Amount.aliases()
            ));
            (None, opts.amount_unit, "amount")
        }
    };
    let currency = get(Field::Currency);
    if currency.is_none() && opts.default_currency.is_none() {
        missing.push("missing column \"currency\" (or give --currency for every row)".into());
    }
    let (first_name, last_name, name) = (
        get(Field::FirstName),
        get(Field::LastName),
        get(Field::Name),
    );
    let split_names = first_name.is_some() || last_name.is_some();
    if opts.provider.needs_operator_and_names() {
        if get(Field::Operator).is_none() {
            missing.push(format!(
                "missing column \"operator\" ({} needs the payee's mobile operator)",
                opts.provider
            ));
        }
        let needs = format!(
            "{} needs the payee's first and last name; or one \"name\" column with both",
            opts.provider
        );
        match (first_name, last_name, name) {
            (Some(_), Some(_), _) => {}
            (None, None, Some(_)) => {}
            (Some(_), None, _) => missing.push(format!("missing column \"last_name\" ({needs})")),
            (None, Some(_), _) => missing.push(format!("missing column \"first_name\" ({needs})")),
            (None, None, None) => missing.push(format!(
                "missing columns \"first_name\" and \"last_name\" ({needs})"
            )),
        }
    }
    let (Some(phone), Some(amount), true) = (phone, amount, missing.is_empty()) else {
        return Err(IngestError::MissingColumns {
            missing,
            found: headers.iter().map(|h| h.trim().to_string()).collect(),
        });
    };

    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        let list = unknown
            .iter()
            .map(|u| Quoted(u).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        warnings.push(Warning {
            line: Some(line),
            column: None,
            value: Some(unknown.join(", ")),
            message: format!("columns not used by payrun, ignored: {list}"),
            kind: WarningKind::UnknownColumns,
        });
    }
    if split_names && let Some(index) = name {
        warnings.push(Warning {
            line: Some(line),
            column: Some("name".into()),
            value: Some(headers[index].trim().to_string()),
            message: "ignored, because first_name/last_name are present".into(),
            kind: WarningKind::NameColumnIgnored,
        });
    }
    let operator = match opts.provider {
        ProviderKind::Rumbapay => get(Field::Operator),
        ProviderKind::Rohopay => None, // allowed, but RohoPay picks the network itself
    };
    Ok((
        Columns {
            phone,
            amount,
            amount_unit,
            amount_name,
            currency,
            reference: get(Field::Reference),
            first_name,
            last_name,
            name: if split_names { None } else { name },
            operator,
            description: get(Field::Description),
            document_type: get(Field::DocumentType),
            document_value: get(Field::DocumentValue),
            width: headers.len(),
        },
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Limits};

    fn opts(provider: ProviderKind) -> IngestOptions {
        IngestOptions {
            provider,
            delimiter: None,
            default_currency: None,
            amount_unit: AmountUnit::Major,
            limits: Limits::default(),
            expect_count: None,
            expect_totals: Vec::new(),
            columns: Vec::new(),
            sheet: None,
        }
    }

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn columns(list: &[&str], provider: ProviderKind) -> Result<Columns, IngestError> {
        map(&headers(list), 1, &opts(provider)).map(|(c, _)| c)
    }

    #[test]
    fn aliases_case_and_spacing_are_forgiven() {
        let c = columns(
            &[" MSISDN ", "Amount", "currency", "Payee ID", "Narration"],
            ProviderKind::Rohopay,
        )
        .unwrap();
        assert_eq!((c.phone, c.amount, c.currency), (0, 1, Some(2)));
        assert_eq!((c.reference, c.description), (Some(3), Some(4)));
        let c = columns(
            &[
                "Phone Number",
                "amount",
                "CURRENCY",
                "First-Name",
                "last name",
            ],
            ProviderKind::Rohopay,
        )
        .unwrap();
        assert_eq!((c.phone, c.first_name, c.last_name), (0, Some(3), Some(4)));
        let c = columns(
            &["mobile", "amount_minor", "currency"],
            ProviderKind::Rohopay,
        )
        .unwrap();
        assert_eq!(
            (c.amount_unit, c.amount_name),
            (AmountUnit::Minor, "amount_minor")
        );
    }

    #[test]
    fn missing_required_columns_name_the_aliases_and_what_exists() {
        let err = columns(&["reference", "amount", "currency"], ProviderKind::Rohopay)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("msisdn, mobile, phone_number") && err.contains("reference, amount"),
            "{err}"
        );
        let err = columns(&["phone", "amount"], ProviderKind::Rohopay)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--currency"), "{err}");
    }

    #[test]
    fn default_currency_replaces_the_currency_column() {
        let mut o = opts(ProviderKind::Rohopay);
        o.default_currency = Some(Currency::UGX);
        let (c, _) = map(&headers(&["phone", "amount"]), 1, &o).unwrap();
        assert_eq!(c.currency, None);
    }

    #[test]
    fn rumbapay_needs_operator_and_names() {
        let err = columns(&["phone", "amount", "currency"], ProviderKind::Rumbapay)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"operator\"") && err.contains("first_name"),
            "{err}"
        );
        let err = columns(
            &["phone", "amount", "currency", "operator", "first_name"],
            ProviderKind::Rumbapay,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("\"last_name\""), "{err}");
        assert!(
            columns(
                &["phone", "amount", "currency", "operator", "name"],
                ProviderKind::Rumbapay
            )
            .is_ok()
        );
    }

    #[test]
    fn ambiguous_columns_are_refused() {
        let err = columns(
            &["phone", "msisdn", "amount", "currency"],
            ProviderKind::Rohopay,
        )
        .unwrap_err();
        assert!(matches!(err, IngestError::DuplicateColumn { .. }), "{err}");
        let err = columns(
            &["phone", "amount", "amount_minor", "currency"],
            ProviderKind::Rohopay,
        )
        .unwrap_err();
        assert!(matches!(err, IngestError::DuplicateColumn { .. }), "{err}");
    }

    #[test]
    fn unknown_columns_are_one_warning_and_operator_is_known_for_rohopay() {
        let (_, warnings) = map(
            &headers(&[
                "phone", "amount", "currency", "Bank", "operator", "notes", "",
            ]),
            1,
            &opts(ProviderKind::Rohopay),
        )
        .unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].kind, WarningKind::UnknownColumns);
        assert_eq!(warnings[0].value.as_deref(), Some("Bank, notes"));
        let (_, warnings) = map(
            &headers(&["phone", "amount", "currency"]),
            1,
            &opts(ProviderKind::Rohopay),
        )
        .unwrap();
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_data_row_instead_of_a_header_is_called_out() {
        let err = columns(&["256700123456", "25000", "UGX"], ProviderKind::Rohopay).unwrap_err();
        assert!(matches!(err, IngestError::NoHeader { .. }), "{err}");
    }

    #[test]
    fn name_is_ignored_when_first_and_last_names_exist() {
        let (c, warnings) = map(
            &headers(&[
                "phone",
                "amount",
                "currency",
                "first_name",
                "last_name",
                "name",
            ]),
            1,
            &opts(ProviderKind::Rohopay),
        )
        .unwrap();
        assert_eq!(c.name, None);
        assert_eq!(warnings[0].kind, WarningKind::NameColumnIgnored);
    }
}
