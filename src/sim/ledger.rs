//! `GET /_sim/ledger`: every executed payout of both providers in execution order, with how
//! many requests carried its key. Tests prove exactly-once payment with it: one entry per key,
//! and `requests` shows the retries that did not pay again.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::{clock, state::SimState};

/// One ledger line, as served.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    provider: &'static str,
    key: &'a str,
    id: String,
    phone: &'a str,
    amount_minor: u64,
    currency: &'static str,
    status: &'static str,
    requests: u32,
    created_at: String,
}

pub(crate) async fn ledger(State(sim): State<Arc<SimState>>) -> Response {
    let core = sim.lock();
    let entries: Vec<Entry<'_>> = core
        .payouts
        .iter()
        .map(|p| Entry {
            provider: p.provider.name(),
            key: &p.key,
            id: p.provider_id(),
            phone: &p.phone,
            amount_minor: p.amount_minor,
            currency: p.currency.code(),
            status: p.status_word(),
            requests: core.requests(p.provider, &p.key),
            created_at: clock::rfc3339(p.created_at),
        })
        .collect();
    Json(entries).into_response()
}
