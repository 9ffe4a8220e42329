//! Rumbapay's JSON on the wire, field for field as the seed document shows it: the payout
//! object (answer, status query and callback share it) and the `error_code` envelope.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) use crate::sim::detail::ExtraPair;
use crate::sim::{
    clock,
    detail::RumbaDetail,
    payout::{Payout, Status},
};

/// One entry of `error_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Serialize)]
struct StatusView {
    name: &'static str,
    date: String,
}

#[derive(Serialize)]
struct PayoutView<'a> {
    identifier: &'a str,
    request_id: Uuid,
    reference: &'a str,
    description: &'a str,
    status: StatusView,
    created_date: String,
    amount: &'a RawValue,
    billing_amount: &'a RawValue,
    currency: &'static str,
    extra: &'a [ExtraPair],
    timestamp: String,
    error_code: u32,
    error_message: &'static str,
}

fn view<'a>(p: &'a Payout, d: &'a RumbaDetail, now: OffsetDateTime) -> PayoutView<'a> {
    PayoutView {
        identifier: &d.identifier,
        request_id: d.request_id,
        reference: &p.key,
        description: &d.description,
        status: StatusView {
            name: p.status_word(),
            date: clock::rumbapay_date(p.status_at),
        },
        created_date: clock::rumbapay_date(p.created_at),
        amount: &d.amount,
        billing_amount: &d.amount,
        currency: p.currency.code(),
        extra: &d.extra,
        timestamp: clock::rumbapay_timestamp(now),
        error_code: 0,
        error_message: failure_message(p.status),
    }
}

/// Assumed: a failed payout says why in `error_message` (the document shows the field empty
/// on a pending or successful one, and no failed example).
const DECLINED: &str =
    "Payout declined by the mobile network: the recipient wallet cannot receive funds";

fn failure_message(status: Status) -> &'static str {
    match status {
        Status::Failed => DECLINED,
        Status::Pending | Status::Succeeded => "",
    }
}

/// HTTP 200 with the payout as it stands now (payout answer and status query).
pub(crate) fn payout_response(p: &Payout, d: &RumbaDetail) -> Response {
    Json(view(p, d, clock::now())).into_response()
}

/// The callback body: the same object with the terminal status.
pub(crate) fn callback_body(
    p: &Payout,
    d: &RumbaDetail,
    now: OffsetDateTime,
) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&view(p, d, now))
}

/// Every way a Rumbapay request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RumbaError {
    InvalidParams(Vec<FieldError>),
    Unauthorized,
    InsufficientBalance,
    /// The reference was used before; carries the original payout's `request_id`.
    Duplicate(Uuid),
    NotFound,
    RateLimited,
    Internal,
    Unavailable,
}

#[derive(Serialize)]
struct ErrorView<'a> {
    error_code: u32,
    error_reason: &'static str,
    request_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_fields: Option<&'a [FieldError]>,
    timestamp: String,
}

impl IntoResponse for RumbaError {
    fn into_response(self) -> Response {
        let (status, code, reason) = match &self {
            RumbaError::InvalidParams(_) => (StatusCode::BAD_REQUEST, 30, "Invalid params"),
            RumbaError::Unauthorized => (StatusCode::UNAUTHORIZED, 20, "Unauthorized"),
            RumbaError::InsufficientBalance => {
                (StatusCode::PAYMENT_REQUIRED, 60, "Insufficient balance")
            }
            RumbaError::Duplicate(_) => (StatusCode::CONFLICT, 40, "Duplicate reference"),
            RumbaError::NotFound => (StatusCode::NOT_FOUND, 101, "Transaction not found"),
            RumbaError::RateLimited => (StatusCode::TOO_MANY_REQUESTS, 50, "Too many requests"),
            RumbaError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, 1, "Internal error"),
            RumbaError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, 1, "Internal error"),
        };
        let body = ErrorView {
            error_code: code,
            error_reason: reason,
            request_id: match &self {
                RumbaError::Duplicate(original) => *original,
                _ => Uuid::new_v4(),
            },
            error_fields: match &self {
                RumbaError::InvalidParams(fields) => Some(fields),
                _ => None,
            },
            timestamp: clock::rumbapay_timestamp(clock::now()),
        };
        let mut response = (status, Json(body)).into_response();
        if self == RumbaError::RateLimited {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
