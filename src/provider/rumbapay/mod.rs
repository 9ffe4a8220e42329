//! Rumbapay (seeds/rumbapay-payout.txt): `POST /v1/payout` with `reference` = the idempotency
//! key, `GET /v1/transaction/{request_id}`. Wire types are private to this file. A reused
//! reference (409, `error_code` 40) means Rumbapay already has the payout: accepted, not failed.

use crate::domain::{PayoutRefs, PayoutStatus};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::http::{self, Answer, ApiBase, excerpt, retry_after_from};
use super::{
    AnswerFacts, BodyContext, Callback, CallbackError, Provider, ProviderConfig, ProviderError,
    QueryRef, Receipt, verify,
};
use crate::domain::{Currency, MinorUnits, PayeeRow, ProviderKind, format_major};

#[derive(Serialize)]
struct PayoutRequest<'a> {
    method: &'static str,
    reference: &'a str,
    currency: &'a str,
    /// Major units as an exact JSON number (`1520.50`), never through a float.
    amount: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    mobile_money: MobileMoney<'a>,
    customer: Customer<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
    extra: Vec<BTreeMap<&'static str, &'a str>>,
}

#[derive(Serialize)]
struct MobileMoney<'a> {
    phone: String,
    operator: &'a str,
    beneficiary_first_name: &'a str,
    beneficiary_last_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    beneficiary_document_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beneficiary_document_value: Option<&'a str>,
}

#[derive(Serialize)]
struct Customer<'a> {
    identifier: &'a str,
    phone: String,
    first_name: &'a str,
    last_name: &'a str,
    country: &'a str,
}

#[derive(Deserialize)]
struct Transaction {
    identifier: Option<String>,
    request_id: Option<String>,
    status: Option<StatusBody>,
    #[serde(default)]
    error_code: i64,
    error_message: Option<String>,
    /// The reference payrun sent (its idempotency key), the amount as written (major units,
    /// never through a float) and the currency: compared with the request.
    reference: Option<String>,
    amount: Option<Box<RawValue>>,
    currency: Option<String>,
}

impl Transaction {
    fn facts(&self) -> AnswerFacts {
        AnswerFacts {
            reference: self.reference.clone(),
            phone: None,
            amount: self.amount.as_ref().map(|raw| {
                verify::exact_amount(raw.get(), self.currency.as_deref().unwrap_or_default())
            }),
            currency: self.currency.clone(),
        }
    }
}

#[derive(Deserialize)]
struct StatusBody {
    name: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error_code: i64,
    error_reason: Option<String>,
    request_id: Option<String>,
    #[serde(default)]
    error_fields: Vec<ErrorField>,
}

#[derive(Deserialize)]
struct ErrorField {
    field: String,
    message: String,
}

/// Rumbapay's status words: `pending` and `success` are documented, `failed` is assumed.
enum RumbapayStatus {
    Pending,
    Success,
    Failed,
    Other,
}

impl From<&str> for RumbapayStatus {
    fn from(word: &str) -> Self {
        match word.to_ascii_lowercase().as_str() {
            "pending" | "processing" | "created" => RumbapayStatus::Pending,
            "success" | "successful" | "completed" => RumbapayStatus::Success,
            "failed" | "declined" | "rejected" | "cancelled" | "error" => RumbapayStatus::Failed,
            _ => RumbapayStatus::Other,
        }
    }
}

impl From<RumbapayStatus> for PayoutStatus {
    fn from(status: RumbapayStatus) -> Self {
        match status {
            RumbapayStatus::Pending | RumbapayStatus::Other => PayoutStatus::Pending,
            RumbapayStatus::Success => PayoutStatus::Succeeded,
            RumbapayStatus::Failed => PayoutStatus::Failed,
        }
    }
}

const DUPLICATE_REFERENCE: i64 = 40;
const INVALID_PARAMS: i64 = 30;
const NOT_FOUND: i64 = 101;
const INSUFFICIENT_BALANCE: i64 = 60;

/// The payout body. `reference` is the row's idempotency key; the customer is the payee,
/// identified by the row's reference or, without one, its phone.
/// Where a stored request body names the operator (an SQLite JSON path), for the pre-flight's
/// totals per operator.
pub const OPERATOR_PATH: &str = "$.mobile_money.operator";

