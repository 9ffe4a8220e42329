//! How a batch's last run ended, as the journal records it and `status` says it (README,
//! "Status: how the last run ended and what to run next"). A run that never recorded its end
//! (killed, crashed, a power cut) is told apart by `status` from the batch lock.

use std::fmt;

/// How a run (`run`, `resume`, `retry`) of a batch ended, or that the batch was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunEnd {
    /// Every row it set out to send has an outcome.
    Finished,
    /// The provider said the wallet is empty.
    WalletEmpty,
    /// The provider stopped answering, or asked for a pause longer than payrun waits.
    ProviderUnavailable,
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// Another payrun took the batch over.
    LockLost,
    /// The provider refused the credentials or the endpoint.
    CredentialsRefused,
    /// The journal could not record a step.
    JournalFailed,
    /// `payrun cancel` withdrew the rows not yet sent.
    Cancelled,
}

impl RunEnd {
    pub const ALL: [RunEnd; 8] = [
        RunEnd::Finished,
        RunEnd::WalletEmpty,
        RunEnd::ProviderUnavailable,
        RunEnd::Interrupted,
        RunEnd::LockLost,
        RunEnd::CredentialsRefused,
        RunEnd::JournalFailed,
        RunEnd::Cancelled,
    ];

    /// The word stored in the journal and printed by `status --format json`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunEnd::Finished => "finished",
            RunEnd::WalletEmpty => "wallet_empty",
            RunEnd::ProviderUnavailable => "provider_unavailable",
            RunEnd::Interrupted => "interrupted",
            RunEnd::LockLost => "lock_lost",
            RunEnd::CredentialsRefused => "credentials_refused",
            RunEnd::JournalFailed => "journal_failed",
            RunEnd::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<RunEnd> {
        RunEnd::ALL.into_iter().find(|e| e.as_str() == raw)
    }

    /// For people: `wallet empty`.
    pub fn words(self) -> &'static str {
        match self {
            RunEnd::Finished => "finished",
            RunEnd::WalletEmpty => "wallet empty",
            RunEnd::ProviderUnavailable => "provider unavailable",
            RunEnd::Interrupted => "interrupted",
            RunEnd::LockLost => "lock lost",
            RunEnd::CredentialsRefused => "credentials refused",
            RunEnd::JournalFailed => "journal failed",
            RunEnd::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for RunEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in RunEnd::ALL {
            assert_eq!(RunEnd::parse(e.as_str()), Some(e));
        }
        assert_eq!(RunEnd::parse("done"), None);
    }
}
