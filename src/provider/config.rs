//! Provider credentials and endpoints from the environment (README "Environment variables").
//! Keys live in `SecretString`s: never printed, logged or written to the journal.

use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::ProviderKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{var} is not set: export your API key (payrun never prints or stores it), or try --sandbox"
    )]
    MissingKey { var: &'static str },
    #[error("{var}={value:?} is not a valid URL: {reason}")]
    BadUrl {
        var: &'static str,
        value: String,
        reason: String,
    },
    #[error("{var}: {what} contains a user name or password; {why} — remove `user:…@`")]
    Credentials {
        var: &'static str,
        what: &'static str,
        why: &'static str,
    },
    #[error("{var} must use https (plain http is only allowed for localhost/loopback): {value}")]
    InsecureUrl { var: &'static str, value: String },
}

/// Where and how to reach a provider.
#[derive(Clone)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    pub base_url: Url,
    pub api_key: SecretString,
    /// Whole-request timeout; past it a payout is in doubt, never failed.
    pub timeout: Duration,
    pub max_connections: usize,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &"[redacted]")
            .finish()
    }
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl ProviderConfig {
    /// Environment names for a provider's key and base URL, and the default base URL.
    pub fn env_names(kind: ProviderKind) -> (&'static str, &'static str, &'static str) {
        match kind {
            ProviderKind::Rohopay => (
                "ROHOPAY_API_KEY",
                "ROHOPAY_BASE_URL",
                "https://api.rohopay.com",
            ),
            ProviderKind::Rumbapay => (
                "RUMBAPAY_API_KEY",
                "RUMBAPAY_BASE_URL",
                "https://api.rumbapay.online/v1",
            ),
        }
    }

    /// Read `<PROVIDER>_API_KEY` and `<PROVIDER>_BASE_URL`. `PAYRUN_HTTP_TIMEOUT` (seconds)
    /// overrides the request timeout.
    pub fn from_env(kind: ProviderKind) -> Result<ProviderConfig, ConfigError> {
        let (key_var, url_var, default_url) = Self::env_names(kind);
        let key = std::env::var(key_var)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or(ConfigError::MissingKey { var: key_var })?;
        let url = std::env::var(url_var).unwrap_or_else(|_| default_url.to_string());
        Self::with_key(kind, url_var, &url, SecretString::from(key))
    }

    /// A provider at `base_url` (named `url_name` in messages: the variable or setting it came
    /// from) with `api_key`, however they were found (environment, config file, a key file).
    /// `PAYRUN_HTTP_TIMEOUT` (seconds) overrides the request timeout.
    pub fn with_key(
        kind: ProviderKind,
        url_name: &'static str,
        base_url: &str,
        api_key: SecretString,
    ) -> Result<ProviderConfig, ConfigError> {
        let base_url = parse_base_url(url_name, base_url)?;
        let timeout = std::env::var("PAYRUN_HTTP_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64);
        Ok(ProviderConfig {
            kind,
            base_url,
            api_key: SecretString::from(api_key.expose_secret().trim().to_string()),
            timeout,
            max_connections: 64,
        })
    }

    /// A config pointing at a loopback simulator (for `--sandbox` and tests).
    pub fn loopback(
        kind: ProviderKind,
        base_url: &str,
        api_key: &str,
    ) -> Result<ProviderConfig, ConfigError> {
        let (_, url_var, _) = Self::env_names(kind);
        Ok(ProviderConfig {
            kind,
            base_url: parse_base_url(url_var, base_url)?,
            api_key: SecretString::from(api_key.to_string()),
            timeout: DEFAULT_TIMEOUT,
            max_connections: 64,
        })
    }

    pub fn is_test_key(&self) -> bool {
        self.api_key.expose_secret().starts_with("test_")
    }
}

/// https required unless the host is loopback. A trailing slash is dropped so paths join cleanly.
pub fn parse_base_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    check_url(var, value.trim().trim_end_matches('/'))
}

