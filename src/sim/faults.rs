//! Reproducible fault decisions and the global rate limit.
//!
//! Every decision is a hash of (seed, provider, key, how many requests carried that key so
//! far, fault name), so the same sequence of requests per key meets the same faults whatever
//! the interleaving of concurrent requests, and `--seed` reproduces a run exactly.

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::{SimConfig, payout::Provider};

/// A fault that can hit a request; its name is part of the hash.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fault {
    /// 5xx with nothing executed.
    Error,
    /// Which 5xx: 500 or 503.
    ErrorKind,
    /// Executed, then the connection closed with no answer.
    Drop,
    /// Executed, answer delayed.
    Slow,
    /// Terminal `failed`.
    Fail,
    /// RohoPay answers from iotec.
    Failover,
    /// The answer lies (`--lie-rate`).
    Lie,
    /// Which lie.
    LieMode,
}

impl Fault {
    fn name(self) -> &'static [u8] {
        match self {
            Fault::Error => b"error",
            Fault::ErrorKind => b"error_kind",
            Fault::Drop => b"drop",
            Fault::Slow => b"slow",
            Fault::Fail => b"fail",
            Fault::Failover => b"failover",
            Fault::Lie => b"lie",
            Fault::LieMode => b"lie_mode",
        }
    }
}

/// The dice for one request: which provider, which key, the how-manieth request with it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dice<'a> {
    pub seed: u64,
    pub provider: Provider,
    pub key: &'a str,
    pub attempt: u32,
}

impl Dice<'_> {
    /// Does `fault`, with probability `p`, hit this request? No hashing when `p` is 0 or 1.
    pub(crate) fn hits(&self, fault: Fault, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit(fault) < p
    }

    /// A uniform number in [0, 1) fixed by the seed, the key, the attempt and the fault.
    pub(crate) fn unit(&self, fault: Fault) -> f64 {
        let mut hasher = Sha256::new();
        hasher.update(self.seed.to_le_bytes());
        hasher.update(self.provider.name().as_bytes());
        hasher.update([0]);
        hasher.update(self.key.as_bytes());
        hasher.update([0]);
        hasher.update(self.attempt.to_le_bytes());
        hasher.update(fault.name());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // 53 random bits are exactly representable in an f64 mantissa.
        (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What happens after a payout request executed: answer, answer late, or vanish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterExec {
    Answer,
    /// Hold the answer back this long; the key counts as in flight meanwhile.
    Slow(Duration),
    /// Close the connection without answering (the payout stays executed).
    Drop,
}

impl AfterExec {
    /// Drop wins over slow when both dice hit.
    pub(crate) fn decide(dice: &Dice<'_>, config: &SimConfig) -> Self {
        if dice.hits(Fault::Drop, config.drop_rate) {
            AfterExec::Drop
        } else if dice.hits(Fault::Slow, config.slow_rate) {
            AfterExec::Slow(Duration::from_millis(config.slow_ms))
        } else {
            AfterExec::Answer
        }
    }

    /// How long the answer is held back.
    pub(crate) fn delay(self) -> Duration {
        match self {
            AfterExec::Slow(delay) => delay,
            AfterExec::Answer | AfterExec::Drop => Duration::ZERO,
        }
    }
}

/// A 5xx fault: 500 or 503, chosen by the dice.
pub(crate) fn server_fault_is_unavailable(dice: &Dice<'_>) -> bool {
    dice.hits(Fault::ErrorKind, 0.5)
}

/// `--rate-limit N`: at most N requests per second over both providers, burst N.
pub(crate) struct RateLimit(Option<DefaultDirectRateLimiter>);

impl RateLimit {
    pub(crate) fn new(per_second: Option<u32>) -> Self {
        RateLimit(
            per_second
                .and_then(NonZeroU32::new)
                .map(|n| RateLimiter::direct(Quota::per_second(n))),
        )
    }

    /// Take one request's worth of quota; `true` means answer 429.
    pub(crate) fn exceeded(&self) -> bool {
        self.0.as_ref().is_some_and(|l| l.check().is_err())
    }
}

/// `--throttle-after N [--throttle-count M]`: payout requests after the first N (the next M,
/// or all) are answered 429, counted over both providers in arrival order.
pub(crate) struct Throttle {
    after: Option<u64>,
    count: Option<u64>,
    seen: AtomicU64,
}

impl Throttle {
    pub(crate) fn new(after: Option<u64>, count: Option<u64>) -> Self {
        Throttle {
            after,
            count,
            seen: AtomicU64::new(0),
        }
    }

    /// Count one payout request; `true` means answer 429.
    pub(crate) fn hit(&self) -> bool {
        let Some(after) = self.after else {
            return false;
        };
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        n >= after && self.count.is_none_or(|c| n - after < c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dice(seed: u64, key: &str, attempt: u32) -> Dice<'_> {
        Dice {
            seed,
            provider: Provider::Rohopay,
            key,
            attempt,
        }
    }

    #[test]
    fn certain_and_impossible_faults_need_no_dice() {
        assert!(dice(0, "k", 1).hits(Fault::Drop, 1.0));
        assert!(!dice(0, "k", 1).hits(Fault::Drop, 0.0));
    }

    #[test]
    fn decisions_depend_on_seed_key_attempt_and_fault_only() {
        let a = dice(7, "key-1", 3).unit(Fault::Error);
        assert_eq!(a, dice(7, "key-1", 3).unit(Fault::Error));
        assert_ne!(a, dice(8, "key-1", 3).unit(Fault::Error));
        assert_ne!(a, dice(7, "key-2", 3).unit(Fault::Error));
        assert_ne!(a, dice(7, "key-1", 4).unit(Fault::Error));
        assert_ne!(a, dice(7, "key-1", 3).unit(Fault::Slow));
        let other = Dice {
            provider: Provider::Rumbapay,
            ..dice(7, "key-1", 3)
        };
        assert_ne!(a, other.unit(Fault::Error));
    }

    #[test]
    fn half_probability_hits_about_half_the_time() {
        let hits = (0..2000)
            .filter(|i| dice(1, &i.to_string(), 1).hits(Fault::Error, 0.5))
            .count();
        assert!((850..1150).contains(&hits), "{hits}");
    }

    #[test]
    fn throttle_refuses_the_requests_after_the_first_n() {
        let t = Throttle::new(Some(2), Some(3));
        let hits: Vec<bool> = (0..7).map(|_| t.hit()).collect();
        assert_eq!(hits, [false, false, true, true, true, false, false]);
        let all = Throttle::new(Some(0), None);
        assert!((0..50).all(|_| all.hit()));
        assert!(!Throttle::new(None, None).hit());
    }

    #[test]
    fn rate_limit_refuses_beyond_the_burst() {
        let limit = RateLimit::new(Some(3));
        let refused = (0..10).filter(|_| limit.exceeded()).count();
        assert!(refused >= 6, "{refused}");
        assert!(!RateLimit::new(None).exceeded());
    }
}
