//! Pacing for one provider: a GCRA rate limiter (governor) spacing sends evenly at `--rate`
//! per second, plus a provider-wide pause that a `429 Retry-After` imposes on every worker at
//! once. The burst is [`burst`]: with a burst of one, every late timer wake-up would push all
//! later slots back and the achieved rate would drift below `--rate`; a burst of two (or, above
//! 500/s, [`BURST_MS`] milliseconds' worth of sends) absorbs that lateness while any one-second
//! window still holds at most `rate + burst` sends. A sender that must wait sleeps on the
//! runtime's own timer, which has millisecond resolution and fires about two milliseconds after
//! a shorter wait: that is why fast rates need the larger burst.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::stop::Stop;

/// Fewest sends allowed back to back after a late wake-up.
pub const BURST: u32 = 2;

/// Milliseconds' worth of sends in the burst at fast rates: more than the runtime's timer can
/// be late by.
pub const BURST_MS: u32 = 4;

/// Sends allowed back to back at `per_second`: [`BURST`], or [`BURST_MS`] milliseconds' worth
/// when that is more.
pub fn burst(per_second: NonZeroU32) -> NonZeroU32 {
    let worth = u32::try_from(sends_in(per_second.get(), BURST_MS)).unwrap_or(u32::MAX);
    NonZeroU32::new(worth.max(BURST)).unwrap_or(NonZeroU32::MIN)
}

/// How many sends `ms` milliseconds hold at `per_second` (rounded down).
pub fn sends_in(per_second: u32, ms: u32) -> u64 {
    u64::from(per_second) * u64::from(ms) / 1000
}

pub struct Pacer {
    limiter: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(per_second: NonZeroU32) -> Pacer {
        let quota = Quota::per_second(per_second).allow_burst(burst(per_second));
        Pacer {
            limiter: RateLimiter::direct(quota),
            paused_until: Mutex::new(None),
        }
    }

    /// Pause every sender for at least `wait` (a later deadline is never shortened).
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut slot) = self.paused_until.lock() {
            match *slot {
                Some(existing) if existing >= until => {}
                _ => *slot = Some(until),
            }
        }
    }

    fn pause_deadline(&self) -> Option<Instant> {
        let slot = self.paused_until.lock().ok()?;
        slot.filter(|until| *until > Instant::now())
    }

    /// Wait for permission to send one request. Returns false if `stop` was thrown first.
    pub async fn ready(&self, stop: &Stop) -> bool {
        loop {
            if stop.is_set() {
                return false;
            }
            if let Some(until) = self.pause_deadline() {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => continue,
                    _ = stop.wait() => return false,
                }
            }
            if let Err(not_until) = self.limiter.check() {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = stop.wait() => return false,
                }
            }
            // A pause may have begun while we waited for the limiter; honour it too.
            if self.pause_deadline().is_none() {
                return !stop.is_set();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_holds_every_sender() {
        let pacer = Pacer::new(NonZeroU32::new(1000).unwrap());
        let stop = Stop::default();
        pacer.pause_for(Duration::from_millis(150));
        let started = std::time::Instant::now();
        assert!(pacer.ready(&stop).await);
        assert!(started.elapsed() >= Duration::from_millis(140));
    }

    #[test]
    fn the_burst_is_two_or_four_milliseconds_worth() {
        let burst_at = |rate| burst(NonZeroU32::new(rate).unwrap()).get();
        assert_eq!(burst_at(1), 2);
        assert_eq!(burst_at(100), 2);
        assert_eq!(burst_at(749), 2);
        assert_eq!(burst_at(1_500), 6);
        assert_eq!(burst_at(50_000), 200);
    }

    /// A fast rate is neither exceeded (beyond the burst) nor starved by the timer's
    /// millisecond resolution: starved, it would do about two per millisecond (a tenth of
    /// this).
    #[tokio::test]
    async fn a_fast_rate_is_kept_without_going_over() {
        kept(50_000, 1, 200, 0.25).await;
    }

    /// When each of `senders` senders sharing one pacer at `rate` was let through, over
    /// `for_ms` milliseconds, on the current-thread runtime `payrun` sends on.
    async fn let_through(rate: u32, senders: usize, for_ms: u64) -> (Vec<Duration>, Duration) {
        let pacer = std::sync::Arc::new(Pacer::new(NonZeroU32::new(rate).unwrap()));
        let stop = std::sync::Arc::new(Stop::default());
        let started = std::time::Instant::now();
        let until = Duration::from_millis(for_ms);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..senders {
            let (pacer, stop) = (pacer.clone(), stop.clone());
            tasks.spawn(async move {
                let mut at = Vec::new();
                while started.elapsed() < until {
                    assert!(pacer.ready(&stop).await);
                    at.push(started.elapsed());
                }
                at
            });
        }
        let mut all: Vec<Duration> = tasks.join_all().await.into_iter().flatten().collect();
        all.retain(|t| *t < until);
        all.sort();
        (all, until)
    }

    /// [`let_through`], checked: never more than `rate` over the time plus the burst, and at
    /// least `least` of `rate` over the time. Returns when each send was let through.
    async fn kept(rate: u32, senders: usize, for_ms: u64, least: f64) -> Vec<Duration> {
        let (at, over) = let_through(rate, senders, for_ms).await;
        let allowed = over.as_secs_f64() * f64::from(rate);
        let sent = at.len() as f64;
        let most = allowed + f64::from(burst(NonZeroU32::new(rate).unwrap()).get());
        assert!(sent <= most, "{rate}/s: {sent} sent, at most {most:.0}");
        assert!(
            sent >= allowed * least,
            "{rate}/s: {sent} sent of {allowed:.0}"
        );
        at
    }

    /// The DESIGN target: at 100/s, within 3 % of the rate and never above rate + burst in
    /// any one-second window, with many senders waiting on the runtime's timer at once.
    #[tokio::test]
    async fn a_hundred_a_second_is_kept_with_sixteen_senders() {
        // The burst at 100/s is 2 (`the_burst_is_two_or_four_milliseconds_worth`).
        let at = kept(100, 16, 1_500, 0.97).await;
        for (i, t) in at.iter().enumerate() {
            let window = at[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(window <= 102, "{window} sends in the second from {t:?}");
        }
    }

    /// Above 1,000/s a waiting sender wakes on the runtime's timer, which fires about two
    /// milliseconds after a sub-millisecond wait, and lets at most the burst through per wake:
    /// with a burst of 2 (or one millisecond's worth), 1,500/s got about 66 % and 2,500/s about
    /// 55 % (governor's own `until_ready`, used before, kept 99-100 % at both).
    #[tokio::test]
    async fn mid_rates_are_not_starved_by_the_timer() {
        for rate in [1_500, 2_500] {
            kept(rate, 16, 400, 0.9).await;
        }
    }

    #[tokio::test]
    async fn stop_releases_a_paused_sender() {
        let pacer = std::sync::Arc::new(Pacer::new(NonZeroU32::new(1).unwrap()));
        let stop = std::sync::Arc::new(Stop::default());
        pacer.pause_for(Duration::from_secs(60));
        let waiter = {
            let (pacer, stop) = (pacer.clone(), stop.clone());
            tokio::spawn(async move { pacer.ready(&stop).await })
        };
        stop.trigger(super::super::StopReason::Interrupted);
        assert!(!waiter.await.unwrap());
    }
}
