//! Driving one trial end to end: write the file, run the planned processes and kill each as
//! planned (checking the write-ahead rule after every kill), then resume without kills until
//! payrun says the batch is done, and hand the final state to the checker.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::checker::{
    Verdict, batch_exists, check, check_write_ahead, integrity_problem, journal_rows, last_events,
    open_journal, parse_ledger,
};
use super::process::{Ended, Kill, Running};
use super::trial::{Cmd, TrialPlan};
use crate::support::listen::InProcess;
use crate::support::pay::Fixture;

/// Longest any one payrun process may take before it counts as hung.
pub const PROCESS_DEADLINE: Duration = Duration::from_secs(120);
/// Kill-free resumes allowed to finish a batch (exit 1 = something still open → again).
const MAX_RESUMES: usize = 20;
/// Pause before the n-th kill-free resume after an exit 1: n times this.
const RESUME_PAUSE: Duration = Duration::from_millis(100);

/// What one trial did and found.
#[derive(Debug)]
pub struct TrialOutcome {
    pub seed: u64,
    pub plan: String,
    pub kills: usize,
    /// Kills that landed before the batch's plan committed.
    pub kills_before_plan: usize,
    /// Kills that left rows `sending`: requests possibly in flight, answers lost.
    pub kills_in_flight: usize,
    pub interrupts: usize,
    /// Wallets emptied while a run was sending.
    pub drained: usize,
    /// Callbacks the receiver logged.
    pub callbacks: usize,
    pub processes: usize,
    pub verdict: Verdict,
    pub log: Vec<String>,
    pub elapsed: Duration,
}

impl TrialOutcome {
    pub fn failed(&self) -> bool {
        !self.verdict.is_clean()
    }
}

/// A fixture with the trial's file written and its batch id known.
pub struct Batch<'a> {
    pub fx: &'a Fixture,
    pub plan: &'a TrialPlan,
    pub file: PathBuf,
    pub id: String,
    /// `--callback-url` for `run`, when a receiver listens.
    pub callback_url: Option<String>,
}

