//! Rumbapay's per-country facts from the seed's operator table: which currencies it pays out
//! in, the country each fixes, and that country's mobile operators.

use crate::sim::money::Cur;

/// Currencies Rumbapay pays out in (assumed from its operator table: one per listed country).
pub(crate) const CURRENCIES: [Cur; 5] = [Cur::Kes, Cur::Tzs, Cur::Ghs, Cur::Gmd, Cur::Xaf];

/// A Rumbapay currency from its code.
pub(crate) fn currency(code: &str) -> Option<Cur> {
    Cur::from_code(code).filter(|c| CURRENCIES.contains(c))
}

/// ISO 3166 alpha-2 country of a Rumbapay currency (XAF → Cameroon, the only XAF country
/// in the operator table).
pub(crate) fn country(cur: Cur) -> &'static str {
    match cur {
        Cur::Kes => "KE",
        Cur::Tzs => "TZ",
        Cur::Ghs => "GH",
        Cur::Gmd => "GM",
        Cur::Xaf => "CM",
        Cur::Ugx => "UG",
        Cur::Rwf => "RW",
    }
}

/// The operator table, verbatim.
pub(crate) fn operators(cur: Cur) -> &'static [&'static str] {
    match cur {
        Cur::Kes => &["mpesa", "airtel", "airtel kenya"],
        Cur::Tzs => &["vodacom", "tigo", "halopesa", "airtel"],
        Cur::Ghs => &["vodafone", "mtn", "airteltigo"],
        Cur::Gmd => &["qcell", "wave", "africel"],
        Cur::Xaf => &["mtn", "orange"],
        Cur::Ugx | Cur::Rwf => &[],
    }
}

/// Is `operator` in the country's list? Case-insensitive, surrounding spaces ignored.
pub(crate) fn is_operator(cur: Cur, operator: &str) -> bool {
    let operator = operator.trim();
    operators(cur)
        .iter()
        .any(|known| known.eq_ignore_ascii_case(operator))
}

/// `+` and digits only.
pub(crate) fn is_international(phone: &str) -> bool {
    phone
        .strip_prefix('+')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// A `+` number of the currency's country with the right national length.
pub(crate) fn is_country_phone(cur: Cur, phone: &str) -> bool {
    is_international(phone)
        && phone
            .strip_prefix('+')
            .and_then(|digits| digits.strip_prefix(cur.dialling_code()))
            .is_some_and(|national| national.len() == cur.national_digits())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_match_case_insensitively_per_country() {
        assert!(is_operator(Cur::Kes, "mpesa"));
        assert!(is_operator(Cur::Kes, "Airtel Kenya"));
        assert!(is_operator(Cur::Xaf, "ORANGE"));
        assert!(!is_operator(Cur::Kes, "mtn"));
        assert!(!is_operator(Cur::Ghs, "airtel"));
        assert!(is_operator(Cur::Tzs, "airtel"));
    }

    #[test]
    fn phone_must_be_of_the_currency_country() {
        assert!(is_country_phone(Cur::Kes, "+254712973246"));
        assert!(is_country_phone(Cur::Gmd, "+2207123456"));
        assert!(!is_country_phone(Cur::Kes, "254712973246"));
        assert!(!is_country_phone(Cur::Kes, "+255712973246"));
        assert!(!is_country_phone(Cur::Kes, "+25471297324"));
        assert!(!is_country_phone(Cur::Kes, "+2547129732461"));
        assert!(!is_international("+"));
        assert!(!is_international("+254 712"));
    }

    #[test]
    fn currencies_are_those_of_the_operator_table() {
        assert_eq!(currency("KES"), Some(Cur::Kes));
        assert_eq!(currency("UGX"), None);
        for cur in CURRENCIES {
            assert!(!operators(cur).is_empty());
        }
    }
}
