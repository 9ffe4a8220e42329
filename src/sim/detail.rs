//! The provider-specific part of a simulated payout (RohoPay's ids and failover flag,
//! Rumbapay's identifier, echoed amount and `extra`). Its own file because the payout record
//! (`payout`) holds these and each API's wire format (`rohopay::wire`, `rumbapay::wire`) reads
//! them together with the payout: both import this file, and neither imports the other back.

use serde::Serialize;
use serde_json::{Value, value::RawValue};
use uuid::Uuid;

/// RohoPay-specific part of a payout.
#[derive(Debug)]
pub(crate) struct RohoDetail {
    pub id: Box<str>,
    pub internal_reference: Box<str>,
    pub provider_reference: Box<str>,
    /// Answered by the secondary provider (iotec).
    pub failover: bool,
    /// SHA-256 of the first request's raw body, to tell a replay from a reused key.
    pub body_digest: [u8; 32],
}

/// Rumbapay-specific part of a payout.
#[derive(Debug)]
pub(crate) struct RumbaDetail {
    /// `MOB` + 9 digits.
    pub identifier: Box<str>,
    pub request_id: Uuid,
    pub description: Box<str>,
    /// The amount exactly as the request wrote it, echoed in `amount` and `billing_amount`.
    pub amount: Box<RawValue>,
    pub extra: Vec<ExtraPair>,
}

/// One `extra` entry: the request's `{"key_1": "value"}` becomes `{"key": "key_1", "value": "value"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ExtraPair {
    pub key: String,
    pub value: Value,
}
