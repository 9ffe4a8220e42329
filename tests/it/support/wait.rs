//! Waiting for something a test can observe — a ledger entry, a lock owner, a status — under a
//! deadline that fails the test. No test passes or fails because of how fast the machine is:
//! the deadline is only there so a bug that never produces the event is a failure, not a hang.

use std::future::Future;
use std::time::Duration;

/// How long any single awaited event may take before the test fails. Generous on purpose: it
/// only ever bounds a bug, never a measurement.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How often a probe is repeated. Not a timing assumption: only the probe's answer matters.
const POLL: Duration = Duration::from_millis(10);

/// Repeat `probe` until it returns `Some`, and return that; fail the test naming `what` if it
/// has not within [`PATIENCE`].
pub async fn until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {} s for {what}",
            PATIENCE.as_secs()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// [`until`] for a yes/no condition.
pub async fn until_true<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until(what, || {
        let answer = probe();
        async move { answer.await.then_some(()) }
    })
    .await;
}
