//! A paying run under test: a temp dir with a CSV and a journal, a simulator in this test
//! process, and the real `payrun` binary pointed at it through the documented env vars.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::sim::{SimConfig, SimHandle, ledger, spawn_sim};

pub struct Fixture {
    pub dir: TempDir,
    pub journal: PathBuf,
    pub sim: SimHandle,
}

/// One payee row of a generated CSV.
#[derive(Clone, Debug)]
pub struct Payee {
    pub reference: String,
    pub phone: String,
    pub amount: String,
    pub currency: &'static str,
}

/// `n` valid RohoPay rows in UGX with unique phones (none ending in the simulator's magic
/// 0000 or 0099).
pub fn ugx_payees(n: usize) -> Vec<Payee> {
    (0..n)
        .map(|i| Payee {
            reference: format!("EMP-{i:04}"),
            phone: format!("2567701{:05}", 10_001 + i * 7),
            amount: format!("{}", 10_000 + i * 500),
            currency: "UGX",
        })
        .collect()
}

/// `n` valid Rumbapay rows in KES (mpesa) with unique phones.
pub fn kes_payees(n: usize) -> Vec<Payee> {
    (0..n)
        .map(|i| Payee {
            reference: format!("AG-{i:04}"),
            phone: format!("+2547129{:05}", 10_001 + i * 7),
            amount: format!("{}.50", 1000 + i),
            currency: "KES",
        })
        .collect()
}

