//! The rows that planning writes: a valid row with its final key and body, an invalid row kept
//! for reports, and what a plan wrote. Their own file because both the planner's transaction
//! (`plan`) and its bulk statements (`bulk`) use them, and neither should import the other.

use crate::domain::Currency;

/// A valid row ready to send: its key and body are final and never recomputed.
#[derive(Clone, Debug)]
pub struct PlannedRow {
    pub line: u64,
    pub identity: String,
    pub key: String,
    pub reference: Option<String>,
    /// International digits.
    pub phone: String,
    pub amount_minor: u64,
    /// Major units as shown to people (`2500.50`).
    pub amount_text: String,
    pub currency: Currency,
    pub body: Vec<u8>,
    /// What the file said about the payee beyond the payment, for reports.
    pub details: PayeeDetails,
}

/// What the payee file said about a payee beyond the payment itself, kept for `report` (the
/// provider's request may carry none of it: RohoPay's has no name or operator).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayeeDetails {
    /// First and last name, joined by a space.
    pub name: Option<String>,
    /// The operator as payrun sends it (the provider's spelling).
    pub operator: Option<String>,
    pub description: Option<String>,
}

/// An invalid row, kept so reports show it and nothing is silently skipped.
#[derive(Clone, Debug)]
pub struct RejectedInsert {
    pub line: u64,
    pub reference: String,
    pub phone: String,
    pub amount: String,
    pub currency: String,
    pub error: String,
}

impl RejectedInsert {
    /// Rejected rows have no identity of their own; their line stands in for it.
    pub fn identity(&self) -> String {
        format!("rejected:line:{}", self.line)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanStats {
    pub planned: u64,
    pub rejected: u64,
}

/// One row on its way into a new batch.
#[derive(Clone, Debug)]
pub enum PlanItem {
    Planned(PlannedRow),
    Rejected(RejectedInsert),
}
