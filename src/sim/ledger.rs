//! `GET /_sim/ledger`: every executed payout of both providers in execution order, with how
//! many requests carried its key. Tests prove exactly-once payment with it: one entry per key,
//! and `requests` shows the retries that did not pay again.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::{Serialize, Serializer};

use super::{
    clock,
    state::{Core, SimState},
};

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

/// All payouts, serialised straight from the state without an intermediate list.
struct Ledger<'a>(&'a Core);

impl Serialize for Ledger<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let core = self.0;
        serializer.collect_seq(core.payouts.iter().map(|p| Entry {
            provider: p.provider.name(),
            key: &p.key,
            id: p.provider_id(),
            phone: &p.phone,
            amount_minor: p.amount_minor,
            currency: p.currency.code(),
            status: p.status_word(),
            requests: core.requests(p.provider, &p.key),
            created_at: clock::rfc3339(p.created_at),
        }))
    }
}

pub(crate) async fn ledger(State(sim): State<Arc<SimState>>) -> Response {
    let core = sim.lock();
    Json(Ledger(&core)).into_response()
}
