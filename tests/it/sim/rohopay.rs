//! RohoPay as the seed document shows it: the curl example, idempotency (replay, 422, 409 in
//! flight), auth (401, 403 for test keys), validation, balances and failover.

use serde_json::Value;

use super::{all_of, is_rfc3339_utc, keys, sorted};
use crate::support::sim::*;

/// The `data` fields of the seed's disbursement response.
const SEED_DATA_FIELDS: [&str; 13] = [
    "id",
    "internal_reference",
    "provider_reference",
    "status",
    "type",
    "payment_method",
    "provider",
    "phone_number",
    "amount",
    "currency",
    "net_amount",
    "environment",
    "created_at",
];

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(keys(body), ["error", "success"]);
}

#[tokio::test]
async fn the_seed_curl_example_gets_the_documented_response() {
    let sim = spawn_sim(SimConfig::default()).await;
    let response = disburse(&sim, &unique_key(), ROHOPAY_SEED_BODY).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let body = json(response).await;
    assert_eq!(keys(&body), ["data", "success"]);
    assert_eq!(body["success"], true);
    let data = &body["data"];
    assert_eq!(keys(data), sorted(&SEED_DATA_FIELDS));
    assert_eq!(data["status"], "pending");
    assert_eq!(data["type"], "disbursement");
    assert_eq!(data["payment_method"], "mobile_money");
    assert_eq!(data["provider"], "relworx");
    assert_eq!(data["phone_number"], "256700123456");
    assert_eq!(data["amount"].as_u64(), Some(25000));
    assert_eq!(data["currency"], "UGX");
    assert_eq!(data["net_amount"].as_u64(), Some(25000));
    assert_eq!(data["environment"], "live");
    let id = data["id"].as_str().unwrap();
    assert!(
        all_of(id, 26, |c| c.is_ascii_digit() || c.is_ascii_lowercase()),
        "{id}"
    );
    let reference = data["internal_reference"].as_str().unwrap();
    let parts: Vec<&str> = reference.split('-').collect();
    assert_eq!(parts.len(), 3, "{reference}");
    assert_eq!(parts[0], "RHP");
    assert!(all_of(parts[1], 4, |c| c.is_ascii_digit()), "{reference}");
    assert!(
        all_of(parts[2], 8, |c| c.is_ascii_digit()
            || c.is_ascii_uppercase()),
        "{reference}"
    );
    let provider_reference = data["provider_reference"].as_str().unwrap();
    assert!(all_of(provider_reference, 10, |c| c.is_ascii_digit()));
    let created_at = data["created_at"].as_str().unwrap();
    assert!(
        is_rfc3339_utc(created_at) && created_at.len() == 20,
        "{created_at}"
    );
}

#[tokio::test]
async fn same_key_and_body_replays_the_first_response() {
    let sim = spawn_sim(SimConfig::default()).await;
    let key = unique_key();
    let mut first = json(disburse(&sim, &key, ROHOPAY_SEED_BODY).await).await;
    wait_for_status(&sim, &key, "successful").await;
    let response = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let mut replay = json(response).await;
    // The replay shows the current status; everything else is the first answer.
    assert_eq!(replay["data"]["status"], "successful");
    first["data"]["status"] = Value::Null;
    replay["data"]["status"] = Value::Null;
    assert_eq!(first, replay);
    let ledger = ledger(&sim).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["requests"], 2);
}

#[tokio::test]
async fn same_key_with_a_different_body_is_422() {
    let sim = spawn_sim(SimConfig::default()).await;
    let key = unique_key();
    assert_eq!(disburse(&sim, &key, ROHOPAY_SEED_BODY).await.status(), 200);
    let other = rohopay_body("256700123456", 26000);
    let response = disburse(&sim, &key, &other).await;
    assert_eq!(response.status(), 422);
    assert_error(&json(response).await, "idempotency_key_reused");
    let ledger = ledger(&sim).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["amount_minor"], 25000);
    assert_eq!(ledger[0]["requests"], 2);
}

#[tokio::test]
async fn same_key_while_the_first_is_in_flight_is_409() {
    let sim = spawn_sim(SimConfig {
        slow_rate: 1.0,
        slow_ms: 3000,
        ..SimConfig::default()
    })
    .await;
    let key = unique_key();
    let first = {
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
        })
    };
    crate::support::wait::until_true("the first request to execute", || async {
        !ledger(&sim).await.is_empty()
    })
    .await;
    let second = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
    assert_eq!(second.status(), 409);
    assert_error(&json(second).await, "idempotency_in_flight");
    assert_eq!(first.await.unwrap().status(), 200);
    let third = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
    assert_eq!(third.status(), 200);
    assert_eq!(third.headers()["idempotent-replayed"], "true");
    let ledger = ledger(&sim).await;
    assert_eq!((ledger.len(), ledger[0]["requests"].as_u64()), (1, Some(3)));
}

