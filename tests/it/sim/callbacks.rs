//! Terminal-status callbacks: POSTed to `callback_url`, signed
//! `X-Signature: hex(HMAC-SHA256(secret, raw body))`, retried while the receiver fails.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{keys, sorted};
use crate::support::sim::*;

const SECRET: &str = "whsec_test_secret";

/// Check the signature the way a receiver would, independently of the simulator's code.
fn signature_ok(received: &Received, secret: &str) -> bool {
    let signature = received.headers["x-signature"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&received.body);
    mac.verify_slice(&hex::decode(signature).unwrap()).is_ok()
}

fn verify(received: &Received, secret: &str) {
    assert!(signature_ok(received, secret), "signature does not verify");
}

fn signed_config() -> SimConfig {
    SimConfig {
        webhook_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn rohopay_callback_is_the_terminal_envelope_signed_with_the_secret() {
    let sim = spawn_sim(signed_config()).await;
    let mut receiver = Receiver::start(0).await;
    let body = json!({"phone": "256700123456", "amount": 25000, "currency": "UGX",
                      "description": "x", "callback_url": receiver.url});
    let answer: Value = disburse(&sim, &unique_key(), &body.to_string())
        .await
        .json()
        .await
        .unwrap();
    let received = receiver.next().await;
    verify(&received, SECRET);
    assert_eq!(received.headers["content-type"], "application/json");
    let callback: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(callback["success"], true);
    assert_eq!(callback["data"]["status"], "successful");
    assert_eq!(callback["data"]["id"], answer["data"]["id"]);
    assert_eq!(keys(&callback["data"]), keys(&answer["data"]));
}

#[tokio::test]
async fn a_wrong_secret_does_not_verify() {
    let sim = spawn_sim(signed_config()).await;
    let mut receiver = Receiver::start(0).await;
    let mut body = rumbapay_body(&unique_key(), "+254712970000");
    body["callback_url"] = json!(receiver.url);
    payout(&sim, &body).await;
    let received = receiver.next().await;
    assert!(!signature_ok(&received, "another secret"));
    verify(&received, SECRET);
    let callback: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(callback["status"]["name"], "failed");
}

#[tokio::test]
async fn rumbapay_callback_has_the_seed_callback_shape() {
    let sim = spawn_sim(signed_config()).await;
    let mut receiver = Receiver::start(0).await;
    let mut body = rumbapay_seed_body();
    body["callback_url"] = json!(receiver.url);
    let answer: Value = payout(&sim, &body).await.json().await.unwrap();
    let received = receiver.next().await;
    verify(&received, SECRET);
    let callback: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(
        keys(&callback),
        sorted(&[
            "identifier",
            "request_id",
            "reference",
            "description",
            "status",
            "created_date",
            "amount",
            "billing_amount",
            "currency",
            "extra",
            "timestamp",
            "error_code",
            "error_message",
        ])
    );
    assert_eq!(callback["status"]["name"], "success");
    for field in [
        "identifier",
        "request_id",
        "reference",
        "amount",
        "extra",
        "created_date",
    ] {
        assert_eq!(callback[field], answer[field], "{field}");
    }
    assert_eq!(callback["error_code"], 0);
}

#[tokio::test]
async fn callbacks_are_unsigned_without_a_secret_and_retried_until_acknowledged() {
    let sim = spawn_sim(SimConfig::default()).await;
    let mut receiver = Receiver::start(2).await;
    let body = json!({"phone": "256700123456", "amount": 25000, "currency": "UGX",
                      "callback_url": receiver.url});
    disburse(&sim, &unique_key(), &body.to_string()).await;
    let received = receiver.next().await;
    assert!(received.headers.get("x-signature").is_none());
    assert_eq!(receiver.hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_payout_that_stays_pending_sends_no_callback() {
    let sim = spawn_sim(signed_config()).await;
    let mut receiver = Receiver::start(0).await;
    for phone in ["256700120099", "256700123456"] {
        let body = json!({"phone": phone, "amount": 25000, "currency": "UGX",
                          "callback_url": receiver.url});
        disburse(&sim, &unique_key(), &body.to_string()).await;
    }
    let received = receiver.next().await;
    let callback: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(callback["data"]["phone_number"], "256700123456");
    // No clock: a payout made after the pending one settles and calls back, and the next
    // callback to arrive is that one, while the ledger still has the first payout pending.
    let body = json!({"phone": "256700123457", "amount": 25000, "currency": "UGX",
                      "callback_url": receiver.url});
    disburse(&sim, &unique_key(), &body.to_string()).await;
    let received = receiver.next().await;
    let callback: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(
        callback["data"]["phone_number"], "256700123457",
        "the pending payout called back"
    );
    let pending: Vec<Value> = ledger(&sim)
        .await
        .into_iter()
        .filter(|e| e["phone"].as_str().is_some_and(|p| p.ends_with("0099")))
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["status"], "pending", "{pending:?}");
    assert_eq!(receiver.hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}
