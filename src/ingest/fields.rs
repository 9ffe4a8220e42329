//! The fields payrun reads from a payee file and the header names that mean each one: the
//! aliases clerks' exports use (README "The payee file"), and `--column FIELD="Header"` for a
//! header no alias covers. Names are compared trimmed, case-insensitively, with spaces and
//! dashes as underscores.

use std::fmt;
use std::str::FromStr;

/// A field payrun reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Phone,
    Amount,
    AmountMinor,
    Currency,
    Reference,
    FirstName,
    LastName,
    Name,
    Operator,
    Description,
    DocumentType,
    DocumentValue,
}

/// Every field with the header names that mean it, payrun's own name first.
const FIELDS: [(Field, &[&str]); 12] = [
    (
        Field::Phone,
        &[
            "phone",
            "msisdn",
            "mobile",
            "phone_number",
            "mobile_number",
            "mobile_money_number",
        ],
    ),
    (Field::Amount, &["amount", "net_pay", "net_amount"]),
    (Field::AmountMinor, &["amount_minor"]),
    (Field::Currency, &["currency"]),
    (
        Field::Reference,
        &[
            "reference",
            "payee_id",
            "id",
            "staff_no",
            "staff_id",
            "employee_id",
            "employee_no",
            "agent_id",
            "agent_code",
        ],
    ),
    (Field::FirstName, &["first_name"]),
    (Field::LastName, &["last_name"]),
    (
        Field::Name,
        &[
            "name",
            "full_name",
            "employee_name",
            "agent_name",
            "beneficiary_name",
        ],
    ),
    (Field::Operator, &["operator"]),
    (Field::Description, &["description", "narration"]),
    (Field::DocumentType, &["document_type"]),
    (Field::DocumentValue, &["document_value"]),
];

impl Field {
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            Field::Phone => "phone number",
            Field::Amount | Field::AmountMinor => "amount",
            Field::Currency => "currency",
            Field::Reference => "payee reference",
            Field::FirstName => "first name",
            Field::LastName => "last name",
            Field::Name => "name",
            Field::Operator => "operator",
            Field::Description => "description",
            Field::DocumentType => "document type",
            Field::DocumentValue => "document value",
        }
    }

    /// payrun's own name for the field (what `--column` takes).
    pub(crate) fn name(self) -> &'static str {
        self.names()[0]
    }

    fn names(self) -> &'static [&'static str] {
        FIELDS
            .iter()
            .find(|(f, _)| *f == self)
            .map_or(&[][..], |(_, names)| names)
    }

    /// The other names accepted for it, for "missing column" messages.
    pub(crate) fn aliases(self) -> String {
        self.names()[1..].join(", ")
    }

    /// The field a header name (already [`normalise`]d) means, if any.
    pub(crate) fn of(normalised: &str) -> Option<Field> {
        FIELDS
            .iter()
            .find(|(_, names)| names.contains(&normalised))
            .map(|(field, _)| *field)
    }

    /// Whether two fields fill the same place (`amount` and `amount_minor` do).
    pub(crate) fn same_place(self, other: Field) -> bool {
        self == other
            || matches!(
                (self, other),
                (Field::Amount, Field::AmountMinor) | (Field::AmountMinor, Field::Amount)
            )
    }
}

/// `" Phone Number "` → `phone_number`: trimmed, lower case, spaces and dashes as `_`.
pub(crate) fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// `--column FIELD="Header"`: the header cell that holds `FIELD`, whatever it is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnChoice {
    field: Field,
    header: String,
}

impl ColumnChoice {
    pub(crate) fn field(&self) -> Field {
        self.field
    }

    /// Whether a header cell is this one (compared like aliases are).
    pub(crate) fn matches(&self, cell: &str) -> bool {
        normalise(cell) == normalise(&self.header)
    }
}

/// Why a `--column` value is not one payrun can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnChoiceError {
    #[error("write FIELD=HEADER, e.g. --column reference=\"Staff No\"")]
    Shape,
    #[error("{0:?} is not a field payrun reads; fields: {fields}", fields = field_list())]
    UnknownField(String),
    #[error("the header after {0}= is empty")]
    EmptyHeader(String),
}

fn field_list() -> String {
    FIELDS
        .iter()
        .map(|(f, _)| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for ColumnChoice {
    type Err = ColumnChoiceError;

    fn from_str(raw: &str) -> Result<ColumnChoice, ColumnChoiceError> {
        let (field, header) = raw.split_once('=').ok_or(ColumnChoiceError::Shape)?;
        let wanted = normalise(field);
        let field = FIELDS
            .iter()
            .map(|(f, _)| *f)
            .find(|f| f.name() == wanted)
            .ok_or_else(|| ColumnChoiceError::UnknownField(field.trim().to_owned()))?;
        let header = header.trim().trim_matches('"').trim();
        if header.is_empty() {
            return Err(ColumnChoiceError::EmptyHeader(field.name().to_owned()));
        }
        Ok(ColumnChoice {
            field,
            header: header.to_owned(),
        })
    }
}

impl fmt::Display for ColumnChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.field.name(), self.header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_of_the_issue_means_its_field() {
        let table = [
            (Field::Reference, "Staff No"),
            (Field::Reference, "staff_id"),
            (Field::Reference, "Employee ID"),
            (Field::Reference, "employee-no"),
            (Field::Reference, "Agent ID"),
            (Field::Reference, "AGENT_CODE"),
            (Field::Reference, "payee id"),
            (Field::Reference, "ID"),
            (Field::Amount, "Net Pay"),
            (Field::Amount, "net amount"),
            (Field::Amount, "Amount"),
            (Field::Phone, "Phone Number"),
            (Field::Phone, "Mobile Number"),
            (Field::Phone, "Mobile Money Number"),
            (Field::Phone, "MSISDN"),
            (Field::Phone, "Mobile"),
            (Field::Phone, "phone"),
            (Field::Name, "Name"),
            (Field::Name, "Full Name"),
            (Field::Name, "Employee Name"),
            (Field::Name, "agent name"),
            (Field::Name, "Beneficiary Name"),
        ];
        for (field, header) in table {
            assert_eq!(Field::of(&normalise(header)), Some(field), "{header}");
        }
        assert_eq!(Field::of(&normalise("Net Pay (KES)")), None);
    }

    #[test]
    fn a_column_choice_names_a_field_and_a_header() {
        let c: ColumnChoice = "reference=\"Staff No\"".parse().unwrap();
        assert_eq!(
            (c.field(), c.header.as_str()),
            (Field::Reference, "Staff No")
        );
        assert!(c.matches("  staff no "));
        let c: ColumnChoice = "Amount=Net Pay (KES)".parse().unwrap();
        assert_eq!(
            (c.field(), c.header.as_str()),
            (Field::Amount, "Net Pay (KES)")
        );
        assert_eq!(
            "salary=Net".parse::<ColumnChoice>(),
            Err(ColumnChoiceError::UnknownField("salary".into()))
        );
        let unknown = "salary=Net"
            .parse::<ColumnChoice>()
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("fields: phone, amount, amount_minor"),
            "{unknown}"
        );
        assert_eq!(
            "reference".parse::<ColumnChoice>(),
            Err(ColumnChoiceError::Shape)
        );
        assert_eq!(
            "reference=\"\"".parse::<ColumnChoice>(),
            Err(ColumnChoiceError::EmptyHeader("reference".into()))
        );
    }
}
