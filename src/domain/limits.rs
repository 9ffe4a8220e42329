//! Per-provider, per-currency minimum and maximum amounts: the documented ones plus a user's
//! `--limits limits.toml` file (DESIGN §2).
//!
//! STUB: the validation work (issue 2) implements parsing and the effective-limit rules.

use std::path::Path;

use super::{Currency, MinorUnits, ProviderKind};

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
    pub fn load(path: &Path) -> Result<Limits, LimitsError> {
        Err(LimitsError::Invalid {
            path: path.display().to_string(),
            message: "limits files are not supported yet".into(),
        })
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
            Some((_, _, min, max)) => (min.max(&documented).or(documented), *max),
            None => (documented, None),
        }
    }
}
