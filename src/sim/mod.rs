//! Provider simulator (README, section "Simulator"): a real HTTP server that serves the RohoPay and Rumbapay
//! APIs exactly as their seed documents show them, with reproducible faults, live balances,
//! settlement with signed callbacks, and a ledger of executed payouts (`GET /_sim/ledger`).
//!
//! `payrun sim` runs it as a command; `run --sandbox` and the tests start it in-process with
//! [`spawn`]. It is written from the seed documents alone and shares no wire types or helpers
//! with payrun's provider clients, so a client bug and a simulator bug cannot agree and hide.
//!
//! Layout: `config` (what to simulate) · `server` (accept loop, dropped connections) ·
//! `rohopay` / `rumbapay` (the two APIs) · `state` + `payout` (memory) · `faults`, `settle`,
//! `callback`, `ledger`, `lies` (answers that contradict the truth, for tests), and small pure
//! helpers (`money`, `ids`, `clock`, `auth`).

mod auth;
mod callback;
mod clock;
mod config;
mod detail;
mod faults;
mod handle;
mod ids;
mod ledger;
mod lies;
mod money;
mod payout;
mod rohopay;
mod rumbapay;
mod server;
mod settle;
mod state;
mod wallet;

use std::{future::Future, io, sync::Arc};

use axum::{
    Json, Router,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, put},
};
use tokio::{net::TcpListener, sync::mpsc, task::JoinHandle};

pub use config::{DEFAULT_BALANCE_MINOR, SimConfig};
pub use handle::{SimHandle, spawn};
pub use lies::LieMode;

use state::SimState;

/// Serve both APIs on `listener` until `shutdown` completes; then stop accepting, let open
/// requests finish (at most 5 s) and return. Fails only on an invalid `config`.
pub async fn run(
    listener: TcpListener,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    config
        .check()
        .map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    let (settle_tx, settle_rx) = mpsc::unbounded_channel();
    let sim = Arc::new(SimState::new(config, settle_tx));
    let _settler = AbortOnDrop(tokio::spawn(settle::settler(Arc::clone(&sim), settle_rx)));
    server::serve(listener, router(sim), shutdown).await;
    Ok(())
}

fn router(sim: Arc<SimState>) -> Router {
    Router::new()
        .merge(rohopay::routes())
        .merge(rumbapay::routes())
        .route("/_sim/ledger", get(ledger::ledger))
        .route("/_sim/wallet", put(wallet::set_wallet))
        .fallback(not_found)
        .with_state(sim)
}

async fn not_found() -> Response {
    let body = serde_json::json!({ "error": "no such endpoint in the payrun simulator" });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Stops the settlement task (and its pending callbacks) when the server stops.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
