//! Per-provider, per-currency minimum and maximum amounts: the documented ones plus a user's
//! `--limits limits.toml` file (README "Validation rules").
//!
//! ```toml
//! [rohopay.UGX]
//! min = "5000"        # major units, as a string or an integer
//! max = "5000000"
//! [rumbapay.KES]
//! max = "150000.00"   # decimals only as a string: a float is never trusted with money
//! ```
//!
//! The effective minimum is the larger of the configured and the documented one (a limits
//! file can raise RohoPay's 1000 UGX, not lower it: the provider would refuse anyway); the
//! maximum is as configured.

use std::path::Path;

use super::{Currency, MinorUnits, ProviderKind, format_major};

/// Limits a user configured. Empty by default: payrun ships no undocumented limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    entries: Vec<(
        ProviderKind,
        Currency,
        Option<MinorUnits>,
        Option<MinorUnits>,
    )>,
}

#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    #[error("cannot read limits file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("limits file {path}: {message}")]
    Invalid { path: String, message: String },
}

impl Limits {
    /// Read and check a limits file.
    pub fn load(path: &Path) -> Result<Limits, LimitsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LimitsError::Read {
            path: shown.clone(),
            source,
        })?;
        Limits::parse(&text, &shown)
    }

    /// Parse limits from TOML text; `origin` names the file in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Limits, LimitsError> {
        let invalid = |message: String| LimitsError::Invalid {
            path: origin.to_string(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|err| {
            let at = err
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!("line {line}, column {column}: ")
                })
                .unwrap_or_default();
            invalid(format!("{at}{}", err.message().trim().replace('\n', " ")))
        })?;
        let mut limits = Limits::default();
        for (provider_key, currencies) in &table {
            let provider = ProviderKind::parse(provider_key).ok_or_else(|| {
                invalid(format!(
                    "unknown provider [{provider_key}]; expected rohopay or rumbapay"
                ))
            })?;
            let currencies = currencies.as_table().ok_or_else(|| {
                invalid(format!(
                    "[{provider_key}] must hold one table per currency, e.g. [{provider_key}.UGX]"
                ))
            })?;
            for (currency_key, entry) in currencies {
                let at = format!("[{provider_key}.{currency_key}]");
                let currency =
                    Currency::parse(currency_key).map_err(|err| invalid(format!("{at}: {err}")))?;
                if !provider.accepts(currency) {
                    return Err(invalid(format!("{at}: {provider} does not pay {currency}")));
                }
                let entry = entry
                    .as_table()
                    .ok_or_else(|| invalid(format!("{at} must be a table with min and/or max")))?;
                let (mut min, mut max) = (None, None);
                for (key, value) in entry {
                    let slot = match key.as_str() {
                        "min" => &mut min,
                        "max" => &mut max,
                        other => {
                            return Err(invalid(format!(
                                "{at}: unknown key {other:?}; expected min or max"
                            )));
                        }
                    };
                    *slot = Some(
                        amount(value, currency)
                            .map_err(|reason| invalid(format!("{at} {key}: {reason}")))?,
                    );
                }
                let documented = provider.documented_min(currency);
                let effective_min = min.max(documented);
                if let (Some(low), Some(high)) = (effective_min, max)
                    && low > high
                {
                    let source = if min == effective_min {
                        "min"
                    } else {
                        "the provider's documented minimum"
                    };
                    return Err(invalid(format!(
                        "{at}: max {} is below {source} {}",
                        format_major(u128::from(high.get()), currency),
                        format_major(u128::from(low.get()), currency),
                    )));
                }
                limits.entries.push((provider, currency, min, max));
            }
        }
        Ok(limits)
    }

    /// Effective (min, max) for a provider and currency.
    pub fn range(
        &self,
        provider: ProviderKind,
        currency: Currency,
    ) -> (Option<MinorUnits>, Option<MinorUnits>) {
        let configured = self
            .entries
            .iter()
            .find(|(p, c, _, _)| *p == provider && *c == currency);
        let documented = provider.documented_min(currency);
        match configured {
            Some((_, _, min, max)) => ((*min).max(documented), *max),
            None => (documented, None),
        }
    }
}

