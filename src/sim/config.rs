//! What a simulator instance does: fault probabilities, timings, balances, signing secret.
//! Built by `payrun sim` from its flags, by `run --sandbox`, and by tests directly.

use std::collections::BTreeMap;

use super::lies::LieMode;
use super::money::{Cur, major_to_minor};

/// Default live balance of every wallet currency, in minor units: 10^15, more than any
/// test or benchmark pays, so a default simulator never runs dry.
pub const DEFAULT_BALANCE_MINOR: u64 = 1_000_000_000_000_000;

/// Everything that shapes a simulator's behaviour. `Default` is a well-behaved provider:
/// no faults, seed 0, immediate settlement, 10^15 minor units in every currency.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed for every random choice (faults and ids).
    pub seed: u64,
    /// Probability that a payout request is answered 500/503 with nothing executed.
    pub error_rate: f64,
    /// Probability that a payout is executed and the connection then closed with no answer.
    pub drop_rate: f64,
    /// Probability that a payout's answer is delayed by `slow_ms`.
    pub slow_rate: f64,
    /// Delay of a slow answer, in milliseconds.
    pub slow_ms: u64,
    /// Requests per second (both providers together) before answering 429.
    pub rate_limit: Option<u32>,
    /// Payout requests (both providers together) answered normally before the next ones are
    /// answered 429, whatever their rate (`--throttle-after`).
    pub throttle_after: Option<u64>,
    /// How many payout requests after `throttle_after` are answered 429; all when `None`
    /// (`--throttle-count`).
    pub throttle_count: Option<u64>,
    /// The `Retry-After` header of every 429, as written: seconds or an HTTP date
    /// (`--retry-after`); `1` when `None`.
    pub retry_after: Option<String>,
    /// Probability that a payout ends `failed` instead of successful.
    pub fail_rate: f64,
    /// Probability that RohoPay answers from its secondary provider (iotec).
    pub failover_rate: f64,
    /// Milliseconds from the answer until a payout becomes terminal.
    pub settle_ms: u64,
    /// Live wallet balance per ISO currency code, in MINOR units; currencies not listed get
    /// `default_balance_minor`. Each provider has its own copy.
    pub balances: BTreeMap<String, u64>,
    /// Balance of every currency not in `balances`, in minor units.
    pub default_balance_minor: u64,
    /// Secret for `X-Signature` on callbacks; unsigned callbacks when `None`.
    pub webhook_secret: Option<String>,
    /// For tests only: probability that an answer lies (see [`LieMode`]).
    pub lie_rate: f64,
    /// The lies told when one is due; empty means every mode.
    pub lie_modes: Vec<LieMode>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            error_rate: 0.0,
            drop_rate: 0.0,
            slow_rate: 0.0,
            slow_ms: 2000,
            rate_limit: None,
            throttle_after: None,
            throttle_count: None,
            retry_after: None,
            fail_rate: 0.0,
            failover_rate: 0.0,
            settle_ms: 0,
            balances: BTreeMap::new(),
            default_balance_minor: DEFAULT_BALANCE_MINOR,
            webhook_secret: None,
            lie_rate: 0.0,
            lie_modes: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Parse `"UGX=500000,KES=1000.50"` (major units, as a person writes them) into minor
    /// units per currency code, exactly. Spaces around items are allowed; a currency given
    /// twice, an unknown code or too many decimals is an error.
    pub fn parse_balances(spec: &str) -> Result<BTreeMap<String, u64>, String> {
        let mut balances = BTreeMap::new();
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let Some((code, amount)) = item.split_once('=') else {
                return Err(format!(
                    "balance {item:?} is not CUR=AMOUNT (e.g. UGX=500000)"
                ));
            };
            let (code, amount) = (code.trim(), amount.trim());
            let cur = Cur::from_code(&code.to_ascii_uppercase()).ok_or_else(|| {
                format!("balance currency {code:?} is not one of UGX, KES, TZS, RWF, GHS, GMD, XAF")
            })?;
            let minor = major_to_minor(amount, cur.exponent())
                .map_err(|e| format!("balance {cur} amount {amount:?} {e}"))?;
            if balances.insert(cur.code().to_owned(), minor).is_some() {
                return Err(format!("balance currency {cur} is given twice"));
            }
        }
        if balances.is_empty() {
            return Err("balance list is empty; write e.g. UGX=500000,KES=1000.50".to_owned());
        }
        Ok(balances)
    }

    /// Check values a flag parser might not have: probabilities, rate, currency codes.
    pub(crate) fn check(&self) -> Result<(), String> {
        let rates = [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
            ("slow_rate", self.slow_rate),
            ("fail_rate", self.fail_rate),
            ("failover_rate", self.failover_rate),
            ("lie_rate", self.lie_rate),
        ];
        for (name, p) in rates {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} {p} is not a probability between 0 and 1"));
            }
        }
        if self.rate_limit == Some(0) {
            return Err("rate_limit must be at least 1 request per second".to_owned());
        }
        if let Some(value) = &self.retry_after
            && (value.trim().is_empty() || axum::http::HeaderValue::from_str(value.trim()).is_err())
        {
            return Err(format!(
                "retry_after {value:?} is not a header value (write seconds, e.g. 999999, or an HTTP date)"
            ));
        }
        if let Some(code) = self.balances.keys().find(|c| Cur::from_code(c).is_none()) {
            return Err(format!("balance currency {code:?} is not a known currency"));
        }
        Ok(())
    }

    /// Starting live balance of each currency, indexed by [`Cur::index`].
    pub(crate) fn opening_balances(&self) -> [u64; Cur::ALL.len()] {
        Cur::ALL.map(|cur| {
            self.balances
                .get(cur.code())
                .copied()
                .unwrap_or(self.default_balance_minor)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_are_parsed_in_major_units_into_exact_minor_units() {
        let b = SimConfig::parse_balances("UGX=500000, KES=1000.50,xaf=7").unwrap();
        assert_eq!(b["UGX"], 500_000);
        assert_eq!(b["KES"], 100_050);
        assert_eq!(b["XAF"], 7);
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn bad_balance_lists_are_refused_with_the_reason() {
        let err = |s| SimConfig::parse_balances(s).unwrap_err();
        assert!(err("UGX=10.5").contains("decimal places"));
        assert!(err("USD=10").contains("USD"));
        assert!(err("UGX").contains("CUR=AMOUNT"));
        assert!(err("UGX=1,UGX=2").contains("twice"));
        assert!(err("KES=1e3").contains("plain decimal"));
        assert!(err(" , ").contains("empty"));
    }

    #[test]
    fn default_is_a_well_behaved_provider() {
        let c = SimConfig::default();
        assert_eq!(c.check(), Ok(()));
        assert_eq!(c.opening_balances(), [DEFAULT_BALANCE_MINOR; 7]);
        assert_eq!(c.settle_ms, 0);
        assert_eq!(c.rate_limit, None);
    }

    #[test]
    fn check_refuses_impossible_values() {
        let bad = SimConfig {
            drop_rate: 1.5,
            ..SimConfig::default()
        };
        assert!(bad.check().unwrap_err().contains("drop_rate"));
        let bad = SimConfig {
            rate_limit: Some(0),
            ..SimConfig::default()
        };
        assert!(bad.check().is_err());
        let bad = SimConfig {
            retry_after: Some("a\nb".into()),
            ..SimConfig::default()
        };
        assert!(bad.check().unwrap_err().contains("retry_after"));
        let mut bad = SimConfig::default();
        bad.balances.insert("EUR".into(), 1);
        assert!(bad.check().unwrap_err().contains("EUR"));
    }

    #[test]
    fn listed_balances_override_the_default_per_currency() {
        let config = SimConfig {
            balances: SimConfig::parse_balances("KES=1.5").unwrap(),
            default_balance_minor: 9,
            ..SimConfig::default()
        };
        let opening = config.opening_balances();
        assert_eq!(opening[Cur::Kes.index()], 150);
        assert_eq!(opening[Cur::Ugx.index()], 9);
    }
}
