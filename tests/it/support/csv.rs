//! The one writer of payee files for the integration tests: the columns payrun reads (an
//! optional reference, phone, amount, currency, operator) and the name columns Rumbapay needs.

use std::fmt::Write as _;

/// One payee line, cells as written to the file.
pub struct Line<'a> {
    /// `None` writes an empty cell (or nothing, without a reference column).
    pub reference: Option<&'a str>,
    pub phone: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub operator: &'a str,
}

/// The file's text: the header, then one line per payee, each ended by `eol`.
pub fn payee_file<'a>(
    reference_column: bool,
    eol: &str,
    lines: impl IntoIterator<Item = Line<'a>>,
) -> String {
    let mut text = String::new();
    if reference_column {
        text.push_str("reference,");
    }
    text.push_str("phone,amount,currency,operator,first_name,last_name");
    text.push_str(eol);
    for l in lines {
        if reference_column {
            text.push_str(l.reference.unwrap_or(""));
            text.push(',');
        }
        let _ = write!(
            text,
            "{},{},{},{},Amina,Nakato{eol}",
            l.phone, l.amount, l.currency, l.operator
        );
    }
    text
}