pub fn request_body(
    row: &PayeeRow,
    key: &str,
    ctx: &BodyContext<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    let amount = RawValue::from_string(format_major(u128::from(row.amount.get()), row.currency))?;
    let first = row.first_name.as_deref().unwrap_or_default();
    let last = row.last_name.as_deref().unwrap_or_default();
    let e164 = row.phone.e164();
    let identifier = row
        .reference
        .as_deref()
        .unwrap_or(row.phone.international());
    serde_json::to_vec(&PayoutRequest {
        method: "mobile_money",
        reference: key,
        currency: row.currency.code(),
        amount,
        description: row.description.as_deref(),
        mobile_money: MobileMoney {
            phone: e164.clone(),
            operator: row.operator.map(|o| o.name()).unwrap_or_default(),
            beneficiary_first_name: first,
            beneficiary_last_name: last,
            beneficiary_document_type: row.document.as_ref().map(|(t, _)| t.as_str()),
            beneficiary_document_value: row.document.as_ref().map(|(_, v)| v.as_str()),
        },
        customer: Customer {
            identifier,
            phone: e164,
            first_name: first,
            last_name: last,
            country: row.phone.country().iso2(),
        },
        callback_url: ctx.callback_url,
        extra: vec![BTreeMap::from([("payrun_batch", ctx.batch_id)])],
    })
}

/// A stored payout body with its fields in [`PayoutRequest`]'s order, each kept as written
/// except `reference`: what a retry changes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRequest {
    method: Box<RawValue>,
    reference: String,
    currency: Box<RawValue>,
    amount: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<Box<RawValue>>,
    mobile_money: Box<RawValue>,
    customer: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    callback_url: Option<Box<RawValue>>,
    extra: Box<RawValue>,
}

/// A payout body made by [`request_body`] with `reference` in place of its own: the bytes
/// [`request_body`] makes with that key.
pub fn body_with_reference(body: &[u8], reference: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut stored: StoredRequest = serde_json::from_slice(body)?;
    stored.reference = reference.to_string();
    serde_json::to_vec(&stored)
}

/// Read a terminal-status callback: the payout object of the seed's Callback example. The
/// amount is in major units (assumed, as for payouts) and converted exactly to minor units.
pub fn parse_callback(body: &[u8]) -> Result<Callback, CallbackError> {
    const PROVIDER: &str = "rumbapay";
    let json = |source| CallbackError::Json {
        provider: PROVIDER,
        source,
    };
    let transaction: Transaction = serde_json::from_slice(body).map_err(json)?;
    if transaction.status.is_none() {
        return Err(CallbackError::Missing {
            provider: PROVIDER,
            field: "`status` object",
        });
    }
    let amount_minor = match &transaction.amount {
        None => None,
        Some(raw) => Some(callback_amount(raw, transaction.currency.as_deref())?),
    };
    let (key, currency) = (transaction.reference.clone(), transaction.currency.clone());
    Ok(Callback {
        key,
        amount_minor,
        currency,
        ..Callback::from_receipt(receipt_of(transaction, 200))
    })
}

/// A callback amount (a JSON number, or a string holding one) in major units of `currency`,
/// as exact minor units.
fn callback_amount(raw: &RawValue, currency: Option<&str>) -> Result<u64, CallbackError> {
    let text = serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned());
    let error = |reason: String| CallbackError::Amount {
        provider: "rumbapay",
        amount: text.clone(),
        currency: currency.unwrap_or_default().to_owned(),
        reason,
    };
    let currency =
        Currency::parse(currency.unwrap_or_default()).map_err(|e| error(e.to_string()))?;
    MinorUnits::parse_major(&text, currency)
        .map(MinorUnits::get)
        .map_err(|e| error(e.to_string()))
}

pub struct RumbapayClient {
    api: ApiBase,
}

impl RumbapayClient {
    pub fn new(config: &ProviderConfig) -> Result<RumbapayClient, reqwest::Error> {
        Ok(RumbapayClient {
            api: ApiBase::new(config)?,
        })
    }
}

fn receipt_of(t: Transaction, http_status: u16) -> Receipt {
    let facts = t.facts();
    let word = t.status.map(|s| s.name).unwrap_or_else(|| "pending".into());
    let reason = t
        .error_message
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    Receipt {
        status: RumbapayStatus::from(word.as_str()).into(),
        status_word: word,
        refs: PayoutRefs {
            provider_id: t.identifier,
            request_id: t.request_id,
            ..PayoutRefs::default()
        },
        unconfirmed: false,
        duplicate: false,
        facts,
        http_status,
        reason,
    }
}

