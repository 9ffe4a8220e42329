//! Rumbapay as the seed document shows it: the example payout body and its response, the
//! status query, `error_code` 30 / 101 / 40, auth, operators per country and balances.

use serde_json::{Value, json};

use super::{all_of, keys, sorted};
use crate::support::sim::*;

/// Fields of the seed's payout response (also its callback and status-query shape).
const SEED_FIELDS: [&str; 13] = [
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
];

/// `2025-08-27T08:27:49.014`
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 23
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// `2025-08-27T08:27:49.2818969Z`
fn is_timestamp(s: &str) -> bool {
    s.len() == 28
        && s.ends_with('Z')
        && is_date(&s[..23])
        && s[23..27].bytes().all(|c| c.is_ascii_digit())
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

/// Assert the seed's error envelope and return it.
async fn error(response: reqwest::Response, status: u16, code: u64, reason: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], code, "{body}");
    assert_eq!(body["error_reason"], reason, "{body}");
    assert!(is_uuid(&body["request_id"]), "{body}");
    assert!(is_timestamp(body["timestamp"].as_str().unwrap()), "{body}");
    body
}

#[tokio::test]
async fn the_seed_example_gets_the_documented_response() {
    let sim = spawn_sim(SimConfig::default()).await;
    let response = payout(&sim, &rumbapay_seed_body()).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#""amount":2500,"billing_amount":2500,"#),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(keys(&body), sorted(&SEED_FIELDS));
    let identifier = body["identifier"].as_str().unwrap();
    assert!(identifier.starts_with("MOB") && all_of(&identifier[3..], 9, |c| c.is_ascii_digit()));
    assert!(is_uuid(&body["request_id"]));
    assert_eq!(body["reference"], "1234-dfgdgfdfew");
    assert_eq!(body["description"], "My order payin");
    assert_eq!(keys(&body["status"]), ["date", "name"]);
    assert_eq!(body["status"]["name"], "pending");
    assert!(is_date(body["status"]["date"].as_str().unwrap()), "{body}");
    assert!(is_date(body["created_date"].as_str().unwrap()), "{body}");
    assert_eq!(body["currency"], "KES");
    assert_eq!(
        body["extra"],
        json!([{"key": "key_1", "value": "value"}, {"key": "key_2", "value": "value"},
               {"key": "key_3", "value": "value"}, {"key": "key_4", "value": "value"}])
    );
    assert!(is_timestamp(body["timestamp"].as_str().unwrap()), "{body}");
    assert_eq!(body["error_code"], 0);
    assert_eq!(body["error_message"], "");
}

#[tokio::test]
async fn the_status_query_shows_the_same_payout_with_its_current_status() {
    let sim = spawn_sim(SimConfig::default()).await;
    let mut created: Value = payout(&sim, &rumbapay_seed_body())
        .await
        .json()
        .await
        .unwrap();
    wait_for_status(&sim, "1234-dfgdgfdfew", "success").await;
    let request_id = created["request_id"].as_str().unwrap().to_owned();
    let response = transaction(&sim, &request_id).await;
    assert_eq!(response.status(), 200);
    let mut queried: Value = response.json().await.unwrap();
    assert_eq!(queried["status"]["name"], "success");
    assert!(is_date(queried["status"]["date"].as_str().unwrap()));
    for body in [&mut created, &mut queried] {
        let obj = body.as_object_mut().unwrap();
        obj.remove("status");
        obj.remove("timestamp");
    }
    assert_eq!(created, queried);
}

