//! Starting the simulator in-process on port 0, a plain HTTP client for it, the seed
//! documents' own example requests, and a tiny callback receiver on port 0.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
pub use payrun::sim::{SimConfig, SimHandle};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub const LIVE_KEY: &str = "live_YOUR_KEY";
pub const TEST_KEY: &str = "test_YOUR_KEY";

/// The body of the seed's RohoPay curl example, byte for byte (`samples/seed/`, shared with
/// the simulator's unit tests).
pub const ROHOPAY_SEED_BODY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/seed/rohopay-disburse.json"
));

/// Start a simulator on 127.0.0.1:0.
pub async fn spawn_sim(config: SimConfig) -> SimHandle {
    payrun::sim::spawn(config).await.expect("simulator starts")
}

/// A client that never retries on its own, so every request the test sends is one request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .retry(reqwest::retry::never())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A fresh idempotency key / reference.
pub fn unique_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A RohoPay body like the seed's, with another phone/amount and no callback.
pub fn rohopay_body(phone: &str, amount: u64) -> String {
    json!({"phone": phone, "amount": amount, "currency": "UGX", "description": "test"}).to_string()
}

/// POST /api/v1/disburse with a live key.
pub async fn disburse(sim: &SimHandle, key: &str, body: &str) -> reqwest::Response {
    disburse_with(sim, Some(LIVE_KEY), Some(key), body)
        .await
        .unwrap()
}

/// POST /api/v1/disburse with any auth and key headers; transport errors are returned.
pub async fn disburse_with(
    sim: &SimHandle,
    api_key: Option<&str>,
    idempotency_key: Option<&str>,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    let mut request = client()
        .post(format!("{}/api/v1/disburse", sim.rohopay_base_url()))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(api_key) = api_key {
        request = request.bearer_auth(api_key);
    }
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await
}

/// The seed's Rumbapay example request, its `// required` comments removed
/// (`samples/seed/rumbapay-payout.json`, which the simulator's unit tests read too).
pub fn rumbapay_seed_body() -> Value {
    serde_json::from_str(RUMBAPAY_SEED_BODY).expect("samples/seed/rumbapay-payout.json is JSON")
}

const RUMBAPAY_SEED_BODY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/seed/rumbapay-payout.json"
));

/// The seed's Rumbapay body with another reference and phone, and no callback.
pub fn rumbapay_body(reference: &str, phone: &str) -> Value {
    let mut body = rumbapay_seed_body();
    body["reference"] = json!(reference);
    body["mobile_money"]["phone"] = json!(phone);
    body.as_object_mut().unwrap().remove("callback_url");
    body
}

/// POST /v1/payout with a live key.
pub async fn payout(sim: &SimHandle, body: &Value) -> reqwest::Response {
    payout_raw(sim, Some(LIVE_KEY), body.to_string())
        .await
        .unwrap()
}

/// POST /v1/payout with any auth and raw body.
pub async fn payout_raw(
    sim: &SimHandle,
    api_key: Option<&str>,
    body: String,
) -> reqwest::Result<reqwest::Response> {
    let mut request = client()
        .post(format!("{}/payout", sim.rumbapay_base_url()))
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(api_key) = api_key {
        request = request.bearer_auth(api_key);
    }
    request.send().await
}

/// GET /v1/transaction/{request_id}.
pub async fn transaction(sim: &SimHandle, request_id: &str) -> reqwest::Response {
    client()
        .get(format!(
            "{}/transaction/{request_id}",
            sim.rumbapay_base_url()
        ))
        .bearer_auth(LIVE_KEY)
        .send()
        .await
        .unwrap()
}

/// GET /api/v1/wallet/balance[?currency=...] → balance_live.
pub async fn balance(sim: &SimHandle, currency: &str) -> u64 {
    let body: Value = client()
        .get(format!(
            "{}/api/v1/wallet/balance?currency={currency}",
            sim.rohopay_base_url()
        ))
        .bearer_auth(LIVE_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["balance_live"].as_u64().unwrap()
}

/// GET /_sim/ledger.
pub async fn ledger(sim: &SimHandle) -> Vec<Value> {
    client()
        .get(sim.ledger_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// PUT /_sim/wallet: set `provider`'s live balance of `currency`; returns the old balance.
pub async fn set_wallet(sim: &SimHandle, provider: &str, currency: &str, minor: u64) -> u64 {
    let answer: Value = client()
        .put(format!("http://{}/_sim/wallet", sim.addr()))
        .json(&serde_json::json!({
            "provider": provider, "currency": currency, "balance_minor": minor
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["balance_minor_before"].as_u64().unwrap()
}

/// Poll the ledger until `key`'s entry has `status` (settlement runs on its own task).
pub async fn wait_for_status(sim: &SimHandle, key: &str, status: &str) -> Value {
    super::wait::until(
        &format!("{key} to reach {status} in the ledger"),
        || async {
            let entry = ledger(sim).await.into_iter().find(|e| e["key"] == key);
            entry.filter(|e| e["status"] == status)
        },
    )
    .await
}

/// One callback as received.
#[derive(Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A callback receiver on 127.0.0.1:0 that answers 500 to its first `fail_first` requests.
pub struct Receiver {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Received>,
    pub hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    tx: mpsc::UnboundedSender<Received>,
    hits: Arc<AtomicUsize>,
    fail_first: usize,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let hits = Arc::new(AtomicUsize::new(0));
        let state = ReceiverState {
            tx,
            hits: hits.clone(),
            fail_first,
        };
        let app = Router::new()
            .route("/cb", axum::routing::post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, rx, hits }
    }

    /// The next callback that was answered 200, waiting up to 10 s.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("a callback arrives")
            .unwrap()
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let hit = state.hits.fetch_add(1, Ordering::SeqCst);
    if hit < state.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let _ = state.tx.send(Received { headers, body });
    StatusCode::OK
}
