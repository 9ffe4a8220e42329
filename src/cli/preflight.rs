//! The pre-flight: what is about to be sent (rows, totals per currency in major units, so a
//! 100x unit mistake is visible), the wallet balance against it, and the confirmation.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::summary::{grouped, major};
use crate::domain::{Currency, ProviderKind};
use crate::exit::Refused;
use crate::journal::{Batch, RowState, StateCount};
use crate::provider::{ErrorClass, Provider, ProviderError};

/// Print the pre-flight summary and refuse (exit 3) on a shortfall or an unreadable balance.
pub async fn show_and_check<P: Provider>(
    provider: &P,
    batch: &Batch,
    label: &str,
    open_counts: &[StateCount],
    total_rows: u64,
    sandbox_unlimited: bool,
    notes: &[String],
) -> anyhow::Result<()> {
    let open: u64 = open_counts.iter().map(|c| c.rows).sum();
    let totals = open_totals(open_counts);
    outln!("Pre-flight for batch {} ({})", batch.id, batch.file_name);
    outln!("  provider: {} {}", batch.provider, label);
    outln!(
        "  to send:  {open} payout(s); {} other row(s) already settled or rejected (see `payrun status`)",
        total_rows.saturating_sub(open)
    );
    for note in notes {
        outln!("  WARNING: {note}");
    }
    let mut shortfalls = Vec::new();
    for (currency, (planned, doubtful)) in &totals {
        let mut line = format!(
            "  {currency} {}",
            grouped(&major(planned + doubtful, currency))
        );
        if *doubtful > 0 {
            line.push_str(&format!(
                " (of which {} may already be paid: in doubt)",
                grouped(&major(*doubtful, currency))
            ));
        }
        match check_balance(provider, currency, *planned).await {
            BalanceCheck::Enough(_) if sandbox_unlimited => {
                line.push_str(" · balance unlimited (sandbox)")
            }
            BalanceCheck::Enough(balance) => line.push_str(&format!(
                " · balance {}",
                grouped(&major(balance, currency))
            )),
            BalanceCheck::Short(balance) => {
                line.push_str(&format!(
                    " · balance {} · SHORT by {}",
                    grouped(&major(balance, currency)),
                    grouped(&major(planned - balance, currency))
                ));
                shortfalls.push(currency.clone());
            }
            BalanceCheck::Unknown(why) => line.push_str(&format!(" · balance not checked: {why}")),
            BalanceCheck::Failed(why) => {
                outln!("{line}");
                return Err(Refused(format!(
                    "could not read the {currency} wallet balance ({why}); nothing was sent"
                ))
                .into());
            }
        }
        outln!("{line}");
    }
    if !shortfalls.is_empty() {
        return Err(Refused(format!(
            "insufficient balance in {}; top up and run again. Nothing was sent.",
            shortfalls.join(", ")
        ))
        .into());
    }
    Ok(())
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

enum BalanceCheck {
    Enough(u128),
    Short(u128),
    Unknown(String),
    Failed(String),
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

/// `--yes`, or a `yes` typed on a terminal.
pub async fn confirm(yes: bool, open: u64) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Refused(
            "not on a terminal, so payrun cannot ask for confirmation; add --yes to send. Nothing was sent."
                .into(),
        )
        .into());
    }
    eprint!("Send {open} payout(s)? Type yes to continue: ");
    let _ = std::io::stderr().flush();
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}
