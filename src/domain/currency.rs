//! ISO 4217 currencies payrun can pay, with their minor-unit exponent and country.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::Country;

/// A currency payrun knows how to pay. Whether a given provider accepts it is a separate
/// question: see [`super::ProviderKind::accepts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Currency {
    UGX,
    KES,
    TZS,
    RWF,
    GHS,
    GMD,
    XAF,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("currency is missing")]
    Missing,
    #[error("{} is not a currency payrun can pay (UGX, KES, TZS, RWF, GHS, GMD, XAF)", super::Quoted(.0))]
    Unknown(String),
}

impl Currency {
    pub const ALL: [Currency; 7] = [
        Currency::UGX,
        Currency::KES,
        Currency::TZS,
        Currency::RWF,
        Currency::GHS,
        Currency::GMD,
        Currency::XAF,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Currency::UGX => "UGX",
            Currency::KES => "KES",
            Currency::TZS => "TZS",
            Currency::RWF => "RWF",
            Currency::GHS => "GHS",
            Currency::GMD => "GMD",
            Currency::XAF => "XAF",
        }
    }

    /// ISO 4217 minor-unit exponent: digits after the decimal point.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::UGX | Currency::RWF | Currency::XAF => 0,
            Currency::KES | Currency::TZS | Currency::GHS | Currency::GMD => 2,
        }
    }

    /// The country whose wallets this currency pays.
    pub fn country(self) -> Country {
        match self {
            Currency::UGX => Country::Uganda,
            Currency::KES => Country::Kenya,
            Currency::TZS => Country::Tanzania,
            Currency::RWF => Country::Rwanda,
            Currency::GHS => Country::Ghana,
            Currency::GMD => Country::Gambia,
            Currency::XAF => Country::Cameroon,
        }
    }

    /// Parse an ISO code; surrounding spaces and letter case are forgiven.
    pub fn parse(raw: &str) -> Result<Currency, CurrencyError> {
        let code = super::trim(raw);
        if code.is_empty() {
            return Err(CurrencyError::Missing);
        }
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| CurrencyError::Unknown(code.to_string()))
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_codes_forgivingly() {
        assert_eq!(Currency::parse(" ugx "), Ok(Currency::UGX));
        assert_eq!(Currency::parse("KES"), Ok(Currency::KES));
    }

    #[test]
    fn rejects_unknown_and_empty() {
        assert_eq!(
            Currency::parse("USD"),
            Err(CurrencyError::Unknown("USD".into()))
        );
        assert_eq!(Currency::parse("  "), Err(CurrencyError::Missing));
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::UGX.exponent(), 0);
        assert_eq!(Currency::XAF.exponent(), 0);
        assert_eq!(Currency::KES.exponent(), 2);
        assert_eq!(Currency::GMD.exponent(), 2);
    }
}
