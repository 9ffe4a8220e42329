//! `cargo bench --bench pay`: the paying targets (README, "Performance"), measured on this machine with
//! the release binary against the simulator on loopback (in this bench's process):
//!
//! 1. pay 100,000 rows at unlimited rate, journaled with full durability: ≥ 5,000 payouts/s;
//! 2. `--rate 100` over 3,000 rows: achieved rate within 3 % of 100/s, and never more than
//!    100 + the pacer's burst sends in any one-second window (from the simulator's receive times);
//! 3. planning a 1,000,000-row batch into the journal: ≤ 3 s;
//! 4. resuming that batch with 10 rows left: the first payout reaches the provider ≤ 1 s after
//!    `payrun resume` starts.
//!
//! First, side by side (issue "per-payout cost"): payrun's rate and CPU per payout (user +
//! system of the payrun process / payouts) next to a no-journal hyper loop and the Python
//! script it replaces, each against its own fresh `payrun sim` process (`peer/`).
//!
//! A report, not a gate: misses are printed as NOT MET. `PAYRUN_BENCH_SCALE` (e.g. 0.1)
//! shrinks every row count for a quick look; `PAYRUN_BENCH_ONLY=plan` runs only 3 and 4
//! (`PAYRUN_BENCH_ONLY=plan cargo bench --bench pay`), `PAYRUN_BENCH_ONLY=peers` only the
//! side-by-side comparison. The plan line also gives the CPU seconds
//! (user + system, both threads) this process spent planning, to tell contention from cost.

#[path = "common/mod.rs"]
mod common;
#[path = "peer/mod.rs"]
mod peer;

use std::fs::File;
use std::path::Path;
use std::time::{Instant, SystemTime};

use payrun::batch::plan;
use payrun::batch::send::pacer::BURST;
use payrun::domain::ProviderKind;
use payrun::ingest::{IngestOptions, write_sample};
use payrun::journal::{BatchSettings, Journal, NewBatch};
use payrun::sim::{self, SimConfig, SimHandle};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    if common::handle_measure_child()? || common::filtered_out("pay") {
        return Ok(());
    }
    let scale: f64 = std::env::var("PAYRUN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let rows = |n: f64| ((n * scale) as u64).max(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let only = std::env::var("PAYRUN_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "peers" {
        side_by_side(dir.path(), rows(20_000.0))?;
    }
    if only == "peers" {
        return Ok(());
    }
    if only != "plan" {
        runtime.block_on(unlimited(dir.path(), rows(100_000.0)))?;
        runtime.block_on(rated(dir.path(), rows(3_000.0)))?;
    }
    let (journal, batch) = plan_big(dir.path(), rows(1_000_000.0))?;
    runtime.block_on(resume_big(&journal, &batch, rows(1_000_000.0)))?;
    Ok(())
}

fn sample(dir: &Path, name: &str, rows: u64) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    write_sample(File::create(&path)?, ProviderKind::Rohopay, rows, 7)?;
    Ok(path)
}

fn env_for(sim: &SimHandle) -> Vec<(&'static str, String)> {
    vec![
        ("ROHOPAY_API_KEY", "live_bench".to_string()),
        ("ROHOPAY_BASE_URL", sim.rohopay_base_url()),
        ("PAYRUN_PROGRESS_SECS", "3600".to_string()),
    ]
}

/// Every executed payout's receive time, and how many requests carried its key.
async fn ledger(sim: &SimHandle) -> Result<Vec<(OffsetDateTime, u64)>> {
    let entries: Vec<serde_json::Value> = reqwest::get(sim.ledger_url()).await?.json().await?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let at = e["created_at"]
            .as_str()
            .ok_or("ledger entry without created_at")?;
        out.push((
            OffsetDateTime::parse(at, &Rfc3339)?,
            e["requests"].as_u64().unwrap_or(0),
        ));
    }
    Ok(out)
}

/// Measure `payrun ARGS` on a blocking thread (the simulator keeps serving meanwhile).
async fn measure(args: Vec<String>, envs: Vec<(&'static str, String)>) -> Result<common::Measured> {
    let measured = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::measure_payrun(&args, &envs)
    })
    .await?;
    Ok(measured?)
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_string()).collect()
}

/// The "Sent N payout(s) in S s (R/s achieved" line of `run`.
fn sent_rate(stdout: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.starts_with("Sent "))?;
    let rate = line.split(" s (").nth(1)?.split('/').next()?;
    rate.trim().parse().ok()
}

/// `payrun run FILE --provider rohopay --yes --journal JOURNAL --rate R --concurrency C`.
fn run_args(file: &Path, journal: &Path, rate: u32, concurrency: u32) -> Result<Vec<String>> {
    let path = |p: &Path| p.to_str().map(str::to_string).ok_or("path");
    Ok(vec![
        "run".into(),
        path(file)?,
        "--provider".into(),
        "rohopay".into(),
        "--yes".into(),
        "--journal".into(),
        path(journal)?,
        "--rate".into(),
        rate.to_string(),
        "--concurrency".into(),
        concurrency.to_string(),
    ])
}