impl<'a> Batch<'a> {
    pub fn new(fx: &'a Fixture, plan: &'a TrialPlan) -> Batch<'a> {
        let file = fx.dir.path().join("payees.csv");
        plan.file.write(&file);
        let id = if plan.explicit_batch {
            format!("trial-{}", plan.seed)
        } else {
            let sha = payrun::batch::keys::file_sha256(&file).expect("hash the file");
            payrun::batch::keys::default_batch_id(&file, &sha)
        };
        Batch {
            fx,
            plan,
            file,
            id,
            callback_url: None,
        }
    }

    /// The payrun command for `cmd` with the trial's environment and flags.
    pub fn command(&self, cmd: Cmd) -> tokio::process::Command {
        let plan = self.plan;
        let mut c = self.fx.payrun();
        if let Some(t) = plan.http_timeout {
            c.env("PAYRUN_HTTP_TIMEOUT", t.to_string());
        }
        if let Some(n) = plan.max_tries {
            c.env("PAYRUN_MAX_TRIES", n.to_string());
        }
        match cmd {
            Cmd::Run => {
                c.arg("run")
                    .arg(&self.file)
                    .args(["--provider", plan.provider, "--yes"]);
                if plan.explicit_batch {
                    c.args(["--batch", &self.id]);
                }
                if plan.skip_invalid {
                    c.arg("--skip-invalid");
                }
                if let Some(url) = &self.callback_url {
                    c.args(["--callback-url", url]);
                }
            }
            Cmd::Resume => {
                c.args(["resume", &self.id, "--yes"]);
            }
        }
        // The trial files repeat some payments on purpose; the checker expects each row paid.
        c.args(["--rate", &plan.rate.to_string()])
            .args(["--concurrency", &plan.concurrency.to_string()])
            .arg("--allow-repeats");
        c
    }

    /// The currencies the trial file's valid rows pay in (an invalid row may name one no
    /// wallet holds).
    fn currencies(&self) -> Vec<&'static str> {
        let rows = self.plan.file.rows.iter().filter(|r| r.valid);
        let mut codes: Vec<_> = rows.map(|r| r.cur.code).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }

    /// Empty the provider's wallets once `n` more payouts have executed (as another payout
    /// from the same wallet would); returns only then.
    async fn drain_after(&self, n: usize) {
        let base = self.fx.ledger().await.len();
        while self.fx.ledger().await.len() < base + n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.set_wallets(0).await;
    }

    /// Set the wallet of each of the trial's currencies to `minor`.
    async fn set_wallets(&self, minor: u64) {
        for currency in self.currencies() {
            crate::support::sim::set_wallet(&self.fx.sim, self.plan.provider, currency, minor)
                .await;
        }
    }

    pub fn exists(&self) -> bool {
        batch_exists(&self.fx.journal, &self.id)
    }

    /// A `resume` needs a planned batch; before planning committed, only `run` can continue.
    pub fn effective(&self, cmd: Cmd) -> Cmd {
        if self.exists() { cmd } else { Cmd::Run }
    }

    pub async fn spawn_and_finish(&self, cmd: Cmd, kill: Kill) -> Ended {
        Running::spawn(&mut self.command(self.effective(cmd)))
            .finish(kill, &self.fx.sim, PROCESS_DEADLINE)
            .await
    }

    /// Rows still `planned`, `sending` or `in_doubt`.
    fn open_rows(&self) -> usize {
        journal_rows(&self.fx.journal, &self.id).map_or(usize::MAX, |rows| {
            rows.iter()
                .filter(|r| {
                    matches!(r.state.as_str(), "planned" | "sending" | "in_doubt")
                        && !r.needs_a_person()
                })
                .count()
        })
    }

    /// Rows moved on from `planned` at or after `ms` (journal time): only sending does that.
    pub fn rows_sent_since(&self, ms: i64) -> usize {
        let Ok(conn) = open_journal(&self.fx.journal) else {
            return 0;
        };
        conn.query_row(
            "SELECT COUNT(*) FROM rows WHERE batch = (SELECT seq FROM batches WHERE id = ?1)
             AND updated_at >= ?2 AND state NOT IN ('planned', 'rejected')",
            rusqlite::params![self.id, ms],
            |r| r.get::<_, i64>(0),
        )
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
    }

    /// Rows of the batch in `state` (0 if there is no batch yet).
    /// Rows with a note for a person (an answer contradicted the request), whatever their
    /// state: they make the exit code 1.
    pub fn rows_for_a_person(&self) -> usize {
        journal_rows(&self.fx.journal, &self.id).map_or(0, |rows| {
            rows.iter().filter(|r| r.attention.is_some()).count()
        })
    }

    pub fn rows_in(&self, state: &str) -> usize {
        journal_rows(&self.fx.journal, &self.id)
            .map_or(0, |rows| rows.iter().filter(|r| r.state == state).count())
    }

    /// After a crash: nothing was paid before the batch was planned, and every executed
    /// payout's row was marked `sending` first.
    pub async fn crash_invariants(&self) -> Vec<String> {
        let ledger = parse_ledger(&self.fx.ledger().await);
        if !self.exists() {
            return if ledger.is_empty() {
                Vec::new()
            } else {
                vec![format!(
                    "WRITE-AHEAD: {} payouts executed but the batch was never planned",
                    ledger.len()
                )]
            };
        }
        match journal_rows(&self.fx.journal, &self.id) {
            Ok(rows) => check_write_ahead(&rows, &ledger),
            Err(e) => vec![format!("cannot read the journal after a crash: {e}")],
        }
    }

    /// Resume (or run, if planning never committed) without kills until payrun exits 0, or
    /// exits 1 with nothing left open. Returns the final exit code, or problems.
    pub async fn complete(&self, log: &mut Vec<String>) -> Result<i32, String> {
        for attempt in 1..=MAX_RESUMES {
            let cmd = self.effective(Cmd::Resume);
            let end = self.spawn_and_finish(cmd, Kill::Never).await;
            log.push(format!("{cmd:?} (no kill): {}", end.describe()));
            match end.code() {
                Some(0) => return Ok(0),
                Some(1) if self.open_rows() == 0 => return Ok(1),
                // Rows in doubt while the provider may still be processing them (a slow
                // answer holds a key "in flight"): an operator waits a little before resuming
                // again, longer each time.
                Some(1) => tokio::time::sleep(RESUME_PAUSE * attempt as u32).await,
                // The pre-flight could not read the balance in time (a trial's client timeout
                // can be a few milliseconds, and a loaded machine misses it): payrun refused
                // and sent nothing, so an operator simply tries again.
                Some(3) if balance_unread(&end) => {
                    tokio::time::sleep(RESUME_PAUSE * attempt as u32).await;
                }
                _ => {
                    return Err(format!(
                        "{cmd:?} ended unexpectedly: {}\n{}",
                        end.describe(),
                        end.text()
                    ));
                }
            }
        }
        Err(format!("batch not done after {MAX_RESUMES} resumes"))
    }

    /// Everything the checker needs, read from payrun's report, the journal and the ledger.
    pub async fn verdict(&self) -> Verdict {
        let ledger = parse_ledger(&self.fx.ledger().await);
        let out = self
            .fx
            .exec(&["report", &self.id, "--format", "json"])
            .await;
        let report: Vec<serde_json::Value> = if out.status.success() {
            serde_json::from_slice(&out.stdout).unwrap_or_default()
        } else {
            Vec::new()
        };
        let journal = journal_rows(&self.fx.journal, &self.id).unwrap_or_default();
        let expected = self.plan.file.expected(&self.id);
        let invalid = self.plan.file.invalid_lines();
        let mut v = check(&expected, Some(&invalid), &report, &journal, &ledger);
        if !out.status.success() {
            v.problems.push(format!(
                "payrun report failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        v.problems.extend(integrity_problem(&self.fx.journal));
        match std::fs::metadata(&self.fx.journal).map(|m| m.permissions().mode() & 0o777) {
            Ok(0o600) => {}
            Ok(mode) => v.problems.push(format!(
                "JOURNAL: file mode {mode:o}, not 600 (it holds phone numbers)"
            )),
            Err(e) => v
                .problems
                .push(format!("JOURNAL: cannot stat the file: {e}")),
        }
        for row in journal.iter().filter(|r| {
            matches!(r.state.as_str(), "planned" | "sending" | "in_doubt") && !r.needs_a_person()
        }) {
            if let Some(key) = &row.key {
                let events = last_events(&self.fx.journal, key, 8);
                v.problems.push(format!(
                    "  line {} history: {}",
                    row.line,
                    events.join(" | ")
                ));
            }
        }
        v
    }
}

/// Run the trial of `seed` and check it.
pub async fn run_trial(seed: u64) -> TrialOutcome {
    let started = Instant::now();
    let plan = TrialPlan::from_seed(seed);
    let fx = Fixture::new(plan.sim.clone()).await;
    let mut batch = Batch::new(&fx, &plan);
    let receiver = if plan.callbacks {
        // The receiver serves an existing journal: create it (empty) before the first run.
        payrun::journal::Journal::open(&fx.journal).expect("create the journal");
        let receiver = InProcess::start(&fx.journal).await;
        batch.callback_url = Some(receiver.url(plan.provider));
        Some(receiver)
    } else {
        None
    };
    let batch = batch;
    let mut log = Vec::new();
    let mut problems = Vec::new();
    let (mut kills, mut interrupts, mut processes) = (0, 0, 0);
    let (mut kills_before_plan, mut kills_in_flight) = (0, 0);
    let mut drained = 0;

    for (i, step) in plan.steps.iter().enumerate() {
        let cmd = batch.effective(step.cmd);
        let spawned_ms = payrun::journal::now_ms();
        let finish = batch.spawn_and_finish(cmd, step.kill);
        let end = match plan.drain_after.filter(|_| i == 0) {
            None => finish.await,
            Some(n) => {
                tokio::pin!(finish);
                let end = tokio::select! {
                    end = &mut finish => end,
                    () = batch.drain_after(n) => {
                        drained += 1;
                        finish.await
                    }
                };
                // Full again, as an operator tops up before resuming.
                let full = crate::support::sim::SimConfig::default().default_balance_minor;
                batch.set_wallets(full).await;
                end
            }
        };
        processes += 1;
        log.push(format!(
            "step {i} {cmd:?} {:?}: {}",
            step.kill,
            end.describe()
        ));
        interrupts += usize::from(end.interrupted);
        // Rows this process moved on from `planned` mean it was sending, so its Ctrl-C handler
        // (set up before the first `sending` mark) must have made SIGINT a graceful stop.
        if end.died_of_ctrl_c() && batch.rows_sent_since(spawned_ms) > 0 {
            problems.push(format!(
                "step {i}: Ctrl-C killed payrun while it was sending instead of draining"
            ));
        }
        if (end.killed() || end.died_of_ctrl_c()) && !end.hung {
            kills += 1;
            problems.extend(batch.crash_invariants().await);
            if !batch.exists() {
                kills_before_plan += 1;
            } else if batch.rows_in("sending") > 0 {
                kills_in_flight += 1;
            }
        } else {
            let fine = match end.code() {
                Some(0 | 1) => true,
                Some(3) => balance_unread(&end),
                Some(130) => end.interrupted,
                _ => false,
            };
            if !fine || end.hung {
                problems.push(format!(
                    "step {i} ended unexpectedly: {}\n{}",
                    end.describe(),
                    end.text()
                ));
            }
        }
    }

    match batch.complete(&mut log).await {
        Ok(code) => {
            // 0 exactly when every row is good: none rejected, none failed by the provider.
            let failed = batch.rows_in("failed");
            // A row the provider contradicted is left for a person, which exits 1 as well.
            let for_a_person = batch.rows_for_a_person();
            let want = if plan.file.invalid_lines().is_empty() && failed == 0 && for_a_person == 0 {
                0
            } else {
                1
            };
            if code != want {
                problems.push(format!(
                    "final exit {code}, expected {want} (invalid rows: {:?}, failed rows: {failed})",
                    plan.file.invalid_lines()
                ));
            }
        }
        Err(problem) => problems.push(problem),
    }
    processes += log.len() - plan.steps.len();

    // No callback may land between reading the report and reading the journal.
    let mut callbacks = 0;
    if let Some(receiver) = receiver {
        callbacks = receiver.lines().len();
        receiver.stop().await;
    }
    let mut verdict = batch.verdict().await;
    verdict.problems.splice(0..0, problems);
    TrialOutcome {
        seed,
        plan: plan.to_string(),
        kills,
        kills_before_plan,
        kills_in_flight,
        interrupts,
        drained,
        callbacks,
        processes,
        verdict,
        log,
        elapsed: started.elapsed(),
    }
}

/// A pre-flight that could not read the wallet balance in time: payrun refuses (exit 3) and
/// sends nothing. A trial's client timeout can be a few milliseconds, which a loaded machine
/// misses; an operator simply tries again, and the end-of-trial checker still judges the money.
fn balance_unread(end: &Ended) -> bool {
    end.code() == Some(3) && end.stderr.contains("could not read the")
}
