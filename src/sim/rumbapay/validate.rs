//! Checks a Rumbapay payout body against the seed document and reports one `error_fields`
//! entry per missing or invalid field (dotted paths such as `mobile_money.phone`), as the
//! seed's `error_code` 30 example does. The amount is read from its literal JSON text, so
//! `2500.10` is exactly 250010 minor units, never a float.

use serde::Deserialize;
use serde_json::{Map, Value, value::RawValue};

use super::{
    rules,
    wire::{ExtraPair, FieldError},
};
use crate::sim::{
    callback::is_callback_url,
    money::{Cur, DecimalError, major_to_minor},
};

/// The body as sent, before any check. `amount` keeps its literal text.
#[derive(Debug, Deserialize)]
pub(crate) struct Body {
    method: Option<Value>,
    reference: Option<Value>,
    currency: Option<Value>,
    amount: Option<Box<RawValue>>,
    description: Option<Value>,
    mobile_money: Option<Value>,
    customer: Option<Value>,
    callback_url: Option<Value>,
    extra: Option<Value>,
}

impl Body {
    /// The reference, if it is a string: the key requests are counted under.
    pub(crate) fn reference(&self) -> Option<&str> {
        self.reference.as_ref().and_then(Value::as_str)
    }
}

/// A payout that passed every check.
#[derive(Debug)]
pub(crate) struct Payout {
    pub reference: String,
    pub currency: Cur,
    pub amount_minor: u64,
    pub amount: Box<RawValue>,
    pub description: String,
    pub phone: String,
    pub callback_url: Option<String>,
    pub extra: Vec<ExtraPair>,
}

/// Parse the body; a body that is not a JSON object is one error on the field `body`.
pub(crate) fn parse(raw: &[u8]) -> Result<Body, Vec<FieldError>> {
    if raw.trim_ascii_start().first() != Some(&b'{') {
        return Err(vec![FieldError::new("body", "body must be a JSON object")]);
    }
    serde_json::from_slice(raw).map_err(|e| {
        vec![FieldError::new(
            "body",
            format!("body is not valid JSON: {e}"),
        )]
    })
}

const CUSTOMER_REQUIRED: [&str; 4] = ["identifier", "phone", "first_name", "last_name"];
const CUSTOMER_OPTIONAL: [&str; 11] = [
    "email",
    "middle_name",
    "country",
    "state_code",
    "city",
    "address",
    "zip_code",
    "itn",
    "birthday",
    "ip",
    "gender",
];

/// Check every field; all problems are reported at once.
pub(crate) fn check(body: Body) -> Result<Payout, Vec<FieldError>> {
    let mut errors = Vec::new();
    let e = &mut errors;
    if let Some(method) = required_str(body.method.as_ref(), "method", e)
        && method != "mobile_money"
    {
        e.push(FieldError::new("method", "method must be mobile_money"));
    }
    let reference = required_str(body.reference.as_ref(), "reference", e).map(str::to_owned);
    let currency = required_str(body.currency.as_ref(), "currency", e).and_then(|code| {
        let cur = rules::currency(code);
        if cur.is_none() {
            e.push(FieldError::new(
                "currency",
                "currency must be one of KES, TZS, GHS, GMD, XAF",
            ));
        }
        cur
    });
    let amount_minor = amount(body.amount.as_deref(), currency, e);
    let description = optional_str(body.description.as_ref(), "description", e);
    let phone = mobile_money(body.mobile_money.as_ref(), currency, e);
    if let Some(customer) = object(body.customer.as_ref(), "customer", e) {
        for name in CUSTOMER_REQUIRED {
            required_str(customer.get(name), &format!("customer.{name}"), e);
        }
        for name in CUSTOMER_OPTIONAL {
            optional_str(customer.get(name), &format!("customer.{name}"), e);
        }
    }
    let callback_url = optional_str(body.callback_url.as_ref(), "callback_url", e);
    if callback_url.is_some_and(|url| !is_callback_url(url)) {
        e.push(FieldError::new(
            "callback_url",
            "callback_url must be an http(s) URL",
        ));
    }
    let callback_url = callback_url.map(str::to_owned);
    let description = description.unwrap_or_default().to_owned();
    let extra = extra(body.extra, e);
    match (reference, currency, amount_minor, body.amount, phone) {
        (Some(reference), Some(currency), Some(amount_minor), Some(amount), Some(phone))
            if errors.is_empty() =>
        {
            Ok(Payout {
                reference,
                currency,
                amount_minor,
                amount,
                description,
                phone,
                callback_url,
                extra,
            })
        }
        _ => Err(errors),
    }
}

