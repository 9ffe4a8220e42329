//! Progress while sending: an indicatif bar on a terminal (done/total, paid, failed, in doubt,
//! rate, ETA), plain periodic lines on stderr otherwise, so logs of unattended runs show it too.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::journal::RowState;

/// Live counts of this run's dispatched rows.
#[derive(Debug, Default)]
pub struct Tally {
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
            RowState::Planned | RowState::Rejected => &self.not_sent,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn paid(&self) -> u64 {
        Self::get(&self.accepted) + Self::get(&self.succeeded)
    }

    fn line(&self) -> String {
        format!(
            "{} paid · {} failed · {} in doubt",
            self.paid(),
            Self::get(&self.failed),
            Self::get(&self.in_doubt)
        )
    }
}

/// Renders a [`Tally`] for a run of `total` rows.
pub struct Progress {
    pub tally: Arc<Tally>,
    total: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    plain_every: Duration,
}

impl Progress {
    /// A bar when stderr is a terminal (and `quiet` is off), plain lines every `plain_every`
    /// otherwise.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let plain_every = std::env::var("PAYRUN_PROGRESS_SECS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(Duration::from_secs(5), Duration::from_secs);
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} · {msg} · {per_sec} · ETA {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            tally: Arc::new(Tally::default()),
            total,
            started: Instant::now(),
            bar,
            plain_every,
        }
    }

    fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            Tally::get(&self.tally.done) as f64 / secs
        } else {
            0.0
        }
    }

    /// Redraw the bar, or print a plain line if it is time for one.
    fn tick(&self, last_plain: &mut Instant) {
        let done = Tally::get(&self.tally.done);
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(self.tally.line());
            }
            None if last_plain.elapsed() >= self.plain_every => {
                *last_plain = Instant::now();
                let rate = self.rate();
                let eta = if rate > 0.0 {
                    format!("{:.0}s", (self.total.saturating_sub(done)) as f64 / rate)
                } else {
                    "?".into()
                };
                eprintln!(
                    "progress: {done}/{} done · {} · {rate:.1}/s · ETA {eta}",
                    self.total,
                    self.tally.line()
                );
            }
            None => {}
        }
    }

    /// Keep the display fresh until the returned handle is aborted.
    pub fn spawn_ticker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut last_plain = Instant::now();
            let mut every = tokio::time::interval(Duration::from_millis(200));
            loop {
                every.tick().await;
                me.tick(&mut last_plain);
            }
        })
    }

    /// Clear the bar; the caller prints the final summary.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(Tally::get(&self.tally.done));
            bar.finish_and_clear();
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
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
}
