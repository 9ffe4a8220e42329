//! Mobile operators per country, from the Rumbapay operator table (seeds/rumbapay-payout.txt).

use std::fmt;

use super::Country;

/// An operator name from the provider's list for the payee's country, in the list's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operator {
    country: Country,
    name: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("operator is required for this provider; one of: {}", .0.join(", "))]
    Missing(&'static [&'static str]),
    #[error("{} is not an operator in {country}; one of: {}", super::Quoted(.given), .allowed.join(", "))]
    Unknown {
        given: String,
        country: &'static str,
        allowed: &'static [&'static str],
    },
    #[error("no mobile operators are listed for {0}")]
    NoOperators(&'static str),
}

impl Operator {
    /// The operator list for a country (Rumbapay's table). Rwanda and Uganda have none: Rumbapay
    /// does not pay there.
    pub fn list(country: Country) -> &'static [&'static str] {
        match country {
            Country::Kenya => &["mpesa", "airtel", "airtel kenya"],
            Country::Tanzania => &["vodacom", "tigo", "halopesa", "airtel"],
            Country::Ghana => &["vodafone", "mtn", "airteltigo"],
            Country::Gambia => &["qcell", "wave", "africel"],
            Country::Cameroon => &["mtn", "orange"],
            Country::Uganda | Country::Rwanda => &[],
        }
    }

    /// Match case-insensitively, with surrounding and repeated spaces forgiven.
    pub fn parse(raw: &str, country: Country) -> Result<Operator, OperatorError> {
        let allowed = Self::list(country);
        if allowed.is_empty() {
            return Err(OperatorError::NoOperators(country.name()));
        }
        if raw.trim().is_empty() {
            return Err(OperatorError::Missing(allowed));
        }
        allowed
            .iter()
            .find(|name| same_words(name, raw))
            .map(|name| Operator { country, name })
            .ok_or_else(|| OperatorError::Unknown {
                given: raw.trim().to_string(),
                country: country.name(),
                allowed,
            })
    }

    /// The operator a name clerks use means (`M-Pesa`, `Safaricom`, `Airtel Money`, `MTN
    /// MoMo`, …), if that operator pays in `country`. Spaces and dashes are ignored, letter case
    /// too. Used only after [`Operator::parse`] found no listed name, and said as a warning.
    pub fn from_synonym(raw: &str, country: Country) -> Option<Operator> {
        const SYNONYMS: [(&str, &str); 17] = [
            ("mpesa", "mpesa"),
            ("safaricom", "mpesa"),
            ("airtelmoney", "airtel"),
            ("tigopesa", "tigo"),
            ("vodacommpesa", "vodacom"),
            ("vodacom", "vodacom"),
            ("halopesa", "halopesa"),
            ("mtnmomo", "mtn"),
            ("mtnmobilemoney", "mtn"),
            ("vodafonecash", "vodafone"),
            ("airteltigomoney", "airteltigo"),
            ("orangemoney", "orange"),
            ("qcell", "qcell"),
            ("wave", "wave"),
            ("africell", "africel"),
            ("mtn", "mtn"),
            ("airteltigo", "airteltigo"),
        ];
        let squeezed: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let name = SYNONYMS
            .iter()
            .find(|(synonym, _)| *synonym == squeezed)
            .map(|(_, name)| *name)?;
        Self::list(country)
            .iter()
            .find(|listed| **listed == name)
            .map(|name| Operator { country, name })
    }

    /// The operator's name as the provider's list spells it.
    pub fn name(self) -> &'static str {
        self.name
    }

    pub fn country(self) -> Country {
        self.country
    }
}

/// Same words, ignoring ASCII case and how many spaces separate them; no allocation (this runs
/// once per row of large files).
fn same_words(listed: &str, given: &str) -> bool {
    let mut a = listed.split_whitespace();
    let mut b = given.split_whitespace();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_case_insensitively_in_list_spelling() {
        let op = Operator::parse("  Airtel   KENYA ", Country::Kenya).unwrap();
        assert_eq!(op.name(), "airtel kenya");
        assert_eq!(
            Operator::parse("MPESA", Country::Kenya).unwrap().name(),
            "mpesa"
        );
    }

    #[test]
    fn refuses_operator_of_another_country() {
        let err = Operator::parse("mpesa", Country::Tanzania).unwrap_err();
        assert!(
            err.to_string().contains("vodacom, tigo, halopesa, airtel"),
            "{err}"
        );
    }

    #[test]
    fn refuses_missing_operator_and_countries_without_list() {
        assert!(matches!(
            Operator::parse(" ", Country::Ghana),
            Err(OperatorError::Missing(_))
        ));
        assert!(matches!(
            Operator::parse("mtn", Country::Uganda),
            Err(OperatorError::NoOperators(_))
        ));
    }

    #[test]
    fn the_names_clerks_use_map_to_rumbapays() {
        let table = [
            ("M-Pesa", Country::Kenya, "mpesa"),
            ("M-PESA", Country::Kenya, "mpesa"),
            ("Safaricom", Country::Kenya, "mpesa"),
            ("Airtel Money", Country::Kenya, "airtel"),
            ("Tigo Pesa", Country::Tanzania, "tigo"),
            ("Vodacom M-Pesa", Country::Tanzania, "vodacom"),
            ("Vodacom", Country::Tanzania, "vodacom"),
            ("HaloPesa", Country::Tanzania, "halopesa"),
            ("MTN MoMo", Country::Ghana, "mtn"),
            ("MTN Mobile Money", Country::Cameroon, "mtn"),
            ("Vodafone Cash", Country::Ghana, "vodafone"),
            ("AirtelTigo Money", Country::Ghana, "airteltigo"),
            ("Orange Money", Country::Cameroon, "orange"),
            ("QCell", Country::Gambia, "qcell"),
            ("Wave", Country::Gambia, "wave"),
            ("Africell", Country::Gambia, "africel"),
        ];
        for (raw, country, name) in table {
            let operator = Operator::from_synonym(raw, country);
            assert_eq!(
                operator.map(Operator::name),
                Some(name),
                "{raw} in {country:?}"
            );
        }
        // A synonym for an operator that does not pay in the row's country is no operator.
        assert_eq!(Operator::from_synonym("M-Pesa", Country::Ghana), None);
        assert_eq!(
            Operator::from_synonym("Safaricom Ltd", Country::Kenya),
            None
        );
    }
}
