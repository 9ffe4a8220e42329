//! Unit tests of the rumbapay client: bodies against the seed, answers, status and error maps.
use super::*;
use crate::domain::{Country, MinorUnits, Operator, Phone};
use reqwest::{StatusCode, header::HeaderMap};

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        headers: HeaderMap::new(),
        body: body.as_bytes().to_vec(),
    }
}

fn row() -> PayeeRow {
    let (phone, _) = Phone::parse("+254712973246", Some(Country::Kenya)).unwrap();
    PayeeRow {
        line: 5,
        reference: Some("AG-7".into()),
        phone,
        amount: MinorUnits::new(152050).unwrap(),
        currency: Currency::KES,
        operator: Some(Operator::parse("mpesa", Country::Kenya).unwrap()),
        first_name: Some("Oki".into()),
        last_name: Some("Doki".into()),
        description: Some("Commission".into()),
        document: Some(("national_id".into(), "7876543".into())),
        occurrence: 0,
    }
}

#[test]
fn body_follows_the_seed_with_exact_major_amount() {
    let ctx = BodyContext {
        batch_id: "comm-1",
        callback_url: None,
    };
    let bytes = request_body(&row(), "key-1", &ctx).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(r#""amount":1520.50"#), "{text}");
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["method"], "mobile_money");
    assert_eq!(body["reference"], "key-1");
    assert_eq!(body["currency"], "KES");
    assert_eq!(body["mobile_money"]["phone"], "+254712973246");
    assert_eq!(body["mobile_money"]["operator"], "mpesa");
    assert_eq!(
        OPERATOR_PATH, "$.mobile_money.operator",
        "the path to the field above"
    );
    assert_eq!(body["mobile_money"]["beneficiary_first_name"], "Oki");
    assert_eq!(
        body["mobile_money"]["beneficiary_document_type"],
        "national_id"
    );
    assert_eq!(body["customer"]["identifier"], "AG-7");
    assert_eq!(body["customer"]["phone"], "+254712973246");
    assert_eq!(body["customer"]["last_name"], "Doki");
    assert_eq!(body["customer"]["country"], "KE");
    assert!(body.get("callback_url").is_none());
    assert_eq!(body["extra"][0]["payrun_batch"], "comm-1");
}

#[test]
fn a_new_attempt_body_is_the_body_made_with_the_new_reference() {
    for (description, callback_url) in [(true, None), (false, Some("https://h.example/cb"))] {
        let mut payee = row();
        if !description {
            payee.description = None;
        }
        let ctx = BodyContext {
            batch_id: "comm-1",
            callback_url,
        };
        let first = request_body(&payee, "key-1", &ctx).unwrap();
        let again = body_with_reference(&first, "key-2").unwrap();
        assert_eq!(again, request_body(&payee, "key-2", &ctx).unwrap());
        assert_eq!(
            crate::provider::body_with_key(ProviderKind::Rumbapay, &first, "key-2").unwrap(),
            again
        );
    }
    assert!(body_with_reference(br#"{"reference":"k","surprise":1}"#, "x").is_err());
    assert_eq!(
        crate::provider::body_with_key(ProviderKind::Rohopay, b"{\"a\":1}", "key-2").unwrap(),
        b"{\"a\":1}"
    );
}

#[test]
fn reads_the_seed_response_and_statuses() {
    let r = interpret(answer(
        200,
        r#"{"identifier":"MOB000137185","request_id":"6ae8671e-6b6f-4678-981a-36a783aa73ec",
        "reference":"1234-dfgdgfdfew","status":{"name":"pending","date":"2025-08-27T08:27:49.014"},
        "amount":2500,"billing_amount":2500,"currency":"KES","extra":[],"error_code":0,"error_message":""}"#,
    ))
    .unwrap()
    .unwrap();
    assert_eq!(r.status, PayoutStatus::Pending);
    assert_eq!(r.refs.provider_id.as_deref(), Some("MOB000137185"));
    assert_eq!(
        r.refs.request_id.as_deref(),
        Some("6ae8671e-6b6f-4678-981a-36a783aa73ec")
    );
    assert_eq!(
        PayoutStatus::from(RumbapayStatus::from("success")),
        PayoutStatus::Succeeded
    );
    assert_eq!(
        PayoutStatus::from(RumbapayStatus::from("failed")),
        PayoutStatus::Failed
    );
}

#[test]
fn reads_the_seed_callback_with_an_exact_amount() {
    let c = parse_callback(
        br#"{"identifier":"MOB000137185","request_id":"6ae8671e-6b6f-4678-981a-36a783aa73ec",
        "reference":"1234-dfgdgfdfew","description":"My order payin",
        "status":{"name":"success","date":"2025-08-27T08:27:49.014"},
        "created_date":"2025-08-27T08:27:45.764","amount":2500,"billing_amount":2500,
        "currency":"KES","extra":[{"key":"key_2","value":"value"}],
        "timestamp":"2025-08-27T08:27:49.2818969Z","error_code":0,"error_message":""}"#,
    )
    .unwrap();
    assert_eq!(c.status, PayoutStatus::Succeeded);
    assert_eq!(c.status_word, "success");
    assert_eq!(c.key.as_deref(), Some("1234-dfgdgfdfew"));
    assert_eq!(
        c.refs.request_id.as_deref(),
        Some("6ae8671e-6b6f-4678-981a-36a783aa73ec")
    );
    assert_eq!(c.refs.provider_id.as_deref(), Some("MOB000137185"));
    assert_eq!(c.amount_minor, Some(250_000));
    assert_eq!(c.currency.as_deref(), Some("KES"));
    assert_eq!(c.phone, None);
    let cents = parse_callback(
        br#"{"reference":"r","status":{"name":"failed"},"amount":1520.07,"currency":"KES"}"#,
    )
    .unwrap();
    assert_eq!(cents.amount_minor, Some(152_007));
    assert_eq!(cents.status, PayoutStatus::Failed);
}