/// Pay `rows` generated rows with `payrun run` at `rate` and `concurrency` against a fresh
/// simulator in this process; returns the measurement and the simulator (for its ledger).
async fn pay_file(
    dir: &Path,
    name: &str,
    rows: u64,
    rate: u32,
    concurrency: u32,
) -> Result<(common::Measured, SimHandle)> {
    let file = sample(dir, &format!("{name}.csv"), rows)?;
    let journal = dir.join(format!("{name}.db"));
    let sim = sim::spawn(SimConfig::default()).await?;
    let args = run_args(&file, &journal, rate, concurrency)?;
    let measured = measure(args, env_for(&sim)).await?;
    Ok((measured, sim))
}

/// Rounds of the side-by-side comparison; each figure below is the median of them.
const ROUNDS: usize = 3;

/// payrun against its peers in one sitting, each against a fresh `payrun sim` process: `run`
/// of `rows` rows at `--rate 100000 --concurrency 16` (journaled, fsync'd), the hyper floor
/// and the Python script with 16 connections. Prints rates, CPU per payout and the ratios.
fn side_by_side(dir: &Path, rows: u64) -> Result<()> {
    let file = sample(dir, "side.csv", rows)?;
    let bodies = peer::bodies(&file)?;
    let (mut ours, mut floor, mut script) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let sim = peer::SimProcess::start()?;
        let journal = dir.join(format!("side-{round}.db"));
        let mut args = run_args(&file, &journal, 100_000, 16)?;
        args.push("--allow-repeats".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs = vec![
            ("ROHOPAY_API_KEY", "live_bench".to_string()),
            ("ROHOPAY_BASE_URL", sim.base_url()),
            ("PAYRUN_PROGRESS_SECS", "3600".to_string()),
        ];
        let m = common::measure_payrun(&args, &envs)?;
        let sending = sent_rate(&m.stdout).unwrap_or(0.0);
        let figures = peer::Figures {
            payouts: rows,
            elapsed: m.elapsed,
            cpu: Some(m.cpu),
        };
        println!(
            "round {}: payrun {:.0} payouts/s end to end ({sending:.0}/s sending), CPU {:.1} µs/payout, peak RSS {:.1} MB",
            round + 1,
            figures.rate(),
            figures.cpu_us_per_payout().unwrap_or(0.0),
            m.peak_rss_mb()
        );
        ours.push(figures);
        drop(sim);

        let sim = peer::SimProcess::start()?;
        let f = peer::hyper_floor(&sim.addr, &bodies, 16)?;
        println!(
            "round {}: hyper floor {:.0} requests/s, CPU {:.1} µs/request",
            round + 1,
            f.rate(),
            f.cpu_us_per_payout().unwrap_or(0.0)
        );
        floor.push(f);
        drop(sim);

        let sim = peer::SimProcess::start()?;
        match peer::python(&file, &sim.base_url(), 16)? {
            Some(f) => {
                println!(
                    "round {}: python script {:.0} requests/s, CPU {:.1} µs/request",
                    round + 1,
                    f.rate(),
                    f.cpu_us_per_payout().unwrap_or(0.0)
                );
                script.push(f);
            }
            None => println!("round {}: python3 not found; no script peer", round + 1),
        }
    }
    let median = |v: &[peer::Figures], f: fn(&peer::Figures) -> f64| {
        let mut xs: Vec<f64> = v.iter().map(f).collect();
        xs.sort_by(f64::total_cmp);
        xs.get(xs.len() / 2).copied().unwrap_or(0.0)
    };
    let rate = |f: &peer::Figures| f.rate();
    let cpu = |f: &peer::Figures| f.cpu_us_per_payout().unwrap_or(0.0);
    let (ours_rate, floor_rate) = (median(&ours, rate), median(&floor, rate));
    let ours_cpu = median(&ours, cpu);
    println!(
        "side by side, {rows} rows, 16 connections, median of {ROUNDS}: payrun {ours_rate:.0}/s at {ours_cpu:.1} µs CPU/payout; \
         hyper floor {floor_rate:.0}/s at {:.1} µs; payrun = {:.0} % of the floor",
        median(&floor, cpu),
        100.0 * ours_rate / floor_rate
    );
    println!(
        "  target payrun CPU <= 100 µs per payout: {}",
        common::verdict(ours_cpu <= 100.0)
    );
    println!(
        "  target >= 50 % of the no-journal hyper floor: {}",
        common::verdict(ours_rate >= 0.5 * floor_rate)
    );
    if !script.is_empty() {
        let script_rate = median(&script, rate);
        println!(
            "  python script {script_rate:.0}/s at {:.1} µs; payrun = {:.2}× the script; target >= 2×: {}",
            median(&script, cpu),
            ours_rate / script_rate,
            common::verdict(ours_rate >= 2.0 * script_rate)
        );
    }
    Ok(())
}