#[tokio::test]
async fn bad_or_missing_keys_are_401_and_test_keys_403() {
    let sim = spawn_sim(SimConfig::default()).await;
    let key = unique_key();
    for api_key in [None, Some("sk_live_abc"), Some("live_")] {
        let response = disburse_with(&sim, api_key, Some(&key), ROHOPAY_SEED_BODY)
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{api_key:?}");
        assert_error(&json(response).await, "unauthorized");
    }
    let basic = client()
        .post(format!("{}/api/v1/disburse", sim.rohopay_base_url()))
        .header("Authorization", "Basic live_abc")
        .header("Idempotency-Key", &key)
        .body(ROHOPAY_SEED_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    let response = disburse_with(&sim, Some(TEST_KEY), Some(&key), ROHOPAY_SEED_BODY)
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = json(response).await;
    assert_error(&body, "live_key_required");
    assert_eq!(
        body["error"]["message"],
        "Disbursements require a live API key"
    );
    assert!(ledger(&sim).await.is_empty());
}

#[tokio::test]
async fn missing_idempotency_key_is_400() {
    let sim = spawn_sim(SimConfig::default()).await;
    let response = disburse_with(&sim, Some(LIVE_KEY), None, ROHOPAY_SEED_BODY)
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_error(&json(response).await, "missing_idempotency_key");
    assert!(ledger(&sim).await.is_empty());
}

#[tokio::test]
async fn invalid_fields_are_400_naming_the_field_and_not_remembered() {
    let sim = spawn_sim(SimConfig::default()).await;
    let key = unique_key();
    let cases = [
        (rohopay_body("256700123456", 999), "amount"),
        (rohopay_body("+256700123456", 25000), "phone"),
        (ROHOPAY_SEED_BODY.replace("\"UGX\"", "\"GHS\""), "currency"),
        (ROHOPAY_SEED_BODY.replace("25000", "25000.5"), "amount"),
        ("not json".to_owned(), "JSON"),
    ];
    for (body, field) in cases {
        let response = disburse(&sim, &key, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let body = json(response).await;
        assert_error(&body, "validation_error");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    // Nothing was executed, so the same key now pays a valid body.
    assert_eq!(disburse(&sim, &key, ROHOPAY_SEED_BODY).await.status(), 200);
    let ledger = ledger(&sim).await;
    assert_eq!((ledger.len(), ledger[0]["requests"].as_u64()), (1, Some(6)));
}

#[tokio::test]
async fn payouts_draw_the_balance_down_and_402_when_it_runs_out() {
    let sim = spawn_sim(SimConfig {
        balances: SimConfig::parse_balances("UGX=30000").unwrap(),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(balance(&sim, "UGX").await, 30000);
    assert_eq!(
        balance(&sim, "KES").await,
        payrun::sim::DEFAULT_BALANCE_MINOR
    );
    assert_eq!(
        disburse(&sim, &unique_key(), ROHOPAY_SEED_BODY)
            .await
            .status(),
        200
    );
    assert_eq!(balance(&sim, "UGX").await, 5000);
    let key = unique_key();
    let response = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
    assert_eq!(response.status(), 402);
    assert_error(&json(response).await, "insufficient_balance");
    assert_eq!(balance(&sim, "UGX").await, 5000);
    // A 402 is not remembered: the same key with an affordable amount pays.
    let response = disburse(&sim, &key, &rohopay_body("256700123456", 5000)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(balance(&sim, "UGX").await, 0);
    assert_eq!(ledger(&sim).await.len(), 2);
}

#[tokio::test]
async fn concurrent_payouts_never_overdraw() {
    let sim = spawn_sim(SimConfig {
        balances: SimConfig::parse_balances("UGX=100000").unwrap(),
        ..SimConfig::default()
    })
    .await;
    let body = rohopay_body("256700123456", 10000);
    let requests = (0..25).map(|_| {
        let (base, body) = (sim.rohopay_base_url(), body.clone());
        tokio::spawn(async move {
            client()
                .post(format!("{base}/api/v1/disburse"))
                .bearer_auth(LIVE_KEY)
                .header("Idempotency-Key", unique_key())
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        statuses.push(request.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 402).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(balance(&sim, "UGX").await, 0);
    assert_eq!(ledger(&sim).await.len(), 10);
}

#[tokio::test]
async fn failover_answers_from_iotec_with_the_documented_reason() {
    let sim = spawn_sim(SimConfig {
        failover_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let body = json(disburse(&sim, &unique_key(), ROHOPAY_SEED_BODY).await).await;
    assert_eq!(body["data"]["provider"], "iotec");
    assert_eq!(
        body["data"]["failover_reason"],
        "Primary provider (relworx) returned a timeout; retried with iotec"
    );
}

#[tokio::test]
async fn balance_endpoint_has_the_seed_shape() {
    let sim = spawn_sim(SimConfig {
        balances: SimConfig::parse_balances("UGX=500000,KES=12.5").unwrap(),
        ..SimConfig::default()
    })
    .await;
    let get = |query: &'static str, key: Option<&'static str>| {
        let url = format!("{}/api/v1/wallet/balance{query}", sim.rohopay_base_url());
        async move {
            let mut request = client().get(url);
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            request.send().await.unwrap()
        }
    };
    let body = json(get("", Some(TEST_KEY)).await).await;
    assert_eq!(
        body,
        serde_json::json!({"success": true, "data": {
            "balance_live": 500000, "balance_test": 1000000, "currency": "UGX"}})
    );
    let body = json(get("?currency=KES", Some(LIVE_KEY)).await).await;
    assert_eq!(body["data"]["balance_live"], 1250);
    assert_eq!(body["data"]["currency"], "KES");
    let response = get("?currency=GHS", Some(LIVE_KEY)).await;
    assert_eq!(response.status(), 400);
    assert_error(&json(response).await, "validation_error");
    assert_eq!(get("", None).await.status(), 401);
}
