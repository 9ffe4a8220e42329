//! One random crash trial, fully decided by its seed: the simulator's fault mix, the provider,
//! the payout file, payrun's sending knobs, and the kills (how many, during `run` or `resume`,
//! and when). Rerunning a seed replays the same plan; only the exact instant a timed kill
//! lands depends on the machine.

use std::fmt;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::payfile::PayFile;
use super::process::Kill;
use crate::support::sim::SimConfig;
use payrun::sim::LieMode;

/// Which payrun command a step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Run,
    Resume,
}

/// One process of a trial and how it is killed.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub cmd: Cmd,
    pub kill: Kill,
}

/// Everything a trial does, derived from its seed.
#[derive(Clone, Debug)]
pub struct TrialPlan {
    pub seed: u64,
    pub provider: &'static str,
    pub sim: SimConfig,
    /// `PAYRUN_HTTP_TIMEOUT` in seconds; below `slow_ms` makes slow answers time out (in doubt).
    pub http_timeout: Option<f64>,
    /// `PAYRUN_MAX_TRIES`; small values leave rows in doubt for the next resume.
    pub max_tries: Option<u32>,
    pub rate: u32,
    pub concurrency: u32,
    /// `--batch` given, or the default id derived from the file.
    pub explicit_batch: bool,
    /// `--skip-invalid`, with invalid rows in the file.
    pub skip_invalid: bool,
    pub file: PayFile,
    /// The processes that get killed; a trial then resumes without kills until done.
    pub steps: Vec<Step>,
    /// Empty the wallet once this many payouts of the first step have executed (as another
    /// payout from the same wallet would), and fill it again when that step ends: the run stops
    /// on insufficient funds, resumable, with no row failed for it.
    pub drain_after: Option<usize>,
    /// `run --callback-url` to an in-process receiver on the trial's journal: the simulator
    /// calls back signed, and callbacks race the runs, the kills and the resumes.
    pub callbacks: bool,
}

fn ms(rng: &mut ChaCha8Rng, range: std::ops::Range<u64>) -> Duration {
    Duration::from_millis(rng.random_range(range))
}

/// A probability: zero a third of the time, else uniform up to `max`.
fn rate_or_zero(rng: &mut ChaCha8Rng, max: f64) -> f64 {
    if rng.random_bool(1.0 / 3.0) {
        0.0
    } else {
        (rng.random_range(0.0..=max) * 1000.0).round() / 1000.0
    }
}

