//! Where payouts go: the real provider named by the environment, or the built-in simulator
//! started in-process for `--sandbox`.

use std::collections::BTreeMap;

use anyhow::Context;

use super::SendArgs;
use crate::domain::ProviderKind;
use crate::exit::Refused;
use crate::provider::ProviderConfig;
use crate::sim::{self, SimConfig, SimHandle};

/// Where payouts go: a real provider from the environment, or the built-in simulator.
pub struct Endpoint {
    pub config: ProviderConfig,
    pub sim: Option<SimHandle>,
}

/// The sandbox's wallet: effectively unlimited unless `--sandbox-balance` says otherwise.
const SANDBOX_BALANCE_MINOR: u64 = 1_000_000_000_000_000;

impl Endpoint {
    pub async fn connect(kind: ProviderKind, send: &SendArgs) -> anyhow::Result<Endpoint> {
        if !send.sandbox {
            return Ok(Endpoint {
                config: ProviderConfig::from_env(kind)?,
                sim: None,
            });
        }
        let balances = match &send.sandbox_balance {
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

    pub fn label(&self) -> String {
        if self.sim.is_some() {
            format!(
                "SANDBOX: the built-in simulator at {} (simulated, no money moves)",
                self.config.base_url
            )
        } else if self.config.is_test_key() {
            format!("TEST mode key at {}", self.config.base_url)
        } else {
            format!("LIVE at {}", self.config.base_url)
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
