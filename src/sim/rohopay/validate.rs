//! Checks a RohoPay disbursement body against the seed document: `phone` digits without `+`,
//! `amount` a positive integer in the smallest unit (minimum 1000 UGX), `currency` one of
//! UGX, KES, TZS, RWF, optional `description` and `callback_url`. Every problem is named.

use serde::Deserialize;
use serde_json::Value;

use crate::sim::{callback::is_callback_url, money::Cur};

/// Currencies RohoPay accepts.
pub(crate) const CURRENCIES: [Cur; 4] = [Cur::Ugx, Cur::Kes, Cur::Tzs, Cur::Rwf];
/// Documented minimum disbursement, in UGX.
const MIN_UGX: u64 = 1000;

/// A valid disbursement request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Disbursement {
    pub phone: String,
    pub amount: u64,
    pub currency: Cur,
    pub callback_url: Option<String>,
}

/// A RohoPay currency from its code.
pub(crate) fn currency(code: &str) -> Option<Cur> {
    Cur::from_code(code).filter(|c| CURRENCIES.contains(c))
}

#[derive(Deserialize)]
struct Body {
    phone: Option<Value>,
    amount: Option<Value>,
    currency: Option<Value>,
    description: Option<Value>,
    callback_url: Option<Value>,
}

/// Parse and check a body; the error is one message naming every bad field.
pub(crate) fn disbursement(raw: &[u8]) -> Result<Disbursement, String> {
    if raw.trim_ascii_start().first() != Some(&b'{') {
        return Err("request body must be a JSON object".to_owned());
    }
    let body: Body =
        serde_json::from_slice(raw).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    let mut problems = Vec::new();

    let phone = match body.phone {
        None | Some(Value::Null) => {
            problems.push("phone is required".to_owned());
            None
        }
        Some(Value::String(p)) if is_phone(&p) => Some(p),
        Some(_) => {
            problems.push(
                "phone must be 10 to 15 digits in international format without + \
                 (e.g. 256700123456)"
                    .to_owned(),
            );
            None
        }
    };
    let currency = match body.currency {
        None | Some(Value::Null) => {
            problems.push("currency is required".to_owned());
            None
        }
        Some(Value::String(code)) if currency(&code).is_some() => currency(&code),
        Some(_) => {
            problems.push("currency must be one of UGX, KES, TZS, RWF".to_owned());
            None
        }
    };
    let amount = match body.amount {
        None | Some(Value::Null) => {
            problems.push("amount is required".to_owned());
            None
        }
        Some(Value::Number(n)) if n.as_u64().is_some_and(|a| a > 0) => n.as_u64(),
        Some(_) => {
            problems
                .push("amount must be a positive integer in the smallest currency unit".to_owned());
            None
        }
    };
    if let (Some(amount), Some(Cur::Ugx)) = (amount, currency)
        && amount < MIN_UGX
    {
        problems.push(format!("amount must be at least {MIN_UGX} UGX"));
    }
    if !matches!(
        body.description,
        None | Some(Value::Null | Value::String(_))
    ) {
        problems.push("description must be a string".to_owned());
    }
    let callback_url = match body.callback_url {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) if is_callback_url(&url) => Some(url),
        Some(_) => {
            problems.push("callback_url must be an http(s) URL".to_owned());
            None
        }
    };

    match (phone, amount, currency) {
        (Some(phone), Some(amount), Some(currency)) if problems.is_empty() => Ok(Disbursement {
            phone,
            amount,
            currency,
            callback_url,
        }),
        _ => Err(problems.join("; ")),
    }
}

fn is_phone(phone: &str) -> bool {
    (10..=15).contains(&phone.len()) && phone.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's curl example body, byte for byte (the integration tests send it too).
    const SEED_BODY: &str = include_str!("../../../samples/seed/rohopay-disburse.json");

    #[test]
    fn the_seed_example_is_valid() {
        assert_eq!(
            disbursement(SEED_BODY.as_bytes()),
            Ok(Disbursement {
                phone: "256700123456".into(),
                amount: 25000,
                currency: Cur::Ugx,
                callback_url: Some("https://your-app.com/webhooks/rohopay".into()),
            })
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = disbursement(
            br#"{"phone": "+256700123456", "amount": 25000.5, "currency": "USD",
                 "description": 7, "callback_url": "nope"}"#,
        )
        .unwrap_err();
        for field in ["phone", "amount", "currency", "description", "callback_url"] {
            assert!(err.contains(field), "{field} missing from {err}");
        }
        let err = disbursement(b"{}").unwrap_err();
        for field in [
            "phone is required",
            "amount is required",
            "currency is required",
        ] {
            assert!(err.contains(field), "{field} missing from {err}");
        }
    }

    #[test]
    fn amount_rules() {
        let body = |amount: &str, cur: &str| {
            format!(r#"{{"phone":"256700123456","amount":{amount},"currency":"{cur}"}}"#)
        };
        assert!(
            disbursement(body("999", "UGX").as_bytes())
                .unwrap_err()
                .contains("1000 UGX")
        );
        assert!(disbursement(body("1000", "UGX").as_bytes()).is_ok());
        assert!(disbursement(body("999", "KES").as_bytes()).is_ok());
        for bad in ["0", "-5", "1e3", "\"2500\"", "18446744073709551616"] {
            assert!(disbursement(body(bad, "KES").as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_must_be_a_json_object() {
        assert!(
            disbursement(b"[\"256700123456\", 25000, \"UGX\"]")
                .unwrap_err()
                .contains("object")
        );
        assert!(disbursement(b"{\"phone\":").unwrap_err().contains("JSON"));
        assert!(disbursement(b"").is_err());
    }

    #[test]
    fn phone_is_ten_to_fifteen_digits() {
        assert!(is_phone("2567001234"));
        assert!(is_phone("256700123456789"));
        assert!(!is_phone("256700123"));
        assert!(!is_phone("2567001234567890"));
        assert!(!is_phone("256 700123456"));
    }
}
