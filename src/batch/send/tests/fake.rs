//! A scripted provider for the send state machine: it answers each request with the next
//! reply of a list, the way a real provider might — an answer, a lost answer, an error — and
//! once the list is used up it cannot be reached at all (nothing executed).

use crate::domain::{PayoutRefs, PayoutStatus};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use crate::domain::{Currency, ProviderKind};
use crate::provider::{AnswerAmount, AnswerFacts, Provider, ProviderError, QueryRef, Receipt};

pub use crate::journal::test_support::{AMOUNT, PHONE};

/// The body RohoPay payouts are stored with (same shape as `rohopay::request_body`).
pub fn body() -> Vec<u8> {
    format!(
        r#"{{"phone":"{PHONE}","amount":{AMOUNT},"currency":"UGX","description":"payrun batch t"}}"#
    )
    .into_bytes()
}

/// One answer of the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    Pending,
    Successful,
    Failed,
    /// Executed, then the connection closed with no answer.
    Drop,
    /// The answer never came in time.
    Timeout,
    /// 500: "try again" (perhaps after executing).
    Server,
    /// 409: an earlier request with this key is still being processed.
    InFlight,
    /// 429 without `Retry-After`.
    RateLimited,
    /// 429 with `Retry-After: 3`.
    RateLimitedAfter,
    /// 429 with `Retry-After: 999999`: longer than payrun waits within a run.
    PauseTooLong,
    /// 400: refused for good.
    Definitive,
    /// 402: the wallet is empty.
    InsufficientFunds,
    /// 422: the key was used for a different request.
    KeyReused,
    /// 302 to another host.
    Redirect,
    /// "successful", but for one unit less than asked.
    Contradicting,
}

impl Reply {
    pub const ALL: [Reply; 15] = [
        Reply::Pending,
        Reply::Successful,
        Reply::Failed,
        Reply::Drop,
        Reply::Timeout,
        Reply::Server,
        Reply::InFlight,
        Reply::RateLimited,
        Reply::RateLimitedAfter,
        Reply::PauseTooLong,
        Reply::Definitive,
        Reply::InsufficientFunds,
        Reply::KeyReused,
        Reply::Redirect,
        Reply::Contradicting,
    ];

    fn answer(self) -> Result<Receipt, ProviderError> {
        let ok = |status, word: &str, amount| {
            Ok(Receipt {
                status,
                status_word: word.into(),
                refs: PayoutRefs {
                    provider_id: Some("P-1".into()),
                    ..PayoutRefs::default()
                },
                unconfirmed: false,
                duplicate: false,
                facts: AnswerFacts {
                    reference: None,
                    phone: Some(PHONE.into()),
                    amount: Some(AnswerAmount::Minor(amount)),
                    currency: Some("UGX".into()),
                },
                http_status: 200,
                reason: None,
            })
        };
        let message = || "scripted".to_string();
        match self {
            Reply::Pending => ok(PayoutStatus::Pending, "pending", AMOUNT),
            Reply::Successful => ok(PayoutStatus::Succeeded, "successful", AMOUNT),
            Reply::Failed => ok(PayoutStatus::Failed, "failed", AMOUNT),
            Reply::Contradicting => ok(PayoutStatus::Succeeded, "successful", AMOUNT - 1),
            Reply::Drop => Err(ProviderError::NoAnswer {
                reason: "connection closed".into(),
            }),
            Reply::Timeout => Err(ProviderError::NoAnswer {
                reason: "timed out".into(),
            }),
            Reply::Server => Err(ProviderError::Server {
                status: 500,
                message: message(),
            }),
            Reply::InFlight => Err(ProviderError::InFlight { status: 409 }),
            Reply::RateLimited => Err(ProviderError::RateLimited { retry_after: None }),
            Reply::RateLimitedAfter => Err(ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
            }),
            Reply::PauseTooLong => Err(ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(999_999)),
            }),
            Reply::Definitive => Err(ProviderError::Rejected {
                status: 400,
                message: message(),
            }),
            Reply::InsufficientFunds => Err(ProviderError::InsufficientFunds {
                status: 402,
                message: message(),
            }),
            Reply::KeyReused => Err(ProviderError::KeyReused {
                status: 422,
                message: message(),
            }),
            Reply::Redirect => Err(ProviderError::Redirected {
                status: 302,
                host: "elsewhere.example:443".into(),
            }),
        }
    }
}

/// Answers from a script; counts the requests it got.
pub struct Scripted {
    replies: Mutex<VecDeque<Reply>>,
    pub used: Mutex<Vec<Reply>>,
}

impl Scripted {
    pub fn new(replies: &[Reply]) -> Scripted {
        Scripted {
            replies: Mutex::new(replies.iter().copied().collect()),
            used: Mutex::new(Vec::new()),
        }
    }

    /// The replies the sender consumed, in order.
    pub fn used(&self) -> Vec<Reply> {
        self.used.lock().unwrap().clone()
    }
}

impl Provider for Scripted {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Rohopay
    }

    fn is_test_key(&self) -> bool {
        false
    }

    async fn submit(&self, _key: &str, _body: &[u8]) -> Result<Receipt, ProviderError> {
        let next = self.replies.lock().unwrap().pop_front();
        match next {
            Some(reply) => {
                self.used.lock().unwrap().push(reply);
                reply.answer()
            }
            None => Err(ProviderError::Unreachable {
                reason: "connection refused (script used up)".into(),
            }),
        }
    }

    async fn query(&self, payout: &QueryRef) -> Result<Option<Receipt>, ProviderError> {
        self.submit(&payout.key, &payout.body).await.map(Some)
    }

    async fn balance(&self, _currency: Currency) -> Result<Option<u64>, ProviderError> {
        Ok(None)
    }
}
