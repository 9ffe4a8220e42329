//! The one rule for trusting a provider's answer: compare what it says was paid — amount,
//! currency, phone, and (Rumbapay) the reference — with the request payrun stored for the row.
//! Used for every answer: a direct answer, an idempotent replay, a status lookup, the
//! transaction behind a "duplicate reference", and (through [`Callback`] facts) webhooks. A fact
//! the answer leaves out is not a contradiction; a present, different value is (README,
//! "Answers that contradict the request").

use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Callback, Receipt};
use crate::domain::{Currency, ProviderKind, format_major};

/// What the stored request asked for, read back from its exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    /// The reference the provider must echo (Rumbapay: the row's key); RohoPay echoes none.
    pub reference: Option<String>,
    /// The payee's number, digits only.
    pub phone: String,
    pub amount_minor: u64,
    pub currency: String,
}

/// An amount as an answer wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerAmount {
    /// Converted exactly to minor units of the answer's (or else the request's) currency.
    Minor(u64),
    /// Not an exact amount of that currency (too many decimals, a sign, an exponent): kept as
    /// written so the note can show it.
    Unreadable(String),
}

/// What an answer says was paid; `None` where it does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerFacts {
    pub reference: Option<String>,
    /// The payee's number as written (digits, perhaps with `+`).
    pub phone: Option<String>,
    pub amount: Option<AnswerAmount>,
    pub currency: Option<String>,
}

impl AnswerFacts {
    /// The facts a callback carries.
    pub fn of_callback(cb: &Callback) -> AnswerFacts {
        AnswerFacts {
            reference: cb.key.clone(),
            phone: cb.phone.clone(),
            amount: cb.amount_minor.map(AnswerAmount::Minor),
            currency: cb.currency.clone(),
        }
    }
}

/// One way an answer disagrees with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contradiction {
    Reference { answer: String, request: String },
    Phone { answer: String, request: String },
    Amount { answer: String, request: String },
    Currency { answer: String, request: String },
}

impl fmt::Display for Contradiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, answer, request) = match self {
            Contradiction::Reference { answer, request } => ("reference", answer, request),
            Contradiction::Phone { answer, request } => ("phone", answer, request),
            Contradiction::Amount { answer, request } => ("amount", answer, request),
            Contradiction::Currency { answer, request } => ("currency", answer, request),
        };
        write!(f, "{what} {answer} in the answer, {request} in the request")
    }
}

/// Every way `answer` contradicts `request` (empty: nothing contradicts).
pub fn contradictions(request: &RequestFacts, answer: &AnswerFacts) -> Vec<Contradiction> {
    let mut found = Vec::new();
    if let (Some(expected), Some(got)) = (&request.reference, &answer.reference)
        && expected != got
    {
        found.push(Contradiction::Reference {
            answer: got.clone(),
            request: expected.clone(),
        });
    }
    if let Some(phone) = &answer.phone {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if digits != request.phone {
            found.push(Contradiction::Phone {
                answer: mask(phone),
                request: mask(&request.phone),
            });
        }
    }
    if let Some(currency) = &answer.currency
        && !currency.trim().eq_ignore_ascii_case(&request.currency)
    {
        found.push(Contradiction::Currency {
            answer: currency.clone(),
            request: request.currency.clone(),
        });
    }
    let show = |minor: u64| match Currency::parse(&request.currency) {
        Ok(c) => format!("{} {c}", format_major(u128::from(minor), c)),
        Err(_) => format!("{minor} (smallest unit) {}", request.currency),
    };
    match &answer.amount {
        Some(AnswerAmount::Minor(minor)) if *minor != request.amount_minor => {
            found.push(Contradiction::Amount {
                answer: show(*minor),
                request: show(request.amount_minor),
            });
        }
        Some(AnswerAmount::Unreadable(text)) => found.push(Contradiction::Amount {
            answer: format!("{text:?}"),
            request: show(request.amount_minor),
        }),
        _ => {}
    }
    found
}

