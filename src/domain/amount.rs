//! Money as integer minor units, parsed exactly from the decimal text people write.
//! No float ever touches an amount: `"2500.50"` KES is 250050 cents by string arithmetic.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::{Currency, CurrencyError};

/// A positive amount in the currency's smallest unit. At most `i64::MAX`, so it can be stored
/// in SQLite's signed integer column without loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(u64);

/// How the CSV writes amounts: major units (`25000`, `2500.50`) or integer minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AmountUnit {
    #[default]
    Major,
    Minor,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount is missing")]
    Missing,
    #[error("amount must be more than zero")]
    Zero,
    #[error("amount has a sign; write payouts as plain positive numbers without + or -")]
    Signed,
    #[error(
        "looks like a number mangled by a spreadsheet (scientific notation); format the column as text and re-export"
    )]
    Scientific,
    #[error(
        "contains {}; write amounts with '.' for decimals, no spaces, and ',' only between groups of three digits (25000, 25,000 or 2,500.50)",
        super::ShownChar(*.0)
    )]
    Separator(char),
    #[error("{currency} has no minor unit: write a whole number")]
    DecimalsNotAllowed { currency: Currency },
    #[error("{currency} amounts have at most {exponent} decimals")]
    TooManyDecimals { currency: Currency, exponent: u32 },
    #[error(
        "amount_minor must be a whole number of the currency's smallest unit (no decimal point)"
    )]
    MinorHasDecimals,
    #[error("is not a number")]
    NotANumber,
    #[error("is too large to be a real payout")]
    TooLarge,
}

impl MinorUnits {
    pub const MAX: u64 = i64::MAX as u64;

