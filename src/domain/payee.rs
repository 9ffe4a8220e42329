//! A validated payee row: the contract between CSV ingest and the payout runner.

use super::{Currency, MinorUnits, Operator, Phone};

/// One row of the input file that passed every rule. Fields are public because each one is
/// already a checked domain value; the struct only groups them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayeeRow {
    /// Physical line number in the file (header = line 1).
    pub line: u64,
    /// The payee's stable id in the user's system, trimmed, non-empty, unique in the file.
    pub reference: Option<String>,
    pub phone: Phone,
    pub amount: MinorUnits,
    pub currency: Currency,
    /// Required (and present) for Rumbapay.
    pub operator: Option<Operator>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// At most 100 characters.
    pub description: Option<String>,
    /// Rumbapay beneficiary document (type, value), both present or neither.
    pub document: Option<(String, String)>,
    /// How many earlier rows in the file have the same phone, amount and currency
    /// (0 for the first). Makes row identity stable when rows are reordered (README "Keys and identity").
    pub occurrence: u32,
}
