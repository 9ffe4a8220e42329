//! Unit tests of the Rumbapay payout checks, starting from the seed's own example body.

use serde_json::{Value, json};

use super::*;

/// The seed's example request, its `// required` comments removed (the file the integration
/// tests send too).
fn seed_body() -> Value {
    serde_json::from_str(include_str!(
        "../../../../samples/seed/rumbapay-payout.json"
    ))
    .expect("samples/seed/rumbapay-payout.json is JSON")
}

fn run(body: &Value) -> Result<Payout, Vec<FieldError>> {
    check(parse(body.to_string().as_bytes())?)
}

fn fields(body: &Value) -> Vec<String> {
    run(body)
        .unwrap_err()
        .into_iter()
        .map(|f| f.field)
        .collect()
}

#[test]
fn the_seed_example_is_valid() {
    let payout = run(&seed_body()).unwrap();
    assert_eq!(payout.reference, "1234-dfgdgfdfew");
    assert_eq!(payout.currency, Cur::Kes);
    assert_eq!(payout.amount_minor, 250_000);
    assert_eq!(payout.amount.get(), "2500");
    assert_eq!(payout.phone, "+254712973246");
    assert_eq!(payout.extra.len(), 4);
    assert_eq!(payout.extra[0].key, "key_1");
    assert_eq!(payout.extra[0].value, "value");
}

#[test]
fn one_error_field_per_missing_field() {
    let mut body = seed_body();
    let obj = body.as_object_mut().unwrap();
    obj.remove("currency");
    obj.remove("method");
    obj["mobile_money"].as_object_mut().unwrap().remove("phone");
    obj["customer"]
        .as_object_mut()
        .unwrap()
        .remove("first_name");
    let errors = run(&body).unwrap_err();
    let fields: Vec<_> = errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "method",
            "currency",
            "mobile_money.phone",
            "customer.first_name"
        ]
    );
    assert_eq!(errors[1].message, "currency is a required field");
}

#[test]
fn an_empty_object_names_every_required_field() {
    assert_eq!(
        fields(&json!({})),
        [
            "method",
            "reference",
            "currency",
            "amount",
            "mobile_money",
            "customer"
        ]
    );
    assert_eq!(
        fields(&json!({"mobile_money": {}, "customer": {}}))[4..],
        [
            "mobile_money.phone",
            "mobile_money.operator",
            "mobile_money.beneficiary_first_name",
            "mobile_money.beneficiary_last_name",
            "customer.identifier",
            "customer.phone",
            "customer.first_name",
            "customer.last_name",
        ]
    );
}

#[test]
fn amounts_are_exact_decimals_within_the_currency_exponent() {
    let with_amount = |amount: &str, currency: &str| {
        let mut text = seed_body().to_string();
        text = text.replace("\"amount\":2500", &format!("\"amount\":{amount}"));
        text = text.replace(
            "\"currency\":\"KES\"",
            &format!("\"currency\":\"{currency}\""),
        );
        check(parse(text.as_bytes()).unwrap())
    };
    let ok = with_amount("2500.10", "KES").unwrap();
    assert_eq!((ok.amount_minor, ok.amount.get()), (250_010, "2500.10"));
    for bad in ["2500.123", "0", "-5", "2.5e3", "\"2500\"", "0.00"] {
        let errors = with_amount(bad, "KES").unwrap_err();
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert_eq!(errors[0].field, "amount", "{bad}");
    }
    // XAF has no decimals; the phone then also fails (KE number), so look for amount.
    let errors = with_amount("10.5", "XAF").unwrap_err();
    assert!(errors.iter().any(|f| f.field == "amount"), "{errors:?}");
}

#[test]
fn phone_operator_and_names_are_checked_against_the_country() {
    let mut body = seed_body();
    body["mobile_money"]["phone"] = json!("+255712973246");
    body["mobile_money"]["operator"] = json!("vodacom");
    body["mobile_money"]["beneficiary_last_name"] = json!(" ");
    assert_eq!(
        fields(&body),
        [
            "mobile_money.phone",
            "mobile_money.operator",
            "mobile_money.beneficiary_last_name"
        ]
    );
    let mut body = seed_body();
    body["mobile_money"]["operator"] = json!("Airtel Kenya");
    assert!(run(&body).is_ok());
}

#[test]
fn wrong_types_and_shapes_are_named() {
    let mut body = seed_body();
    body["method"] = json!("bank_transfer");
    body["description"] = json!(5);
    body["callback_url"] = json!("merchant.shop.com");
    body["extra"] = json!({"key_1": "value"});
    body["customer"]["email"] = json!(false);
    assert_eq!(
        fields(&body),
        [
            "method",
            "description",
            "customer.email",
            "callback_url",
            "extra"
        ]
    );
    assert_eq!(
        fields(&json!({"customer": "x", "mobile_money": 1}))[4..],
        ["mobile_money", "customer"]
    );
}

#[test]
fn optional_fields_may_be_absent() {
    let mut body = seed_body();
    let obj = body.as_object_mut().unwrap();
    for name in ["description", "callback_url", "extra"] {
        obj.remove(name);
    }
    let payout = run(&body).unwrap();
    assert_eq!(payout.description, "");
    assert!(payout.extra.is_empty());
    assert!(payout.callback_url.is_none());
}

#[test]
fn a_body_that_is_not_an_object_is_one_body_error() {
    for raw in [&b"[1,2]"[..], b"", b"{\"reference\":", b"null"] {
        let errors = parse(raw).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "body");
    }
    assert_eq!(
        parse(br#"{"reference": "r-1"}"#).unwrap().reference(),
        Some("r-1")
    );
}
