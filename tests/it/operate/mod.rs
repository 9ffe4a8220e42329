//! Day-to-day operation against the simulator: config files and profiles, `retry` of failed
//! rows (and its crash safety), `cancel`, and what `status` says about how a run ended and
//! what to run next.

mod cancel;
mod config;
mod retry;
mod retry_crash;
mod status;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::pay::Fixture;

/// The payrun binary run in `dir` with no provider variables, journal or config from the
/// environment: only what the test gives it (a config file in `dir`, flags, variables).
pub fn bare(dir: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_payrun"));
    for var in [
        "PAYRUN_JOURNAL",
        "PAYRUN_CONFIG",
        "PAYRUN_PROFILE",
        "ROHOPAY_API_KEY",
        "ROHOPAY_BASE_URL",
        "RUMBAPAY_API_KEY",
        "RUMBAPAY_BASE_URL",
        "ROHOPAY_WEBHOOK_SECRET",
        "RUMBAPAY_WEBHOOK_SECRET",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("XDG_CONFIG_HOME", "/nonexistent/payrun-tests")
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Ledger entries per phone: how many payouts the provider executed for each payee.
pub async fn paid_per_phone(fx: &Fixture) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in fx.ledger().await {
        let phone = e["phone"]
            .as_str()
            .unwrap()
            .trim_start_matches('+')
            .to_string();
        out.entry(phone).or_default().push(e);
    }
    out
}

/// `payrun report BATCH --format json`, rows by reference.
pub async fn report_by_reference(fx: &Fixture, batch: &str) -> BTreeMap<String, Value> {
    fx.report(batch)
        .await
        .into_iter()
        .map(|r| (r["reference"].as_str().unwrap().to_string(), r))
        .collect()
}
