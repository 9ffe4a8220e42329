//! Lie modes on their own: parsing, which lies fit which moment, and what each rewrite does.

use super::*;
use crate::sim::payout::Provider;

fn dice(key: &str) -> Dice<'_> {
    Dice {
        seed: 1,
        provider: Provider::Rumbapay,
        key,
        attempt: 1,
    }
}

#[test]
fn modes_parse_by_name_and_unknown_names_are_refused() {
    assert_eq!(
        LieMode::parse_list("amount, dup-ref,amount").unwrap(),
        vec![LieMode::Amount, LieMode::DupRef]
    );
    assert_eq!(LieMode::parse_list("").unwrap(), vec![]);
    assert!(
        LieMode::parse_list("sometimes")
            .unwrap_err()
            .contains("replay-4xx")
    );
}

#[test]
fn only_lies_that_fit_the_moment_are_told() {
    let d = dice("k");
    let only = |m: LieMode, moment, rumba| choose(&d, 1.0, &[m], moment, rumba);
    assert_eq!(
        only(LieMode::Redirect, Moment::Executed, false),
        Some(LieMode::Redirect)
    );
    assert_eq!(only(LieMode::Redirect, Moment::Replay, false), None);
    assert_eq!(only(LieMode::Replay4xx, Moment::Executed, true), None);
    assert_eq!(
        only(LieMode::Replay4xx, Moment::Replay, true),
        Some(LieMode::Replay4xx)
    );
    assert_eq!(only(LieMode::DupRef, Moment::Executed, false), None);
    assert_eq!(only(LieMode::Phone, Moment::Lookup, true), None);
    assert_eq!(
        only(LieMode::Reference, Moment::Lookup, true),
        Some(LieMode::Reference)
    );
    assert_eq!(choose(&d, 0.0, &[], Moment::Executed, true), None);
}

#[test]
fn every_mode_is_chosen_when_all_are_enabled() {
    let mut seen = std::collections::HashSet::new();
    for i in 0..500 {
        let key = i.to_string();
        for moment in [Moment::Executed, Moment::Replay] {
            for rumba in [false, true] {
                if let Some(m) = choose(&dice(&key), 1.0, &[], moment, rumba) {
                    seen.insert(m);
                }
            }
        }
    }
    assert_eq!(seen.len(), LieMode::ALL.len(), "{seen:?}");
}

async fn told(lie: LieMode, json: Value) -> Value {
    let response = tell(Some(lie), axum::Json(json).into_response()).await;
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn rewrites_change_exactly_the_fact_they_name() {
    let roho = serde_json::json!({"success": true, "data":
        {"phone_number": "256700123456", "amount": 25000, "net_amount": 25000, "currency": "UGX"}});
    let amount = told(LieMode::Amount, roho.clone()).await;
    assert_eq!(amount["data"]["amount"], 25001);
    assert_eq!(amount["data"]["phone_number"], "256700123456");
    let phone = told(LieMode::Phone, roho.clone()).await;
    assert_eq!(phone["data"]["phone_number"], "256700123457");
    let currency = told(LieMode::Currency, roho).await;
    assert_eq!(currency["data"]["currency"], "KES");
    let rumba = serde_json::json!({"reference": "k", "amount": 2500.5, "currency": "KES"});
    assert_eq!(
        told(LieMode::Reference, rumba.clone()).await["reference"],
        "k-other"
    );
    assert_eq!(
        told(LieMode::Amount, rumba).await["amount"].to_string(),
        "2501.5"
    );
}

#[tokio::test]
async fn a_redirect_points_elsewhere_and_errors_are_left_alone() {
    let response = tell(Some(LieMode::Redirect), StatusCode::OK.into_response()).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::LOCATION], REDIRECT_TO);
    let refused = tell(Some(LieMode::Amount), StatusCode::CONFLICT.into_response()).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}
