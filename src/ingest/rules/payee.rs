//! Per-row rules about the payee rather than the money: the mobile operator (Rumbapay), first
//! and last names (or one `name` split on its last space), description length, the
//! document type/value pair, and a row with more cells than the header.

use csv::StringRecord;

use super::super::{Warning, WarningKind};
use super::{Draft, MAX_DESCRIPTION_CHARS, Rules};
use crate::{
    domain::{Country, Operator, OperatorError, trim},
    ingest::{
        RowError,
        source::{cell, cells},
    },
};

impl Rules<'_> {
    pub(super) fn operator(&self, draft: &mut Draft<'_>, raw: &str, country: Option<Country>) {
        let needed = || format!("{} needs the payee's mobile operator", self.provider);
        let Some(country) = country.filter(|c| !Operator::list(*c).is_empty()) else {
            if raw.trim().is_empty() {
                draft.fail("operator", raw, format!("is missing; {}", needed()));
            }
            return;
        };
        match Operator::parse(raw, country) {
            Ok(operator) => draft.operator = Some(operator),
            Err(OperatorError::Unknown { .. })
                if let Some(operator) = Operator::from_synonym(raw, country) =>
            {
                draft.operator = Some(operator);
                draft.notes.push(Warning {
                    line: Some(draft.line),
                    column: Some("operator".into()),
                    value: Some(raw.to_string()),
                    message: format!(
                        "{} read as {:?}, Rumbapay's name for it",
                        crate::domain::Quoted(raw.trim()),
                        operator.name()
                    ),
                    kind: WarningKind::OperatorSynonym,
                });
            }
            Err(OperatorError::Missing(list)) => draft.fail(
                "operator",
                raw,
                format!("is missing; {}, one of: {}", needed(), list.join(", ")),
            ),
            Err(err) => draft.fail("operator", raw, err.to_string()),
        }
    }

    pub(super) fn names<'r>(&self, draft: &mut Draft<'r>, record: &'r StringRecord) {
        let c = self.columns;
        let required = self.provider.needs_operator_and_names();
        let needed = || format!("{} needs the payee's first and last name", self.provider);
        for (index, column, slot) in [
            (c.first_name, "first_name", &mut draft.first_name),
            (c.last_name, "last_name", &mut draft.last_name),
        ] {
            let Some(index) = index else { continue };
            let raw = cell(record, index);
            match trim(raw) {
                "" if required => draft.errors.push(RowError::at(
                    draft.line,
                    column,
                    raw,
                    format!("is missing; {}", needed()),
                )),
                "" => {}
                name => *slot = Some(name),
            }
        }
        let Some(index) = c.name else { return };
        let raw = cell(record, index);
        let name = trim(raw);
        if name.is_empty() {
            if required {
                draft.fail("name", raw, format!("is missing; {}", needed()));
            }
            return;
        }
        match name.rfind(char::is_whitespace) {
            Some(split) => {
                draft.first_name = Some(name[..split].trim_end());
                draft.last_name = Some(name[split..].trim_start());
            }
            None if required => draft.fail(
                "name",
                raw,
                format!(
                    "has one word only; {}, separated by a space (or use first_name and last_name columns)",
                    needed()
                ),
            ),
            None => draft.first_name = Some(name),
        }
    }

    pub(super) fn description<'r>(&self, draft: &mut Draft<'r>, raw: &'r str) {
        let chars = trim(raw).chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            draft.fail(
                "description",
                raw,
                format!(
                    "is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed (assumed provider limit)"
                ),
            );
        } else if chars > 0 {
            draft.description = Some(trim(raw));
        }
    }

    pub(super) fn document<'r>(&self, draft: &mut Draft<'r>, kind: &'r str, value: &'r str) {
        match (kind.trim(), value.trim()) {
            ("", "") => {}
            ("", _) => draft.fail(
                "document_type",
                kind,
                "is missing while document_value is given; give both or neither",
            ),
            (_, "") => draft.fail(
                "document_value",
                value,
                "is missing while document_type is given; give both or neither",
            ),
            (kind, value) => draft.document = Some((kind, value)),
        }
    }

    /// More cells than the header means a value with an unquoted delimiter shifted the row.
    pub(super) fn shape(&self, draft: &mut Draft<'_>, record: &StringRecord) {
        let width = self.columns.width;
        if record.len() <= width {
            return;
        }
        // Extra cells, even empty ones, mean the values after an unquoted delimiter moved one
        // column to the right: a phone or amount may now sit under the wrong header.
        let all = cells(record);
        let extra = &all[width..];
        draft.fail(
            "row",
            &extra.join(&self.delimiter.to_string()),
            format!(
                "has {} cells but the header has {width}; a value probably contains {:?}: put that value in double quotes",
                record.len(),
                self.delimiter
            ),
        );
    }
}

/// Local ways of writing a currency, to suggest the ISO code.
pub(super) fn local_currency_hint(raw: &str) -> Option<(&'static str, &'static str)> {
    let text: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match text.as_str() {
        "ush" | "ushs" | "shs" | "ugshs" => ("Uganda shillings", "UGX"),
        "ksh" | "kshs" | "kes" => ("Kenya shillings", "KES"),
        "tsh" | "tshs" | "tzs" => ("Tanzania shillings", "TZS"),
        "frw" | "rwf" | "rf" => ("Rwanda francs", "RWF"),
        "ghc" | "gh" | "cedi" | "cedis" => ("Ghana cedis", "GHS"),
        "d" | "dalasi" | "dalasis" => ("Gambian dalasi", "GMD"),
        "fcfa" | "cfa" | "xaf" => ("CFA francs", "XAF"),
        _ => return None,
    })
}
