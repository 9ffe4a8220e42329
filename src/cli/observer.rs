//! What a person sees while `run`, `resume` and `reconcile` work: the command line's
//! [`Observer`]. It shows the pre-flight, draws the sending progress, watches for Ctrl-C while
//! payouts are sent, and shows reconcile's progress.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::progress::SendProgress;
use super::reconcile_progress::ReconcileProgress;
use crate::batch::observer::{Checked, Observer, SendStart};
use crate::batch::open::How;
use crate::batch::preflight::Preflight;
use crate::batch::retry::RetryPlan;
use crate::batch::send::StopReason;
use crate::domain::ProviderKind;
use crate::journal::{Batch, LockInfo, Tightened};

/// The sending display and the interrupt watcher, while sending lasts.
struct Sending {
    progress: Arc<SendProgress>,
    ticker: tokio::task::JoinHandle<()>,
    interrupts: tokio::task::JoinHandle<()>,
}

pub struct CliObserver {
    journal: PathBuf,
    /// The command that continues the batch, said on a second Ctrl-C.
    resume: Mutex<String>,
    sending: Mutex<Option<Sending>>,
    reconcile: Mutex<Option<Arc<ReconcileProgress>>>,
}

impl CliObserver {
    /// An observer for a run over the journal at `journal`.
    pub fn new(journal: &Path) -> CliObserver {
        CliObserver {
            journal: journal.to_path_buf(),
            resume: Mutex::new(String::new()),
            sending: Mutex::new(None),
            reconcile: Mutex::new(None),
        }
    }

    fn reconcile(&self) -> Option<Arc<ReconcileProgress>> {
        self.reconcile.lock().ok().and_then(|r| r.clone())
    }
}

impl Observer for CliObserver {
    fn tightened(&self, files: &[Tightened]) {
        super::say_tightened(files);
    }

    fn opened(&self, batch: &Batch, how: &How) {
        say_how(batch, how, &self.journal);
    }

    fn took_over(&self, batch: &str, old: &LockInfo) {
        eprintln!(
            "note: took over batch {batch} from payrun pid {} on {} (no sign of life for {} s)",
            old.pid,
            old.host,
            old.age_ms / 1000
        );
    }

    fn retry_plan(&self, batch: &Batch, plan: &RetryPlan) {
        super::retry::show(batch, plan);
    }

    fn preflight(&self, batch: &Batch, preflight: &Preflight) {
        if let Ok(mut resume) = self.resume.lock() {
            *resume = resume_command(batch, &self.journal);
        }
        super::preflight::show(batch, preflight);
    }

    fn sending(&self, start: &SendStart) {
        let progress = Arc::new(SendProgress::new(start.total, start.tally.clone()));
        let sending = Sending {
            ticker: progress.spawn_ticker(),
            interrupts: super::signals::watch(
                start.stop.clone(),
                self.resume.lock().map(|r| r.clone()).unwrap_or_default(),
            ),
            progress,
        };
        if let Ok(mut slot) = self.sending.lock() {
            *slot = Some(sending);
        }
    }

    fn paused(&self, wait: Duration, until_ms: i64) {
        if let Ok(slot) = self.sending.lock()
            && let Some(s) = slot.as_ref()
        {
            s.progress.paused(wait, until_ms);
        }
    }

    fn sent(&self, _stop: Option<&StopReason>) {
        if let Some(s) = self.sending.lock().ok().and_then(|mut slot| slot.take()) {
            s.ticker.abort();
            s.interrupts.abort();
            s.progress.finish();
        }
    }

    fn reconciling(&self, rows: u64, provider: ProviderKind) {
        // Only a sandbox run reconciles within the run: the simulator settles at once.
        let watch = Arc::new(ReconcileProgress::new("sandbox", Some("the simulator")));
        watch.reconciling(rows, provider);
        if let Ok(mut slot) = self.reconcile.lock() {
            *slot = Some(watch);
        }
    }

    fn checked(&self, row: Checked) {
        if let Some(watch) = self.reconcile() {
            watch.checked(row);
        }
    }

    fn reconciled(&self) {
        if let Some(watch) = self.reconcile.lock().ok().and_then(|mut r| r.take()) {
            watch.reconciled();
        }
    }
}

/// The command that continues a batch, as printed to the user.
pub fn resume_command(batch: &Batch, journal: &Path) -> String {
    let mut cmd = format!("payrun resume {} --journal {}", batch.id, journal.display());
    if batch.sandbox {
        cmd.push_str(" --sandbox");
    }
    cmd
}

/// Say how the file became the batch about to be paid.
pub fn say_how(batch: &Batch, how: &How, journal: &Path) {
    let id = &batch.id;
    match how {
        How::Continuing => outln!("Continuing batch {id} (same file as before)."),
        How::Planned(stats) => outln!(
            "Planned batch {id}: {} payout(s){} (journal {})",
            stats.planned,
            if stats.rejected > 0 {
                format!(", {} invalid row(s) recorded as rejected", stats.rejected)
            } else {
                String::new()
            },
            journal.display()
        ),
        How::Replanned(r) => {
            outln!(
                "Batch {id} follows the edited file: {} unchanged, {} added, {} updated before sending, {} withdrawn, \
                 {} conflict(s), {} invalid",
                r.unchanged,
                r.added,
                r.updated,
                r.withdrawn,
                r.conflicts,
                r.rejected
            );
            if r.conflicts > 0 {
                outln!(
                    "  conflicts are rows already sent that the file now changes or pays again; they are not paid: see `payrun report {id}`"
                );
            }
        }
    }
}
