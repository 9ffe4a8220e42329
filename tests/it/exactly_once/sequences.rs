//! The operator-sequence fuzzer: many seeded [`run_sequence`]s, a few at a time, then one
//! line of figures. The CI variant runs 50 short sequences; the long one (`--ignored`)
//! 2,000. A failing seed prints its whole log and the one-line command that replays it.
//!
//! `PAYRUN_SEQS=<n>` changes how many sequences run, `PAYRUN_SEQ_JOBS=<n>` how many at once,
//! and `PAYRUN_SEQ_SEED=<n>` with the `replay` test reruns one.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::operator::{SeqOutcome, run_sequence};

/// The simulator's lying modes the sequences switch on (`--lie-modes`). Empty: the
/// simulator does not lie yet; fill it in (e.g. "amount,phone,currency,reference,redirect,
/// replay-4xx,dup-ref") once `payrun sim` has them.
const LIE_MODES: &[&str] = &[
    "amount",
    "phone",
    "currency",
    "reference",
    "redirect",
    "replay-4xx",
    "dup-ref",
];

const FAST_FIRST_SEED: u64 = 1;
const FAST_SEQUENCES: u64 = 50;
const LONG_FIRST_SEED: u64 = 1_000_000;
const LONG_SEQUENCES: u64 = 2_000;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn replay_line(seed: u64) -> String {
    format!(
        "PAYRUN_SEQ_SEED={seed} cargo test --release --test it exactly_once::sequences::replay -- --nocapture"
    )
}

/// Totals over every sequence.
#[derive(Debug, Default)]
struct Summary {
    sequences: usize,
    commands: usize,
    kills: usize,
    refusals: usize,
    payouts: usize,
    duplicates: usize,
    silently_missing: usize,
    failed: Vec<u64>,
}

impl Summary {
    fn add(&mut self, s: &SeqOutcome) {
        self.sequences += 1;
        self.commands += s.commands;
        self.kills += s.kills;
        self.refusals += s.refusals;
        self.payouts += s.finding.payouts;
        self.duplicates += s.finding.duplicates;
        self.silently_missing += s.finding.silently_missing;
        if s.failed() {
            self.failed.push(s.seed);
        }
    }

    fn line(&self, elapsed: Duration) -> String {
        format!(
            "operator sequences: {} sequences, {} commands ({} killed, {} refused), {} payouts, \
             {} duplicates, {} silently missing, {} failed seeds; {:.1} s",
            self.sequences,
            self.commands,
            self.kills,
            self.refusals,
            self.payouts,
            self.duplicates,
            self.silently_missing,
            self.failed.len(),
            elapsed.as_secs_f64()
        )
    }
}

fn report_failure(s: &SeqOutcome) {
    eprintln!(
        "\n=== operator sequence FAILED after {:.1} s — replay: {} ===\nsetup: {}\nlog:\n  {}\nproblems:\n  {}\n",
        s.elapsed.as_secs_f64(),
        replay_line(s.seed),
        s.setup,
        s.log.join("\n  "),
        s.finding.problems.join("\n  ")
    );
}

async fn run_all(seeds: Vec<u64>, jobs: usize, verbose: bool) -> Summary {
    let started = Instant::now();
    let mut pending = seeds.into_iter();
    let mut running = JoinSet::new();
    let mut summary = Summary::default();
    loop {
        while running.len() < jobs {
            let Some(seed) = pending.next() else { break };
            running.spawn(async move { (seed, tokio::spawn(run_sequence(seed, LIE_MODES)).await) });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (seed, outcome) = done.expect("sequence task");
        match outcome {
            Ok(s) => {
                if s.failed() {
                    report_failure(&s);
                } else if verbose {
                    println!("setup: {}\nlog:\n  {}", s.setup, s.log.join("\n  "));
                }
                summary.add(&s);
            }
            Err(e) => {
                eprintln!(
                    "sequence {seed} panicked: {e}; replay: {}",
                    replay_line(seed)
                );
                summary.sequences += 1;
                summary.failed.push(seed);
            }
        }
    }
    println!("{}", summary.line(started.elapsed()));
    summary
}

fn jobs() -> usize {
    env_u64("PAYRUN_SEQ_JOBS").map_or(4, |n| n.max(1) as usize)
}

fn assert_clean(summary: &Summary) {
    assert!(
        summary.failed.is_empty(),
        "failed sequences: {:?} (replay one with {})",
        summary.failed,
        replay_line(summary.failed[0])
    );
    assert_eq!(summary.duplicates, 0, "payees paid twice");
    assert_eq!(summary.silently_missing, 0, "payees silently skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_sequences_never_pay_twice_or_skip_silently() {
    let n = env_u64("PAYRUN_SEQS").unwrap_or(FAST_SEQUENCES);
    let seeds = (FAST_FIRST_SEED..FAST_FIRST_SEED + n).collect();
    let summary = run_all(seeds, jobs(), false).await;
    assert_clean(&summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long: 2,000 operator sequences; run with --ignored for the README figure"]
async fn long_operator_sequences_never_pay_twice_or_skip_silently() {
    let n = env_u64("PAYRUN_SEQS").unwrap_or(LONG_SEQUENCES);
    let seeds = (LONG_FIRST_SEED..LONG_FIRST_SEED + n).collect();
    let summary = run_all(seeds, jobs(), false).await;
    assert_clean(&summary);
}

/// Replays the one sequence `PAYRUN_SEQ_SEED` names, printing its log; passes at once
/// without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay() {
    let Some(seed) = env_u64("PAYRUN_SEQ_SEED") else {
        return;
    };
    let summary = run_all(vec![seed], 1, true).await;
    assert_clean(&summary);
}