/// Interpret a payout or transaction answer. `Ok(None)` = transaction not found (101).
fn interpret(answer: Answer) -> Result<Option<Receipt>, ProviderError> {
    let status = answer.status.as_u16();
    if answer.status.is_success() {
        let Ok(t) = serde_json::from_slice::<Transaction>(&answer.body) else {
            return Err(ProviderError::Unexpected {
                status,
                message: excerpt(&answer.body),
            });
        };
        if t.error_code == 0 {
            return Ok(Some(receipt_of(t, status)));
        }
        let message = t.error_message.unwrap_or_else(|| excerpt(&answer.body));
        return Err(ProviderError::Unexpected { status, message });
    }
    let error = serde_json::from_slice::<ErrorBody>(&answer.body).ok();
    let code = error.as_ref().map_or(0, |e| e.error_code);
    match (status, code) {
        (_, DUPLICATE_REFERENCE) => Ok(Some(Receipt {
            status: PayoutStatus::Pending,
            status_word: "duplicate reference".into(),
            refs: PayoutRefs {
                request_id: error.and_then(|e| e.request_id),
                ..PayoutRefs::default()
            },
            unconfirmed: true,
            duplicate: true,
            facts: AnswerFacts::default(),
            http_status: status,
            reason: None,
        })),
        (404, _) | (_, NOT_FOUND) if code == NOT_FOUND => Ok(None),
        _ => Err(error_of(status, code, error, &answer)),
    }
}

fn error_of(status: u16, code: i64, error: Option<ErrorBody>, answer: &Answer) -> ProviderError {
    let message = match error {
        Some(e) if !e.error_fields.is_empty() => e
            .error_fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        Some(ErrorBody {
            error_reason: Some(reason),
            ..
        }) => format!("{reason} (error_code {code})"),
        _ => excerpt(&answer.body),
    };
    match (status, code) {
        (_, INSUFFICIENT_BALANCE) => ProviderError::InsufficientFunds { status, message },
        (_, INVALID_PARAMS) => ProviderError::Rejected { status, message },
        _ => super::common_error(status, message, retry_after_from(&answer.headers)).unwrap_or(
            ProviderError::Unexpected {
                status,
                message: excerpt(&answer.body),
            },
        ),
    }
}

impl RumbapayClient {
    /// "Duplicate reference": look up the transaction Rumbapay named. Its answer is returned
    /// marked `duplicate`, so it is trusted only if it carries the row's key as its reference;
    /// without a transaction to look at, the payout stays unconfirmed (in doubt).
    async fn duplicate(&self, dup: Receipt) -> Result<Receipt, ProviderError> {
        let status = dup.http_status;
        let Some(request_id) = dup.refs.request_id.as_deref() else {
            return Err(ProviderError::Unconfirmed {
                status,
                message: "named no transaction (no request_id) to confirm it".into(),
                contradicts: false,
            });
        };
        let url = self.api.url("/transaction", &[request_id])?;
        let looked_up = match http::send(self.api.get(url)).await {
            Ok(answer) => interpret(answer),
            Err(e) => Err(e),
        };
        match looked_up {
            Ok(Some(found)) => Ok(Receipt {
                duplicate: true,
                ..found
            }),
            Ok(None) => Err(ProviderError::Unconfirmed {
                status,
                message: format!("has no transaction under the request id it gave ({request_id})"),
                contradicts: true,
            }),
            Err(e) => Err(ProviderError::Unconfirmed {
                status,
                message: format!("its transaction {request_id} could not be looked up: {e}"),
                contradicts: false,
            }),
        }
    }
}

impl Provider for RumbapayClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Rumbapay
    }

    fn is_test_key(&self) -> bool {
        self.api.is_test_key()
    }

    async fn submit(&self, _key: &str, body: &[u8]) -> Result<Receipt, ProviderError> {
        let request = self.api.post(self.api.url("/payout", &[])?, body);
        let answer = http::send(request).await?;
        let status = answer.status.as_u16();
        let receipt = interpret(answer)?.ok_or(ProviderError::Misconfigured {
            status,
            message: "payout endpoint answered \"transaction not found\"".into(),
        })?;
        if receipt.duplicate {
            return self.duplicate(receipt).await;
        }
        Ok(receipt)
    }

    async fn query(&self, payout: &QueryRef) -> Result<Option<Receipt>, ProviderError> {
        let Some(request_id) = payout.request_id.as_deref() else {
            return Ok(None);
        };
        let url = self.api.url("/transaction", &[request_id])?;
        interpret(http::send(self.api.get(url)).await?)
    }

    /// No balance endpoint is documented.
    async fn balance(&self, _currency: Currency) -> Result<Option<u64>, ProviderError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
