//! Why and when a run stops dispatching: Ctrl-C, an empty wallet, an unreachable provider,
//! refused credentials, a lost lock. The first reason wins; everyone can wait on it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

/// Why sending stopped before every row was dispatched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C (or SIGTERM).
    Interrupted,
    /// The provider said the wallet balance is insufficient.
    InsufficientFunds(String),
    /// Too many consecutive transport failures.
    ProviderUnavailable(String),
    /// The provider asked (HTTP 429 `Retry-After`) for a pause longer than payrun waits
    /// within a run: `wait` as asked, ending at `until_ms` (Unix milliseconds).
    ProviderPaused { wait: Duration, until_ms: i64 },
    /// Credentials or endpoint refused; nothing else will work.
    Fatal(String),
    /// Another process took over the batch lock.
    LockLost,
    /// The journal could not record a step; sending more would be unsafe.
    JournalFailed(String),
}

/// A shared, one-way stop switch.
pub struct Stop {
    reason: Mutex<Option<StopReason>>,
    flag: watch::Sender<bool>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            reason: Mutex::new(None),
            flag: watch::Sender::new(false),
        }
    }
}

impl Stop {
    /// Record `reason` (unless one is already recorded) and wake every waiter.
    pub fn trigger(&self, reason: StopReason) {
        if let Ok(mut slot) = self.reason.lock()
            && slot.is_none()
        {
            *slot = Some(reason);
        }
        self.flag.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.flag.borrow()
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    /// Resolves once the switch is thrown.
    pub async fn wait(&self) {
        let mut rx = self.flag.subscribe();
        let _ = rx.wait_for(|set| *set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_reason_wins_and_waiters_wake() {
        let stop = std::sync::Arc::new(Stop::default());
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.wait().await })
        };
        assert!(!stop.is_set());
        stop.trigger(StopReason::Interrupted);
        stop.trigger(StopReason::LockLost);
        waiter.await.unwrap();
        assert!(stop.is_set());
        assert_eq!(stop.reason(), Some(StopReason::Interrupted));
    }
}
