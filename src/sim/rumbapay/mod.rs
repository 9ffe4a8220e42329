//! The simulated Rumbapay API (seed `rumbapay-payout.txt`): `POST /v1/payout` and
//! `GET /v1/transaction/{request_id}`.
//!
//! Per payout: count the reference → rate limit → error fault → auth → duplicate reference
//! (409, `error_code` 40, even while the first is in flight) → validation (`error_code` 30)
//! → balance (`error_code` 60) → execute → drop/slow fault.

mod rules;
mod validate;
pub(crate) mod wire;

use std::{sync::Arc, time::Instant};

use axum::{
    Extension, Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use uuid::Uuid;

use wire::RumbaError;

use super::{
    SimConfig,
    auth::key_mode,
    clock,
    detail::RumbaDetail,
    faults::{AfterExec, Dice, Fault, server_fault_is_unavailable},
    lies::{self, LieMode, Moment},
    payout::{Detail, Payout, Provider, Status, planned_outcome},
    server::{ConnKill, Handled, finish},
    state::{Core, SimState},
};

const PROVIDER: Provider = Provider::Rumbapay;

pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/v1/payout", post(payout))
        .route("/v1/transaction/{request_id}", get(transaction))
}

async fn payout(
    State(sim): State<Arc<SimState>>,
    Extension(kill): Extension<ConnKill>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = validate::parse(&body);
    let reference = parsed
        .as_ref()
        .ok()
        .and_then(validate::Body::reference)
        .unwrap_or("")
        .to_owned();
    let dice = sim.roll(PROVIDER, &reference);
    if sim.payout_refused() {
        return sim.with_retry_after(RumbaError::RateLimited.into_response());
    }
    if dice.hits(Fault::Error, sim.config.error_rate) {
        return if server_fault_is_unavailable(&dice) {
            RumbaError::Unavailable
        } else {
            RumbaError::Internal
        }
        .into_response();
    }
    if key_mode(&headers).is_none() {
        return RumbaError::Unauthorized.into_response();
    }
    let after = AfterExec::decide(&dice, &sim.config);
    let config = &sim.config;
    let lie_now = lies::choose(
        &dice,
        config.lie_rate,
        &config.lie_modes,
        Moment::Executed,
        true,
    );
    let lie_replay = lies::choose(
        &dice,
        config.lie_rate,
        &config.lie_modes,
        Moment::Replay,
        true,
    );
    let (handled, lie) = {
        let mut core = sim.lock();
        let outcome = match core.executed(PROVIDER, &reference) {
            Some(Payout {
                detail: Detail::Rumbapay(_),
                ..
            }) if lie_replay == Some(LieMode::Replay4xx) => {
                Err(RumbaError::InvalidParams(vec![wire::FieldError::new(
                    "mobile_money.phone",
                    "phone is not a valid mobile money account",
                )]))
            }
            Some(Payout {
                detail: Detail::Rumbapay(first),
                ..
            }) => Err(RumbaError::Duplicate(first.request_id)),
            // A lie: "duplicate" for a reference never sent, naming someone else's payout.
            _ if lie_now == Some(LieMode::DupRef) && !reference.is_empty() => Err(
                RumbaError::Duplicate(core.last_rumbapay_request_id().unwrap_or_else(Uuid::new_v4)),
            ),
            _ => parsed
                .and_then(validate::check)
                .map_err(RumbaError::InvalidParams)
                .and_then(|checked| execute(&mut core, &sim.config, &dice, checked, after)),
        };
        match outcome {
            Ok((idx, response)) => (Handled::Executed(idx, response), lie_now),
            Err(err) => (Handled::Answered(err.into_response()), None),
        }
    };
    let handled = match handled {
        Handled::Executed(idx, r) => Handled::Executed(idx, lies::tell(lie, r).await),
        answered => answered,
    };
    finish(&sim, handled, after, &kill).await
}

/// Draw the balance down and record the payout; returns its index and the answer.
fn execute(
    core: &mut Core,
    config: &SimConfig,
    dice: &Dice<'_>,
    checked: validate::Payout,
    after: AfterExec,
) -> Result<(usize, Response), RumbaError> {
    core.debit(PROVIDER, checked.currency, checked.amount_minor)
        .map_err(|_| RumbaError::InsufficientBalance)?;
    let now = clock::now();
    let seq = core.ids.next_seq();
    let detail = RumbaDetail {
        identifier: core.ids.mob_identifier(seq).into(),
        request_id: core.ids.uuid(),
        description: checked.description.into(),
        amount: checked.amount,
        extra: checked.extra,
    };
    let outcome = planned_outcome(&checked.phone, || dice.hits(Fault::Fail, config.fail_rate));
    let payout = Payout {
        provider: PROVIDER,
        key: core.key_arc(PROVIDER, &checked.reference),
        phone: checked.phone.into(),
        amount_minor: checked.amount_minor,
        currency: checked.currency,
        status: Status::Pending,
        outcome,
        created_at: now,
        status_at: now,
        in_flight_until: (after.delay() > std::time::Duration::ZERO)
            .then(|| Instant::now() + after.delay()),
        callback_url: checked.callback_url.map(Into::into),
        detail: Detail::Rumbapay(detail),
    };
    let idx = core.record(payout);
    Ok((idx, answer(core.payouts.get(idx))))
}

/// The payout object as it stands now, or an internal error if it is somehow not Rumbapay's.
fn answer(payout: Option<&Payout>) -> Response {
    match payout {
        Some(
            p @ Payout {
                detail: Detail::Rumbapay(d),
                ..
            },
        ) => wire::payout_response(p, d),
        _ => RumbaError::Internal.into_response(),
    }
}

async fn transaction(
    State(sim): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Response {
    if sim.rate.exceeded() {
        return sim.with_retry_after(RumbaError::RateLimited.into_response());
    }
    if key_mode(&headers).is_none() {
        return RumbaError::Unauthorized.into_response();
    }
    let Ok(request_id) = Uuid::parse_str(&request_id) else {
        return RumbaError::NotFound.into_response();
    };
    let response = match sim.lock().rumbapay_payout(&request_id) {
        Some(payout) => answer(Some(payout)),
        None => return RumbaError::NotFound.into_response(),
    };
    let id = request_id.to_string();
    let dice = Dice {
        seed: sim.config.seed,
        provider: PROVIDER,
        key: &id,
        attempt: 0,
    };
    let config = &sim.config;
    let lie = lies::choose(
        &dice,
        config.lie_rate,
        &config.lie_modes,
        Moment::Lookup,
        true,
    );
    lies::tell(lie, response).await
}
