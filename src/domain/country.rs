//! Countries payrun can pay into: dialling code and national number length
//! (README "Validation rules").

use std::fmt;

/// A country whose mobile-money wallets payrun can pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Country {
    Uganda,
    Kenya,
    Tanzania,
    Rwanda,
    Ghana,
    Gambia,
    Cameroon,
}

impl Country {
    pub const ALL: [Country; 7] = [
        Country::Uganda,
        Country::Kenya,
        Country::Tanzania,
        Country::Rwanda,
        Country::Ghana,
        Country::Gambia,
        Country::Cameroon,
    ];

    /// International dialling code, digits only (`"256"`).
    pub fn dialling_code(self) -> &'static str {
        match self {
            Country::Uganda => "256",
            Country::Kenya => "254",
            Country::Tanzania => "255",
            Country::Rwanda => "250",
            Country::Ghana => "233",
            Country::Gambia => "220",
            Country::Cameroon => "237",
        }
    }

    /// Digits after the dialling code.
    pub fn national_len(self) -> usize {
        match self {
            Country::Gambia => 7,
            _ => 9,
        }
    }

    /// ISO 3166-1 alpha-2 code (`"UG"`).
    pub fn iso2(self) -> &'static str {
        match self {
            Country::Uganda => "UG",
            Country::Kenya => "KE",
            Country::Tanzania => "TZ",
            Country::Rwanda => "RW",
            Country::Ghana => "GH",
            Country::Gambia => "GM",
            Country::Cameroon => "CM",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Country::Uganda => "Uganda",
            Country::Kenya => "Kenya",
            Country::Tanzania => "Tanzania",
            Country::Rwanda => "Rwanda",
            Country::Ghana => "Ghana",
            Country::Gambia => "Gambia",
            Country::Cameroon => "Cameroon",
        }
    }

    /// The country whose dialling code starts `digits`, if any.
    pub fn from_international(digits: &str) -> Option<Country> {
        Country::ALL
            .into_iter()
            .find(|c| digits.starts_with(c.dialling_code()))
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (+{})", self.name(), self.dialling_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialling_codes_are_unambiguous_prefixes() {
        for a in Country::ALL {
            for b in Country::ALL {
                if a != b {
                    assert!(!a.dialling_code().starts_with(b.dialling_code()));
                }
            }
        }
    }

    #[test]
    fn finds_country_from_international_digits() {
        assert_eq!(
            Country::from_international("256700123456"),
            Some(Country::Uganda)
        );
        assert_eq!(
            Country::from_international("2207012345"),
            Some(Country::Gambia)
        );
        assert_eq!(Country::from_international("1555"), None);
    }
}