async fn unlimited(dir: &Path, rows: u64) -> Result<()> {
    let (m, sim) = pay_file(dir, "unlimited", rows, 100_000, 64).await?;
    let paid = ledger(&sim).await?;
    let once = paid.len() as u64 == rows && paid.iter().all(|(_, n)| *n == 1);
    let end_to_end = rows as f64 / m.elapsed.as_secs_f64();
    let sending = sent_rate(&m.stdout).unwrap_or(0.0);
    println!(
        "pay {rows} rows, unlimited rate, concurrency 64: {:.2} s end to end (plan + send) = {end_to_end:.0} payouts/s; \
         sending phase {sending:.0} payouts/s; peak RSS {:.1} MB; ledger {} payouts, exactly once: {once}",
        m.elapsed.as_secs_f64(),
        m.peak_rss_mb(),
        paid.len()
    );
    println!(
        "  target >= 5000 payouts/s end to end: {}",
        common::verdict(end_to_end >= 5000.0 && once)
    );
    sim.shutdown().await;
    Ok(())
}

async fn rated(dir: &Path, rows: u64) -> Result<()> {
    let (_, sim) = pay_file(dir, "rated", rows, 100, 4).await?;
    let mut times: Vec<OffsetDateTime> = ledger(&sim).await?.into_iter().map(|(t, _)| t).collect();
    times.sort();
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return Err("nothing was paid".into());
    };
    let span = (*last - *first).as_seconds_f64();
    let achieved = (times.len() - 1) as f64 / span;
    let mut worst = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while (times[end] - times[start]).as_seconds_f64() >= 1.0 {
            start += 1;
        }
        worst = worst.max(end - start + 1);
    }
    let within = (achieved - 100.0).abs() <= 3.0;
    println!(
        "--rate 100 over {} rows: achieved {achieved:.2}/s over {span:.2} s; most in any 1 s window: {worst}",
        times.len()
    );
    println!(
        "  target within 3 % of 100/s: {}; never above 100 + burst {BURST} in a window: {}",
        common::verdict(within),
        common::verdict(worst <= 100 + BURST as usize)
    );
    sim.shutdown().await;
    Ok(())
}

fn plan_big(dir: &Path, rows: u64) -> Result<(std::path::PathBuf, String)> {
    let file = sample(dir, "big.csv", rows)?;
    let journal_path = dir.join("big.db");
    let mut journal = Journal::open(&journal_path)?;
    let opened = plan::PlanFile::open(&file)?;
    let batch = NewBatch {
        id: "big-batch".into(),
        file_name: "big.csv".into(),
        file_path: file.to_string_lossy().into_owned(),
        file_sha256: opened.sha256().to_string(),
        provider: ProviderKind::Rohopay,
        sandbox: false,
        base_url: "http://127.0.0.1".into(),
        settings: BatchSettings::default(),
    };
    let cpu_before = cpu_seconds()?;
    let started = Instant::now();
    let planned = plan::plan_new(
        &mut journal,
        &batch,
        &opened,
        &IngestOptions::new(ProviderKind::Rohopay),
        false,
    )?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds()? - cpu_before;
    println!(
        "plan {} rows (validate, key, body, insert; one transaction): {secs:.2} s = {:.0} rows/s; \
         CPU {cpu:.2} s (user + sys); journal {:.0} MB",
        planned.stats.planned,
        planned.stats.planned as f64 / secs,
        std::fs::metadata(&journal_path)?.len() as f64 / 1e6
    );
    println!(
        "  target <= 3 s for 1,000,000 rows: {}",
        common::verdict(secs <= 3.0 * rows as f64 / 1e6)
    );
    drop(journal);
    // Leave 10 rows to send: the rest are already paid.
    let conn = rusqlite::Connection::open(&journal_path)?;
    conn.execute(
        "UPDATE rows SET state = 'succeeded' WHERE batch = (SELECT seq FROM batches WHERE id = 'big-batch')
         AND id <= (SELECT MAX(id) - 10 FROM rows)",
        [],
    )?;
    Ok((journal_path, batch.id))
}

/// User + system CPU seconds this process has used so far (all threads).
fn cpu_seconds() -> Result<f64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_SELF)?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(secs(usage.user_time()) + secs(usage.system_time()))
}

async fn resume_big(journal: &Path, batch: &str, rows: u64) -> Result<()> {
    let sim = sim::spawn(SimConfig::default()).await?;
    let started = SystemTime::now();
    let args = [
        "resume",
        batch,
        "--yes",
        "--journal",
        journal.to_str().ok_or("path")?,
        "--rate",
        "1000",
    ];
    let m = measure(owned(&args), env_for(&sim)).await?;
    let paid = ledger(&sim).await?;
    let first = paid
        .iter()
        .map(|(t, _)| *t)
        .min()
        .ok_or("resume sent nothing")?;
    let start = OffsetDateTime::from(started);
    let to_first = (first - start).as_seconds_f64();
    println!(
        "resume a {rows}-row batch with {} rows left: first payout {:.3} s after start, done in {:.2} s, peak RSS {:.1} MB",
        paid.len(),
        to_first,
        m.elapsed.as_secs_f64(),
        m.peak_rss_mb()
    );
    println!(
        "  target sending starts <= 1 s: {}",
        common::verdict(to_first <= 1.0 && paid.len() == 10)
    );
    sim.shutdown().await;
    Ok(())
}
