//! The sending side of progress: every recorded outcome moves the run's [`Tally`] and is told
//! to the [`Observer`]; a pause the provider asked for is told with the time it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tally::Tally;
use crate::batch::observer::{Observer, Quiet};
use crate::domain::RowState;
use crate::journal::now_ms;

/// One run's tally and the observer told about it.
pub struct Progress {
    pub tally: Arc<Tally>,
    observer: Arc<dyn Observer>,
    started: Instant,
}

impl Progress {
    pub fn new(observer: Arc<dyn Observer>) -> Progress {
        Progress {
            tally: Arc::new(Tally::default()),
            observer,
            started: Instant::now(),
        }
    }

    /// Progress nobody watches.
    pub fn quiet() -> Progress {
        Progress::new(Arc::new(Quiet))
    }

    pub fn observer(&self) -> &dyn Observer {
        self.observer.as_ref()
    }

    /// A row's outcome is in the journal.
    pub fn record(&self, state: RowState) {
        self.tally.record(state);
        self.observer.outcome(state);
    }

    /// The provider asked every sender to wait `wait` (429 `Retry-After`).
    pub fn paused(&self, wait: Duration) {
        let until_ms = now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        self.observer.paused(wait, until_ms);
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
