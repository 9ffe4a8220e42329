//! What the journal records for a provider's answer: the one place a [`Receipt`] (provider
//! words) becomes an [`Outcome`] (a journal write), shared by send and reconcile.

use crate::journal::Outcome;
use crate::provider::Receipt;

/// The journal write for an answer that does not contradict the request.
pub(crate) fn outcome_of(receipt: Receipt) -> Outcome {
    Outcome {
        unconfirmed: receipt.unconfirmed,
        ..Outcome::reported(
            receipt.status,
            receipt.status_word,
            receipt.refs,
            receipt.reason.as_deref(),
            "",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PayoutRefs, PayoutStatus, RowState};
    use crate::provider::AnswerFacts;

    fn receipt(status: PayoutStatus, reason: Option<&str>) -> Receipt {
        Receipt {
            status,
            status_word: "failed".into(),
            refs: PayoutRefs::default(),
            unconfirmed: false,
            duplicate: false,
            facts: AnswerFacts::default(),
            http_status: 200,
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_failure_is_journaled_in_the_providers_words() {
        let o = outcome_of(receipt(PayoutStatus::Failed, Some("Wallet is closed")));
        assert_eq!(o.state, Some(RowState::Failed));
        assert_eq!(
            o.error.as_deref(),
            Some("provider reported the payout failed: Wallet is closed")
        );
        let o = outcome_of(receipt(PayoutStatus::Failed, None));
        assert_eq!(
            o.error.as_deref(),
            Some("provider reported the payout failed and gave no reason")
        );
        assert_eq!(outcome_of(receipt(PayoutStatus::Succeeded, Some("x"))).error, None);
    }
}
