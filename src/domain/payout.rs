//! What a provider reports about a payout, in payrun's words: its status and the names the
//! provider gave it. Declared once here; the provider clients fill them from their private wire
//! types, the journal stores them, and the webhook and reconcile paths compare them.

use super::RowState;

/// A payout's state as the provider reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    Pending,
    Succeeded,
    Failed,
}

impl PayoutStatus {
    /// The row state a payout in this provider state is journaled as.
    pub fn row_state(self) -> RowState {
        match self {
            PayoutStatus::Pending => RowState::Accepted,
            PayoutStatus::Succeeded => RowState::Succeeded,
            PayoutStatus::Failed => RowState::Failed,
        }
    }
}

/// The names a provider gives a payout and where it was executed. Every field is optional:
/// each provider fills the ones its API has (README "Providers and what payrun assumes").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayoutRefs {
    /// RohoPay `id` / Rumbapay `identifier`.
    pub provider_id: Option<String>,
    /// RohoPay `provider_reference`.
    pub provider_reference: Option<String>,
    /// RohoPay `internal_reference`.
    pub internal_reference: Option<String>,
    /// Rumbapay `request_id`.
    pub request_id: Option<String>,
    /// RohoPay `provider` (the network that executed it: relworx, iotec).
    pub routed_provider: Option<String>,
    /// RohoPay `failover_reason`: why the secondary network executed it.
    pub failover_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pending_payout_is_merely_accepted() {
        assert_eq!(PayoutStatus::Pending.row_state(), RowState::Accepted);
        assert_eq!(PayoutStatus::Succeeded.row_state(), RowState::Succeeded);
        assert_eq!(PayoutStatus::Failed.row_state(), RowState::Failed);
    }
}
