//! One provider's webhook endpoint, step by step: secret configured (else 503), signature
//! header present and hex (else 401, body dropped unread), body within the limit (else 413,
//! the rest dropped unread; see [`super::body`]) and its deadline (else 408 and the connection
//! is closed), signature valid (else 401), body readable (else 400), then the journal decides
//! ([`apply`]) and the answer is 200 once that decision is durable (500 if it
//! could not be written, so the provider retries). Every delivery gets one log line.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{
        HeaderValue, StatusCode,
        header::{CONNECTION, RETRY_AFTER},
    },
    response::{IntoResponse, Response},
};
use secrecy::SecretString;

use crate::domain::ProviderKind;
use crate::journal::JournalActor;
use crate::provider::{Callback, CallbackError, rohopay, rumbapay};

use super::apply;
use super::body::{self, ReadError};
use super::report::{LogSink, refused_line, verdict_line};
use super::signature;
use super::verdict::Verdict;

/// Seconds a provider is asked to wait before retrying a callback that outran its answer.
const RETRY_AFTER_SECS: &str = "2";

/// Everything one provider's endpoint needs.
pub struct Endpoint {
    pub provider: ProviderKind,
    pub secret: Option<SecretString>,
    pub journal: JournalActor,
    pub log: LogSink,
    /// Longest a delivery's body may take to arrive once its head did.
    pub body_timeout: Duration,
}

impl Endpoint {
    fn refuse(&self, peer: Option<SocketAddr>, status: StatusCode, reason: &str) -> Response {
        self.log
            .line(&refused_line(self.provider, peer, status.as_u16(), reason));
        (status, format!("{reason}\n")).into_response()
    }

    fn parse(&self, body: &[u8]) -> Result<Callback, CallbackError> {
        match self.provider {
            ProviderKind::Rohopay => rohopay::parse_callback(body),
            ProviderKind::Rumbapay => rumbapay::parse_callback(body),
        }
    }
}

/// `POST /webhooks/{provider}`.
pub async fn receive(State(ep): State<Arc<Endpoint>>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (parts, request_body) = request.into_parts();
    let Some(secret) = &ep.secret else {
        body::discard(request_body).await;
        let var = super::secrets::env_var(ep.provider);
        return ep.refuse(
            peer,
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("webhook secret not configured (set {var} and restart payrun listen)"),
        );
    };
    let tag = match signature::tag(&parts.headers) {
        Ok(tag) => tag,
        Err(e) => {
            body::discard(request_body).await;
            return ep.refuse(peer, StatusCode::UNAUTHORIZED, &e.to_string());
        }
    };
    let reading = body::read_limited(&parts.headers, request_body, super::BODY_LIMIT);
    let Ok(read) = tokio::time::timeout(ep.body_timeout, reading).await else {
        let reason = format!(
            "body not received within {} ms; connection closed",
            ep.body_timeout.as_millis()
        );
        let mut response = ep.refuse(peer, StatusCode::REQUEST_TIMEOUT, &reason);
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return response;
    };
    let body = match read {
        Ok(body) => body,
        Err(ReadError::TooLarge) => {
            let reason = format!("body larger than {} bytes", super::BODY_LIMIT);
            return ep.refuse(peer, StatusCode::PAYLOAD_TOO_LARGE, &reason);
        }
        Err(ReadError::Broken(e)) => {
            let reason = format!("could not read the body: {e}");
            return ep.refuse(peer, StatusCode::BAD_REQUEST, &reason);
        }
    };
    if let Err(e) = signature::verify(secret, &body, &tag) {
        return ep.refuse(peer, StatusCode::UNAUTHORIZED, &e.to_string());
    }
    let callback = match ep.parse(&body) {
        Ok(callback) => callback,
        Err(e) => return ep.refuse(peer, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let digest = signature::digest(&body);
    let provider = ep.provider;
    let cb = callback.clone();
    let decided = ep
        .journal
        .write(move |conn| apply::apply(conn, provider, &digest, &cb))
        .await;
    match decided {
        Ok(verdict) => {
            ep.log.line(&verdict_line(provider, &callback, &verdict));
            answer(&verdict)
        }
        Err(e) => {
            ep.log.line(&format!(
                "{provider} webhook: journal write failed: {e}; answered 500 so the provider retries"
            ));
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "journal write failed; retry later\n",
            )
                .into_response()
        }
    }
}

/// The HTTP answer for a decision: 200 for everything the provider should stop retrying.
fn answer(verdict: &Verdict) -> Response {
    if *verdict == Verdict::NotYetJournaled {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            "payout not journaled yet; retry shortly\n",
        )
            .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        return response;
    }
    (StatusCode::OK, format!("{}\n", verdict.outcome())).into_response()
}

/// `GET /health`.
pub async fn health() -> &'static str {
    "ok"
}