#[tokio::test]
async fn amounts_are_echoed_exactly_and_kept_in_minor_units() {
    let sim = spawn_sim(SimConfig::default()).await;
    let mut body = rumbapay_body(&unique_key(), "+254712973246");
    let text = body
        .to_string()
        .replace("\"amount\":2500", "\"amount\":2500.10");
    body = serde_json::from_str(&text).unwrap();
    let response = payout_raw(&sim, Some(LIVE_KEY), text).await.unwrap();
    assert_eq!(response.status(), 200);
    let answer = response.text().await.unwrap();
    assert!(
        answer.contains(r#""amount":2500.10,"billing_amount":2500.10,"#),
        "{answer}"
    );
    let ledger = ledger(&sim).await;
    assert_eq!(ledger[0]["amount_minor"], 250_010);
    assert_eq!(ledger[0]["key"], body["reference"]);
}

#[tokio::test]
async fn a_missing_currency_is_the_seeds_error_code_30() {
    let sim = spawn_sim(SimConfig::default()).await;
    let mut body = rumbapay_seed_body();
    body.as_object_mut().unwrap().remove("currency");
    let body = error(payout(&sim, &body).await, 400, 30, "Invalid params").await;
    assert_eq!(
        keys(&body),
        sorted(&[
            "error_code",
            "error_reason",
            "request_id",
            "error_fields",
            "timestamp"
        ])
    );
    assert_eq!(
        body["error_fields"],
        json!([{"field": "currency", "message": "currency is a required field"}])
    );
    assert!(ledger(&sim).await.is_empty());
}

#[tokio::test]
async fn every_missing_or_invalid_field_gets_its_own_entry() {
    let sim = spawn_sim(SimConfig::default()).await;
    let mut body = rumbapay_body(&unique_key(), "+255712973246");
    body["mobile_money"]
        .as_object_mut()
        .unwrap()
        .remove("beneficiary_first_name");
    body["customer"]
        .as_object_mut()
        .unwrap()
        .remove("identifier");
    body["amount"] = json!(-1);
    let body = error(payout(&sim, &body).await, 400, 30, "Invalid params").await;
    let fields: Vec<&str> = body["error_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "amount",
            "mobile_money.phone",
            "mobile_money.beneficiary_first_name",
            "customer.identifier"
        ]
    );
}

#[tokio::test]
async fn operators_are_checked_per_country() {
    let sim = spawn_sim(SimConfig::default()).await;
    let mut body = rumbapay_body(&unique_key(), "+233241234567");
    body["currency"] = json!("GHS");
    body["mobile_money"]["operator"] = json!("Vodafone");
    assert_eq!(payout(&sim, &body).await.status(), 200);
    body["reference"] = json!(unique_key());
    body["mobile_money"]["operator"] = json!("mpesa");
    let body = error(payout(&sim, &body).await, 400, 30, "Invalid params").await;
    assert_eq!(body["error_fields"][0]["field"], "mobile_money.operator");
}

#[tokio::test]
async fn an_unknown_transaction_is_error_code_101() {
    let sim = spawn_sim(SimConfig::default()).await;
    for id in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        let body = error(
            transaction(&sim, &id).await,
            404,
            101,
            "Transaction not found",
        )
        .await;
        assert_eq!(
            keys(&body),
            ["error_code", "error_reason", "request_id", "timestamp"]
        );
    }
}

#[tokio::test]
async fn a_reused_reference_is_409_code_40_with_the_original_request_id() {
    let sim = spawn_sim(SimConfig::default()).await;
    let reference = unique_key();
    let body = rumbapay_body(&reference, "+254712973246");
    let first: Value = payout(&sim, &body).await.json().await.unwrap();
    let mut changed = body.clone();
    changed["amount"] = json!(99);
    for again in [&body, &changed] {
        let dup = error(payout(&sim, again).await, 409, 40, "Duplicate reference").await;
        assert_eq!(dup["request_id"], first["request_id"]);
    }
    let ledger = ledger(&sim).await;
    assert_eq!((ledger.len(), ledger[0]["requests"].as_u64()), (1, Some(3)));
}

#[tokio::test]
async fn auth_is_required_and_test_keys_are_accepted() {
    let sim = spawn_sim(SimConfig::default()).await;
    let body = rumbapay_body(&unique_key(), "+254712973246").to_string();
    let response = payout_raw(&sim, None, body.clone()).await.unwrap();
    error(response, 401, 20, "Unauthorized").await;
    let response = payout_raw(&sim, Some("Bearer-less"), body.clone())
        .await
        .unwrap();
    error(response, 401, 20, "Unauthorized").await;
    let response = payout_raw(&sim, Some(TEST_KEY), body).await.unwrap();
    assert_eq!(response.status(), 200);
    let unauthorised_query = client()
        .get(format!(
            "{}/transaction/{}",
            sim.rumbapay_base_url(),
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    error(unauthorised_query, 401, 20, "Unauthorized").await;
}

#[tokio::test]
async fn insufficient_balance_is_code_60_and_each_provider_has_its_own_wallet() {
    let sim = spawn_sim(SimConfig {
        balances: SimConfig::parse_balances("KES=3000").unwrap(),
        ..SimConfig::default()
    })
    .await;
    let body = rumbapay_body(&unique_key(), "+254712973246");
    assert_eq!(payout(&sim, &body).await.status(), 200);
    let second = rumbapay_body(&unique_key(), "+254712973246");
    error(payout(&sim, &second).await, 402, 60, "Insufficient balance").await;
    // RohoPay's KES wallet is a separate copy of the configured balance.
    assert_eq!(balance(&sim, "KES").await, 300_000);
    assert_eq!(ledger(&sim).await.len(), 1);
}
