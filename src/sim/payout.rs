//! One executed payout, as the simulated provider remembers it, whichever API created it:
//! the common facts the ledger shows, its life cycle (pending → terminal), and the
//! provider-specific details needed to answer replays, status queries and callbacks.

use std::{sync::Arc, time::Instant};

use time::OffsetDateTime;

use super::{
    detail::{RohoDetail, RumbaDetail},
    money::Cur,
};

/// Which simulated API a request or payout belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    Rohopay,
    Rumbapay,
}

impl Provider {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::Rohopay => "rohopay",
            Provider::Rumbapay => "rumbapay",
        }
    }

    /// Position in per-provider arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Where a payout is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Succeeded,
    Failed,
}

impl Status {
    /// The status word each provider uses (RohoPay `successful`, Rumbapay `success`).
    pub(crate) fn word(self, provider: Provider) -> &'static str {
        match (self, provider) {
            (Status::Pending, _) => "pending",
            (Status::Succeeded, Provider::Rohopay) => "successful",
            (Status::Succeeded, Provider::Rumbapay) => "success",
            (Status::Failed, _) => "failed",
        }
    }
}

/// The terminal state a new payout will reach, or `None` if it stays pending forever.
/// Magic numbers win over the dice: `…0099` never settles, `…0000` always fails.
pub(crate) fn planned_outcome(phone: &str, fail: impl FnOnce() -> bool) -> Option<Status> {
    if phone.ends_with("0099") {
        None
    } else if phone.ends_with("0000") || fail() {
        Some(Status::Failed)
    } else {
        Some(Status::Succeeded)
    }
}

/// A pending payout to settle at `due` (queued by the state, run by the settlement task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SettleJob {
    pub due: Instant,
    pub payout: usize,
}

/// Provider-specific part of a payout.
#[derive(Debug)]
pub(crate) enum Detail {
    Rohopay(RohoDetail),
    Rumbapay(RumbaDetail),
}

/// An executed payout.
#[derive(Debug)]
pub(crate) struct Payout {
    pub provider: Provider,
    /// RohoPay `Idempotency-Key` or Rumbapay `reference`.
    pub key: Arc<str>,
    /// Phone number as sent.
    pub phone: Box<str>,
    pub amount_minor: u64,
    pub currency: Cur,
    pub status: Status,
    /// Terminal state to reach when settling; `None` = pending forever.
    pub outcome: Option<Status>,
    pub created_at: OffsetDateTime,
    /// When `status` last changed.
    pub status_at: OffsetDateTime,
    /// While a slow answer is still being held back, the key counts as in flight.
    pub in_flight_until: Option<Instant>,
    pub callback_url: Option<Box<str>>,
    pub detail: Detail,
}

impl Payout {
    pub(crate) fn status_word(&self) -> &'static str {
        self.status.word(self.provider)
    }

    pub(crate) fn in_flight(&self, now: Instant) -> bool {
        self.in_flight_until.is_some_and(|until| now < until)
    }

    /// The provider's own id: RohoPay `data.id`, Rumbapay `request_id`.
    pub(crate) fn provider_id(&self) -> String {
        match &self.detail {
            Detail::Rohopay(d) => d.id.to_string(),
            Detail::Rumbapay(d) => d.request_id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_decide_the_outcome_before_the_dice() {
        assert_eq!(planned_outcome("256700120099", || true), None);
        assert_eq!(
            planned_outcome("256700120000", || false),
            Some(Status::Failed)
        );
        assert_eq!(
            planned_outcome("+254712970000", || false),
            Some(Status::Failed)
        );
        assert_eq!(
            planned_outcome("256700123456", || true),
            Some(Status::Failed)
        );
        assert_eq!(
            planned_outcome("256700123456", || false),
            Some(Status::Succeeded)
        );
    }

    #[test]
    fn status_words_follow_each_provider() {
        assert_eq!(Status::Succeeded.word(Provider::Rohopay), "successful");
        assert_eq!(Status::Succeeded.word(Provider::Rumbapay), "success");
        assert_eq!(Status::Pending.word(Provider::Rumbapay), "pending");
        assert_eq!(Status::Failed.word(Provider::Rohopay), "failed");
    }
}