impl TrialPlan {
    pub fn from_seed(seed: u64) -> TrialPlan {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let provider = if rng.random_bool(0.5) {
            "rohopay"
        } else {
            "rumbapay"
        };
        let slow_rate = rate_or_zero(&mut rng, 0.2);
        let slow_ms = rng.random_range(50..=400u64);
        let mut sim = SimConfig {
            seed,
            drop_rate: rate_or_zero(&mut rng, 0.3),
            error_rate: rate_or_zero(&mut rng, 0.3),
            rate_limit: rng.random_bool(0.5).then(|| rng.random_range(20..=100u32)),
            slow_rate,
            slow_ms,
            // Some payouts end `failed` at the provider: payrun must record that, not retry it.
            fail_rate: if rng.random_bool(0.2) { 0.05 } else { 0.0 },
            // RohoPay routes some payouts through its fallback operator: the answer names
            // another provider, which payrun journals.
            failover_rate: if provider == "rohopay" && rng.random_bool(0.2) {
                0.2
            } else {
                0.0
            },
            // Payouts answered `pending` settle later, so rows end `accepted`.
            settle_ms: if rng.random_bool(0.2) {
                rng.random_range(20..=200u64)
            } else {
                0
            },
            // The simulator lies in some seeds (every mode): each lie must leave its row in
            // doubt with a note for a person, never paid twice and never `failed`.
            lie_rate: if rng.random_bool(0.2) { 0.05 } else { 0.0 },
            lie_modes: LieMode::ALL.to_vec(),
            ..SimConfig::default()
        };
        let http_timeout = (slow_rate > 0.0 && rng.random_bool(0.4))
            .then(|| rng.random_range(20..slow_ms) as f64 / 1000.0);
        let max_tries = rng.random_bool(0.3).then(|| rng.random_range(1..=3u32));
        let rate = [50, 100, 200, 500][rng.random_range(0..4usize)];
        let concurrency = rng.random_range(1..=8u32);
        let explicit_batch = rng.random_bool(0.5);
        let rows = rng.random_range(10..=60usize);
        let skip_invalid = rng.random_bool(0.2);
        let invalid = if skip_invalid {
            rng.random_range(1..=3usize)
        } else {
            0
        };
        let file = PayFile::generate(&mut rng, provider, rows, invalid);

        // Roughly how long sending the whole file takes, to aim timed kills inside it.
        let expected_ms = rows as u64 * 1000 / u64::from(rate) + 80;
        let kills = rng.random_range(1..=4usize);
        let mut steps = Vec::with_capacity(kills);
        for i in 0..kills {
            let cmd = if i == 0 || rng.random_bool(0.4) {
                Cmd::Run
            } else {
                Cmd::Resume
            };
            let kill = match rng.random_range(0..100u32) {
                // Before or during planning and the pre-flight.
                0..20 => Kill::After(ms(&mut rng, 0..20)),
                // Mid-send, counted in payouts the provider has executed.
                20..55 => Kill::AfterPayouts(rng.random_range(1..=rows.div_ceil(2))),
                // Anywhere in the expected run time.
                55..85 => Kill::After(ms(&mut rng, 20..expected_ms + 100)),
                // Ctrl-C, then SIGKILL while in-flight requests drain.
                _ => Kill::Interrupt(ms(&mut rng, 30..expected_ms + 60), ms(&mut rng, 0..80)),
            };
            steps.push(Step { cmd, kill });
        }
        // Drawn after everything else, so the other choices of every seed stay as they were.
        let drain_after = rng
            .random_bool(0.2)
            .then(|| rng.random_range(1..=rows.div_ceil(2)));
        let callbacks = rng.random_bool(0.2);
        if callbacks {
            sim.webhook_secret = Some(crate::support::listen::SECRET.to_owned());
        }
        TrialPlan {
            seed,
            provider,
            sim,
            http_timeout,
            max_tries,
            rate,
            concurrency,
            explicit_batch,
            skip_invalid,
            file,
            steps,
            drain_after,
            callbacks,
        }
    }

    /// A fault-free, kill-free plan for the deterministic scenarios: `rows` valid rows of a
    /// file fixed by `file_seed`, an explicit batch id, `--rate 200`.
    pub fn fixed(
        provider: &'static str,
        rows: usize,
        concurrency: u32,
        file_seed: u64,
    ) -> TrialPlan {
        let mut rng = ChaCha8Rng::seed_from_u64(file_seed);
        TrialPlan {
            seed: file_seed,
            provider,
            sim: SimConfig::default(),
            http_timeout: None,
            max_tries: None,
            rate: 200,
            concurrency,
            explicit_batch: true,
            skip_invalid: false,
            file: PayFile::generate(&mut rng, provider, rows, 0),
            steps: Vec::new(),
            drain_after: None,
            callbacks: false,
        }
    }

    pub fn valid_rows(&self) -> usize {
        self.file.rows.iter().filter(|r| r.valid).count()
    }
}

impl fmt::Display for TrialPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.sim;
        write!(
            f,
            "seed {} · {} · {} valid + {} invalid rows ({} repeated payments, reference column: {}) · \
             sim drop {} error {} slow {}@{}ms rate-limit {:?} fail {} failover {} settle {}ms lie {} · \
             payrun rate {} concurrency {} \
             timeout {:?} max-tries {:?} explicit batch {} · wallet emptied after {:?} payouts · callbacks {} · steps {:?}",
            self.seed,
            self.provider,
            self.valid_rows(),
            self.file.invalid_lines().len(),
            self.file.repeats(),
            self.file.reference_column,
            s.drop_rate,
            s.error_rate,
            s.slow_rate,
            s.slow_ms,
            s.rate_limit,
            s.fail_rate,
            s.failover_rate,
            s.settle_ms,
            s.lie_rate,
            self.rate,
            self.concurrency,
            self.http_timeout,
            self.max_tries,
            self.explicit_batch,
            self.drain_after,
            self.callbacks,
            self.steps
        )
    }
}
