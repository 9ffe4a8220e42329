//! What the journal records for a provider's answer: the one place a [`Receipt`] (provider
//! words) becomes an [`Outcome`] (a journal write), shared by send and reconcile.

use crate::journal::Outcome;
use crate::provider::Receipt;

/// The journal write for an answer that does not contradict the request.
pub(crate) fn outcome_of(receipt: Receipt) -> Outcome {
    Outcome {
        unconfirmed: receipt.unconfirmed,
        ..Outcome::reported(receipt.status, receipt.status_word, receipt.refs, "")
    }
}
