//! The simulator's own currency table and exact decimal arithmetic.
//!
//! Deliberately independent of `crate::domain`: the simulator is written from the seed
//! documents alone (README, section "Simulator"), so a mistake in payrun's domain types cannot be mirrored here
//! and hide itself. Amounts are integers in minor units; major-unit text is parsed digit by
//! digit, never through a float.

use std::fmt;

/// A currency either provider can be asked to pay out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Cur {
    Ugx,
    Kes,
    Tzs,
    Rwf,
    Ghs,
    Gmd,
    Xaf,
}

impl Cur {
    pub(crate) const ALL: [Cur; 7] = [
        Cur::Ugx,
        Cur::Kes,
        Cur::Tzs,
        Cur::Rwf,
        Cur::Ghs,
        Cur::Gmd,
        Cur::Xaf,
    ];

    /// Exact, case-sensitive ISO 4217 code lookup (the APIs take upper-case codes).
    pub(crate) fn from_code(code: &str) -> Option<Cur> {
        Cur::ALL.into_iter().find(|c| c.code() == code)
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Cur::Ugx => "UGX",
            Cur::Kes => "KES",
            Cur::Tzs => "TZS",
            Cur::Rwf => "RWF",
            Cur::Ghs => "GHS",
            Cur::Gmd => "GMD",
            Cur::Xaf => "XAF",
        }
    }

    /// Position in [`Cur::ALL`], for per-currency arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// ISO 4217 minor-unit exponent.
    pub(crate) fn exponent(self) -> u32 {
        match self {
            Cur::Ugx | Cur::Rwf | Cur::Xaf => 0,
            Cur::Kes | Cur::Tzs | Cur::Ghs | Cur::Gmd => 2,
        }
    }

    /// International dialling code of the currency's country, without `+`.
    pub(crate) fn dialling_code(self) -> &'static str {
        match self {
            Cur::Ugx => "256",
            Cur::Kes => "254",
            Cur::Tzs => "255",
            Cur::Rwf => "250",
            Cur::Ghs => "233",
            Cur::Gmd => "220",
            Cur::Xaf => "237",
        }
    }

    /// Digits of a national mobile number after the dialling code.
    pub(crate) fn national_digits(self) -> usize {
        match self {
            Cur::Gmd => 7,
            _ => 9,
        }
    }
}

impl fmt::Display for Cur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a decimal amount could not be turned into minor units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecimalError {
    #[error("is empty")]
    Empty,
    #[error("is not a plain decimal number (digits with an optional '.' part)")]
    NotDecimal,
    #[error("has more than {0} decimal places")]
    TooManyDecimals(u32),
    #[error("is too large")]
    TooLarge,
}

/// Parse an unsigned decimal written in major units (`"2500"`, `"1000.5"`) into minor units
/// for a currency with `exponent` decimal places. Exact: no sign, exponent, or separators.
pub(crate) fn major_to_minor(text: &str, exponent: u32) -> Result<u64, DecimalError> {
    if text.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || frac.is_some_and(|f| !all_digits(f)) {
        return Err(DecimalError::NotDecimal);
    }
    let frac = frac.unwrap_or("");
    // Trailing zeros beyond the exponent are harmless ("1000.50" for KES, "2500.0" for UGX).
    let significant = frac.trim_end_matches('0');
    if significant.len() > exponent as usize {
        return Err(DecimalError::TooManyDecimals(exponent));
    }
    let mut minor: u64 = 0;
    let digits = whole
        .bytes()
        .chain(significant.bytes())
        .chain(std::iter::repeat_n(
            b'0',
            exponent as usize - significant.len(),
        ));
    for digit in digits {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(digit - b'0')))
            .ok_or(DecimalError::TooLarge)?;
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_fractional_amounts_exactly() {
        assert_eq!(major_to_minor("2500", 2), Ok(250_000));
        assert_eq!(major_to_minor("1000.50", 2), Ok(100_050));
        assert_eq!(major_to_minor("1000.5", 2), Ok(100_050));
        assert_eq!(major_to_minor("0.01", 2), Ok(1));
        assert_eq!(major_to_minor("500000", 0), Ok(500_000));
        assert_eq!(major_to_minor("2500.0", 0), Ok(2500));
        assert_eq!(major_to_minor("0", 0), Ok(0));
    }

    #[test]
    fn refuses_what_is_not_an_exact_plain_decimal() {
        assert_eq!(
            major_to_minor("1.005", 2),
            Err(DecimalError::TooManyDecimals(2))
        );
        assert_eq!(
            major_to_minor("10.5", 0),
            Err(DecimalError::TooManyDecimals(0))
        );
        for bad in ["-1", "+1", "1e3", "1,000", ".5", "5.", " 5", "abc", "1.2.3"] {
            assert_eq!(
                major_to_minor(bad, 2),
                Err(DecimalError::NotDecimal),
                "{bad}"
            );
        }
        assert_eq!(major_to_minor("", 2), Err(DecimalError::Empty));
        assert_eq!(
            major_to_minor("184467440737095516.16", 2),
            Err(DecimalError::TooLarge)
        );
        assert_eq!(major_to_minor("184467440737095516.15", 2), Ok(u64::MAX));
    }

    #[test]
    fn currency_table_round_trips() {
        for cur in Cur::ALL {
            assert_eq!(Cur::from_code(cur.code()), Some(cur));
            assert_eq!(Cur::ALL[cur.index()], cur);
        }
        assert_eq!(Cur::from_code("ugx"), None);
        assert_eq!(Cur::from_code("USD"), None);
    }
}
