//! `PUT /_sim/wallet`: set one provider's live balance of one currency, a testing aid like the
//! ledger. Tests use it to empty a wallet in the middle of a run (as another payout from the
//! same wallet would) and to fill it again before resuming.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{money::Cur, payout::Provider, state::SimState};

/// The request body: `{"provider": "rohopay", "currency": "UGX", "balance_minor": 0}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetWallet {
    provider: String,
    currency: String,
    balance_minor: u64,
}

/// Set the balance; answers the balance it had before.
pub(crate) async fn set_wallet(
    State(sim): State<Arc<SimState>>,
    Json(req): Json<SetWallet>,
) -> Response {
    let provider = match req.provider.as_str() {
        "rohopay" => Provider::Rohopay,
        "rumbapay" => Provider::Rumbapay,
        other => return refused(format!("no provider {other:?} (rohopay or rumbapay)")),
    };
    let Some(cur) = Cur::from_code(&req.currency) else {
        return refused(format!("no wallet currency {:?}", req.currency));
    };
    let before = sim.lock().set_balance(provider, cur, req.balance_minor);
    Json(json!({ "balance_minor_before": before })).into_response()
}

fn refused(error: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": error })),
    )
        .into_response()
}
