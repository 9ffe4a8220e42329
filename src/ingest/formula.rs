//! The guard against CSV injection, for every CSV payrun writes (the `--rejects` file and
//! `payrun report`): a cell that a spreadsheet would run as a formula or control input is
//! prefixed with `'`, so opening payrun's output never executes what a payee file smuggled in.

use std::borrow::Cow;

/// Prefix `'` to a cell a spreadsheet would treat as a formula or control input (it starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return); other cells are returned as they are.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_cells() {
        assert_eq!(spreadsheet_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(spreadsheet_safe("=1+1"), "'=1+1");
        assert_eq!(spreadsheet_safe("+256700"), "'+256700");
        assert_eq!(spreadsheet_safe("+256700123456"), "'+256700123456");
        assert_eq!(spreadsheet_safe("-5"), "'-5");
        assert_eq!(spreadsheet_safe("@x"), "'@x");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("\rx"), "'\rx");
        assert_eq!(spreadsheet_safe("256700123456"), "256700123456");
        assert_eq!(spreadsheet_safe(""), "");
    }

    #[test]
    fn leaves_cells_that_only_contain_a_formula_sign_later() {
        assert_eq!(spreadsheet_safe("a=b"), "a=b");
        assert!(matches!(spreadsheet_safe("256700"), Cow::Borrowed(_)));
    }
}