    /// `None` when zero or above [`MinorUnits::MAX`].
    pub fn new(value: u64) -> Option<MinorUnits> {
        (value > 0 && value <= Self::MAX).then_some(MinorUnits(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// Parse according to the file's amount unit.
    pub fn parse(
        raw: &str,
        unit: AmountUnit,
        currency: Currency,
    ) -> Result<MinorUnits, AmountError> {
        match unit {
            AmountUnit::Major => Self::parse_major(raw, currency),
            AmountUnit::Minor => Self::parse_minor(raw),
        }
    }

    /// Parse major units as people write them: `25000`, `2500.5`, `2500.50`. Decimal digits
    /// beyond the currency's exponent are accepted only when they are zeros (`25000.00` UGX is
    /// exactly 25000); anything else would change the value and is refused.
    pub fn parse_major(raw: &str, currency: Currency) -> Result<MinorUnits, AmountError> {
        let text = precheck(raw)?;
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || (text.contains('.') && frac_part.is_empty())
        {
            return Err(AmountError::NotANumber);
        }
        let exponent = currency.exponent();
        let significant = frac_part.trim_end_matches('0');
        if significant.len() > exponent as usize {
            return Err(if exponent == 0 {
                AmountError::DecimalsNotAllowed { currency }
            } else {
                AmountError::TooManyDecimals { currency, exponent }
            });
        }
        let mut value: u128 = 0;
        for b in int_part.bytes() {
            value = value * 10 + u128::from(b - b'0');
            if value > u128::from(Self::MAX) {
                return Err(AmountError::TooLarge);
            }
        }
        for i in 0..exponent as usize {
            let digit = significant.as_bytes().get(i).map_or(0, |b| b - b'0');
            value = value * 10 + u128::from(digit);
        }
        to_minor(value)
    }

    /// Parse integer minor units (`amount_minor` column or `--amount-unit minor`).
    pub fn parse_minor(raw: &str) -> Result<MinorUnits, AmountError> {
        let text = precheck(raw)?;
        if text.contains('.') {
            return Err(AmountError::MinorHasDecimals);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        let value: u128 = text.parse().map_err(|_| AmountError::TooLarge)?;
        to_minor(value)
    }

    /// Major-unit text with exactly the currency's decimals: `25000`, `2500.50`.
    pub fn to_major_string(self, currency: Currency) -> String {
        format_major(u128::from(self.0), currency)
    }
}

fn to_minor(value: u128) -> Result<MinorUnits, AmountError> {
    match u64::try_from(value) {
        Ok(0) => Err(AmountError::Zero),
        Ok(v) if v <= MinorUnits::MAX => Ok(MinorUnits(v)),
        _ => Err(AmountError::TooLarge),
    }
}

/// Checks shared by both units: presence, sign, scientific notation, separators.
fn precheck(raw: &str) -> Result<&str, AmountError> {
    let text = super::trim(raw);
    let Some(first) = text.chars().next() else {
        return Err(AmountError::Missing);
    };
    if first == '+' || first == '-' {
        return Err(AmountError::Signed);
    }
    if looks_scientific(text) {
        return Err(AmountError::Scientific);
    }
    let is_separator = |c: char| matches!(c, ',' | ' ' | '\'' | '_' | '\u{a0}');
    // Only a number written with separators gets the separator advice; words are not a number.
    if text
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || is_separator(c))
        && let Some(sep) = text.chars().find(|c| is_separator(*c))
    {
        return Err(AmountError::Separator(sep));
    }
    Ok(text)
}

/// `2.5E+04`, `1e6`: digits, optional fraction, `e`/`E`, optional sign, digits.
fn looks_scientific(text: &str) -> bool {
    let Some((mantissa, exp)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let mantissa_ok = !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mantissa.bytes().filter(|b| *b == b'.').count() <= 1;
    mantissa_ok && !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit())
}

/// Render a minor-unit value (a single amount or a total) in major units with exactly the
/// currency's decimals.
pub fn format_major(minor: u128, currency: Currency) -> String {
    match currency.exponent() {
        0 => minor.to_string(),
        exp => {
            let scale = 10u128.pow(exp);
            format!(
                "{}.{:0width$}",
                minor / scale,
                minor % scale,
                width = exp as usize
            )
        }
    }
}

/// Thousands separators for people: `62350000` → `62,350,000`, `1520.50` → `1,520.50`.
pub fn grouped(amount: &str) -> String {
    let (int, frac) = amount
        .split_once('.')
        .map_or((amount, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(amount.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// An amount with its currency, as written on the command line in major units:
/// `1234567UGX`, `2500.50 KES` or `KES 2500.50` (used by `--expect-total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: MinorUnits,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("expected an amount and a currency like 1234567UGX or 2500.50KES")]
    Shape,
    #[error(transparent)]
    Currency(#[from] CurrencyError),
    #[error("amount {0}")]
    Amount(#[from] AmountError),
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let is_letter = |c: char| c.is_ascii_alphabetic();
        let (number, code) = if text.starts_with(is_letter) {
            let split = text
                .find(|c: char| !is_letter(c))
                .ok_or(MoneyError::Shape)?;
            (&text[split..], &text[..split])
        } else {
            let split = text.find(is_letter).ok_or(MoneyError::Shape)?;
            (&text[..split], &text[split..])
        };
        let currency = Currency::parse(code)?;
        let amount = MinorUnits::parse_major(number.trim(), currency)?;
        Ok(Money { amount, currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.amount.to_major_string(self.currency),
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn major(s: &str, c: Currency) -> Result<u64, AmountError> {
        MinorUnits::parse_major(s, c).map(MinorUnits::get)
    }

    #[test]
    fn parses_major_units_exactly() {
        assert_eq!(major("25000", Currency::UGX), Ok(25000));
        assert_eq!(major(" 2500.50 ", Currency::KES), Ok(250050));
        assert_eq!(major("2500.5", Currency::KES), Ok(250050));
        assert_eq!(major("0.01", Currency::KES), Ok(1));
        assert_eq!(major("25000.00", Currency::UGX), Ok(25000));
        assert_eq!(major("19.99", Currency::GHS), Ok(1999));
    }

    #[test]
    fn refuses_decimals_the_currency_does_not_have() {
        assert_eq!(
            major("25000.5", Currency::UGX),
            Err(AmountError::DecimalsNotAllowed {
                currency: Currency::UGX
            })
        );
        assert_eq!(
            major("10.001", Currency::KES),
            Err(AmountError::TooManyDecimals {
                currency: Currency::KES,
                exponent: 2
            })
        );
    }

    #[test]
    fn refuses_signs_exponents_separators_and_garbage() {
        assert_eq!(major("-500", Currency::UGX), Err(AmountError::Signed));
        assert_eq!(major("+500", Currency::UGX), Err(AmountError::Signed));
        assert_eq!(
            major("2.5E+04", Currency::UGX),
            Err(AmountError::Scientific)
        );
        assert_eq!(major("1e6", Currency::UGX), Err(AmountError::Scientific));
        assert_eq!(
            major("25,000", Currency::UGX),
            Err(AmountError::Separator(','))
        );
        assert_eq!(
            major("25 000", Currency::UGX),
            Err(AmountError::Separator(' '))
        );
        assert_eq!(major("abc", Currency::UGX), Err(AmountError::NotANumber));
        assert_eq!(
            major("six hundred", Currency::UGX),
            Err(AmountError::NotANumber)
        );
        assert_eq!(
            major("UGX 25000", Currency::UGX),
            Err(AmountError::NotANumber)
        );
        assert_eq!(
            major("1'000.50", Currency::KES),
            Err(AmountError::Separator('\''))
        );
        assert_eq!(major("12.", Currency::KES), Err(AmountError::NotANumber));
        assert_eq!(major(".5", Currency::KES), Err(AmountError::NotANumber));
        assert_eq!(major("1.2.3", Currency::KES), Err(AmountError::NotANumber));
        assert_eq!(major("", Currency::UGX), Err(AmountError::Missing));
        assert_eq!(major("0", Currency::UGX), Err(AmountError::Zero));
        assert_eq!(major("0.00", Currency::KES), Err(AmountError::Zero));
        assert_eq!(
            major("99999999999999999999999", Currency::UGX),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            major("9223372036854775807", Currency::KES),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn parses_minor_units() {
        assert_eq!(
            MinorUnits::parse_minor("250050").map(MinorUnits::get),
            Ok(250050)
        );
        assert_eq!(
            MinorUnits::parse_minor("2500.50"),
            Err(AmountError::MinorHasDecimals)
        );
        assert_eq!(MinorUnits::parse_minor("-1"), Err(AmountError::Signed));
        assert_eq!(MinorUnits::parse_minor("0"), Err(AmountError::Zero));
    }

    #[test]
    fn formats_major_units() {
        assert_eq!(format_major(25000, Currency::UGX), "25000");
        assert_eq!(format_major(250050, Currency::KES), "2500.50");
        assert_eq!(format_major(5, Currency::KES), "0.05");
    }

    #[test]
    fn parses_control_totals() {
        let m: Money = "1234567UGX".parse().unwrap();
        assert_eq!((m.amount.get(), m.currency), (1234567, Currency::UGX));
        let m: Money = "KES 2500.50".parse().unwrap();
        assert_eq!((m.amount.get(), m.currency), (250050, Currency::KES));
        let m: Money = "2500.5 kes".parse().unwrap();
        assert_eq!(m.amount.get(), 250050);
        assert!(matches!("1234567".parse::<Money>(), Err(MoneyError::Shape)));
        assert!(matches!(
            "12USD".parse::<Money>(),
            Err(MoneyError::Currency(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn major_round_trips(minor in 1u64..=MinorUnits::MAX / 1000) {
            for c in [Currency::UGX, Currency::KES] {
                let text = format_major(u128::from(minor), c);
                proptest::prop_assert_eq!(major(&text, c), Ok(minor));
            }
        }
    }
}
