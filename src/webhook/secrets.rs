//! The webhook signing secrets, one per provider, from `ROHOPAY_WEBHOOK_SECRET` and
//! `RUMBAPAY_WEBHOOK_SECRET`. Held as [`SecretString`] so they never reach a log or a debug
//! print; a provider without a secret has its endpoint switched off (never unsigned).

use std::fmt;

use secrecy::SecretString;

use crate::domain::ProviderKind;

/// Environment variable holding `provider`'s webhook secret.
pub fn env_var(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Rohopay => "ROHOPAY_WEBHOOK_SECRET",
        ProviderKind::Rumbapay => "RUMBAPAY_WEBHOOK_SECRET",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{0} is not valid UTF-8; set it to the secret exactly as the provider shows it")]
    NotUnicode(&'static str),
}

/// The secret each provider signs its callbacks with; `None` = that endpoint is off.
#[derive(Clone, Default)]
pub struct Secrets {
    rohopay: Option<SecretString>,
    rumbapay: Option<SecretString>,
}

impl Secrets {
    /// Secrets given directly; an empty string counts as not configured.
    pub fn new(rohopay: Option<&str>, rumbapay: Option<&str>) -> Secrets {
        let keep = |s: Option<&str>| {
            s.filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_owned()))
        };
        Secrets {
            rohopay: keep(rohopay),
            rumbapay: keep(rumbapay),
        }
    }

    /// Read both secrets from the environment; unset or empty variables leave that provider off.
    pub fn from_env() -> Result<Secrets, SecretsError> {
        let read = |provider| {
            let name = env_var(provider);
            match std::env::var_os(name) {
                None => Ok(None),
                Some(value) => value
                    .into_string()
                    .map(Some)
                    .map_err(|_| SecretsError::NotUnicode(name)),
            }
        };
        let rohopay = read(ProviderKind::Rohopay)?;
        let rumbapay = read(ProviderKind::Rumbapay)?;
        Ok(Secrets::new(rohopay.as_deref(), rumbapay.as_deref()))
    }

    /// `provider`'s secret, if its endpoint is on.
    pub fn get(&self, provider: ProviderKind) -> Option<&SecretString> {
        match provider {
            ProviderKind::Rohopay => self.rohopay.as_ref(),
            ProviderKind::Rumbapay => self.rumbapay.as_ref(),
        }
    }

    /// No provider has a secret: nothing could ever be accepted.
    pub fn is_empty(&self) -> bool {
        self.rohopay.is_none() && self.rumbapay.is_none()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = |s: &Option<SecretString>| if s.is_some() { "set" } else { "not set" };
        f.debug_struct("Secrets")
            .field("rohopay", &state(&self.rohopay))
            .field("rumbapay", &state(&self.rumbapay))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn empty_means_off_and_debug_never_shows_a_secret() {
        let s = Secrets::new(Some("whsec_abc"), Some(""));
        assert_eq!(
            s.get(ProviderKind::Rohopay).map(|s| s.expose_secret()),
            Some("whsec_abc")
        );
        assert!(s.get(ProviderKind::Rumbapay).is_none());
        assert!(!s.is_empty());
        assert!(Secrets::new(None, Some("")).is_empty());
        let debug = format!("{s:?}");
        assert!(!debug.contains("whsec_abc"), "{debug}");
        assert!(debug.contains("set"), "{debug}");
    }
}
