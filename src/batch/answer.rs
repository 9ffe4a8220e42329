//! What the journal records for a provider's answer: the one place a [`Receipt`] (provider
//! words) becomes an [`Outcome`] (a journal write), shared by send and reconcile; and the
//! words a row in doubt is left with, written for the clerk who reads `report` (the
//! library's own error text goes to the row's events, not here).

use crate::journal::Outcome;
use crate::provider::{ProviderError, Receipt};

/// What went wrong with a request, as a clerk would say it. Errors that already say what to
/// check (a refusal, a reused key, a redirect) keep their own words.
pub(crate) fn plainly(err: &ProviderError) -> String {
    match err {
        ProviderError::Unreachable { .. } => "payrun could not reach the provider".into(),
        ProviderError::NoAnswer { .. } => "the provider did not answer".into(),
        ProviderError::Server { status, .. } => {
            format!("the provider had a problem of its own (HTTP {status})")
        }
        ProviderError::InFlight { .. } => "the provider was still working on this payout".into(),
        ProviderError::RateLimited { .. } => "the provider asked payrun to slow down".into(),
        ProviderError::InsufficientFunds { .. } => "the wallet ran out of money".into(),
        ProviderError::Unauthorized { status, .. } => {
            format!("the provider refused payrun's API key (HTTP {status})")
        }
        ProviderError::Unexpected { status, .. } => {
            format!("the provider's answer could not be read (HTTP {status})")
        }
        ProviderError::KeyReused { .. }
        | ProviderError::Rejected { .. }
        | ProviderError::Misconfigured { .. }
        | ProviderError::Redirected { .. }
        | ProviderError::Unconfirmed { .. } => err.to_string(),
    }
}

/// Why a row is in doubt, for the clerk: what happened, and that payrun settles it with the
/// provider before anything is paid again (a resume resends the same key, which the provider
/// recognises; `reconcile` asks). `None`: no request of this run got an answer to quote.
pub(crate) fn in_doubt_reason(err: Option<&ProviderError>) -> String {
    let what = err.map_or_else(|| "an earlier request got no answer".to_owned(), plainly);
    let whom = if what.starts_with("the provider") {
        "it"
    } else {
        "the provider"
    };
    format!("{what}; payrun will ask {whom} before paying again")
}

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
    fn in_doubt_reasons_read_as_a_clerk_would_say_them() {
        let lost = ProviderError::NoAnswer {
            reason: "error sending request: operation timed out (os error 110)".into(),
        };
        assert_eq!(
            in_doubt_reason(Some(&lost)),
            "the provider did not answer; payrun will ask it before paying again"
        );
        let busy = ProviderError::Server {
            status: 503,
            message: "<html>upstream connect error</html>".into(),
        };
        let said = in_doubt_reason(Some(&busy));
        assert_eq!(
            said,
            "the provider had a problem of its own (HTTP 503); payrun will ask it before paying again"
        );
        let broke = ProviderError::InsufficientFunds {
            status: 402,
            message: "insufficient_balance".into(),
        };
        assert_eq!(
            in_doubt_reason(Some(&broke)),
            "the wallet ran out of money; payrun will ask the provider before paying again"
        );
        assert!(
            in_doubt_reason(None).ends_with("payrun will ask the provider before paying again")
        );
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
        assert_eq!(
            outcome_of(receipt(PayoutStatus::Succeeded, Some("x"))).error,
            None
        );
    }
}
