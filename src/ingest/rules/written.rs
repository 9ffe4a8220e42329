//! Amounts as clerks write them: `1,500.00` and `1,234,567` (`,` thousands separators in strict
//! groups of three), and the row's own currency code before or after the number (`KES 2,500`,
//! `2500 UGX`). Each is read to plain decimal text, which the exact parser then checks like any
//! other amount, and the row gets a warning showing what will be paid. What stays ambiguous is
//! left to the parser's own error (`1.500,00`, `1,50`, `1,5000`); another currency's code and a
//! currency symbol (`KSh`) are errors naming the code to write.

use crate::domain::Currency;

/// What the decorations of an amount cell come to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    /// Nothing to take off: parse the cell as it is.
    Plain,
    /// The plain number the cell writes.
    Read(String),
    /// A decoration that cannot be read for this row, and why.
    Refused(String),
}

/// Read `raw` (already trimmed) for a row paying `currency`.
pub(super) fn undecorate(raw: &str, currency: Option<Currency>) -> Written {
    let (number, label) = split_label(raw);
    if let Some(label) = label {
        let Ok(code) = Currency::parse(label) else {
            // The currency column's own table of local spellings (`KSh`, `USh`, ...).
            if let Some((_, code)) = super::payee::local_currency_hint(label) {
                return Written::Refused(format!(
                    "{label:?} is a currency symbol; write the amount alone (or with the code {code})"
                ));
            }
            return Written::Plain; // not a currency: the parser says what is wrong
        };
        match currency {
            Some(row) if row != code => {
                return Written::Refused(format!(
                    "is written in {}, but the row pays {}",
                    code.code(),
                    row.code()
                ));
            }
            None => return Written::Plain, // the currency error already stops the row
            Some(_) => {}
        }
    }
    match ungroup(number) {
        Some(plain) => Written::Read(plain),
        None if label.is_some() => Written::Read(number.to_string()),
        None => Written::Plain,
    }
}

/// A three-letter label before or after the number (`KES 2,500`, `2500UGX`), and the number.
fn split_label(raw: &str) -> (&str, Option<&str>) {
    let letters =
        |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_alphabetic());
    let lead = raw
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(raw.len());
    if lead > 0 && letters(&raw[..lead]) && lead < raw.len() {
        return (raw[lead..].trim_start(), Some(&raw[..lead]));
    }
    // After the last character that is not a letter (which may be several bytes long).
    let tail = raw
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    if tail < raw.len() && tail > 0 && letters(&raw[tail..]) {
        return (raw[..tail].trim_end(), Some(&raw[tail..]));
    }
    (raw, None)
}

/// `1,234,567.89` → `1234567.89` when every `,` separates a strict group of three digits
/// before any decimal point; `None` when there is no `,` or the groups are not strict.
fn ungroup(number: &str) -> Option<String> {
    if !number.contains(',') {
        return None;
    }
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || first.len() > 3 || !digits(first) {
        return None;
    }
    let mut plain = first.to_string();
    for group in groups {
        if group.len() != 3 || !digits(group) {
            return None;
        }
        plain.push_str(group);
    }
    if let Some(fraction) = fraction {
        if fraction.contains(',') {
            return None;
        }
        plain.push('.');
        plain.push_str(fraction);
    }
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str, currency: Currency) -> Written {
        undecorate(raw, Some(currency))
    }

    #[test]
    fn strict_thousands_groups_and_the_rows_own_code_are_read() {
        for (raw, currency, plain) in [
            ("1,500.00", Currency::KES, "1500.00"),
            ("1,234,567", Currency::UGX, "1234567"),
            ("KES 2,500", Currency::KES, "2500"),
            ("kes 2,500.50", Currency::KES, "2500.50"),
            ("2500 UGX", Currency::UGX, "2500"),
            ("2500UGX", Currency::UGX, "2500"),
            ("UGX25000", Currency::UGX, "25000"),
        ] {
            assert_eq!(read(raw, currency), Written::Read(plain.into()), "{raw}");
        }
    }

    #[test]
    fn plain_and_ambiguous_forms_are_left_to_the_parser() {
        for raw in [
            "1500.00", "1.500,00", "1,50", "1,5000", ",500", "1,500,00", "12,00", "abc",
        ] {
            assert_eq!(read(raw, Currency::KES), Written::Plain, "{raw}");
        }
    }

    #[test]
    fn letters_beside_multi_byte_characters_are_cut_at_character_boundaries() {
        for raw in ["2é", "é2", "€"] {
            assert_eq!(read(raw, Currency::KES), Written::Plain, "{raw}");
        }
        // The code is taken off; what is left goes to the parser, which refuses it.
        assert_eq!(read("1,5€KES", Currency::KES), Written::Read("1,5€".into()));
        assert_eq!(
            read("UGXé", Currency::KES),
            Written::Refused("is written in UGX, but the row pays KES".into())
        );
    }

    #[test]
    fn another_code_and_symbols_are_refused_naming_the_code() {
        let Written::Refused(why) = read("UGX 2,500", Currency::KES) else {
            panic!("another currency's code")
        };
        assert_eq!(why, "is written in UGX, but the row pays KES");
        let Written::Refused(why) = read("KSh 2,500", Currency::KES) else {
            panic!("a symbol")
        };
        assert!(
            why.contains("currency symbol") && why.contains("KES"),
            "{why}"
        );
        assert_eq!(undecorate("KES 2,500", None), Written::Plain);
    }
}
