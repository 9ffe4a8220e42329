//! Provider clients behind one trait. Each provider's module keeps its wire types private and
//! maps its status words into [`PayoutStatus`](crate::domain::PayoutStatus) and its errors into [`ProviderError`], whose
//! [`ErrorClass`] tells the sender (`batch::send`) what to do: retry, keep in doubt, fail, pause or stop.

mod any;
mod config;
mod http;
pub mod rohopay;
pub mod rumbapay;
pub mod verify;

use std::{future::Future, time::Duration};

pub use any::{AnyClient, connect};
pub use config::{ConfigError, ProviderConfig, check_url, without_userinfo};
pub use http::retry_after_from;
pub use verify::{AnswerAmount, AnswerFacts, Contradiction, RequestFacts};

use crate::domain::{Currency, PayeeRow, PayoutRefs, PayoutStatus, ProviderKind};

/// What the provider said about a payout it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub status: PayoutStatus,
    /// The provider's own status word (`pending`, `successful`, `success`...).
    pub status_word: String,
    /// The names the provider gave the payout.
    pub refs: PayoutRefs,
    /// Rumbapay answered "duplicate reference": it has the payout, status not confirmed yet.
    pub unconfirmed: bool,
    /// The answer to a "duplicate reference": the transaction Rumbapay named for it, trusted
    /// only if it carries the row's key as its reference.
    pub duplicate: bool,
    /// What the answer says was paid, to compare with the request (see [`verify`]).
    pub facts: AnswerFacts,
    /// HTTP status of the answer, for the attempt log.
    pub http_status: u16,
    /// Why the payout failed, in the provider's words, when it says (Rumbapay's
    /// `error_message`; RohoPay documents no such field).
    pub reason: Option<String>,
}

/// A terminal-status callback (webhook) as payrun understands it, whichever provider sent
/// it. Parsed by the provider's own module (`rohopay::parse_callback`,
/// `rumbapay::parse_callback`) from its private wire types and status map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    pub status: PayoutStatus,
    /// The provider's own status word.
    pub status_word: String,
    /// The names the provider gave the payout (RohoPay under `data`).
    pub refs: PayoutRefs,
    /// The idempotency key payrun sent (Rumbapay `reference`); RohoPay callbacks carry none.
    pub key: Option<String>,
    /// The payee's number as the provider reports it (digits, perhaps with `+`).
    pub phone: Option<String>,
    /// The amount in minor units, converted from the provider's unit.
    pub amount_minor: Option<u64>,
    /// Why the payout failed, in the provider's words, when it says.
    pub reason: Option<String>,
    /// ISO 4217 code as the provider wrote it.
    pub currency: Option<String>,
}

impl Callback {
    /// The status and ids a callback shares with a payout answer; the payee facts are added
    /// by the provider's parser.
    fn from_receipt(r: Receipt) -> Callback {
        Callback {
            status: r.status,
            status_word: r.status_word,
            refs: r.refs,
            key: None,
            phone: None,
            amount_minor: None,
            currency: None,
            reason: r.reason,
        }
    }
}

/// Why a callback body is not one payrun can read.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("not a {provider} callback: {source}")]
    Json {
        provider: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{provider} callback has no {field}")]
    Missing {
        provider: &'static str,
        field: &'static str,
    },
    #[error("{provider} callback amount {amount} is not a valid {currency} amount: {reason}")]
    Amount {
        provider: &'static str,
        amount: String,
        currency: String,
        reason: String,
    },
}

#[cfg(test)]
impl CallbackError {
    /// The variant's name, for tests that table inputs against the refusal they get.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CallbackError::Json { .. } => "json",
            CallbackError::Missing { .. } => "missing",
            CallbackError::Amount { .. } => "amount",
        }
    }
}

