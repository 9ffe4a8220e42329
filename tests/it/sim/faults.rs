//! Every fault and knob of the simulator (README, "Simulator"), and that `--seed` reproduces a fault pattern.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::sim::*;

#[tokio::test]
async fn error_rate_answers_5xx_and_executes_nothing() {
    let sim = spawn_sim(SimConfig {
        error_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    for _ in 0..6 {
        let response = disburse(&sim, &unique_key(), ROHOPAY_SEED_BODY).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        let expected = if status == 500 {
            "internal_error"
        } else {
            "service_unavailable"
        };
        assert!(status == 500 || status == 503, "{status}");
        assert_eq!(body["error"]["code"], expected);
        let response = payout(&sim, &rumbapay_body(&unique_key(), "+254712973246")).await;
        assert!([500, 503].contains(&response.status().as_u16()));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], 1);
    }
    assert!(ledger(&sim).await.is_empty());
}

#[tokio::test]
async fn drop_rate_executes_the_payout_then_closes_without_an_answer() {
    let sim = spawn_sim(SimConfig {
        drop_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let key = unique_key();
    let lost = disburse_with(&sim, Some(LIVE_KEY), Some(&key), ROHOPAY_SEED_BODY).await;
    let err = lost.expect_err("no answer on a dropped connection");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(err.is_request(), "{err:?}");
    // The payout happened; a careful retry with the same key is a replay, not a second payout.
    let retry = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");

    let reference = unique_key();
    let body = rumbapay_body(&reference, "+254712973246");
    let lost = payout_raw(&sim, Some(LIVE_KEY), body.to_string()).await;
    let err = lost.expect_err("the connection is dropped after the payout");
    assert!(err.is_request() && !err.is_timeout(), "{err:?}");
    let dup = payout(&sim, &body).await;
    assert_eq!(dup.status(), 409);
    let dup: Value = dup.json().await.unwrap();
    let status = transaction(&sim, dup["request_id"].as_str().unwrap()).await;
    assert_eq!(status.status(), 200);

    let ledger = ledger(&sim).await;
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[0]["key"], key.as_str());
    assert_eq!(ledger[0]["requests"], 2);
    assert_eq!(ledger[1]["key"], reference.as_str());
    assert_eq!(ledger[1]["requests"], 2);
}

#[tokio::test]
async fn slow_rate_holds_the_answer_back() {
    let sim = spawn_sim(SimConfig {
        slow_rate: 1.0,
        slow_ms: 400,
        ..SimConfig::default()
    })
    .await;
    let started = Instant::now();
    let response = disburse(&sim, &unique_key(), ROHOPAY_SEED_BODY).await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    let response = payout(&sim, &rumbapay_body(&unique_key(), "+254712973246")).await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_counts_the_request() {
    let sim = spawn_sim(SimConfig {
        rate_limit: Some(1),
        ..SimConfig::default()
    })
    .await;
    // Burst 1: the first request passes, the rest of a quick burst are refused.
    let key = unique_key();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    assert_eq!(statuses[0], 200);
    assert!(statuses.contains(&429), "{statuses:?}");
    let reference = unique_key();
    let body = rumbapay_body(&reference, "+254712973246");
    let mut rumbapay_limited = false;
    for _ in 0..5 {
        let response = payout(&sim, &body).await;
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error_code"], 50);
            rumbapay_limited = true;
        }
    }
    assert!(rumbapay_limited);
    // Refused requests are counted against their key like any other.
    let ledger = ledger(&sim).await;
    assert_eq!(ledger[0]["key"], key.as_str());
    assert!(ledger.iter().all(|e| e["requests"] == 5), "{ledger:?}");
}

#[tokio::test]
async fn fail_rate_ends_failed_and_gives_the_money_back() {
    let sim = spawn_sim(SimConfig {
        fail_rate: 1.0,
        balances: SimConfig::parse_balances("UGX=100000").unwrap(),
        ..SimConfig::default()
    })
    .await;
    let key = unique_key();
    let answer: Value = disburse(&sim, &key, ROHOPAY_SEED_BODY)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["status"], "pending");
    wait_for_status(&sim, &key, "failed").await;
    assert_eq!(balance(&sim, "UGX").await, 100_000);
    let replay: Value = disburse(&sim, &key, ROHOPAY_SEED_BODY)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replay["data"]["status"], "failed");
    let reference = unique_key();
    let created: Value = payout(&sim, &rumbapay_body(&reference, "+254712973246"))
        .await
        .json()
        .await
        .unwrap();
    wait_for_status(&sim, &reference, "failed").await;
    let queried: Value = transaction(&sim, created["request_id"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queried["status"]["name"], "failed");
}

