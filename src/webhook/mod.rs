//! The webhook receiver behind `payrun listen` (README "Webhooks: `payrun listen`").
//!
//! RohoPay and Rumbapay call back when a payout becomes terminal. Each provider has one
//! endpoint, `POST /webhooks/rohopay` and `POST /webhooks/rumbapay`; `GET /health` answers
//! `ok`. A delivery is trusted only with a valid `X-Signature: hex(HMAC-SHA256(secret, raw
//! body))`; it then moves its journal row forward only (a late `pending` never overwrites
//! `succeeded`), is deduplicated by the SHA-256 of its body, and is answered once the
//! journal has it on disk. Nothing a sender does — bad signature, huge or malformed body,
//! unknown payout — stops the server.
//!
//! Slow or many clients cannot take it down either: a request's head and body each have a
//! deadline, and open connections are capped below the file-descriptor limit, the oldest
//! connection without a request in progress making room for a new one (`limits`, `server`).
//!
//! Layout: `secrets` (the signing keys) · `signature` (HMAC and digest) · `body` (size limit,
//! refusing without a reset) · `handler` (one endpoint's steps and HTTP answers) · `apply` (the
//! journal transaction) · `verdict` (what it did) · `report` (the operator's log lines) ·
//! `limits` (timeouts and the connection cap) · `server` (the accept loop that applies them).

mod apply;
mod body;
mod handler;
pub mod limits;
mod report;
mod secrets;
mod server;
mod signature;
mod verdict;

use std::{future::Future, io, sync::Arc, time::Duration};

use axum::{
    Router,
    routing::{get, post},
};
use tokio::net::TcpListener;

use crate::domain::ProviderKind;
use crate::journal::JournalActor;

pub use limits::Limits;
pub use report::{LogSink, mask_phone};
pub use secrets::{Secrets, SecretsError, env_var};
pub use signature::SIGNATURE_HEADER;

/// Largest webhook body accepted; a larger one is answered 413 without being buffered (it is
/// read and dropped first, up to 16 MiB, so the sender sees the 413; see `body`).
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long open deliveries may take to finish once shutdown is asked for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The path of `provider`'s endpoint.
pub fn path(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Rohopay => "/webhooks/rohopay",
        ProviderKind::Rumbapay => "/webhooks/rumbapay",
    }
}

/// Serve both webhook endpoints on `listener` within `limits` until `shutdown` completes,
/// logging one line per delivery to stderr; then let open deliveries finish (at most
/// [`DRAIN_TIMEOUT`]) and return.
pub async fn run(
    listener: TcpListener,
    journal: JournalActor,
    secrets: Secrets,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_within(
        listener,
        journal,
        secrets,
        LogSink::stderr(),
        limits,
        shutdown,
    )
    .await
}

/// [`run`] with the default limits and the delivery lines sent to `log`.
pub async fn serve(
    listener: TcpListener,
    journal: JournalActor,
    secrets: Secrets,
    log: LogSink,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_within(listener, journal, secrets, log, Limits::default(), shutdown).await
}

/// [`run`] with the delivery lines sent to `log`.
pub async fn serve_within(
    listener: TcpListener,
    journal: JournalActor,
    secrets: Secrets,
    log: LogSink,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router_within(journal, &secrets, log.clone(), limits.body_timeout);
    server::serve(listener, app, limits, log, DRAIN_TIMEOUT, shutdown).await;
    Ok(())
}

/// The routes, for callers that serve them themselves.
pub fn router(journal: JournalActor, secrets: &Secrets, log: LogSink) -> Router {
    router_within(journal, secrets, log, limits::BODY_TIMEOUT)
}

/// The routes, each delivery's body read within `body_timeout`.
fn router_within(
    journal: JournalActor,
    secrets: &Secrets,
    log: LogSink,
    body_timeout: Duration,
) -> Router {
    let endpoint = |provider| {
        Arc::new(handler::Endpoint {
            provider,
            secret: secrets.get(provider).cloned(),
            journal: journal.clone(),
            log: log.clone(),
            body_timeout,
        })
    };
    Router::new()
        .route(
            path(ProviderKind::Rohopay),
            post(handler::receive).with_state(endpoint(ProviderKind::Rohopay)),
        )
        .route(
            path(ProviderKind::Rumbapay),
            post(handler::receive).with_state(endpoint(ProviderKind::Rumbapay)),
        )
        .route("/health", get(handler::health))
}
