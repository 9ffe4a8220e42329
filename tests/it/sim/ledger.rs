//! `GET /_sim/ledger`: one entry per executed payout, in execution order across both
//! providers, with how many requests carried its key — the exactly-once evidence.

use serde_json::Value;

use super::{is_rfc3339_utc, keys, sorted};
use crate::support::sim::*;

const ENTRY_FIELDS: [&str; 9] = [
    "provider",
    "key",
    "id",
    "phone",
    "amount_minor",
    "currency",
    "status",
    "requests",
    "created_at",
];

#[tokio::test]
async fn each_payout_appears_once_with_every_request_that_carried_its_key() {
    let sim = spawn_sim(SimConfig::default()).await;
    let key = unique_key();
    let unauthorised = disburse_with(&sim, None, Some(&key), ROHOPAY_SEED_BODY).await;
    assert_eq!(unauthorised.unwrap().status(), 401);
    let paid: Value = disburse(&sim, &key, ROHOPAY_SEED_BODY)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(disburse(&sim, &key, ROHOPAY_SEED_BODY).await.status(), 200);
    let other_body = rohopay_body("256700123456", 1000);
    assert_eq!(disburse(&sim, &key, &other_body).await.status(), 422);

    let reference = unique_key();
    let mut invalid = rumbapay_body(&reference, "+254712973246");
    invalid.as_object_mut().unwrap().remove("customer");
    assert_eq!(payout(&sim, &invalid).await.status(), 400);
    let body = rumbapay_body(&reference, "+254712973246");
    let created: Value = payout(&sim, &body).await.json().await.unwrap();
    assert_eq!(payout(&sim, &body).await.status(), 409);

    let ledger = ledger(&sim).await;
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    for entry in &ledger {
        assert_eq!(keys(entry), sorted(&ENTRY_FIELDS));
        assert!(
            is_rfc3339_utc(entry["created_at"].as_str().unwrap()),
            "{entry}"
        );
        assert!(["pending", "successful", "success"].contains(&entry["status"].as_str().unwrap()));
    }
    let (roho, rumba) = (&ledger[0], &ledger[1]);
    assert_eq!(roho["provider"], "rohopay");
    assert_eq!(roho["key"], key.as_str());
    assert_eq!(roho["id"], paid["data"]["id"]);
    assert_eq!(roho["phone"], "256700123456");
    assert_eq!(roho["amount_minor"], 25000);
    assert_eq!(roho["currency"], "UGX");
    assert_eq!(roho["requests"], 4);
    assert_eq!(rumba["provider"], "rumbapay");
    assert_eq!(rumba["key"], reference.as_str());
    assert_eq!(rumba["id"], created["request_id"]);
    assert_eq!(rumba["phone"], "+254712973246");
    assert_eq!(rumba["amount_minor"], 250_000);
    assert_eq!(rumba["currency"], "KES");
    assert_eq!(rumba["requests"], 3);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_pay_once() {
    let sim = spawn_sim(SimConfig::default()).await;
    let key = unique_key();
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let (base, key) = (sim.rohopay_base_url(), key.clone());
            tokio::spawn(async move {
                client()
                    .post(format!("{base}/api/v1/disburse"))
                    .bearer_auth(LIVE_KEY)
                    .header("Idempotency-Key", key)
                    .body(ROHOPAY_SEED_BODY)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    let ledger = ledger(&sim).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["requests"], 20);
}

/// `PUT /_sim/wallet` sets one provider's balance of one currency: a payout beyond it is
/// refused for insufficient funds and executes nothing, and the balance read shows the new value.
#[tokio::test]
async fn the_wallet_endpoint_sets_one_balance() {
    let sim = spawn_sim(SimConfig::default()).await;
    let before = set_wallet(&sim, "rohopay", "UGX", 30_000).await;
    assert_eq!(before, SimConfig::default().default_balance_minor);
    assert_eq!(balance(&sim, "UGX").await, 30_000);
    assert_eq!(
        balance(&sim, "KES").await,
        SimConfig::default().default_balance_minor,
        "other currencies untouched"
    );
    let body = r#"{"phone": "256700123456", "amount": 25000, "currency": "UGX"}"#;
    assert_eq!(disburse(&sim, &unique_key(), body).await.status(), 200);
    assert_eq!(balance(&sim, "UGX").await, 5_000);
    let refused = disburse(&sim, &unique_key(), body).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert_eq!(
        ledger(&sim).await.len(),
        1,
        "the refused payout executed nothing"
    );
    assert_eq!(set_wallet(&sim, "rohopay", "UGX", 0).await, 5_000);

    let bad = client()
        .put(format!("http://{}/_sim/wallet", sim.addr()))
        .json(&serde_json::json!({"provider": "rohopay", "currency": "XXX", "balance_minor": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}