/// What the sender (`batch::send`) does about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Nothing reached the provider, or it said "try again": retry with the same key and body.
    Retryable,
    /// The request may have been executed; retry with the same key and body, never fail it.
    InDoubt,
    /// The provider refused this payout for good: the row fails with the provider's message.
    Definitive,
    /// The wallet ran dry: stop the batch (resumable), don't fail every remaining row.
    InsufficientFunds,
    /// Slow down: pause the whole provider for `Retry-After`.
    RateLimited,
    /// Credentials refused: stop the batch, nothing else will work.
    Fatal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("could not reach the provider: {reason}")]
    Unreachable { reason: String },
    /// Says nothing about a payout: the request may have been a balance read or a status
    /// query. Where it was a payout, [`ProviderError::after_payout`] says what that means.
    #[error("no answer from the provider ({reason})")]
    NoAnswer { reason: String },
    #[error("provider error (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("the provider is still processing an earlier request with this key (HTTP {status})")]
    InFlight { status: u16 },
    #[error("rate limited by the provider (HTTP 429)")]
    RateLimited { retry_after: Option<Duration> },
    #[error("insufficient wallet balance: {message}")]
    InsufficientFunds { status: u16, message: String },
    #[error("the provider refused the API key (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error(
        "the provider says this key was already used for a different request (HTTP {status}): {message}; check this payout by hand"
    )]
    KeyReused { status: u16, message: String },
    #[error("refused by the provider (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    #[error(
        "the provider does not know this endpoint (HTTP {status}): {message}; check the base URL"
    )]
    Misconfigured { status: u16, message: String },
    #[error("unexpected answer from the provider (HTTP {status}): {message}")]
    Unexpected { status: u16, message: String },
    #[error(
        "the provider redirected the request (HTTP {status}) to {host}; payrun never follows a redirect on a provider call: check the base URL"
    )]
    Redirected { status: u16, host: String },
    #[error("Rumbapay answered \"duplicate reference\" but {message}")]
    Unconfirmed {
        status: u16,
        message: String,
        /// The provider contradicted itself (its own request id names no transaction).
        contradicts: bool,
    },
}

impl ProviderError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ProviderError::Unreachable { .. }
            | ProviderError::Server { .. }
            | ProviderError::InFlight { .. } => ErrorClass::Retryable,
            ProviderError::NoAnswer { .. }
            | ProviderError::KeyReused { .. }
            | ProviderError::Unexpected { .. }
            | ProviderError::Redirected { .. }
            | ProviderError::Unconfirmed { .. } => ErrorClass::InDoubt,
            ProviderError::RateLimited { .. } => ErrorClass::RateLimited,
            ProviderError::InsufficientFunds { .. } => ErrorClass::InsufficientFunds,
            ProviderError::Unauthorized { .. } | ProviderError::Misconfigured { .. } => {
                ErrorClass::Fatal
            }
            ProviderError::Rejected { .. } => ErrorClass::Definitive,
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            ProviderError::Unreachable { .. } | ProviderError::NoAnswer { .. } => None,
            ProviderError::RateLimited { .. } => Some(429),
            ProviderError::Server { status, .. }
            | ProviderError::InFlight { status }
            | ProviderError::InsufficientFunds { status, .. }
            | ProviderError::Unauthorized { status, .. }
            | ProviderError::KeyReused { status, .. }
            | ProviderError::Rejected { status, .. }
            | ProviderError::Misconfigured { status, .. }
            | ProviderError::Unexpected { status, .. }
            | ProviderError::Redirected { status, .. }
            | ProviderError::Unconfirmed { status, .. } => Some(*status),
        }
    }

    /// The connection failed or broke: counts toward "provider unavailable".
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            ProviderError::Unreachable { .. } | ProviderError::NoAnswer { .. }
        )
    }

    /// The error as said about a payout request that was sent: an answer that never came or a
    /// redirect leaves the payout possibly made. Only for payout requests — a balance read or
    /// a status query that failed paid nobody.
    pub fn after_payout(&self) -> String {
        match self {
            ProviderError::NoAnswer { .. } => {
                format!("{self}; the payout may or may not have been made")
            }
            ProviderError::Redirected { .. } => format!(
                "{self}; the payout may or may not have been made: check it with the provider"
            ),
            _ => self.to_string(),
        }
    }

    /// Short word for the attempt log.
    pub fn outcome_word(&self) -> &'static str {
        match self {
            ProviderError::Unreachable { .. } => "unreachable",
            ProviderError::NoAnswer { .. } => "no_answer",
            ProviderError::Server { .. } => "server_error",
            ProviderError::InFlight { .. } => "in_flight",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::InsufficientFunds { .. } => "insufficient_funds",
            ProviderError::Unauthorized { .. } => "unauthorized",
            ProviderError::KeyReused { .. } => "key_reused",
            ProviderError::Rejected { .. } => "rejected",
            ProviderError::Misconfigured { .. } => "misconfigured",
            ProviderError::Unexpected { .. } => "unexpected",
            ProviderError::Redirected { .. } => "redirected",
            ProviderError::Unconfirmed { .. } => "unconfirmed",
        }
    }
}