#[test]
fn a_failed_payout_says_why_in_its_own_words() {
    let failed = r#"{"request_id":"R1","reference":"k","status":{"name":"failed"},
        "amount":10,"currency":"KES","error_code":0,"error_message":"  Wallet is closed "}"#;
    let r = interpret(answer(200, failed)).unwrap().unwrap();
    assert_eq!(r.status, PayoutStatus::Failed);
    assert_eq!(r.reason.as_deref(), Some("Wallet is closed"));
    let c = parse_callback(failed.as_bytes()).unwrap();
    assert_eq!(c.reason.as_deref(), Some("Wallet is closed"));
    // The seed's empty message is no reason.
    let r = interpret(answer(
        200,
        r#"{"status":{"name":"failed"},"error_code":0,"error_message":""}"#,
    ))
    .unwrap()
    .unwrap();
    assert_eq!(r.reason, None);
}

#[test]
fn refuses_callbacks_it_cannot_read() {
    for (body, kind) in [
        (&b"{"[..], "json"),
        (br#"[1,2]"#, "json"),
        (br#"{"reference":"r"}"#, "missing"),
        (
            br#"{"reference":"r","status":{"name":"success"},"amount":10.123,"currency":"KES"}"#,
            "amount",
        ),
        (
            br#"{"reference":"r","status":{"name":"success"},"amount":10,"currency":"USD"}"#,
            "amount",
        ),
        (
            br#"{"reference":"r","status":{"name":"success"},"amount":10}"#,
            "amount",
        ),
    ] {
        let err = parse_callback(body).unwrap_err();
        assert_eq!(err.kind(), kind, "{}: {err}", String::from_utf8_lossy(body));
        assert!(err.to_string().contains("rumbapay"), "{err}");
    }
}

#[test]
fn duplicate_reference_is_accepted_unconfirmed() {
    let r = interpret(answer(
        409,
        r#"{"error_code":40,"error_reason":"Duplicate reference","request_id":"abc","timestamp":"x"}"#,
    ))
    .unwrap()
    .unwrap();
    assert!(r.unconfirmed);
    assert_eq!(r.status, PayoutStatus::Pending);
    assert_eq!(r.refs.request_id.as_deref(), Some("abc"));
}

#[test]
fn classifies_errors() {
    let invalid = interpret(answer(
        400,
        r#"{"error_code":30,"error_reason":"Invalid params","request_id":"r","error_fields":[
           {"field":"currency","message":"currency is a required field"}],"timestamp":"t"}"#,
    ))
    .unwrap_err();
    assert_eq!(
        invalid,
        ProviderError::Rejected {
            status: 400,
            message: "currency: currency is a required field".into()
        }
    );
    assert_eq!(
        interpret(answer(
            404,
            r#"{"error_code":101,"error_reason":"Transaction not found"}"#
        ))
        .unwrap(),
        None
    );
    assert!(matches!(
        interpret(answer(
            402,
            r#"{"error_code":60,"error_reason":"Insufficient balance"}"#
        )),
        Err(ProviderError::InsufficientFunds { .. })
    ));
    assert!(matches!(
        interpret(answer(401, "{}")),
        Err(ProviderError::Unauthorized { .. })
    ));
    assert!(matches!(
        interpret(answer(429, "{}")),
        Err(ProviderError::RateLimited { .. })
    ));
    assert!(matches!(
        interpret(answer(503, "")),
        Err(ProviderError::Server { .. })
    ));
    assert!(matches!(
        interpret(answer(404, "nope")),
        Err(ProviderError::Misconfigured { .. })
    ));
}
