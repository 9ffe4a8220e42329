//! Where payouts go: the real provider named by the environment, or the built-in simulator
//! started in-process for `--sandbox`.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::domain::ProviderKind;
use crate::domain::RowState;
use crate::exit::Refused;
use crate::journal::{Batch, JournalActor};
use crate::provider::ProviderConfig;
use crate::sim::{self, SimConfig, SimHandle};

/// Where to send, before connecting.
#[derive(Clone)]
pub enum Target {
    /// The real provider, as its environment variables configure it (README, "Environment variables").
    Env,
    /// A provider configured by the caller.
    Config(ProviderConfig),
    /// The built-in simulator, started in this process; `balance` (`KES=5000,UGX=100000`,
    /// major units) sets its wallet, unlimited otherwise.
    Sandbox { balance: Option<String> },
}

/// How the pre-flight names where payouts go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// The built-in simulator (no money moves).
    Sandbox(String),
    /// A provider's test mode.
    TestKey(String),
    Live(String),
}

/// Where payouts go: a real provider, or the built-in simulator.
pub struct Endpoint {
    pub config: ProviderConfig,
    pub sim: Option<SimHandle>,
}

/// The sandbox's wallet: effectively unlimited unless `--sandbox-balance` says otherwise.
const SANDBOX_BALANCE_MINOR: u64 = 1_000_000_000_000_000;

impl Endpoint {
    /// Reach provider `kind` at `target`.
    pub async fn connect(kind: ProviderKind, target: &Target) -> anyhow::Result<Endpoint> {
        let balance = match target {
            Target::Env => {
                return Ok(Endpoint {
                    config: ProviderConfig::from_env(kind)?,
                    sim: None,
                });
            }
            Target::Config(config) => {
                return Ok(Endpoint {
                    config: config.clone(),
                    sim: None,
                });
            }
            Target::Sandbox { balance } => balance.as_deref(),
        };
        let balances = match balance {
            Some(spec) => SimConfig::parse_balances(spec)
                .map_err(|e| anyhow::anyhow!("--sandbox-balance {spec:?}: {e}"))?,
            None => BTreeMap::new(),
        };
        let sim = sim::spawn(SimConfig {
            balances,
            default_balance_minor: SANDBOX_BALANCE_MINOR,
            ..SimConfig::default()
        })
        .await
        .context("could not start the sandbox simulator")?;
        let base = match kind {
            ProviderKind::Rohopay => sim.rohopay_base_url(),
            ProviderKind::Rumbapay => sim.rumbapay_base_url(),
        };
        let config = ProviderConfig::loopback(kind, &base, "live_sandbox")?;
        Ok(Endpoint {
            config,
            sim: Some(sim),
        })
    }

    /// Where payouts go, for the pre-flight.
    pub fn destination(&self) -> Destination {
        let url = self.config.base_url.to_string();
        if self.is_sandbox() {
            Destination::Sandbox(url)
        } else if self.config.is_test_key() {
            Destination::TestKey(url)
        } else {
            Destination::Live(url)
        }
    }

    /// Whether payouts go to the built-in simulator.
    pub fn is_sandbox(&self) -> bool {
        self.sim.is_some()
    }

    /// Stop the sandbox simulator, if there is one.
    pub async fn shutdown(self) {
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
    }

    /// Refuse a test key where the provider would refuse the disbursement anyway.
    pub fn check_key(&self, kind: ProviderKind) -> anyhow::Result<()> {
        if kind == ProviderKind::Rohopay && self.config.is_test_key() {
            return Err(Refused(
                "ROHOPAY_API_KEY is a test key (test_…): RohoPay blocks disbursements in test mode. \
                 Use a live_ key, or --sandbox to try payrun without money. Nothing was sent."
                    .into(),
            )
            .into());
        }
        Ok(())
    }
}

impl Endpoint {
    /// The batch is sent where it was planned to go. Another base URL is a warning for the
    /// pre-flight; another provider host is refused while rows may be with the first one
    /// (sending, in doubt, accepted): asking the new host about them, or sending them there
    /// again, could pay twice. Sandbox batches get a new simulator, and port, on every run:
    /// not checked.
    pub async fn check_planned(
        &self,
        actor: &JournalActor,
        batch: &Batch,
    ) -> anyhow::Result<Vec<String>> {
        let planned = shown_base_url(&batch.base_url);
        let here = self.config.base_url.to_string();
        if batch.sandbox || planned == here {
            return Ok(Vec::new());
        }
        let host = |u: &str| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        };
        if host(&planned) != host(&here) {
            let id = batch.id.clone();
            let counts = actor.call(move |j| j.state_counts(&id)).await??;
            let with_first: u64 = counts
                .iter()
                .filter(|c| {
                    matches!(
                        c.state,
                        RowState::Sending | RowState::InDoubt | RowState::Accepted
                    )
                })
                .map(|c| c.rows)
                .sum();
            if with_first > 0 {
                return Err(Refused(format!(
                    "batch {} was sent to {} and {with_first} of its payout(s) may be with that provider \
                     (sending, in doubt or accepted), but this run would send to {}, another host. Sending them \
                     there could pay them twice. Point the provider's base URL variable back to {} to continue \
                     this batch. Nothing was sent.",
                    batch.id, planned, here, planned
                ))
                .into());
            }
        }
        Ok(vec![format!(
            "batch {} was planned to be sent to {}; this run sends to {}",
            batch.id, planned, here
        )])
    }
}

/// A base URL read from the journal, without the user name and password an older payrun may
/// have stored in it.
fn shown_base_url(stored: &str) -> String {
    match url::Url::parse(stored) {
        Ok(mut url) => {
            // Both fail only for URLs that cannot have credentials.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => crate::provider::without_userinfo(stored),
    }
}
