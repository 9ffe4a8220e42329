//! Retry delays: exponential from 250 ms, capped at 10 s, with jitter so many workers retrying
//! after the same blip do not hammer the provider in lockstep.

use std::time::Duration;

const BASE_MS: u64 = 250;
const CAP_MS: u64 = 10_000;

/// Delay before retry number `attempt` (1 = first retry): uniform in [d/2, d] where
/// d = min(cap, base · 2^(attempt-1)).
pub fn delay(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(16);
    let ceiling = BASE_MS.saturating_mul(1 << exp).min(CAP_MS);
    let floor = ceiling / 2;
    Duration::from_millis(rand::random_range(floor..=ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps_with_jitter() {
        for _ in 0..100 {
            let first = delay(1);
            assert!(first >= Duration::from_millis(125) && first <= Duration::from_millis(250));
            let late = delay(30);
            assert!(late >= Duration::from_millis(5_000) && late <= Duration::from_millis(10_000));
        }
        assert!(delay(3) <= Duration::from_millis(1000));
    }
}
