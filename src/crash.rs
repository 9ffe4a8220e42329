//! Deterministic crash points for the exactly-once tests. `PAYRUN_CRASH_AT=<point>[:<n>]`
//! aborts the process the n-th time (default first) execution reaches `<point>`, exactly as a
//! power cut would: no destructors, no flushing. Inert when the variable is unset, and compiled
//! out without the `crash-points` feature.

/// Abort here if `PAYRUN_CRASH_AT` names this point and its count is reached.
#[cfg(feature = "crash-points")]
pub fn point(name: &str) {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    let target = TARGET.get_or_init(|| {
        let spec = std::env::var("PAYRUN_CRASH_AT").ok()?;
        let (point, n) = match spec.split_once(':') {
            Some((p, n)) => (p.to_string(), n.parse().ok()?),
            None => (spec, 1),
        };
        Some((point, n))
    });
    if let Some((point, n)) = target
        && point == name
        && HITS.fetch_add(1, Ordering::SeqCst) + 1 >= *n
    {
        tracing::error!("payrun: crash point {name} reached (PAYRUN_CRASH_AT); aborting");
        std::process::abort();
    }
}

#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn point(_name: &str) {}
