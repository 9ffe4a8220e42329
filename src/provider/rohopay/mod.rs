//! RohoPay (seeds/rohopay-disburse.txt): `POST /api/v1/disburse` with `Idempotency-Key`,
//! `GET /api/v1/wallet/balance`. Wire types are private to this file; the `success`/`data`
//! envelope and status words are mapped into payrun's types here and nowhere else.

use crate::domain::{PayoutRefs, PayoutStatus};
use serde::{Deserialize, Serialize};

use super::http::{self, Answer, ApiBase, excerpt, retry_after_from};
use super::{
    AnswerAmount, AnswerFacts, BodyContext, Callback, CallbackError, Provider, ProviderConfig,
    ProviderError, QueryRef, Receipt, verify,
};
use crate::domain::{Currency, PayeeRow, ProviderKind};

#[derive(Serialize)]
struct DisburseRequest<'a> {
    phone: &'a str,
    amount: u64,
    currency: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    success: bool,
    data: Option<T>,
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Disbursement {
    id: Option<String>,
    internal_reference: Option<String>,
    provider_reference: Option<String>,
    status: String,
    provider: Option<String>,
    failover_reason: Option<String>,
    /// The payee facts the answer carries, compared with the request.
    phone_number: Option<String>,
    amount: Option<serde_json::Number>,
    currency: Option<String>,
}