#[tokio::test]
async fn magic_numbers_fail_or_stay_pending() {
    let sim = spawn_sim(SimConfig::default()).await;
    let (failing, stuck, normal) = (unique_key(), unique_key(), unique_key());
    disburse(&sim, &failing, &rohopay_body("256700120000", 5000)).await;
    disburse(&sim, &stuck, &rohopay_body("256700120099", 5000)).await;
    disburse(&sim, &normal, &rohopay_body("256700123456", 5000)).await;
    wait_for_status(&sim, &failing, "failed").await;
    // Settled in order: once the later payout is terminal, the 0099 one would have been.
    wait_for_status(&sim, &normal, "successful").await;
    let ledger = ledger(&sim).await;
    let stuck_entry = ledger.iter().find(|e| e["key"] == stuck.as_str()).unwrap();
    assert_eq!(stuck_entry["status"], "pending");
    let rumba_failing = unique_key();
    payout(&sim, &rumbapay_body(&rumba_failing, "+254712970000")).await;
    wait_for_status(&sim, &rumba_failing, "failed").await;
}

#[tokio::test]
async fn settle_ms_keeps_payouts_pending() {
    // An hour: no machine is slow enough for the payout to settle before it is read.
    let sim = spawn_sim(SimConfig {
        settle_ms: 3_600_000,
        ..SimConfig::default()
    })
    .await;
    disburse(&sim, &unique_key(), ROHOPAY_SEED_BODY).await;
    assert_eq!(ledger(&sim).await[0]["status"], "pending");
}

#[tokio::test]
async fn settle_ms_settles_no_sooner_than_it_says() {
    let sim = spawn_sim(SimConfig {
        settle_ms: 1500,
        ..SimConfig::default()
    })
    .await;
    let key = unique_key();
    let started = Instant::now();
    disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
    wait_for_status(&sim, &key, "successful").await;
    // A lower bound only: a slow machine makes it later, never sooner.
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

/// Status codes (and RohoPay provider) seen for keys k0..k11, up to three attempts each.
async fn fault_pattern(seed: u64, reverse: bool) -> Vec<(String, Vec<u16>, Option<String>)> {
    let sim = spawn_sim(SimConfig {
        seed,
        error_rate: 0.5,
        failover_rate: 0.5,
        ..SimConfig::default()
    })
    .await;
    let mut keys: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
    if reverse {
        keys.reverse();
    }
    let mut pattern = Vec::new();
    for key in keys {
        let mut statuses = Vec::new();
        let mut provider = None;
        for _ in 0..3 {
            let response = disburse(&sim, &key, ROHOPAY_SEED_BODY).await;
            statuses.push(response.status().as_u16());
            if response.status() == 200 {
                let body: Value = response.json().await.unwrap();
                provider = body["data"]["provider"].as_str().map(str::to_owned);
                break;
            }
        }
        pattern.push((key, statuses, provider));
    }
    pattern.sort();
    pattern
}

#[tokio::test]
async fn the_same_seed_reproduces_the_same_faults_per_key() {
    let first = fault_pattern(42, false).await;
    let again = fault_pattern(42, true).await;
    assert_eq!(first, again);
    let statuses: Vec<u16> = first.iter().flat_map(|(_, s, _)| s.clone()).collect();
    assert!(
        statuses.contains(&200) && statuses.iter().any(|s| *s >= 500),
        "{first:?}"
    );
    let providers: Vec<_> = first.iter().filter_map(|(_, _, p)| p.clone()).collect();
    assert!(providers.contains(&"iotec".to_owned()) && providers.contains(&"relworx".to_owned()));
    assert_ne!(first, fault_pattern(43, false).await);
}
