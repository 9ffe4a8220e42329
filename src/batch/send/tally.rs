//! The live counts of one run's rows, each moved only once the row's outcome is durable in the
//! journal, and the run's closing figures ([`RunCounts`]) computed from them: each row is
//! counted by the outcome recorded for it, never by how many rows were handed to workers.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::RowState;

/// Live counts of this run's dispatched rows. `done` and the per-state counters move only
/// once a row's outcome is durable in the journal.
#[derive(Debug, Default)]
pub struct Tally {
    /// Rows marked `sending` on disk by this run (a request may follow).
    pub claimed: AtomicU64,
    /// Rows found settled (e.g. by a webhook) when this run came to claim them.
    pub settled_elsewhere: AtomicU64,
    pub done: AtomicU64,
    pub accepted: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    pub in_doubt: AtomicU64,
    /// Rows handed back to `planned` (nothing reached the provider).
    pub not_sent: AtomicU64,
    pub attempts: AtomicU64,
}

impl Tally {
    pub fn record(&self, state: RowState) {
        let counter = match state {
            RowState::Accepted => &self.accepted,
            RowState::Succeeded => &self.succeeded,
            RowState::Failed => &self.failed,
            RowState::InDoubt | RowState::Sending => &self.in_doubt,
            RowState::Planned | RowState::Rejected | RowState::Cancelled => &self.not_sent,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn paid(&self) -> u64 {
        Self::get(&self.accepted) + Self::get(&self.succeeded)
    }

    /// `N paid · N failed · N in doubt`, for a progress display.
    pub fn line(&self) -> String {
        format!(
            "{} paid · {} failed · {} in doubt",
            self.paid(),
            Self::get(&self.failed),
            Self::get(&self.in_doubt)
        )
    }

    /// What this run did to the `open` rows it set out to send, by the journal's outcomes.
    /// A row marked `sending` whose outcome could not be recorded (or that was still in
    /// flight when an interrupted run gave up waiting) stays `sending` on disk: in doubt.
    pub fn counts(&self, open: u64) -> RunCounts {
        let recorded = Self::get(&self.done);
        let unrecorded = Self::get(&self.claimed).saturating_sub(recorded);
        let succeeded = Self::get(&self.succeeded);
        let pending = Self::get(&self.accepted);
        let failed = Self::get(&self.failed);
        let in_doubt = Self::get(&self.in_doubt) + unrecorded;
        let sent = succeeded + pending + failed + in_doubt;
        RunCounts {
            open,
            sent,
            succeeded,
            pending,
            failed,
            in_doubt,
            not_sent: open
                .saturating_sub(sent)
                .saturating_sub(Self::get(&self.settled_elsewhere)),
            requests: Self::get(&self.attempts),
        }
    }
}

/// A run's figures, each row counted once by its outcome in the journal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Rows open (planned, sending, in doubt) when the run started.
    pub open: u64,
    /// Rows a request may have reached the provider for: the sum of the four below.
    pub sent: u64,
    pub succeeded: u64,
    /// Accepted, final state not known yet.
    pub pending: u64,
    pub failed: u64,
    pub in_doubt: u64,
    /// Open rows no request reached the provider for; they stay open for a resume.
    pub not_sent: u64,
    /// HTTP requests made (including refused and retried ones).
    pub requests: u64,
}

impl RunCounts {
    /// Rows the provider accepted (succeeded or pending).
    pub fn accepted(&self) -> u64 {
        self.succeeded + self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_each_outcome_once() {
        let t = Tally::default();
        t.record(RowState::Accepted);
        t.record(RowState::Succeeded);
        t.record(RowState::Failed);
        t.record(RowState::InDoubt);
        t.record(RowState::Planned);
        assert_eq!(t.paid(), 2);
        assert_eq!(Tally::get(&t.done), 5);
        assert_eq!(Tally::get(&t.not_sent), 1);
        assert_eq!(t.line(), "2 paid · 1 failed · 1 in doubt");
    }

    #[test]
    fn run_counts_are_the_recorded_outcomes_not_the_rows_dispatched() {
        let t = Tally::default();
        // Ten open rows: seven claimed; of those one succeeded, one pending, one failed, one
        // in doubt, two handed back to planned (429s only), one whose outcome could not be
        // written (it stays `sending` on disk). One row was settled by a webhook first.
        t.claimed.store(7, Ordering::Relaxed);
        t.settled_elsewhere.store(1, Ordering::Relaxed);
        for s in [
            RowState::Succeeded,
            RowState::Accepted,
            RowState::Failed,
            RowState::InDoubt,
            RowState::Planned,
            RowState::Planned,
        ] {
            t.record(s);
        }
        t.attempts.store(40, Ordering::Relaxed);
        let c = t.counts(10);
        assert_eq!(
            c,
            RunCounts {
                open: 10,
                sent: 5,
                succeeded: 1,
                pending: 1,
                failed: 1,
                in_doubt: 2,
                not_sent: 4,
                requests: 40,
            }
        );
        assert_eq!(c.accepted(), 2);
    }
}
