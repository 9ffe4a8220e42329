//! The pre-flight: what is about to be sent (rows, totals per currency, the part that may
//! already be paid because it is in doubt) and the wallet balance against it. A shortfall or a
//! balance that cannot be read refuses the batch before anything is sent; a provider with no
//! balance endpoint is said so and not refused. Rows that repeat an earlier row's phone,
//! amount and currency are listed, and refuse a run that nobody confirms at a terminal unless
//! `--allow-repeats` says they are meant.

use std::collections::BTreeMap;
use std::time::Duration;

use super::endpoint::Destination;
use crate::domain::RowState;
use crate::domain::{Currency, ProviderKind};
use crate::exit::Refused;
use crate::ingest::Summary;
use crate::journal::{OperatorCount, Repeats, StateCount};
use crate::provider::{ErrorClass, Provider, ProviderError};

/// What a run is about to send, and whether the wallet covers it.
#[derive(Clone, Debug)]
pub struct Preflight {
    /// Where payouts go.
    pub destination: Destination,
    /// Rows this run sets out to send (planned, sending, in doubt).
    pub open: u64,
    /// Rows in the batch.
    pub total_rows: u64,
    /// Warnings the person confirming must see.
    pub notes: Vec<String>,
    /// Per currency, in code order; the list ends at the first balance that could not be read.
    pub currencies: Vec<CurrencyCheck>,
    /// The sandbox's wallet has no limit set.
    pub sandbox_unlimited: bool,
    /// Planned rows repeating an earlier row's phone, amount and currency.
    pub repeats: Repeats,
    /// Open rows and money per currency and operator (providers that take an operator).
    pub operators: Vec<OperatorCount>,
    /// What validation saw, when this run planned the file (its warnings are shown again).
    pub validation: Option<Box<Summary>>,
    /// The approval the batch is paid under, when the policy asks for one.
    pub approved: Option<super::approval::Approved>,
}

/// What the journal says a run is about to send.
#[derive(Clone, Debug, Default)]
pub struct Ahead {
    /// Open rows and money per state and currency.
    pub counts: Vec<StateCount>,
    /// Rows in the batch.
    pub total_rows: u64,
    pub repeats: Repeats,
    pub operators: Vec<OperatorCount>,
}

/// One currency's open total against its balance.
#[derive(Clone, Debug)]
pub struct CurrencyCheck {
    pub currency: String,
    /// Minor units never sent.
    pub planned: u128,
    /// Minor units possibly already executed (in doubt or sending).
    pub doubtful: u128,
    pub balance: BalanceCheck,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BalanceCheck {
    Enough(u128),
    Short(u128),
    /// Not checked, and why (no balance endpoint, no balance for that currency).
    Unknown(String),
    /// The balance could not be read: the batch is refused.
    Failed(String),
}

impl Preflight {
    /// Read the balance of every open currency.
    pub async fn check<P: Provider>(
        provider: &P,
        destination: Destination,
        ahead: Ahead,
        sandbox_unlimited: bool,
        notes: Vec<String>,
    ) -> Preflight {
        let mut currencies = Vec::new();
        for (currency, (planned, doubtful)) in open_totals(&ahead.counts) {
            let balance = check_balance(provider, &currency, planned).await;
            let failed = matches!(balance, BalanceCheck::Failed(_));
            currencies.push(CurrencyCheck {
                currency,
                planned,
                doubtful,
                balance,
            });
            if failed {
                break;
            }
        }
        Preflight {
            destination,
            open: ahead.counts.iter().map(|c| c.rows).sum(),
            total_rows: ahead.total_rows,
            notes,
            currencies,
            sandbox_unlimited,
            repeats: ahead.repeats,
            operators: ahead.operators,
            validation: None,
            approved: None,
        }
    }

    /// Repeated payments refuse a run unless `--allow-repeats` says they are meant, or a
    /// person confirms at the terminal after seeing them listed.
    pub fn repeats_refusal(&self, allowed: bool, person_confirms: bool) -> Option<Refused> {
        let n = self.repeats.count;
        (n > 0 && !allowed && !person_confirms).then(|| {
            Refused(format!(
                "{n} payout(s) repeat an earlier row's phone, amount and currency (listed above): a row pasted \
                 twice pays that person twice. Nothing was sent. If each of them is meant to be paid, run the \
                 same command again with --allow-repeats; if not, delete the repeated rows from the file first."
            ))
        })
    }

    /// Why nothing may be sent: a balance that could not be read, or one that is short.
    pub fn refusal(&self) -> Option<Refused> {
        for c in &self.currencies {
            if let BalanceCheck::Failed(why) = &c.balance {
                return Some(Refused(format!(
                    "could not read the {} wallet balance ({why}); nothing was sent",
                    c.currency
                )));
            }
        }
        let short: Vec<&str> = self
            .currencies
            .iter()
            .filter(|c| matches!(c.balance, BalanceCheck::Short(_)))
            .map(|c| c.currency.as_str())
            .collect();
        (!short.is_empty()).then(|| {
            Refused(format!(
                "insufficient balance in {}; top up and run again. Nothing was sent.",
                short.join(", ")
            ))
        })
    }
}

/// Per currency: (minor units never sent, minor units possibly already executed).
fn open_totals(counts: &[StateCount]) -> BTreeMap<String, (u128, u128)> {
    let mut out: BTreeMap<String, (u128, u128)> = BTreeMap::new();
    for c in counts.iter().filter(|c| c.state.is_open()) {
        let entry = out.entry(c.currency.clone()).or_default();
        if c.state == RowState::Planned {
            entry.0 += c.amount_minor;
        } else {
            entry.1 += c.amount_minor;
        }
    }
    out
}

/// Balance reads tried before a busy provider (429, 5xx, no connection) refuses the batch.
const BALANCE_TRIES: u32 = 5;

/// Read a balance, waiting out a 429's `Retry-After` (or a short backoff after a 5xx or a
/// failed connection) a few times: a provider asking to slow down is no reason to refuse.
async fn read_balance<P: Provider>(
    provider: &P,
    cur: Currency,
) -> Result<Option<u64>, ProviderError> {
    let mut tries = 1;
    loop {
        let err = match provider.balance(cur).await {
            Err(err) if tries < BALANCE_TRIES => err,
            other => return other,
        };
        let wait = match (&err, err.class()) {
            (ProviderError::RateLimited { retry_after }, _) => {
                retry_after.unwrap_or(Duration::from_secs(1))
            }
            (_, ErrorClass::Retryable) => Duration::from_millis(250 * u64::from(tries)),
            _ => return Err(err),
        };
        tokio::time::sleep(wait.min(Duration::from_secs(30))).await;
        tries += 1;
    }
}

async fn check_balance<P: Provider>(provider: &P, currency: &str, need: u128) -> BalanceCheck {
    let Ok(cur) = Currency::parse(currency) else {
        return BalanceCheck::Unknown(format!("unknown currency {currency}"));
    };
    match read_balance(provider, cur).await {
        Ok(Some(balance)) if u128::from(balance) >= need => BalanceCheck::Enough(balance.into()),
        Ok(Some(balance)) => BalanceCheck::Short(balance.into()),
        Ok(None) if provider.kind() == ProviderKind::Rumbapay => {
            BalanceCheck::Unknown("Rumbapay documents no balance endpoint".into())
        }
        Ok(None) => BalanceCheck::Unknown(format!("the provider did not report a {cur} balance")),
        Err(e) => BalanceCheck::Failed(e.to_string()),
    }
}
