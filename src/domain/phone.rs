//! Mobile-money phone numbers: normalised to international digits and checked against the
//! country the currency pays into.

use std::fmt;

use super::Country;

/// International digits without `+` (`256700123456`), of a known country and the right length.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone {
    digits: String,
    country: Country,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone is missing")]
    Missing,
    #[error(
        "looks like a number mangled by a spreadsheet (scientific notation); format the column as text and re-export"
    )]
    Scientific,
    #[error(
        "ends in \".0\" like a number saved by a spreadsheet; format the column as text and re-export"
    )]
    SpreadsheetDecimal,
    #[error("contains {}; a phone number has only digits (with an optional leading +)", super::ShownChar(*.0))]
    BadCharacter(char),
    #[error(
        "looks like a local number that lost its leading zero (a spreadsheet stored it as a number); format the column as text and write 0{digits} or {code}{digits}"
    )]
    LostLeadingZero { digits: String, code: &'static str },
    #[error(
        "is a local number, but the country is unknown without a valid currency; write it with the country code"
    )]
    LocalWithoutCountry,
    #[error("dialling code is not one payrun can pay (256, 254, 255, 250, 233, 220, 237)")]
    UnknownCountry,
    #[error("is a {found} number, but the currency pays {expected}")]
    WrongCountry { found: Country, expected: Country },
    #[error("has {found} digits after +{code}; {country} numbers have {expected}")]
    WrongLength {
        found: usize,
        expected: usize,
        code: &'static str,
        country: &'static str,
    },
}

impl Phone {
    /// Normalise and check a phone as written in the file.
    ///
    /// `+`, spaces, dashes, dots-free separators (`(`, `)`) and a leading `00` are removed; a
    /// local number (`0700123456`) is accepted only when `expected` (the currency's country) is
    /// known. Returns the phone and whether the written form differed from the canonical digits,
    /// so the caller can report the normalisation.
    pub fn parse(raw: &str, expected: Option<Country>) -> Result<(Phone, bool), PhoneError> {
        let text = super::trim(raw);
        if text.is_empty() {
            return Err(PhoneError::Missing);
        }
        if looks_scientific(text) {
            return Err(PhoneError::Scientific);
        }
        if text.len() > 2
            && text.ends_with(".0")
            && text[..text.len() - 2].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PhoneError::SpreadsheetDecimal);
        }
        let (plus, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '\u{a0}' => {}
                other => return Err(PhoneError::BadCharacter(other)),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Missing);
        }
        let international = if plus {
            digits
        } else if let Some(stripped) = digits.strip_prefix("00") {
            stripped.to_string()
        } else if let Some(national) = digits.strip_prefix('0') {
            let country = expected.ok_or(PhoneError::LocalWithoutCountry)?;
            format!("{}{}", country.dialling_code(), national)
        } else if let Some(country) = expected
            .filter(|c| digits.len() == c.national_len() && !digits.starts_with(c.dialling_code()))
        {
            return Err(PhoneError::LostLeadingZero {
                digits,
                code: country.dialling_code(),
            });
        } else {
            digits
        };
        let country =
            Country::from_international(&international).ok_or(PhoneError::UnknownCountry)?;
        if let Some(expected) = expected
            && expected != country
        {
            return Err(PhoneError::WrongCountry {
                found: country,
                expected,
            });
        }
        let national = international.len() - country.dialling_code().len();
        if national != country.national_len() {
            return Err(PhoneError::WrongLength {
                found: national,
                expected: country.national_len(),
                code: country.dialling_code(),
                country: country.name(),
            });
        }
        let normalised = international != text;
        Ok((
            Phone {
                digits: international,
                country,
            },
            normalised,
        ))
    }

    /// International digits without `+` (RohoPay's `phone`).
    pub fn international(&self) -> &str {
        &self.digits
    }

    /// E.164 with `+` (Rumbapay's `mobile_money.phone`).
    pub fn e164(&self) -> String {
        format!("+{}", self.digits)
    }

    pub fn country(&self) -> Country {
        self.country
    }
}

/// `2.567E+11`: what a spreadsheet shows for a long number stored as a number.
fn looks_scientific(text: &str) -> bool {
    let Some((mantissa, exp)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UG: Option<Country> = Some(Country::Uganda);

    fn ok(raw: &str, expected: Option<Country>) -> (String, bool) {
        let (p, n) = Phone::parse(raw, expected).unwrap();
        (p.international().to_string(), n)
    }

    #[test]
    fn canonical_international_is_not_reported() {
        assert_eq!(ok("256700123456", UG), ("256700123456".into(), false));
        assert_eq!(ok("256700123456", None), ("256700123456".into(), false));
    }

    #[test]
    fn normalises_plus_spaces_dashes_and_double_zero() {
        assert_eq!(ok("+256 700-123456", UG), ("256700123456".into(), true));
        assert_eq!(ok("00256700123456", UG), ("256700123456".into(), true));
        assert_eq!(
            ok("+254 (712) 973246", Some(Country::Kenya)),
            ("254712973246".into(), true)
        );
    }

    #[test]
    fn local_numbers_need_the_currency_country() {
        assert_eq!(ok("0700123456", UG), ("256700123456".into(), true));
        assert_eq!(
            ok("0712973246", Some(Country::Kenya)),
            ("254712973246".into(), true)
        );
        assert_eq!(
            Phone::parse("0700123456", None),
            Err(PhoneError::LocalWithoutCountry)
        );
    }

    #[test]
    fn detects_spreadsheet_mangling() {
        assert_eq!(Phone::parse("2.567E+11", UG), Err(PhoneError::Scientific));
        assert_eq!(
            Phone::parse("256700123456.0", UG),
            Err(PhoneError::SpreadsheetDecimal)
        );
        assert!(matches!(
            Phone::parse("700123456", UG),
            Err(PhoneError::LostLeadingZero { .. })
        ));
    }

    #[test]
    fn checks_country_and_length() {
        assert_eq!(
            Phone::parse("254712973246", UG),
            Err(PhoneError::WrongCountry {
                found: Country::Kenya,
                expected: Country::Uganda
            })
        );
        assert!(matches!(
            Phone::parse("25670012345", UG),
            Err(PhoneError::WrongLength { found: 8, .. })
        ));
        assert!(matches!(
            Phone::parse("2567001234567", UG),
            Err(PhoneError::WrongLength { .. })
        ));
        assert_eq!(
            Phone::parse("15551234567", None),
            Err(PhoneError::UnknownCountry)
        );
        assert_eq!(
            ok("2207012345", Some(Country::Gambia)),
            ("2207012345".into(), false)
        );
    }

    #[test]
    fn refuses_letters_and_empties() {
        assert_eq!(
            Phone::parse("25670O123456", UG),
            Err(PhoneError::BadCharacter('O'))
        );
        assert_eq!(Phone::parse("  ", UG), Err(PhoneError::Missing));
        assert_eq!(Phone::parse("+", UG), Err(PhoneError::Missing));
    }

    #[test]
    fn formats_for_each_provider() {
        let (p, _) = Phone::parse("0712973246", Some(Country::Kenya)).unwrap();
        assert_eq!(p.international(), "254712973246");
        assert_eq!(p.e164(), "+254712973246");
    }
}
