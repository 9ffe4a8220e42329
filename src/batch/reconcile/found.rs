//! What reconciling a batch found, row by row: the rows that changed state (with the reason a
//! failed one gives), the rows that did not, and the rows that need a person. The CLI prints
//! a summary of it, or every row with `--verbose`.

use crate::domain::RowState;

/// A row whose state changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub line: u64,
    pub reference: Option<String>,
    pub from: RowState,
    pub to: RowState,
    /// What the journal now says about it: for a row that became failed, why, in the
    /// provider's words when it gave them.
    pub reason: Option<String>,
}

/// A row checked that did not change state (still pending at the provider, or final).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub line: u64,
    pub reference: Option<String>,
    pub state: RowState,
}

/// A row that still needs a person, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attention {
    pub line: u64,
    pub reference: Option<String>,
    pub why: String,
}

#[derive(Debug, Default)]
pub struct ReconcileReport {
    pub checked: u64,
    pub changes: Vec<Change>,
    /// Still pending at the provider: nothing to do but wait (or reconcile again later).
    pub still_pending: u64,
    /// Those rows, and the rows checked that stayed as they were, for a full listing.
    pub pending: Vec<Seen>,
    pub unchanged: Vec<Seen>,
    /// Rows that need a person (could not be checked, or the provider contradicted the request).
    pub attention: Vec<Attention>,
    /// Of those, the rows whose answer contradicted the request (flagged in the journal).
    pub contradicted: Vec<Attention>,
}

impl ReconcileReport {
    /// How many rows need a person after this reconcile: the CLI exits 1 when any do.
    pub fn needs_person(&self) -> usize {
        self.attention.len()
    }

    /// The rows this reconcile found failed: the CLI exits 1 when there are any.
    pub fn became_failed(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.to == RowState::Failed)
    }
}