impl Fixture {
    pub async fn new(config: SimConfig) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("payrun.db");
        Fixture {
            dir,
            journal,
            sim: spawn_sim(config).await,
        }
    }

    /// Write a payout CSV (with operator and names columns, which RohoPay ignores).
    pub fn csv(&self, name: &str, payees: &[Payee]) -> PathBuf {
        let mut text =
            String::from("reference,phone,amount,currency,operator,first_name,last_name\n");
        for p in payees {
            let operator = if p.currency == "KES" { "mpesa" } else { "" };
            text.push_str(&format!(
                "{},{},{},{},{operator},Amina,Nakato\n",
                p.reference, p.phone, p.amount, p.currency
            ));
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The payrun binary, configured for this fixture's simulator and journal.
    pub fn payrun(&self) -> tokio::process::Command {
        self.configure(tokio::process::Command::new(env!("CARGO_BIN_EXE_payrun")))
    }

    /// `payrun ARGS` started by `sh` after `umask MASK`, configured like [`Fixture::payrun`]:
    /// what payrun creates must not depend on the umask it inherits.
    pub fn payrun_with_umask(&self, mask: &str, args: &[&str]) -> tokio::process::Command {
        let mut cmd = self.configure(tokio::process::Command::new("sh"));
        cmd.args(["-c", r#"umask "$1"; shift; exec "$@""#, "sh", mask])
            .arg(env!("CARGO_BIN_EXE_payrun"))
            .args(args);
        cmd
    }

    fn configure(&self, mut cmd: tokio::process::Command) -> tokio::process::Command {
        cmd.env("ROHOPAY_API_KEY", "live_test_fixture")
            .env("ROHOPAY_BASE_URL", self.sim.rohopay_base_url())
            .env("RUMBAPAY_API_KEY", "live_test_fixture")
            .env("RUMBAPAY_BASE_URL", self.sim.rumbapay_base_url())
            .env("PAYRUN_JOURNAL", &self.journal)
            .env("PAYRUN_PROGRESS_SECS", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Run to completion with `args` (60 s at most).
    pub async fn exec(&self, args: &[&str]) -> Output {
        exec(self.payrun().args(args)).await
    }

    /// Like [`Fixture::exec`] with one environment variable overridden.
    pub async fn exec_with_env(&self, args: &[&str], var: &str, value: &str) -> Output {
        self.exec_envs(args, &[(var, value)]).await
    }

    /// Like [`Fixture::exec`] with environment variables overridden.
    pub async fn exec_envs(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        exec(self.payrun().envs(envs.iter().copied()).args(args)).await
    }

    /// Like [`Fixture::run`] with environment variables overridden.
    pub async fn run_envs(
        &self,
        file: &Path,
        provider: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Output {
        let file = file.to_str().unwrap();
        let mut args = vec!["run", file, "--provider", provider, "--yes"];
        args.extend_from_slice(extra);
        self.exec_envs(&args, envs).await
    }

    /// Like [`Fixture::exec`] with one environment variable removed.
    pub async fn exec_without_env(&self, args: &[&str], var: &str) -> Output {
        exec(self.payrun().env_remove(var).args(args)).await
    }

    /// `payrun run FILE --provider P --yes` plus `extra`.
    pub async fn run(&self, file: &Path, provider: &str, extra: &[&str]) -> Output {
        self.run_envs(file, provider, extra, &[]).await
    }

    pub async fn ledger(&self) -> Vec<Value> {
        ledger(&self.sim).await
    }

    /// `payrun report BATCH --format json`.
    pub async fn report(&self, batch: &str) -> Vec<Value> {
        let out = self.exec(&["report", batch, "--format", "json"]).await;
        assert_eq!(code(&out), 0, "report failed: {}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `payrun status BATCH --format json`.
    pub async fn status(&self, batch: &str) -> Value {
        let out = self.exec(&["status", batch, "--format", "json"]).await;
        assert_eq!(code(&out), 0, "status failed: {}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

pub async fn exec(cmd: &mut tokio::process::Command) -> Output {
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("payrun finished within 90 s")
        .expect("payrun started")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The batch id printed by `run` ("Planned batch X:" or "Continuing batch X").
pub fn batch_id(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("Planned batch ")
                .or_else(|| l.strip_prefix("Continuing batch "))
                .and_then(|rest| rest.split([':', ' ']).next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no batch id in output:\n{}", text(out)))
}

/// The exactly-once check: every valid row of the report has exactly one executed payout in
/// the ledger under its key, with the row's phone, amount and currency; the ledger has no
/// other payout. Returns the number of payouts.
pub fn assert_exactly_once(report: &[Value], ledger: &[Value]) -> usize {
    let mut by_key: HashMap<&str, Vec<&Value>> = HashMap::new();
    for entry in ledger {
        by_key
            .entry(entry["key"].as_str().unwrap())
            .or_default()
            .push(entry);
    }
    let mut expected = BTreeMap::new();
    for row in report.iter().filter(|r| r["state"] != "rejected") {
        let key = row["key"].as_str().expect("valid rows have keys");
        expected.insert(key, row);
    }
    for (key, entries) in &by_key {
        assert_eq!(
            entries.len(),
            1,
            "key {key} executed {} times: {entries:?}",
            entries.len()
        );
        assert!(
            expected.contains_key(key),
            "ledger has a payout no row asked for: {entries:?}"
        );
    }
    for (key, row) in &expected {
        let Some(entries) = by_key.get(key) else {
            panic!("row never paid (skipped): {row}");
        };
        let paid = entries[0];
        assert_eq!(paid["currency"], row["currency"], "{row}");
        let phone = row["phone"].as_str().unwrap();
        assert!(
            paid["phone"].as_str().unwrap().ends_with(phone),
            "{paid} vs {row}"
        );
        let amount_minor = minor(
            row["amount"].as_str().unwrap(),
            row["currency"].as_str().unwrap(),
        );
        assert_eq!(
            paid["amount_minor"].as_u64(),
            Some(amount_minor),
            "{paid} vs {row}"
        );
    }
    expected.len()
}

/// Major-unit text to minor units for the test currencies (UGX 0 decimals, KES 2).
pub fn minor(amount: &str, currency: &str) -> u64 {
    let decimals = if currency == "UGX" { 0 } else { 2 };
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let frac = format!("{frac:0<decimals$}");
    format!("{int}{frac}").parse().unwrap()
}

/// Row states from a report, counted.
pub fn states(report: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for row in report {
        *out.entry(row["state"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    out
}