/// A URL that is https, or http to a loopback host (a local simulator or receiver), with no
/// user name or password in it: those would be printed in the pre-flight and stored in the
/// journal, and payrun authenticates otherwise.
pub fn check_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let trimmed = value.trim();
    let url = Url::parse(trimmed).map_err(|e| ConfigError::BadUrl {
        var,
        value: without_userinfo(value),
        reason: e.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(if var.ends_with("_BASE_URL") || var == "base_url" {
            ConfigError::Credentials {
                var,
                what: "the base URL",
                why: "payrun sends the API key in a header",
            }
        } else {
            ConfigError::Credentials {
                var,
                what: "the URL",
                why: "callbacks are verified by their signature, and this URL is stored in the \
                      journal and sent with every payout",
            }
        });
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(ConfigError::InsecureUrl {
            var,
            value: value.to_string(),
        }),
        other => Err(ConfigError::BadUrl {
            var,
            value: value.to_string(),
            reason: format!("scheme {other:?} is not http(s)"),
        }),
    }
}

/// `value` with anything between `://` and the `@` that ends a user name or password replaced
/// by `…`, for messages about a URL that may carry credentials.
pub fn without_userinfo(value: &str) -> String {
    let Some(start) = value.find("://").map(|i| i + 3) else {
        return value.to_string();
    };
    let rest = &value[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}…{}", &value[..start], &rest[at..]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        assert!(parse_base_url("X", "https://api.rohopay.com").is_ok());
        assert!(parse_base_url("X", "http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("X", "http://localhost:9/v1/").is_ok());
        assert!(parse_base_url("X", "http://[::1]:80").is_ok());
        assert!(matches!(
            parse_base_url("X", "http://api.rohopay.com"),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(
            parse_base_url("X", "ftp://x"),
            Err(ConfigError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_base_url("X", "not a url"),
            Err(ConfigError::BadUrl { .. })
        ));
    }

    #[test]
    fn credentials_are_refused_and_never_echoed() {
        for url in [
            "https://user:pa55@api.rohopay.com",
            "https://user@api.rohopay.com",
            "https://:pa55@api.rohopay.com",
            "http://user:pa55@127.0.0.1:9",
            "http://user:pa55@api.rohopay.com",
        ] {
            let err = parse_base_url("ROHOPAY_BASE_URL", url).unwrap_err();
            assert!(
                matches!(err, ConfigError::Credentials { .. }),
                "{url}: {err:?}"
            );
            let text = err.to_string();
            assert!(!text.contains("pa55") && !text.contains("user@"), "{text}");
            assert!(text.contains("user name or password"), "{text}");
        }
        let err = check_url("--callback-url", "https://u:pa55@hooks.example.com").unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        // Unparseable, yet the password is not echoed either.
        let err = parse_base_url("X", "https://u:pa55@ho st").unwrap_err();
        assert!(!err.to_string().contains("pa55"), "{err}");
    }

    #[test]
    fn userinfo_is_stripped_for_display() {
        assert_eq!(
            without_userinfo("http://u:p@127.0.0.1:9/v1?a=b@c"),
            "http://…@127.0.0.1:9/v1?a=b@c"
        );
        assert_eq!(
            without_userinfo("https://api.x.com/v1"),
            "https://api.x.com/v1"
        );
        assert_eq!(without_userinfo("not a url"), "not a url");
    }

    #[test]
    fn trailing_slash_is_dropped() {
        let url = parse_base_url("X", "https://api.rumbapay.online/v1/").unwrap();
        assert_eq!(url.as_str(), "https://api.rumbapay.online/v1");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let cfg =
            ProviderConfig::loopback(ProviderKind::Rohopay, "http://127.0.0.1:1", "live_s3cret")
                .unwrap();
        assert!(!format!("{cfg:?}").contains("s3cret"));
        assert!(!cfg.is_test_key());
    }
}
