//! Pacing for one provider: a GCRA rate limiter (governor) spacing sends evenly at `--rate`
//! per second, plus a provider-wide pause that a `429 Retry-After` imposes on every worker at
//! once. The burst is [`BURST`]: with a burst of one, every late timer wake-up would push all
//! later slots back and the achieved rate would drift below `--rate`; a burst of two absorbs that
//! lateness while any one-second window still holds at most `rate + BURST` sends.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::stop::Stop;

/// Sends allowed back to back after a late wake-up.
pub const BURST: u32 = 2;

pub struct Pacer {
    limiter: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(per_second: NonZeroU32) -> Pacer {
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
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
            tokio::select! {
                _ = self.limiter.until_ready() => {}
                _ = stop.wait() => return false,
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
