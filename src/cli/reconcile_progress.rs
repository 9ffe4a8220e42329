//! Progress while reconcile asks the provider (or the sandbox simulator) for final states: a
//! line when it starts, a spinner with counts on a terminal, plain lines every
//! `PAYRUN_PROGRESS_SECS` otherwise, and a closing line with the counts — so the seconds spent
//! after the pay step of `run --sandbox` are never silent. All on stderr, like the sending
//! progress.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::batch::observer::{Checked, Observer};
use crate::domain::ProviderKind;

pub struct ReconcileProgress {
    label: &'static str,
    whom: Option<String>,
    total: AtomicU64,
    checked: AtomicU64,
    changed: AtomicU64,
    pending: AtomicU64,
    attention: AtomicU64,
    bar: Option<ProgressBar>,
    plain_every: Duration,
    last_plain: Mutex<Instant>,
}

impl ReconcileProgress {
    /// `label` starts each line (`sandbox`, `reconcile`); `whom` is who is asked (by default
    /// the provider).
    pub fn new(label: &'static str, whom: Option<&str>) -> ReconcileProgress {
        let plain_every = super::progress::plain_every();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {prefix}: {pos}/{len} checked · {msg}")
            {
                bar.set_style(style);
            }
            bar.set_prefix(label);
            bar
        });
        ReconcileProgress {
            label,
            whom: whom.map(str::to_owned),
            total: AtomicU64::new(0),
            checked: AtomicU64::new(0),
            changed: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            attention: AtomicU64::new(0),
            bar,
            plain_every,
            last_plain: Mutex::new(Instant::now()),
        }
    }

    fn get(n: &AtomicU64) -> u64 {
        n.load(Ordering::Relaxed)
    }

    fn counts(&self) -> String {
        format!(
            "{} updated, {} still pending, {} need a person",
            Self::get(&self.changed),
            Self::get(&self.pending),
            Self::get(&self.attention)
        )
    }

    /// The closing line (the bar, if any, is cleared first).
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!(
            "{}: final states checked: {} of {} ({})",
            self.label,
            Self::get(&self.checked),
            Self::get(&self.total),
            self.counts()
        );
    }
}

impl Observer for ReconcileProgress {
    fn reconciling(&self, rows: u64, provider: ProviderKind) {
        self.total.store(rows, Ordering::Relaxed);
        eprintln!(
            "{}: asking {} for the final state of {rows} payout(s)",
            self.label,
            self.whom.as_deref().unwrap_or(provider.name())
        );
        if let Some(bar) = &self.bar {
            bar.set_length(rows);
            bar.set_message(self.counts());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    fn checked(&self, row: Checked) {
        let counter = match row {
            Checked::Changed => Some(&self.changed),
            Checked::Pending => Some(&self.pending),
            Checked::NeedsPerson => Some(&self.attention),
            Checked::Unchanged => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let done = self.checked.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(self.counts());
            return;
        }
        let Ok(mut last) = self.last_plain.lock() else {
            return;
        };
        if last.elapsed() >= self.plain_every && done < Self::get(&self.total) {
            *last = Instant::now();
            eprintln!(
                "{}: {done}/{} checked · {}",
                self.label,
                Self::get(&self.total),
                self.counts()
            );
        }
    }

    fn reconciled(&self) {
        self.finish();
    }
}
