//! The one place a client is built from a [`ProviderKind`]: [`connect`] returns an
//! [`AnyClient`] that sends through whichever provider a batch was planned for. Adding a
//! provider means adding its folder, a variant here and an arm in [`connect`] and `each!`.

use super::{Provider, ProviderConfig, ProviderError, QueryRef, Receipt};
use super::{rohopay::RohopayClient, rumbapay::RumbapayClient};
use crate::domain::{Currency, ProviderKind};

/// A client for any provider payrun speaks.
pub enum AnyClient {
    Rohopay(RohopayClient),
    Rumbapay(RumbapayClient),
}

/// Build the client for `kind` from its configuration (base URL, key, timeouts).
pub fn connect(kind: ProviderKind, config: &ProviderConfig) -> Result<AnyClient, reqwest::Error> {
    Ok(match kind {
        ProviderKind::Rohopay => AnyClient::Rohopay(RohopayClient::new(config)?),
        ProviderKind::Rumbapay => AnyClient::Rumbapay(RumbapayClient::new(config)?),
    })
}

/// Run the same expression on whichever client this is.
macro_rules! each {
    ($any:expr, $c:ident => $body:expr) => {
        match $any {
            AnyClient::Rohopay($c) => $body,
            AnyClient::Rumbapay($c) => $body,
        }
    };
}

impl Provider for AnyClient {
    fn kind(&self) -> ProviderKind {
        each!(self, c => c.kind())
    }

    fn is_test_key(&self) -> bool {
        each!(self, c => c.is_test_key())
    }

    async fn submit(&self, key: &str, body: &[u8]) -> Result<Receipt, ProviderError> {
        each!(self, c => c.submit(key, body).await)
    }

    async fn query(&self, payout: &QueryRef) -> Result<Option<Receipt>, ProviderError> {
        each!(self, c => c.query(payout).await)
    }

    async fn balance(&self, currency: Currency) -> Result<Option<u64>, ProviderError> {
        each!(self, c => c.balance(currency).await)
    }
}
