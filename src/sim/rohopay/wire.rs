//! RohoPay's JSON on the wire, field for field as the seed document shows it: the
//! `{"success": true, "data": {...}}` envelope of a disbursement and of the balance, and the
//! (assumed) error envelope `{"success": false, "error": {"code", "message"}}`.

use axum::{
    Json,
    http::{HeaderName, HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::sim::{clock, detail::RohoDetail, payout::Payout};

/// The failover explanation, verbatim from the seed document.
pub(crate) const FAILOVER_REASON: &str =
    "Primary provider (relworx) returned a timeout; retried with iotec";
/// Header marking an idempotent replay.
pub(crate) const REPLAYED_HEADER: &str = "idempotent-replayed";
/// `balance_test` is not simulated; the seed's example figure is served.
pub(crate) const BALANCE_TEST: u64 = 1_000_000;

#[derive(Serialize)]
struct Success<T> {
    success: bool,
    data: T,
}

#[derive(Serialize)]
struct Disbursement<'a> {
    id: &'a str,
    internal_reference: &'a str,
    provider_reference: &'a str,
    status: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    payment_method: &'static str,
    provider: &'static str,
    phone_number: &'a str,
    amount: u64,
    currency: &'static str,
    net_amount: u64,
    environment: &'static str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    failover_reason: Option<&'static str>,
}

fn disbursement<'a>(p: &'a Payout, d: &'a RohoDetail) -> Success<Disbursement<'a>> {
    Success {
        success: true,
        data: Disbursement {
            id: &d.id,
            internal_reference: &d.internal_reference,
            provider_reference: &d.provider_reference,
            status: p.status_word(),
            kind: "disbursement",
            payment_method: "mobile_money",
            provider: if d.failover { "iotec" } else { "relworx" },
            phone_number: &p.phone,
            amount: p.amount_minor,
            currency: p.currency.code(),
            net_amount: p.amount_minor,
            environment: "live",
            created_at: clock::rohopay(p.created_at),
            failover_reason: d.failover.then_some(FAILOVER_REASON),
        },
    }
}

/// HTTP 200 with the disbursement as it stands now; a replay carries `Idempotent-Replayed`.
pub(crate) fn disbursement_response(p: &Payout, d: &RohoDetail, replayed: bool) -> Response {
    let mut response = Json(disbursement(p, d)).into_response();
    if replayed {
        response.headers_mut().insert(
            HeaderName::from_static(REPLAYED_HEADER),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// The callback body: the same envelope with the terminal status.
pub(crate) fn callback_body(p: &Payout, d: &RohoDetail) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&disbursement(p, d))
}

#[derive(Serialize)]
struct Balance {
    balance_live: u64,
    balance_test: u64,
    currency: &'static str,
}

/// `GET /api/v1/wallet/balance` answer.
pub(crate) fn balance_response(balance_live: u64, currency: &'static str) -> Response {
    Json(Success {
        success: true,
        data: Balance {
            balance_live,
            balance_test: BALANCE_TEST,
            currency,
        },
    })
    .into_response()
}

/// Every way a RohoPay request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RohoError {
    Validation(String),
    MissingIdempotencyKey,
    Unauthorized,
    LiveKeyRequired,
    InsufficientBalance(String),
    InFlight,
    KeyReused,
    RateLimited,
    Internal,
    Unavailable,
}

impl RohoError {
    fn parts(&self) -> (StatusCode, &'static str, &str) {
        match self {
            RohoError::Validation(m) => (StatusCode::BAD_REQUEST, "validation_error", m),
            RohoError::MissingIdempotencyKey => (
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                "The Idempotency-Key header is required for disbursements",
            ),
            RohoError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid API key; send Authorization: Bearer <live_ or test_ key>",
            ),
            RohoError::LiveKeyRequired => (
                StatusCode::FORBIDDEN,
                "live_key_required",
                "Disbursements require a live API key",
            ),
            RohoError::InsufficientBalance(m) => {
                (StatusCode::PAYMENT_REQUIRED, "insufficient_balance", m)
            }
            RohoError::InFlight => (
                StatusCode::CONFLICT,
                "idempotency_in_flight",
                "A request with this Idempotency-Key is still being processed; retry later",
            ),
            RohoError::KeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request body",
            ),
            RohoError::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests; retry after the Retry-After delay",
            ),
            RohoError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error",
            ),
            RohoError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service temporarily unavailable",
            ),
        }
    }
}

#[derive(Serialize)]
struct Failure<'a> {
    success: bool,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'static str,
    message: &'a str,
}

impl IntoResponse for RohoError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let body = Failure {
            success: false,
            error: ErrorBody { code, message },
        };
        let mut response = (status, Json(body)).into_response();
        if self == RohoError::RateLimited {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