/// What a status query needs to find a payout again.
#[derive(Clone, Debug)]
pub struct QueryRef {
    pub key: String,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
}

/// Batch-wide inputs to a request body.
#[derive(Clone, Debug)]
pub struct BodyContext<'a> {
    pub batch_id: &'a str,
    pub callback_url: Option<&'a str>,
}

/// Map an HTTP error status shared by both providers to an error; `None` for statuses whose
/// meaning is provider-specific (400, 409, 422) or not an error.
fn common_error(
    status: u16,
    message: String,
    retry_after: Option<Duration>,
) -> Option<ProviderError> {
    Some(match status {
        401 | 403 => ProviderError::Unauthorized { status, message },
        402 => ProviderError::InsufficientFunds { status, message },
        404 | 405 | 415 => ProviderError::Misconfigured { status, message },
        429 => ProviderError::RateLimited { retry_after },
        500..=599 => ProviderError::Server { status, message },
        400..=499 => ProviderError::Rejected { status, message },
        _ => ProviderError::Unexpected { status, message },
    })
}

/// A payout API payrun can send through.
pub trait Provider: Send + Sync + 'static {
    fn kind(&self) -> ProviderKind;

    /// Whether the configured key is a test-mode key (`test_...`).
    fn is_test_key(&self) -> bool;

    /// Send one payout: the stored key and the stored, byte-identical body.
    fn submit(
        &self,
        key: &str,
        body: &[u8],
    ) -> impl Future<Output = Result<Receipt, ProviderError>> + Send;

    /// The payout's current state, `None` if the provider cannot tell (unknown to it, or no
    /// way to ask).
    fn query(
        &self,
        payout: &QueryRef,
    ) -> impl Future<Output = Result<Option<Receipt>, ProviderError>> + Send;

    /// Live wallet balance in minor units; `None` when the provider has no balance endpoint or
    /// does not report this currency.
    fn balance(
        &self,
        currency: Currency,
    ) -> impl Future<Output = Result<Option<u64>, ProviderError>> + Send;
}

/// The exact request body for a row, computed once at plan time and stored.
pub fn request_body(
    kind: ProviderKind,
    row: &PayeeRow,
    key: &str,
    ctx: &BodyContext<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    match kind {
        ProviderKind::Rohopay => rohopay::request_body(row, ctx),
        ProviderKind::Rumbapay => rumbapay::request_body(row, key, ctx),
    }
}

/// Where a stored request body of `kind` names the mobile operator (an SQLite JSON path), or
/// `None` when the provider routes by the phone number alone.
pub fn operator_path(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::Rohopay => None,
        ProviderKind::Rumbapay => Some(rumbapay::OPERATOR_PATH),
    }
}

/// The stored request body `body` of a row, for a new attempt with idempotency key `key`
/// (`payrun retry`). RohoPay's body does not carry the key (it travels as `Idempotency-Key`):
/// the same bytes. Rumbapay's `reference` is the key: the same body with the new reference,
/// every other field kept as written.
pub fn body_with_key(
    kind: ProviderKind,
    body: &[u8],
    key: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    match kind {
        ProviderKind::Rohopay => Ok(body.to_vec()),
        ProviderKind::Rumbapay => rumbapay::body_with_reference(body, key),
    }
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn only_a_payout_request_may_have_made_a_payout() {
        let lost = ProviderError::NoAnswer {
            reason: "connection closed".into(),
        };
        assert_eq!(
            lost.to_string(),
            "no answer from the provider (connection closed)"
        );
        assert!(
            lost.after_payout()
                .ends_with("the payout may or may not have been made")
        );
        let moved = ProviderError::Redirected {
            status: 302,
            host: "elsewhere.example".into(),
        };
        assert!(!moved.to_string().contains("payout"), "{moved}");
        assert!(
            moved
                .after_payout()
                .contains("may or may not have been made")
        );
        let refused = ProviderError::Rejected {
            status: 400,
            message: "bad phone".into(),
        };
        assert_eq!(refused.after_payout(), refused.to_string());
    }
}