fn required_str<'a>(
    value: Option<&'a Value>,
    field: &str,
    e: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match value {
        None | Some(Value::Null) => {
            e.push(FieldError::new(
                field,
                format!("{field} is a required field"),
            ));
            None
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            e.push(FieldError::new(
                field,
                format!("{field} is a required field"),
            ));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            e.push(FieldError::new(field, format!("{field} must be a string")));
            None
        }
    }
}

fn optional_str<'a>(
    value: Option<&'a Value>,
    field: &str,
    e: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            e.push(FieldError::new(field, format!("{field} must be a string")));
            None
        }
    }
}

fn object<'a>(
    value: Option<&'a Value>,
    field: &str,
    e: &mut Vec<FieldError>,
) -> Option<&'a Map<String, Value>> {
    match value {
        None | Some(Value::Null) => {
            e.push(FieldError::new(
                field,
                format!("{field} is a required field"),
            ));
            None
        }
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            e.push(FieldError::new(field, format!("{field} must be an object")));
            None
        }
    }
}

/// The amount in minor units, from its literal text.
fn amount(raw: Option<&RawValue>, currency: Option<Cur>, e: &mut Vec<FieldError>) -> Option<u64> {
    let Some(text) = raw.map(RawValue::get) else {
        e.push(FieldError::new("amount", "amount is a required field"));
        return None;
    };
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        let message = if text.starts_with('-') {
            "amount must be greater than 0"
        } else {
            "amount must be a number"
        };
        e.push(FieldError::new("amount", message));
        return None;
    }
    // Without a valid currency the decimals cannot be judged; check the syntax only.
    let exponent = currency.map_or_else(
        || {
            text.split_once('.')
                .map_or(0, |(_, f)| f.len().min(18) as u32)
        },
        Cur::exponent,
    );
    let message = match major_to_minor(text, exponent) {
        Ok(0) => "amount must be greater than 0".to_owned(),
        Ok(minor) => return currency.map(|_| minor),
        Err(DecimalError::TooManyDecimals(n)) => {
            format!("amount must have at most {n} decimal places for this currency")
        }
        Err(DecimalError::TooLarge) if currency.is_none() => return None,
        Err(DecimalError::TooLarge) => "amount is too large".to_owned(),
        Err(DecimalError::Empty | DecimalError::NotDecimal) => {
            "amount must be a plain decimal number (no exponent)".to_owned()
        }
    };
    e.push(FieldError::new("amount", message));
    None
}

/// Check `mobile_money`; returns the phone.
fn mobile_money(
    value: Option<&Value>,
    currency: Option<Cur>,
    e: &mut Vec<FieldError>,
) -> Option<String> {
    let mm = object(value, "mobile_money", e)?;
    let phone = required_str(mm.get("phone"), "mobile_money.phone", e).and_then(|phone| {
        let ok = match currency {
            Some(cur) => rules::is_country_phone(cur, phone),
            None => rules::is_international(phone),
        };
        if !ok {
            let message = match currency {
                Some(cur) => format!(
                    "mobile_money.phone must be a {} number: +{} then {} digits",
                    rules::country(cur),
                    cur.dialling_code(),
                    cur.national_digits()
                ),
                None => "mobile_money.phone must be + followed by digits".to_owned(),
            };
            e.push(FieldError::new("mobile_money.phone", message));
        }
        ok.then(|| phone.to_owned())
    });
    if let Some(operator) = required_str(mm.get("operator"), "mobile_money.operator", e)
        && let Some(cur) = currency
        && !rules::is_operator(cur, operator)
    {
        e.push(FieldError::new(
            "mobile_money.operator",
            format!(
                "mobile_money.operator must be one of {} for {}",
                rules::operators(cur).join(", "),
                rules::country(cur)
            ),
        ));
    }
    for name in ["beneficiary_first_name", "beneficiary_last_name"] {
        required_str(mm.get(name), &format!("mobile_money.{name}"), e);
    }
    for name in ["beneficiary_document_type", "beneficiary_document_value"] {
        optional_str(mm.get(name), &format!("mobile_money.{name}"), e);
    }
    phone
}

/// `[{"key_1": "value"}, ...]` → key/value pairs, in order.
fn extra(value: Option<Value>, e: &mut Vec<FieldError>) -> Vec<ExtraPair> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .flatten()
            .map(|(key, value)| ExtraPair { key, value })
            .collect(),
        Some(_) => {
            e.push(FieldError::new(
                "extra",
                "extra must be an array of objects, e.g. [{\"key_1\":\"value\"}]",
            ));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests;