/// The contradictions as one line for the journal, `None` when there are none.
pub fn describe(found: &[Contradiction]) -> Option<String> {
    (!found.is_empty()).then(|| {
        found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

impl Receipt {
    /// Compare this answer with the request stored as `body` for `key`: the contradictions,
    /// as one line, or `None` when the answer can be trusted. A request that cannot be read
    /// back is itself a reason not to trust the answer.
    pub fn contradiction(&self, kind: ProviderKind, key: &str, body: &[u8]) -> Option<String> {
        let request = match request_facts(kind, key, body) {
            Ok(r) => r,
            Err(e) => return Some(e.to_string()),
        };
        let mut found = contradictions(&request, &self.facts);
        if self.duplicate && self.facts.reference.is_none() {
            found.push(Contradiction::Reference {
                answer: "(none)".into(),
                request: key.to_owned(),
            });
        }
        describe(&found).map(|list| {
            let ids = [&self.refs.provider_id, &self.refs.request_id]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let ids = if ids.is_empty() { String::new() } else { format!(" (its id {ids})") };
            let what = if self.duplicate {
                "the transaction Rumbapay named for \"duplicate reference\""
            } else {
                "the provider's answer"
            };
            format!(
                "{what}{ids} contradicts the request: {list}; not counted as paid, check this payout with the provider"
            )
        })
    }
}

/// A phone shown with all but its last four digits hidden.
fn mask(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let keep = digits.len().saturating_sub(4);
    digits
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { *c })
        .collect()
}

/// Why the stored request could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("the stored {provider} request cannot be read back: {reason}")]
pub struct FactsError {
    provider: &'static str,
    reason: String,
}

#[derive(Deserialize)]
struct RohopayRequest {
    phone: String,
    amount: u64,
    currency: String,
}

#[derive(Deserialize)]
struct RumbapayRequest {
    currency: String,
    amount: Box<RawValue>,
    mobile_money: RumbapayPhone,
}

#[derive(Deserialize)]
struct RumbapayPhone {
    phone: String,
}

/// The facts of the stored body `body` sent with `key`.
pub fn request_facts(
    kind: ProviderKind,
    key: &str,
    body: &[u8],
) -> Result<RequestFacts, FactsError> {
    let digits = |p: &str| p.chars().filter(char::is_ascii_digit).collect::<String>();
    match kind {
        ProviderKind::Rohopay => {
            let r: RohopayRequest = serde_json::from_slice(body).map_err(|e| FactsError {
                provider: "rohopay",
                reason: e.to_string(),
            })?;
            Ok(RequestFacts {
                reference: None,
                phone: digits(&r.phone),
                amount_minor: r.amount,
                currency: r.currency,
            })
        }
        ProviderKind::Rumbapay => {
            let error = |reason: String| FactsError {
                provider: "rumbapay",
                reason,
            };
            let r: RumbapayRequest =
                serde_json::from_slice(body).map_err(|e| error(e.to_string()))?;
            let amount = match exact_amount(r.amount.get(), &r.currency) {
                AnswerAmount::Minor(m) => m,
                AnswerAmount::Unreadable(t) => return Err(error(format!("amount {t}"))),
            };
            Ok(RequestFacts {
                reference: Some(key.to_owned()),
                phone: digits(&r.mobile_money.phone),
                amount_minor: amount,
                currency: r.currency,
            })
        }
    }
}

/// A major-unit amount as written on the wire (a JSON number, or a string holding one) in exact
/// minor units of `currency`; never through a float. Trailing zeros after the point are fine
/// (`2500.50`, `2500.500`, `2500.0` for a currency without decimals).
pub fn exact_amount(raw: &str, currency: &str) -> AnswerAmount {
    let text = serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.trim().to_owned());
    let unreadable = || AnswerAmount::Unreadable(text.clone());
    let Ok(currency) = Currency::parse(currency) else {
        return unreadable();
    };
    let exponent = currency.exponent() as usize;
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
        return unreadable();
    }
    if fraction.len() > exponent {
        return unreadable();
    }
    let padded = format!("{whole}{fraction:0<exponent$}");
    padded
        .parse::<u64>()
        .map_or_else(|_| unreadable(), AnswerAmount::Minor)
}

/// A minor-unit amount as written on the wire (RohoPay): a whole JSON number.
pub fn exact_minor(raw: &str) -> AnswerAmount {
    let text = raw.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b == b'0')
        && let Ok(n) = whole.parse::<u64>()
    {
        return AnswerAmount::Minor(n);
    }
    AnswerAmount::Unreadable(text.to_owned())
}

#[cfg(test)]
mod tests;
