//! Progress while sending: an indicatif bar on a terminal (done/total, paid, failed, in doubt,
//! rate, ETA), plain periodic lines on stderr otherwise (every `PAYRUN_PROGRESS_SECS`, default
//! 5), so logs of unattended runs show it too. A pause the provider asked for (429
//! `Retry-After`) is shown with the time it ends. The counts are the run's tally, which moves
//! only once an outcome is durable in the journal.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::batch::send::Tally;
use crate::journal::{format_ms, now_ms};

/// The plain-line interval.
pub fn plain_every() -> Duration {
    std::env::var("PAYRUN_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(5), Duration::from_secs)
}

/// A provider-asked pause in progress.
#[derive(Debug, Default)]
struct PauseNote {
    until_ms: i64,
    announced: Option<Instant>,
}

/// Draws one run's tally of `total` rows.
pub struct SendProgress {
    tally: Arc<Tally>,
    total: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    plain_every: Duration,
    pause: Mutex<PauseNote>,
}

impl SendProgress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new(total: u64, tally: Arc<Tally>) -> SendProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} · {msg} · {per_sec} · ETA {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        SendProgress {
            tally,
            total,
            started: Instant::now(),
            bar,
            plain_every: plain_every(),
            pause: Mutex::new(PauseNote::default()),
        }
    }

    /// The provider asked every sender to wait `wait`, until `until_ms`. Shown on the bar;
    /// without a terminal, said in a plain line when the pause is long or the last such line
    /// is older than the progress interval (a busy rate limit does not flood the log).
    pub fn paused(&self, wait: Duration, until_ms: i64) {
        let Ok(mut note) = self.pause.lock() else {
            return;
        };
        if note.until_ms >= until_ms {
            return;
        }
        note.until_ms = until_ms;
        let due = wait >= self.plain_every
            || note
                .announced
                .is_none_or(|at| at.elapsed() >= self.plain_every);
        if self.bar.is_none() && due {
            note.announced = Some(Instant::now());
            eprintln!(
                "progress: the provider asked to pause (HTTP 429, Retry-After {} s): sending resumes at {}",
                wait.as_secs_f64().ceil(),
                format_ms(until_ms)
            );
        }
    }

    /// `paused by the provider until <time>` while a pause lasts.
    fn pause_text(&self) -> Option<String> {
        let note = self.pause.lock().ok()?;
        (note.until_ms > now_ms())
            .then(|| format!("paused by the provider until {}", format_ms(note.until_ms)))
    }

    /// The tally line, with the pause if one lasts.
    fn status(&self) -> String {
        match self.pause_text() {
            Some(pause) => format!("{} · {pause}", self.tally.line()),
            None => self.tally.line(),
        }
    }

    fn done(&self) -> u64 {
        Tally::get(&self.tally.done)
    }

    /// Redraw the bar, or print a plain line if it is time for one.
    fn tick(&self, last_plain: &mut Instant) {
        let done = self.done();
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(self.status());
            }
            None if last_plain.elapsed() >= self.plain_every => {
                *last_plain = Instant::now();
                let secs = self.started.elapsed().as_secs_f64();
                let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
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
            bar.set_position(self.done());
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_is_shown_until_it_ends() {
        let p = SendProgress::new(5, Arc::new(Tally::default()));
        assert_eq!(p.pause_text(), None);
        let until = now_ms() + 120_000;
        p.paused(Duration::from_secs(120), until);
        let text = p.status();
        assert!(text.contains("paused by the provider until 20"), "{text}");
        // A shorter pause asked later does not shorten it.
        p.paused(Duration::from_secs(1), now_ms() + 1_000);
        assert_eq!(p.pause.lock().unwrap().until_ms, until);
    }
}
