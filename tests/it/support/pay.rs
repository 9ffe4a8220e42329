//! A paying run under test: a temp dir with a CSV and a journal, a simulator in this test
//! process, and the real `payrun` binary pointed at it through the documented env vars.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::csv::{Line, payee_file};
use super::money::minor_of;
use super::sim::{SimConfig, SimHandle, ledger, spawn_sim};
use crate::exactly_once::checker::{LedgerEntry, batch_ids, check, journal_rows, parse_ledger};
use crate::exactly_once::payfile::{Expected, key_of};

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
        let text = payee_file(
            true,
            "\n",
            payees.iter().map(|p| Line {
                reference: Some(&p.reference),
                phone: &p.phone,
                amount: &p.amount,
                currency: p.currency,
                operator: if p.currency == "KES" { "mpesa" } else { "" },
            }),
        );
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
            .env_remove("PAYRUN_CONFIG")
            .env_remove("PAYRUN_PROFILE")
            .env("XDG_CONFIG_HOME", "/nonexistent/payrun-tests")
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
        exec(
            self.run_command(file, provider, extra)
                .envs(envs.iter().copied()),
        )
        .await
    }

    /// The command `payrun run FILE --provider P --yes` plus `extra`, not started.
    pub fn run_command(
        &self,
        file: &Path,
        provider: &str,
        extra: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = self.payrun();
        cmd.args(["run", file.to_str().expect("a UTF-8 path")])
            .args(["--provider", provider, "--yes"])
            .args(extra);
        cmd
    }

    /// `payrun run FILE --provider P --yes` plus `extra`, started and left running.
    pub fn spawn_run(&self, file: &Path, provider: &str, extra: &[&str]) -> tokio::process::Child {
        self.run_command(file, provider, extra)
            .spawn()
            .expect("payrun starts")
    }

    /// Like [`Fixture::exec`] with one environment variable removed.
    pub async fn exec_without_env(&self, args: &[&str], var: &str) -> Output {
        exec(self.payrun().env_remove(var).args(args)).await
    }

    /// `payrun run FILE --provider P --yes` plus `extra`.
    pub async fn run(&self, file: &Path, provider: &str, extra: &[&str]) -> Output {
        self.run_envs(file, provider, extra, &[]).await
    }

    /// `payrun run FILE --provider rohopay --batch BATCH --allow-changed-file --rate 500`: an
    /// edited file run into its batch.
    pub async fn run_edited(&self, file: &Path, batch: &str) -> Output {
        let extra = ["--batch", batch, "--allow-changed-file", "--rate", "500"];
        self.run(file, "rohopay", &extra).await
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

impl Fixture {
    /// Resume `batch`, whose last command ended with `last` (`None`: killed, resume at once),
    /// until nothing is left to do: exit 0, after at most 6 resumes at a high rate. Every exit
    /// 1 on the way must be explained by the journal — rows still open (in doubt, planned or
    /// sending) — and any other code fails.
    pub async fn resume_until_done(&self, batch: &str, last: Option<&Output>) {
        let (mut code_now, mut said) = match last {
            Some(out) => (code(out), text(out)),
            None => (1, String::from("(killed)")),
        };
        for _ in 0..6 {
            match code_now {
                0 => return,
                1 => {
                    let status = self.status(batch).await;
                    let open: u64 = ["in_doubt", "planned", "sending"]
                        .iter()
                        .filter_map(|s| status["states"][s].as_u64())
                        .sum();
                    assert!(open > 0, "exit 1 with no row open: {status}\n{said}");
                }
                other => panic!("exit {other}:\n{said}"),
            }
            let out = self
                .exec(&["resume", batch, "--yes", "--rate", "500"])
                .await;
            (code_now, said) = (code(&out), text(&out));
        }
        panic!("batch {batch} never finished: {}", self.status(batch).await);
    }
}

impl Fixture {
    /// The exactly-once check, the same checker as the crash-and-fault suite's: the
    /// simulator's ledger (what was paid) against `payees` (what the file said, keyed here from
    /// the key rule, not by payrun), payrun's journal and its report. Every payee has exactly
    /// one executed payout under its key, with its phone, amount and currency, and nothing else
    /// was paid; every journal row is final and agrees with the ledger; the report lists each
    /// row once. Payouts of the journal's other batches are left out. Returns the number of
    /// payouts of `batch`.
    pub async fn assert_exactly_once(&self, batch: &str, payees: &[Payee]) -> usize {
        let expected: Vec<Expected> = payees
            .iter()
            .enumerate()
            .map(|(i, p)| Expected {
                line: i as u64 + 2,
                identity: p.reference.clone(),
                key: key_of(batch, true, &p.reference),
                phone: p.phone.trim_start_matches('+').to_owned(),
                amount_minor: minor_of(&p.amount, p.currency).expect("a test payee's amount"),
                currency: p.currency.to_owned(),
            })
            .collect();
        self.assert_paid_as(batch, &expected, &[]).await
    }

    /// [`Fixture::assert_exactly_once`] for an expectation written out in full, with the
    /// file's lines that must be `rejected` and never sent.
    pub async fn assert_paid_as(
        &self,
        batch: &str,
        expected: &[Expected],
        rejected_lines: &[u64],
    ) -> usize {
        let journal = journal_rows(&self.journal, batch).expect("the journal is readable");
        let others: HashSet<String> = batch_ids(&self.journal)
            .iter()
            .filter(|b| b.as_str() != batch)
            .flat_map(|b| journal_rows(&self.journal, b).unwrap_or_default())
            .filter_map(|r| r.key)
            .collect();
        let ledger: Vec<LedgerEntry> = parse_ledger(&self.ledger().await)
            .into_iter()
            .filter(|e| !others.contains(&e.key))
            .collect();
        let report = self.report(batch).await;
        let verdict = check(expected, Some(rejected_lines), &report, &journal, &ledger);
        assert!(
            verdict.is_clean(),
            "batch {batch} is not paid exactly once:\n{}",
            verdict.problems.join("\n")
        );
        verdict.payouts
    }
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