/// A limit in major units: a string (`"2500.50"`) or an integer (`5000`), never a float.
fn amount(value: &toml::Value, currency: Currency) -> Result<MinorUnits, String> {
    let text = match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(f) => {
            return Err(format!(
                "{f} is a floating-point number; write amounts with decimals as a string, e.g. \"{f}\""
            ));
        }
        other => {
            return Err(format!(
                "expected an amount such as \"5000\" or \"2500.50\", found a {}",
                other.type_str()
            ));
        }
    };
    MinorUnits::parse_major(&text, currency).map_err(|err| format!("{text:?}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Limits, String> {
        Limits::parse(text, "limits.toml").map_err(|e| e.to_string())
    }

    fn minor(n: u64) -> Option<MinorUnits> {
        MinorUnits::new(n)
    }

    #[test]
    fn parses_strings_and_integers_in_major_units() {
        let limits = parse(
            "[rohopay.UGX]\nmin = \"5000\"\nmax = 5000000\n[rumbapay.KES]\nmax = \"150000.00\"\n",
        )
        .unwrap();
        assert_eq!(
            limits.range(ProviderKind::Rohopay, Currency::UGX),
            (minor(5000), minor(5_000_000))
        );
        assert_eq!(
            limits.range(ProviderKind::Rumbapay, Currency::KES),
            (None, minor(15_000_000))
        );
        assert_eq!(
            limits.range(ProviderKind::Rohopay, Currency::KES),
            (None, None)
        );
    }

    #[test]
    fn documented_minimum_cannot_be_lowered() {
        let limits = parse("[rohopay.UGX]\nmin = 500\n").unwrap();
        assert_eq!(
            limits.range(ProviderKind::Rohopay, Currency::UGX),
            (minor(1000), None)
        );
        let none = Limits::default();
        assert_eq!(
            none.range(ProviderKind::Rohopay, Currency::UGX),
            (minor(1000), None)
        );
        let err = parse("[rohopay.UGX]\nmax = 900\n").unwrap_err();
        assert!(err.contains("documented minimum"), "{err}");
    }

    #[test]
    fn refuses_floats_unknown_names_and_inverted_ranges() {
        let err = parse("[rohopay.UGX]\nmin = 2500.5\n").unwrap_err();
        assert!(
            err.starts_with("limits file limits.toml: [rohopay.UGX] min:")
                && err.contains("as a string"),
            "{err}"
        );
        let err = parse("[rohopy.UGX]\nmin = 1\n").unwrap_err();
        assert!(err.contains("unknown provider [rohopy]"), "{err}");
        let err = parse("[rohopay.USD]\nmin = 1\n").unwrap_err();
        assert!(err.contains("[rohopay.USD]"), "{err}");
        let err = parse("[rohopay.GHS]\nmin = 1\n").unwrap_err();
        assert!(err.contains("does not pay GHS"), "{err}");
        let err = parse("[rohopay.UGX]\nminimum = 1\n").unwrap_err();
        assert!(err.contains("unknown key \"minimum\""), "{err}");
        let err = parse("[rumbapay.KES]\nmin = \"10\"\nmax = \"5\"\n").unwrap_err();
        assert!(err.contains("below min"), "{err}");
        let err = parse("[rumbapay.KES]\nmin = \"-10\"\n").unwrap_err();
        assert!(err.contains("sign"), "{err}");
        let err = parse("[rumbapay.KES]\nmin = \"1.005\"\n").unwrap_err();
        assert!(err.contains("decimals"), "{err}");
    }

    #[test]
    fn syntax_errors_are_one_line_with_position() {
        let err = parse("[rohopay.UGX]\nmin = = 3\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn empty_file_means_no_limits() {
        assert_eq!(parse("").unwrap(), Limits::default());
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = Limits::load(Path::new("/nonexistent/limits.toml")).unwrap_err();
        assert!(matches!(err, LimitsError::Read { .. }), "{err}");
    }
}
