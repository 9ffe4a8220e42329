//! Progress while sending: an indicatif bar on a terminal (done/total, paid, failed, in doubt,
//! rate, ETA), plain periodic lines on stderr otherwise, so logs of unattended runs show it too.
//! A pause the provider asked for (429 `Retry-After`) is shown with the time it ends.
//! The run's closing figures ([`RunCounts`]) come from the same tally: each row is counted by
//! the outcome the journal recorded for it, never by how many rows were handed to workers.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::journal::{RowState, format_ms, now_ms};

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

/// A provider-asked pause in progress.
#[derive(Debug, Default)]
struct PauseNote {
    until: Option<Instant>,
    until_ms: i64,
    announced: Option<Instant>,
}

/// Renders a [`Tally`] for a run of `total` rows.
pub struct Progress {
    pub tally: Arc<Tally>,
    total: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    plain_every: Duration,
    quiet: bool,
    pause: Mutex<PauseNote>,
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
            quiet,
            pause: Mutex::new(PauseNote::default()),
        }
    }

    /// The provider asked every sender to wait `wait` (429 `Retry-After`). Shown on the bar;
    /// without a terminal, said in a plain line when the pause is long or the last such line
    /// is older than the progress interval (a busy rate limit does not flood the log).
    pub fn paused(&self, wait: Duration) {
        let Ok(mut note) = self.pause.lock() else {
            return;
        };
        let until = Instant::now() + wait;
        if note.until.is_some_and(|u| u >= until) {
            return;
        }
        note.until = Some(until);
        note.until_ms =
            now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        let due = wait >= self.plain_every
            || note
                .announced
                .is_none_or(|at| at.elapsed() >= self.plain_every);
        if self.bar.is_none() && !self.quiet && due {
            note.announced = Some(Instant::now());
            eprintln!(
                "progress: the provider asked to pause (HTTP 429, Retry-After {} s): sending resumes at {}",
                wait.as_secs_f64().ceil(),
                format_ms(note.until_ms)
            );
        }
    }

    /// `paused by the provider until <time>` while a pause lasts.
    fn pause_text(&self) -> Option<String> {
        let note = self.pause.lock().ok()?;
        note.until
            .filter(|u| *u > Instant::now())
            .map(|_| format!("paused by the provider until {}", format_ms(note.until_ms)))
    }

    /// The tally line, with the pause if one lasts.
    fn status(&self) -> String {
        match self.pause_text() {
            Some(pause) => format!("{} · {pause}", self.tally.line()),
            None => self.tally.line(),
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
                bar.set_message(self.status());
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
                    self.status()
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

    #[test]
    fn a_pause_is_shown_until_it_ends() {
        let p = Progress::new(5, true);
        assert_eq!(p.pause_text(), None);
        p.paused(Duration::from_secs(120));
        let text = p.status();
        assert!(text.contains("paused by the provider until 20"), "{text}");
        // A shorter pause asked later does not shorten it.
        p.paused(Duration::from_secs(1));
        let until = p.pause.lock().unwrap().until.unwrap();
        assert!(until > Instant::now() + Duration::from_secs(100));
    }
}
