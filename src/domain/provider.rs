//! What each provider accepts, from its seed document: currencies, operators, names, minimums.

use std::fmt;

use super::{Currency, MinorUnits};

/// A payout provider payrun speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum ProviderKind {
    Rohopay,
    Rumbapay,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Rohopay => "rohopay",
            ProviderKind::Rumbapay => "rumbapay",
        }
    }

    pub fn parse(raw: &str) -> Option<ProviderKind> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "rohopay" => Some(ProviderKind::Rohopay),
            "rumbapay" => Some(ProviderKind::Rumbapay),
            _ => None,
        }
    }

    /// Currencies the provider pays out. RohoPay lists them; Rumbapay's are assumed from its
    /// operator table (KE, TZ, GH, GM, CM).
    pub fn currencies(self) -> &'static [Currency] {
        match self {
            ProviderKind::Rohopay => &[Currency::UGX, Currency::KES, Currency::TZS, Currency::RWF],
            ProviderKind::Rumbapay => &[
                Currency::KES,
                Currency::TZS,
                Currency::GHS,
                Currency::GMD,
                Currency::XAF,
            ],
        }
    }

    pub fn accepts(self, currency: Currency) -> bool {
        self.currencies().contains(&currency)
    }

    /// Rumbapay needs the mobile operator and the beneficiary's first and last name.
    pub fn needs_operator_and_names(self) -> bool {
        self == ProviderKind::Rumbapay
    }

    /// The provider's documented minimum, if any: only RohoPay's 1000 UGX is documented.
    pub fn documented_min(self, currency: Currency) -> Option<MinorUnits> {
        match (self, currency) {
            (ProviderKind::Rohopay, Currency::UGX) => MinorUnits::new(1000),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_lists_follow_the_seeds() {
        assert!(ProviderKind::Rohopay.accepts(Currency::RWF));
        assert!(!ProviderKind::Rohopay.accepts(Currency::GHS));
        assert!(ProviderKind::Rumbapay.accepts(Currency::XAF));
        assert!(!ProviderKind::Rumbapay.accepts(Currency::UGX));
    }

    #[test]
    fn only_rohopay_ugx_has_a_documented_minimum() {
        assert_eq!(
            ProviderKind::Rohopay
                .documented_min(Currency::UGX)
                .map(MinorUnits::get),
            Some(1000)
        );
        assert_eq!(ProviderKind::Rohopay.documented_min(Currency::KES), None);
        assert_eq!(ProviderKind::Rumbapay.documented_min(Currency::KES), None);
    }
}
