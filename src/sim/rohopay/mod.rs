//! The simulated RohoPay API (seed `rohopay-disburse.txt`): `POST /api/v1/disburse` with
//! bearer auth and `Idempotency-Key`, and `GET /api/v1/wallet/balance`.
//!
//! Per request: count the key → rate limit → error fault → auth → idempotency (in flight 409,
//! different body 422, same body replay) → validation → balance → execute → drop/slow fault.

mod validate;
pub(crate) mod wire;

use std::{sync::Arc, time::Instant};

use axum::{
    Extension, Router,
    body::Bytes,
    extract::{Query, State, rejection::QueryRejection},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use wire::RohoError;

use super::{
    SimConfig,
    auth::{KeyMode, key_mode},
    clock,
    detail::RohoDetail,
    faults::{AfterExec, Dice, Fault, server_fault_is_unavailable},
    lies::{self, LieMode, Moment},
    payout::{Detail, Payout, Provider, Status, planned_outcome},
    server::{ConnKill, Handled, finish},
    state::{Core, SimState},
};

const PROVIDER: Provider = Provider::Rohopay;
/// Longest accepted `Idempotency-Key` (assumed; the seed shows a UUID).
const MAX_KEY_LEN: usize = 255;

pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/api/v1/disburse", post(disburse))
        .route("/api/v1/wallet/balance", get(balance))
}

async fn disburse(
    State(sim): State<Arc<SimState>>,
    Extension(kill): Extension<ConnKill>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let dice = sim.roll(PROVIDER, key.unwrap_or(""));
    if sim.payout_refused() {
        return sim.with_retry_after(RohoError::RateLimited.into_response());
    }
    if dice.hits(Fault::Error, sim.config.error_rate) {
        return if server_fault_is_unavailable(&dice) {
            RohoError::Unavailable
        } else {
            RohoError::Internal
        }
        .into_response();
    }
    match key_mode(&headers) {
        None => return RohoError::Unauthorized.into_response(),
        Some(KeyMode::Test) => return RohoError::LiveKeyRequired.into_response(),
        Some(KeyMode::Live) => {}
    }
    let Some(key) = key else {
        return RohoError::MissingIdempotencyKey.into_response();
    };
    if key.len() > MAX_KEY_LEN {
        return RohoError::Validation(format!(
            "Idempotency-Key must be at most {MAX_KEY_LEN} characters"
        ))
        .into_response();
    }
    let request = validate::disbursement(&body);
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let after = AfterExec::decide(&dice, &sim.config);
    let (handled, moment) = {
        let mut core = sim.lock();
        match core.executed(PROVIDER, key) {
            Some(first) => (Handled::Answered(replay(first, digest)), Moment::Replay),
            None => match request
                .map_err(RohoError::Validation)
                .and_then(|request| execute(&mut core, &sim.config, &dice, request, digest, after))
            {
                Ok((idx, response)) => (Handled::Executed(idx, response), Moment::Executed),
                Err(err) => return err.into_response(),
            },
        }
    };
    let config = &sim.config;
    let lie = lies::choose(&dice, config.lie_rate, &config.lie_modes, moment, false);
    let handled = match (handled, lie) {
        (Handled::Answered(_), Some(LieMode::Replay4xx)) => Handled::Answered(
            RohoError::Validation("phone is not a valid mobile money account".into())
                .into_response(),
        ),
        (Handled::Answered(r), lie) => Handled::Answered(lies::tell(lie, r).await),
        (Handled::Executed(idx, r), lie) => Handled::Executed(idx, lies::tell(lie, r).await),
    };
    finish(&sim, handled, after, &kill).await
}

/// Answer a request whose key already executed a payout.
fn replay(p: &Payout, digest: [u8; 32]) -> Response {
    let Detail::Rohopay(d) = &p.detail else {
        return RohoError::Internal.into_response();
    };
    if p.in_flight(Instant::now()) {
        RohoError::InFlight.into_response()
    } else if d.body_digest != digest {
        RohoError::KeyReused.into_response()
    } else {
        wire::disbursement_response(p, d, true)
    }
}

/// Draw the balance down and record the payout; returns its index and the answer.
fn execute(
    core: &mut Core,
    config: &SimConfig,
    dice: &Dice<'_>,
    request: validate::Disbursement,
    body_digest: [u8; 32],
    after: AfterExec,
) -> Result<(usize, Response), RohoError> {
    let cur = request.currency;
    if let Err(available) = core.debit(PROVIDER, cur, request.amount) {
        return Err(RohoError::InsufficientBalance(format!(
            "Insufficient live balance: {available} {cur} available, {} {cur} requested \
             (smallest currency unit)",
            request.amount
        )));
    }
    let now = clock::now();
    let seq = core.ids.next_seq();
    let detail = RohoDetail {
        id: core.ids.ulid(clock::unix_ms(now)).into(),
        internal_reference: core.ids.internal_reference(now.year(), seq).into(),
        provider_reference: core.ids.provider_reference(seq).into(),
        failover: dice.hits(Fault::Failover, config.failover_rate),
        body_digest,
    };
    let outcome = planned_outcome(&request.phone, || dice.hits(Fault::Fail, config.fail_rate));
    let payout = Payout {
        provider: PROVIDER,
        key: core.key_arc(PROVIDER, dice.key),
        phone: request.phone.into(),
        amount_minor: request.amount,
        currency: cur,
        status: Status::Pending,
        outcome,
        created_at: now,
        status_at: now,
        in_flight_until: (after.delay() > std::time::Duration::ZERO)
            .then(|| Instant::now() + after.delay()),
        callback_url: request.callback_url.map(Into::into),
        detail: Detail::Rohopay(detail),
    };
    let idx = core.record(payout);
    let response = match core.payouts.get(idx) {
        Some(
            p @ Payout {
                detail: Detail::Rohopay(d),
                ..
            },
        ) => wire::disbursement_response(p, d, false),
        _ => RohoError::Internal.into_response(),
    };
    Ok((idx, response))
}

#[derive(Debug, Deserialize)]
struct BalanceQuery {
    currency: Option<String>,
}

async fn balance(
    State(sim): State<Arc<SimState>>,
    headers: HeaderMap,
    query: Result<Query<BalanceQuery>, QueryRejection>,
) -> Response {
    if sim.rate.exceeded() {
        return sim.with_retry_after(RohoError::RateLimited.into_response());
    }
    if key_mode(&headers).is_none() {
        return RohoError::Unauthorized.into_response();
    }
    let Ok(Query(query)) = query else {
        return RohoError::Validation("the query string is malformed".to_owned()).into_response();
    };
    let code = query.currency.as_deref().unwrap_or("UGX");
    let Some(cur) = validate::currency(code) else {
        return RohoError::Validation("currency must be one of UGX, KES, TZS, RWF".to_owned())
            .into_response();
    };
    let balance = sim.lock().balance(PROVIDER, cur);
    wire::balance_response(balance, cur.code())
}
