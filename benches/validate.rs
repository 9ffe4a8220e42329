//! `cargo bench --bench validate`: how fast `payrun validate` checks a large file, and how much
//! memory it needs (DESIGN §7: ≥ 1,000,000 rows/s, peak RSS ≤ 64 MB for 1,000,000 rows).
//!
//! Generates a valid RohoPay-style salary file with `write_sample` into a temp dir, then
//! (a) times `ingest_path` in this process, and (b) runs the release `payrun validate` binary
//! (cargo builds it for benches: `CARGO_BIN_EXE_payrun`) as a child process, reporting its
//! wall-clock rate and its peak RSS from `getrusage(RUSAGE_CHILDREN)`.
//!
//! `PAYRUN_BENCH_ROWS` changes the row count (default 1,000,000).

use std::{
    fs::File,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use nix::sys::resource::{UsageWho, getrusage};
use payrun::{
    domain::ProviderKind,
    ingest::{IngestOptions, RowOutcome, ingest_path, write_sample},
};

const RUNS: usize = 3;
const TARGET_ROWS_PER_SEC: f64 = 1_000_000.0;
const TARGET_RSS_MB: f64 = 64.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; a filter that is not ours means "not this bench".
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && a != "validate")
    {
        return Ok(());
    }
    let rows: u64 = match std::env::var("PAYRUN_BENCH_ROWS") {
        Ok(n) => n.parse()?,
        Err(_) => 1_000_000,
    };
    let dir = tempfile::tempdir()?;
    let mut failures = Vec::new();
    for provider in [ProviderKind::Rohopay, ProviderKind::Rumbapay] {
        let path = dir.path().join(format!("{provider}-{rows}.csv"));
        let started = Instant::now();
        write_sample(File::create(&path)?, provider, rows, 42)?;
        let size = std::fs::metadata(&path)?.len();
        println!(
            "generated {rows} {provider} rows ({:.1} MB) in {:.2} s",
            size as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );

        let best = (0..RUNS)
            .map(|_| in_process(&path, provider, rows))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min()
            .unwrap_or_default();
        let rate = rows as f64 / best.as_secs_f64();
        println!(
            "ingest_path ({provider}, in-process, best of {RUNS}): {rows} rows in {:.3} s = {rate:.0} rows/s",
            best.as_secs_f64()
        );

        let best = (0..RUNS)
            .map(|_| child(&path, provider))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min()
            .unwrap_or_default();
        let rate = rows as f64 / best.as_secs_f64();
        // Linux reports ru_maxrss in KiB: the largest child so far, i.e. over all runs.
        let rss_mb = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss() as f64 * 1024.0 / 1e6;
        println!(
            "validate ({provider}, payrun binary, best of {RUNS}): {rows} rows in {:.3} s = {rate:.0} rows/s, peak RSS {rss_mb:.1} MB",
            best.as_secs_f64()
        );
        if provider == ProviderKind::Rohopay {
            let rate_ok = rate >= TARGET_ROWS_PER_SEC;
            let rss_ok = rss_mb <= TARGET_RSS_MB;
            println!(
                "target: >= {TARGET_ROWS_PER_SEC:.0} rows/s {}, peak RSS <= {TARGET_RSS_MB:.0} MB {}",
                if rate_ok { "MET" } else { "NOT MET" },
                if rss_ok { "MET" } else { "NOT MET" },
            );
            if !rate_ok || !rss_ok {
                failures.push("target not met");
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err("validate benchmark below target (figures above)".into())
    }
}

/// One in-process pass; checks that every generated row was valid.
fn in_process(path: &Path, provider: ProviderKind, rows: u64) -> Result<Duration, String> {
    let opts = IngestOptions::new(provider);
    let mut valid = 0u64;
    let started = Instant::now();
    let summary = ingest_path(path, &opts, |outcome| {
        if let RowOutcome::Valid(row) = outcome {
            valid += u64::from(row.amount.get() > 0);
        }
    })
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if summary.rows != rows || valid != rows || !summary.is_clean() {
        return Err(format!(
            "expected {rows} valid rows, got {} rows, {valid} valid, {} errors",
            summary.rows,
            summary.errors.len()
        ));
    }
    Ok(elapsed)
}

/// One run of the real binary, output discarded; must exit 0.
fn child(path: &Path, provider: ProviderKind) -> Result<Duration, String> {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_payrun"))
        .args([
            "validate",
            "--format",
            "json",
            "--provider",
            provider.name(),
        ])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run payrun: {e}"))?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!("payrun validate exited with {status}"));
    }
    Ok(elapsed)
}
