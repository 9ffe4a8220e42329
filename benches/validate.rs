//! `cargo bench --bench validate`: how fast `payrun validate` checks a large file, and how much
//! memory it needs (target: ≥ 1,000,000 rows/s, peak RSS ≤ 64 MB for 1,000,000 rows).
//!
//! Generates a valid RohoPay-style salary file (and a Rumbapay one) with `write_sample` into a
//! temp dir, then (a) times `ingest_path` in this process, and (b) runs the release
//! `payrun validate` binary (cargo builds it for benches: `CARGO_BIN_EXE_payrun`) as a child
//! process, reporting its wall-clock rate and its peak RSS from `getrusage(RUSAGE_CHILDREN)`.
//!
//! The child is measured through `common::measure_payrun` (a re-exec of this bench, so the
//! child's peak RSS is its own).
//!
//! Then the same RohoPay rows as an `.xlsx` workbook (written with rust_xlsxwriter in constant
//! memory mode: phones and amounts as numbers, the other cells as inline strings), validated
//! the same two ways: rows/s and peak RSS next to the CSV figures. There is no target for it.
//!
//! `PAYRUN_BENCH_ROWS` changes the row count (default 1,000,000).

#[path = "common/mod.rs"]
mod common;

use payrun::{
    domain::ProviderKind,
    ingest::{IngestOptions, RowOutcome, ingest_path, write_sample},
};
use rust_xlsxwriter::Workbook;
use std::{
    fs::File,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

const RUNS: usize = 3;
const TARGET_ROWS_PER_SEC: f64 = 1_000_000.0;
const TARGET_RSS_MB: f64 = 64.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if common::handle_measure_child()? || common::filtered_out("validate") {
        return Ok(());
    }
    let rows: u64 = match std::env::var("PAYRUN_BENCH_ROWS") {
        Ok(n) => n.parse()?,
        Err(_) => 1_000_000,
    };
    let dir = tempfile::tempdir()?;
    let mut rohopay_csv = PathBuf::new();
    for provider in [ProviderKind::Rohopay, ProviderKind::Rumbapay] {
        let path = dir.path().join(format!("{provider}-{rows}.csv"));
        let started = Instant::now();
        write_sample(File::create(&path)?, provider, rows, 42)?;
        let size = std::fs::metadata(&path)?.len();
        if provider == ProviderKind::Rohopay {
            rohopay_csv = path.clone();
        }
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

        let runs = (0..RUNS)
            .map(|_| child(&path, provider))
            .collect::<Result<Vec<_>, _>>()?;
        let best = runs.iter().map(|(t, _)| *t).min().unwrap_or_default();
        let rss_mb =
            runs.iter().map(|(_, kib)| *kib).max().unwrap_or_default() as f64 * 1024.0 / 1e6;
        let rate = rows as f64 / best.as_secs_f64();
        println!(
            "validate ({provider}, payrun binary, best of {RUNS}): {rows} rows in {:.3} s = {rate:.0} rows/s, peak RSS {rss_mb:.1} MB",
            best.as_secs_f64()
        );
        if provider == ProviderKind::Rohopay {
            let rate_ok = rate >= TARGET_ROWS_PER_SEC;
            let rss_ok = rss_mb <= TARGET_RSS_MB;
            println!(
                "target: >= {TARGET_ROWS_PER_SEC:.0} rows/s {}, peak RSS <= {TARGET_RSS_MB:.0} MB {}",
                common::verdict(rate_ok),
                common::verdict(rss_ok),
            );
        }
    }
    workbook(
        &rohopay_csv,
        &dir.path().join(format!("rohopay-{rows}.xlsx")),
        rows,
    )?;
    // A report, not a gate: timings on a shared machine vary, so a miss is printed, not failed.
    Ok(())
}

/// The RohoPay rows of `csv` as an .xlsx at `path`, validated in-process and by the binary.
fn workbook(csv: &Path, path: &Path, rows: u64) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    write_xlsx(csv, path)?;
    println!(
        "generated {rows} rohopay rows as .xlsx ({:.1} MB) in {:.2} s",
        std::fs::metadata(path)?.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let provider = ProviderKind::Rohopay;
    let best = (0..RUNS)
        .map(|_| in_process(path, provider, rows))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .min()
        .unwrap_or_default();
    println!(
        "ingest_path (rohopay .xlsx, in-process, best of {RUNS}): {rows} rows in {:.3} s = {:.0} rows/s",
        best.as_secs_f64(),
        rows as f64 / best.as_secs_f64()
    );
    let runs = (0..RUNS)
        .map(|_| child(path, provider))
        .collect::<Result<Vec<_>, _>>()?;
    let best = runs.iter().map(|(t, _)| *t).min().unwrap_or_default();
    let rss_mb = runs.iter().map(|(_, kib)| *kib).max().unwrap_or_default() as f64 * 1024.0 / 1e6;
    println!(
        "validate (rohopay .xlsx, payrun binary, best of {RUNS}): {rows} rows in {:.3} s = {:.0} rows/s, peak RSS {rss_mb:.1} MB",
        best.as_secs_f64(),
        rows as f64 / best.as_secs_f64()
    );
    Ok(())
}

/// Copy a generated RohoPay CSV into one worksheet: phone and amount as numbers, as a clerk's
/// payroll holds them; constant memory mode streams the rows to disk.
fn write_xlsx(csv: &Path, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(csv)?;
    let mut record = csv::StringRecord::new();
    let mut row = 0u32;
    while reader.read_record(&mut record)? {
        for (col, cell) in record.iter().enumerate() {
            let col = u16::try_from(col)?;
            let number = if row > 0 && (col == 1 || col == 2) {
                cell.parse::<f64>().ok()
            } else {
                None
            };
            match number {
                Some(n) => sheet.write_number(row, col, n)?,
                None => sheet.write_string(row, col, cell)?,
            };
        }
        row += 1;
    }
    book.save(path)?;
    Ok(())
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

/// One run of the real binary through the measuring child: (wall-clock time, peak RSS in KiB).
fn child(path: &Path, provider: ProviderKind) -> Result<(Duration, i64), String> {
    let path = path.to_str().ok_or("temp path is not UTF-8")?;
    let m = common::measure_payrun(
        &[
            "validate",
            "--format",
            "json",
            "--provider",
            provider.name(),
            path,
        ],
        &[],
    )?;
    Ok((m.elapsed, m.peak_rss_kib))
}
