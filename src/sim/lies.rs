//! Lies, for tests only (`--lie-rate`, `--lie-modes`): with the given probability per request
//! the simulator gives an answer that contradicts what it did — another amount, phone,
//! currency or reference, a redirect after executing, a refusal of a replay, or "duplicate
//! reference" for a reference it never saw. The ledger (`/_sim/ledger`) always keeps the truth,
//! so a test can check that payrun trusted none of it.

use std::str::FromStr;

use axum::{
    body::{Body, to_bytes},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::faults::{Dice, Fault};

/// One way to lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LieMode {
    /// Answer another amount.
    Amount,
    /// Answer another phone (RohoPay answers carry the phone; Rumbapay's do not).
    Phone,
    /// Answer another currency.
    Currency,
    /// Answer another reference (Rumbapay).
    Reference,
    /// Execute, then answer 302 to another host and port.
    Redirect,
    /// Answer a replay of an executed request with a definitive 400.
    Replay4xx,
    /// Answer 409 "duplicate reference" for a reference never sent, executing nothing (Rumbapay).
    DupRef,
}

impl LieMode {
    pub const ALL: [LieMode; 7] = [
        LieMode::Amount,
        LieMode::Phone,
        LieMode::Currency,
        LieMode::Reference,
        LieMode::Redirect,
        LieMode::Replay4xx,
        LieMode::DupRef,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LieMode::Amount => "amount",
            LieMode::Phone => "phone",
            LieMode::Currency => "currency",
            LieMode::Reference => "reference",
            LieMode::Redirect => "redirect",
            LieMode::Replay4xx => "replay-4xx",
            LieMode::DupRef => "dup-ref",
        }
    }

    /// Parse `amount,phone,...`; empty means every mode.
    pub fn parse_list(spec: &str) -> Result<Vec<LieMode>, String> {
        let mut modes = Vec::new();
        for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let mode = LieMode::ALL
                .into_iter()
                .find(|m| m.name() == name)
                .ok_or_else(|| {
                    let all: Vec<_> = LieMode::ALL.iter().map(|m| m.name()).collect();
                    format!("lie mode {name:?} is not one of {}", all.join(", "))
                })?;
            if !modes.contains(&mode) {
                modes.push(mode);
            }
        }
        Ok(modes)
    }

    /// Modes that rewrite a successful answer's JSON.
    fn rewrites(self) -> bool {
        matches!(
            self,
            LieMode::Amount | LieMode::Phone | LieMode::Currency | LieMode::Reference
        )
    }
}

/// Where in a request's life a lie could be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moment {
    /// A new key: executed now, or (dup-ref, Rumbapay) answered "duplicate" without executing.
    Executed,
    /// A request repeating an executed key.
    Replay,
    /// A status lookup.
    Lookup,
}

/// Which lie, if any, this request gets: the dice decide whether to lie and which of the
/// enabled modes that fit the moment.
pub(crate) fn choose(
    dice: &Dice<'_>,
    rate: f64,
    modes: &[LieMode],
    moment: Moment,
    rumbapay: bool,
) -> Option<LieMode> {
    if !dice.hits(Fault::Lie, rate) {
        return None;
    }
    let all = if modes.is_empty() {
        &LieMode::ALL[..]
    } else {
        modes
    };
    let fits: Vec<LieMode> = all
        .iter()
        .copied()
        .filter(|m| match m {
            LieMode::Amount | LieMode::Currency => true,
            LieMode::Phone => !rumbapay,
            LieMode::Reference => rumbapay,
            LieMode::Redirect => moment == Moment::Executed,
            LieMode::Replay4xx => moment == Moment::Replay,
            LieMode::DupRef => moment == Moment::Executed && rumbapay,
        })
        .collect();
    if fits.is_empty() {
        return None;
    }
    let pick = (dice.unit(Fault::LieMode) * fits.len() as f64) as usize;
    fits.get(pick.min(fits.len() - 1)).copied()
}

/// Tell `lie` about `response` (a lie that does not fit its status is not told).
pub(crate) async fn tell(lie: Option<LieMode>, response: Response) -> Response {
    let Some(lie) = lie else { return response };
    if lie == LieMode::Redirect {
        return redirect();
    }
    if !lie.rewrites() || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // RohoPay wraps the payout in `data`; Rumbapay answers it bare.
    let payout = match json.get_mut("data") {
        Some(data) if data.is_object() => data,
        _ => &mut json,
    };
    rewrite(payout, lie);
    let out = serde_json::to_vec(&json).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

fn rewrite(payout: &mut Value, lie: LieMode) {
    let Some(object) = payout.as_object_mut() else {
        return;
    };
    match lie {
        LieMode::Amount => {
            for field in ["amount", "net_amount", "billing_amount"] {
                if let Some(v) = object.get_mut(field) {
                    *v = other_amount(v);
                }
            }
        }
        LieMode::Phone => {
            if let Some(Value::String(phone)) = object.get_mut("phone_number") {
                let last = phone.pop().and_then(|c| c.to_digit(10)).unwrap_or(0);
                phone.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
            }
        }
        LieMode::Currency => {
            if let Some(Value::String(code)) = object.get_mut("currency") {
                *code = if code == "KES" { "TZS" } else { "KES" }.to_owned();
            }
        }
        LieMode::Reference => {
            if let Some(Value::String(reference)) = object.get_mut("reference") {
                reference.push_str("-other");
            }
        }
        LieMode::Redirect | LieMode::Replay4xx | LieMode::DupRef => {}
    }
}

/// One whole unit more than `v` (a JSON number), written exactly.
fn other_amount(v: &Value) -> Value {
    let text = v.to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let Ok(whole) = whole.parse::<u64>() else {
        return v.clone();
    };
    let next = if fraction.is_empty() {
        format!("{}", whole + 1)
    } else {
        format!("{}.{fraction}", whole + 1)
    };
    serde_json::Number::from_str(&next).map_or_else(|_| v.clone(), Value::Number)
}

/// Where a redirect lie points: a loopback port nothing listens on.
pub(crate) const REDIRECT_TO: &str = "http://127.0.0.1:9/elsewhere";

fn redirect() -> Response {
    let mut response = StatusCode::FOUND.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(REDIRECT_TO));
    response
}

#[cfg(test)]
mod tests;
