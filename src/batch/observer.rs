//! How a payout run tells its caller what is happening while it happens. `batch` never prints:
//! it calls an [`Observer`], and the command line implements one that draws a progress bar on a
//! terminal and plain lines otherwise. Every method has an empty default, so a library user
//! implements only what they want to see ([`Quiet`] sees nothing).

use std::sync::Arc;
use std::time::Duration;

use super::open::How;
use super::preflight::Preflight;
use super::retry::RetryPlan;
use super::send::stop::{Stop, StopReason};
use super::send::tally::Tally;
use crate::domain::ProviderKind;
use crate::domain::RowState;
use crate::journal::{Batch, LockInfo, Tightened};

/// What reconcile made of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Changed,
    Pending,
    Unchanged,
    NeedsPerson,
}

/// Sending is about to start.
pub struct SendStart {
    /// Open rows this run sets out to send.
    pub total: u64,
    /// Live counts of this run, moved only once an outcome is durable in the journal.
    pub tally: Arc<Tally>,
    /// Throw it (e.g. on Ctrl-C) to stop dispatching; rows in flight finish.
    pub stop: Arc<Stop>,
}

/// Told how a run goes. Called from the sending tasks: keep each call short.
pub trait Observer: Send + Sync {
    /// The journal's files were readable by others and are now 0600.
    fn tightened(&self, _files: &[Tightened]) {}
    /// The file is the batch about to be paid, and this is how it came about.
    fn opened(&self, _batch: &Batch, _how: &How) {}
    /// This run took the batch over from a payrun process that showed no sign of life.
    fn took_over(&self, _batch: &str, _from: &LockInfo) {}
    /// `retry` decided what it retries and what it leaves alone (shown before the pre-flight).
    fn retry_plan(&self, _batch: &Batch, _plan: &RetryPlan) {}
    /// The pre-flight of `batch` is known (shown whether or not it refuses the batch).
    fn preflight(&self, _batch: &Batch, _preflight: &Preflight) {}
    /// Sending starts.
    fn sending(&self, _start: &SendStart) {}
    /// One row's outcome is in the journal.
    fn outcome(&self, _state: RowState) {}
    /// The provider asked every sender to wait `wait` (HTTP 429 `Retry-After`), until
    /// `until_ms` (Unix milliseconds).
    fn paused(&self, _wait: Duration, _until_ms: i64) {}
    /// Sending is over: every row handed to a worker has an outcome (or was abandoned in
    /// flight after an interrupt); `stop` says why it ended early, if it did.
    fn sent(&self, _stop: Option<&StopReason>) {}
    /// Reconcile is about to ask `provider` about `rows` payouts.
    fn reconciling(&self, _rows: u64, _provider: ProviderKind) {}
    /// Reconcile checked one row.
    fn checked(&self, _row: Checked) {}
    /// Reconcile is over.
    fn reconciled(&self) {}
}

/// An observer that sees nothing.
pub struct Quiet;

impl Observer for Quiet {}
