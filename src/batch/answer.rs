//! What the journal records for a provider's answer: the one place a [`Receipt`] (provider
//! words) becomes an [`Outcome`] (a journal write), shared by send and reconcile.

use crate::domain::RowState;
use crate::journal::Outcome;
use crate::provider::Receipt;

/// The journal write for an answer that does not contradict the request.
pub(crate) fn outcome_of(receipt: Receipt) -> Outcome {
    let state = receipt.status.row_state();
    Outcome {
        state: Some(state),
        error: (state == RowState::Failed)
            .then(|| format!("provider reported the payout {}", receipt.status_word)),
        provider_status: Some(receipt.status_word),
        refs: receipt.refs,
        unconfirmed: receipt.unconfirmed,
        attention: None,
    }
}
