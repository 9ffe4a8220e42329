//! The simulator's lies (a testing aid) over real HTTP: each mode tells the lie it names while
//! the ledger keeps the truth; and a restarted simulator never hands out an id again.

use payrun::sim::LieMode;
use serde_json::Value;

use crate::support::sim::{
    LIVE_KEY, SimConfig, disburse, ledger, payout, rohopay_body, rumbapay_body, spawn_sim,
    transaction, unique_key,
};

fn liar(mode: LieMode) -> SimConfig {
    SimConfig {
        lie_rate: 1.0,
        lie_modes: vec![mode],
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn answers_lie_about_the_fact_named_and_the_ledger_keeps_the_truth() {
    for (mode, field, truth) in [
        (LieMode::Amount, "amount", Value::from(25_000)),
        (LieMode::Phone, "phone_number", Value::from("256700123456")),
        (LieMode::Currency, "currency", Value::from("UGX")),
    ] {
        let sim = spawn_sim(liar(mode)).await;
        let answer: Value = disburse(&sim, &unique_key(), &rohopay_body("256700123456", 25_000))
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(answer["data"][field], truth, "{mode:?}: {answer}");
        let book = ledger(&sim).await;
        assert_eq!(book.len(), 1);
        assert_eq!(book[0]["amount_minor"], 25_000, "{mode:?}: {book:?}");
        assert_eq!(book[0]["currency"], "UGX");
    }
}

#[tokio::test]
async fn rumbapay_lies_about_the_reference_in_answers_and_lookups() {
    let sim = spawn_sim(liar(LieMode::Reference)).await;
    let answer: Value = payout(&sim, &rumbapay_body("ref-1", "+254712973246"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["reference"], "ref-1-other");
    let id = answer["request_id"].as_str().unwrap();
    let looked_up: Value = transaction(&sim, id).await.json().await.unwrap();
    assert_eq!(looked_up["reference"], "ref-1-other");
    assert_eq!(ledger(&sim).await[0]["key"], "ref-1");
}

#[tokio::test]
async fn a_redirect_comes_after_executing() {
    let sim = spawn_sim(liar(LieMode::Redirect)).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = no_redirects
        .post(format!("{}/api/v1/disburse", sim.rohopay_base_url()))
        .bearer_auth(LIVE_KEY)
        .header("Idempotency-Key", unique_key())
        .header("Content-Type", "application/json")
        .body(rohopay_body("256700123456", 25_000))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    assert_eq!(answer.headers()["location"], "http://127.0.0.1:9/elsewhere");
    assert_eq!(ledger(&sim).await.len(), 1, "executed before redirecting");
}

#[tokio::test]
async fn a_replay_is_refused_and_a_fresh_reference_called_a_duplicate() {
    let sim = spawn_sim(liar(LieMode::Replay4xx)).await;
    let key = unique_key();
    let body = rohopay_body("256700123456", 25_000);
    assert_eq!(disburse(&sim, &key, &body).await.status(), 200);
    assert_eq!(disburse(&sim, &key, &body).await.status(), 400);
    assert_eq!(ledger(&sim).await.len(), 1);

    let sim = spawn_sim(liar(LieMode::DupRef)).await;
    let answer = payout(&sim, &rumbapay_body("never-sent", "+254712973246")).await;
    assert_eq!(answer.status(), 409);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error_code"], 40);
    assert!(ledger(&sim).await.is_empty(), "nothing executed");
}

#[tokio::test]
async fn a_restarted_simulator_never_reuses_ids_even_with_the_same_seed() {
    let mut ids = Vec::new();
    for _ in 0..2 {
        let sim = spawn_sim(SimConfig {
            seed: 42,
            ..SimConfig::default()
        })
        .await;
        let rumba: Value = payout(&sim, &rumbapay_body("same-ref", "+254712973246"))
            .await
            .json()
            .await
            .unwrap();
        let roho: Value = disburse(&sim, "same-key", &rohopay_body("256700123456", 25_000))
            .await
            .json()
            .await
            .unwrap();
        ids.push((
            rumba["request_id"].as_str().unwrap().to_owned(),
            roho["data"]["id"].as_str().unwrap().to_owned(),
        ));
        sim.shutdown().await;
    }
    assert_ne!(ids[0].0, ids[1].0, "Rumbapay request ids repeat: {ids:?}");
    assert_ne!(ids[0].1, ids[1].1, "RohoPay ids repeat: {ids:?}");
}
