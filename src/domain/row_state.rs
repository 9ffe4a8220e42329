//! Where a payee's payout stands in payrun's journal, and the rules for moving between states
//! (README "Row states"). Shared by the send, reconcile and webhook paths and by storage.

use std::fmt;

use serde::Serialize;

/// Where a payee's payout stands. Stored as its lowercase name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    /// Valid, not sent yet.
    Planned,
    /// Committed before the request leaves; the request may or may not have reached the provider.
    Sending,
    /// The provider took the payout and said it is pending.
    Accepted,
    /// The provider says the money arrived.
    Succeeded,
    /// The provider refused or the payout failed definitively. Never because of a timeout.
    Failed,
    /// The request may have reached the provider but the answer was lost.
    InDoubt,
    /// Invalid (or a conflict); never sent.
    Rejected,
    /// Withdrawn by `payrun cancel` before it was sent; never sent by `run`, `resume` or `retry`.
    Cancelled,
}

impl RowState {
    pub const ALL: [RowState; 8] = [
        RowState::Succeeded,
        RowState::Accepted,
        RowState::Failed,
        RowState::InDoubt,
        RowState::Rejected,
        RowState::Cancelled,
        RowState::Planned,
        RowState::Sending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Planned => "planned",
            RowState::Sending => "sending",
            RowState::Accepted => "accepted",
            RowState::Succeeded => "succeeded",
            RowState::Failed => "failed",
            RowState::InDoubt => "in_doubt",
            RowState::Rejected => "rejected",
            RowState::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<RowState> {
        RowState::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Rows a run or resume still has to send (or resend with the same key and body).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RowState::Planned | RowState::Sending | RowState::InDoubt
        )
    }

    /// Never sent, and never will be: invalid, a conflict, or withdrawn by `payrun cancel`.
    /// Nothing a provider says moves such a row.
    pub fn is_withdrawn(self) -> bool {
        matches!(self, RowState::Rejected | RowState::Cancelled)
    }

    /// The provider has the payout; payrun's part is done.
    pub fn is_good(self) -> bool {
        matches!(self, RowState::Accepted | RowState::Succeeded)
    }

    /// How far along a payout is. Status updates from webhooks or reconcile only ever move a
    /// row to a strictly higher rank, so a late `pending` never overwrites `succeeded`.
    pub fn rank(self) -> u8 {
        match self {
            RowState::Rejected | RowState::Cancelled | RowState::Planned => 0,
            RowState::Sending | RowState::InDoubt => 1,
            RowState::Accepted => 2,
            RowState::Succeeded | RowState::Failed => 3,
        }
    }
}

impl fmt::Display for RowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in RowState::ALL {
            assert_eq!(RowState::parse(s.as_str()), Some(s));
        }
        assert_eq!(RowState::parse("paid"), None);
        assert_eq!(RowState::parse("cancelled"), Some(RowState::Cancelled));
        assert!(!RowState::Cancelled.is_open() && RowState::Cancelled.is_withdrawn());
    }

    #[test]
    fn terminal_states_outrank_pending() {
        assert!(RowState::Succeeded.rank() > RowState::Accepted.rank());
        assert!(RowState::Accepted.rank() > RowState::InDoubt.rank());
        assert_eq!(RowState::Succeeded.rank(), RowState::Failed.rank());
    }
}
