//! Unit tests of the rohopay client: bodies against the seed, answers, status and error maps.
use super::*;
use crate::domain::{Country, MinorUnits, Phone};
use reqwest::{StatusCode, header::HeaderMap};

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        headers: HeaderMap::new(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn body_matches_the_seed_example() {
    let (phone, _) = Phone::parse("256700123456", Some(Country::Uganda)).unwrap();
    let row = PayeeRow {
        line: 2,
        reference: None,
        phone,
        amount: MinorUnits::new(25000).unwrap(),
        currency: Currency::UGX,
        operator: None,
        first_name: None,
        last_name: None,
        description: Some("Agent commission payout – July 2024".into()),
        document: None,
        occurrence: 0,
    };
    let ctx = BodyContext {
        batch_id: "b",
        callback_url: Some("https://your-app.com/webhooks/rohopay"),
    };
    let body: serde_json::Value =
        serde_json::from_slice(&request_body(&row, &ctx).unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "phone": "256700123456",
            "amount": 25000,
            "currency": "UGX",
            "description": "Agent commission payout – July 2024",
            "callback_url": "https://your-app.com/webhooks/rohopay"
        })
    );
}

#[test]
fn reads_the_seed_response() {
    let r = interpret(answer(
        200,
        r#"{"success":true,"data":{"id":"01j5m6n7p8q9r0s1t2u3vwxy","internal_reference":"RHP-2024-DISP001",
        "provider_reference":"0987654321","status":"pending","type":"disbursement","payment_method":"mobile_money",
        "provider":"relworx","phone_number":"256700123456","amount":25000,"currency":"UGX","net_amount":25000,
        "environment":"live","created_at":"2024-07-15T09:00:00Z"}}"#,
    ))
    .unwrap();
    assert_eq!(r.status, PayoutStatus::Pending);
    assert_eq!(
        r.refs.provider_id.as_deref(),
        Some("01j5m6n7p8q9r0s1t2u3vwxy")
    );
    assert_eq!(
        r.refs.internal_reference.as_deref(),
        Some("RHP-2024-DISP001")
    );
    assert_eq!(r.refs.provider_reference.as_deref(), Some("0987654321"));
    assert_eq!(r.refs.routed_provider.as_deref(), Some("relworx"));
}

#[test]
fn reads_a_callback_in_the_answer_envelope() {
    let c = parse_callback(
        br#"{"success":true,"data":{"id":"01j5","internal_reference":"RHP-1",
        "provider_reference":"0987","status":"successful","type":"disbursement",
        "provider":"iotec","failover_reason":"timeout","phone_number":"256700123456",
        "amount":25000,"currency":"UGX","net_amount":25000}}"#,
    )
    .unwrap();
    assert_eq!(c.status, PayoutStatus::Succeeded);
    assert_eq!(c.status_word, "successful");
    assert_eq!(c.refs.provider_id.as_deref(), Some("01j5"));
    assert_eq!(c.refs.internal_reference.as_deref(), Some("RHP-1"));
    assert_eq!(c.refs.provider_reference.as_deref(), Some("0987"));
    assert_eq!(c.refs.routed_provider.as_deref(), Some("iotec"));
    assert_eq!(c.refs.failover_reason.as_deref(), Some("timeout"));
    assert_eq!(c.phone.as_deref(), Some("256700123456"));
    assert_eq!(c.amount_minor, Some(25000));
    assert_eq!(c.currency.as_deref(), Some("UGX"));
    assert_eq!(c.key, None);
    let failed = parse_callback(br#"{"success":true,"data":{"id":"x","status":"failed"}}"#);
    assert_eq!(failed.unwrap().status, PayoutStatus::Failed);
}

#[test]
fn refuses_callbacks_it_cannot_read() {
    for (body, kind) in [
        (&b"not json"[..], "json"),
        (br#"{"success":true}"#, "missing"),
        (br#"{"success":true,"data":{"id":"x"}}"#, "json"),
        (
            br#"{"success":true,"data":{"id":"x","status":"successful","amount":250.5}}"#,
            "amount",
        ),
        (
            // A RohoPay amount is a JSON number: a string is the wrong shape, not a bad amount.
            br#"{"success":true,"data":{"id":"x","status":"successful","amount":"25000"}}"#,
            "json",
        ),
    ] {
        let err = parse_callback(body).unwrap_err();
        assert_eq!(err.kind(), kind, "{}: {err}", String::from_utf8_lossy(body));
        assert!(err.to_string().contains("rohopay"), "{err}");
    }
}

#[test]
fn maps_statuses() {
    assert_eq!(
        PayoutStatus::from(RohopayStatus::from("successful")),
        PayoutStatus::Succeeded
    );
    assert_eq!(
        PayoutStatus::from(RohopayStatus::from("FAILED")),
        PayoutStatus::Failed
    );
    assert_eq!(
        PayoutStatus::from(RohopayStatus::from("weird")),
        PayoutStatus::Pending
    );
}

#[test]
fn classifies_errors() {
    fn e(status: u16, body: &str) -> ProviderError {
        interpret(answer(status, body)).unwrap_err()
    }
    let body =
        |code: &str| format!(r#"{{"success":false,"error":{{"code":"{code}","message":"m"}}}}"#);
    assert!(matches!(
        e(402, &body("insufficient_balance")),
        ProviderError::InsufficientFunds { .. }
    ));
    assert!(matches!(
        e(400, &body("insufficient_balance")),
        ProviderError::InsufficientFunds { .. }
    ));
    assert!(matches!(
        e(400, &body("validation_error")),
        ProviderError::Rejected { .. }
    ));
    assert!(matches!(
        e(401, &body("unauthorized")),
        ProviderError::Unauthorized { .. }
    ));
    assert!(matches!(
        e(403, &body("live_key_required")),
        ProviderError::Unauthorized { .. }
    ));
    assert!(matches!(
        e(409, &body("idempotency_in_flight")),
        ProviderError::InFlight { .. }
    ));
    assert!(matches!(
        e(422, &body("idempotency_key_reused")),
        ProviderError::KeyReused { .. }
    ));
    assert!(matches!(
        e(429, &body("rate_limited")),
        ProviderError::RateLimited { .. }
    ));
    assert!(matches!(e(503, "<html>"), ProviderError::Server { .. }));
    assert!(matches!(e(404, ""), ProviderError::Misconfigured { .. }));
    assert!(matches!(
        e(200, "not json"),
        ProviderError::Unexpected { .. }
    ));
    assert!(matches!(
        e(200, r#"{"success":false}"#),
        ProviderError::Unexpected { .. }
    ));
}