impl Disbursement {
    fn facts(&self) -> AnswerFacts {
        AnswerFacts {
            reference: None,
            phone: self.phone_number.clone(),
            amount: self.amount.as_ref().map(|n| match n.as_u64() {
                Some(minor) => AnswerAmount::Minor(minor),
                None => verify::exact_minor(&n.to_string()),
            }),
            currency: self.currency.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Balance {
    balance_live: serde_json::Number,
    currency: String,
}

/// RohoPay's status words. `successful`/`failed` are assumed (the seed only shows `pending`).
enum RohopayStatus {
    Pending,
    Successful,
    Failed,
    Other,
}

impl From<&str> for RohopayStatus {
    fn from(word: &str) -> Self {
        match word.to_ascii_lowercase().as_str() {
            "pending" | "processing" | "queued" => RohopayStatus::Pending,
            "successful" | "success" | "completed" => RohopayStatus::Successful,
            "failed" | "cancelled" | "rejected" | "reversed" => RohopayStatus::Failed,
            _ => RohopayStatus::Other,
        }
    }
}

impl From<RohopayStatus> for PayoutStatus {
    fn from(status: RohopayStatus) -> Self {
        match status {
            RohopayStatus::Pending | RohopayStatus::Other => PayoutStatus::Pending,
            RohopayStatus::Successful => PayoutStatus::Succeeded,
            RohopayStatus::Failed => PayoutStatus::Failed,
        }
    }
}

impl From<Disbursement> for Receipt {
    fn from(d: Disbursement) -> Self {
        let facts = d.facts();
        Receipt {
            status: RohopayStatus::from(d.status.as_str()).into(),
            status_word: d.status,
            refs: PayoutRefs {
                provider_id: d.id,
                provider_reference: d.provider_reference,
                internal_reference: d.internal_reference,
                request_id: None,
                routed_provider: d.provider,
                failover_reason: d.failover_reason,
            },
            unconfirmed: false,
            duplicate: false,
            facts,
            http_status: 200,
            reason: None,
        }
    }
}

/// The disburse body: international phone without `+`, amount in the smallest unit.
pub fn request_body(row: &PayeeRow, ctx: &BodyContext<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let default_description = format!("payrun batch {}", ctx.batch_id);
    serde_json::to_vec(&DisburseRequest {
        phone: row.phone.international(),
        amount: row.amount.get(),
        currency: row.currency.code(),
        description: row.description.as_deref().unwrap_or(&default_description),
        callback_url: ctx.callback_url,
    })
}

/// Read a terminal-status callback. RohoPay documents none; payrun assumes the disbursement
/// envelope of the answer, `{"success": true, "data": {...}}`, with the final `status`.
pub fn parse_callback(body: &[u8]) -> Result<Callback, CallbackError> {
    const PROVIDER: &str = "rohopay";
    let envelope: Envelope<Disbursement> =
        serde_json::from_slice(body).map_err(|source| CallbackError::Json {
            provider: PROVIDER,
            source,
        })?;
    let Some(data) = envelope.data else {
        return Err(CallbackError::Missing {
            provider: PROVIDER,
            field: "`data` object",
        });
    };
    let amount_minor = match &data.amount {
        None => None,
        Some(n) => Some(n.as_u64().ok_or_else(|| CallbackError::Amount {
            provider: PROVIDER,
            amount: n.to_string(),
            currency: data.currency.clone().unwrap_or_default(),
            reason: "RohoPay amounts are whole numbers of the smallest unit".into(),
        })?),
    };
    let (phone, currency) = (data.phone_number.clone(), data.currency.clone());
    Ok(Callback {
        phone,
        amount_minor,
        currency,
        ..Callback::from_receipt(data.into())
    })
}

pub struct RohopayClient {
    api: ApiBase,
}

impl RohopayClient {
    pub fn new(config: &ProviderConfig) -> Result<RohopayClient, reqwest::Error> {
        Ok(RohopayClient {
            api: ApiBase::new(config)?,
        })
    }
}

/// Turn an answer into a receipt or a classified error.
fn interpret(answer: Answer) -> Result<Receipt, ProviderError> {
    let status = answer.status.as_u16();
    if answer.status.is_success() {
        return match serde_json::from_slice::<Envelope<Disbursement>>(&answer.body) {
            Ok(Envelope {
                success: true,
                data: Some(d),
                ..
            }) => Ok(Receipt {
                http_status: status,
                ..d.into()
            }),
            Ok(_) | Err(_) => Err(ProviderError::Unexpected {
                status,
                message: excerpt(&answer.body),
            }),
        };
    }
    Err(error_of(&answer))
}

fn error_of(answer: &Answer) -> ProviderError {
    let status = answer.status.as_u16();
    let error = serde_json::from_slice::<Envelope<serde::de::IgnoredAny>>(&answer.body)
        .ok()
        .and_then(|e| e.error);
    let code = error
        .as_ref()
        .and_then(|e| e.code.clone())
        .unwrap_or_default();
    let message = match error.and_then(|e| e.message) {
        Some(m) if code.is_empty() => m,
        Some(m) => format!("{m} ({code})"),
        None => excerpt(&answer.body),
    };
    if code.contains("insufficient") {
        return ProviderError::InsufficientFunds { status, message };
    }
    match status {
        409 => ProviderError::InFlight { status },
        422 => ProviderError::KeyReused { status, message },
        _ => super::common_error(status, message, retry_after_from(&answer.headers)).unwrap_or(
            ProviderError::Unexpected {
                status,
                message: excerpt(&answer.body),
            },
        ),
    }
}

impl Provider for RohopayClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Rohopay
    }

    fn is_test_key(&self) -> bool {
        self.api.is_test_key()
    }

    async fn submit(&self, key: &str, body: &[u8]) -> Result<Receipt, ProviderError> {
        let url = self.api.url("/api/v1/disburse", &[])?;
        let request = self.api.post(url, body).header("Idempotency-Key", key);
        interpret(http::send(request).await?)
    }

    /// RohoPay documents no status endpoint: the idempotent replay of the stored request
    /// (same key, same bytes) returns the payout with its current status (assumed).
    async fn query(&self, payout: &QueryRef) -> Result<Option<Receipt>, ProviderError> {
        self.submit(&payout.key, &payout.body).await.map(Some)
    }

    async fn balance(&self, currency: Currency) -> Result<Option<u64>, ProviderError> {
        let mut url = self.api.url("/api/v1/wallet/balance", &[])?;
        url.query_pairs_mut()
            .append_pair("currency", currency.code());
        let answer = http::send(self.api.get(url)).await?;
        if !answer.status.is_success() {
            return Err(error_of(&answer));
        }
        let status = answer.status.as_u16();
        match serde_json::from_slice::<Envelope<Balance>>(&answer.body) {
            Ok(Envelope {
                data: Some(b),
                success: true,
                ..
            }) => Ok(b
                .currency
                .eq_ignore_ascii_case(currency.code())
                .then(|| b.balance_live.as_u64())
                .flatten()),
            _ => Err(ProviderError::Unexpected {
                status,
                message: excerpt(&answer.body),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
