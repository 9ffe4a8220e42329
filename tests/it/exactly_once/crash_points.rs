//! Deterministic crash points (`PAYRUN_CRASH_AT=<point>:<n>`, see `src/crash.rs`): the process
//! aborts exactly where a power cut hurts most — after the `sending` mark is durable but before
//! the request leaves, after the provider executed but before the answer is journaled, in the
//! middle of a group commit, in the middle of planning — and a resume must finish the batch
//! with every payee paid once. With `--concurrency 1` the state right after the crash is exact,
//! so it is asserted too, not just the end.

use std::collections::BTreeMap;

use super::checker::{JournalRow, journal_rows, parse_ledger};
use super::driver::{Batch, PROCESS_DEADLINE};
use super::process::{Ended, Kill, Running};
use super::trial::{Cmd, TrialPlan};
use crate::support::pay::Fixture;
use crate::support::sim::SimConfig;

const PROVIDERS: [&str; 2] = ["rohopay", "rumbapay"];
const ROWS: usize = 12;

/// Run `cmd` with `PAYRUN_CRASH_AT=spec`; it must abort at that point.
async fn crash(batch: &Batch<'_>, cmd: Cmd, spec: &str) -> Ended {
    let mut command = batch.command(cmd);
    command.env("PAYRUN_CRASH_AT", spec);
    let end = Running::spawn(&mut command)
        .finish(Kill::Never, &batch.fx.sim, PROCESS_DEADLINE)
        .await;
    assert!(
        end.aborted(),
        "{spec}: expected an abort, got {}\n{}",
        end.describe(),
        end.text()
    );
    assert!(
        end.stderr
            .contains(&format!("crash point {}", spec.split(':').next().unwrap())),
        "{}",
        end.text()
    );
    end
}

fn states(rows: &[JournalRow]) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r.state.as_str()).or_default() += 1;
    }
    out
}

/// Resume to the end and run the full checker; returns the ledger's request counts by key.
async fn resume_and_check(batch: &Batch<'_>, context: &str) -> BTreeMap<String, u64> {
    let invariants = batch.crash_invariants().await;
    assert!(invariants.is_empty(), "{context}: {invariants:?}");
    let mut log = Vec::new();
    let finished = batch.complete(&mut log).await;
    assert_eq!(finished, Ok(0), "{context}: {log:?}");
    let v = batch.verdict().await;
    assert!(v.is_clean(), "{context}: {:#?}", v.problems);
    assert_eq!(v.payouts, ROWS, "{context}");
    parse_ledger(&batch.fx.ledger().await)
        .into_iter()
        .map(|e| (e.key, e.requests))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_sending_commit_the_request_has_not_left() {
    for provider in PROVIDERS {
        for n in [1, 4, ROWS] {
            let plan = TrialPlan::fixed(provider, ROWS, 1, 40 + n as u64);
            let fx = Fixture::new(SimConfig::default()).await;
            let batch = Batch::new(&fx, &plan);
            let spec = format!("after-sending-commit:{n}");
            crash(&batch, Cmd::Run, &spec).await;
            let context = format!("{provider} {spec}");

            let rows = journal_rows(&fx.journal, &batch.id).unwrap();
            let s = states(&rows);
            assert_eq!(s.get("sending"), Some(&1), "{context}: {s:?}");
            assert_eq!(
                s.get("accepted").copied().unwrap_or(0),
                n - 1,
                "{context}: {s:?}"
            );
            assert_eq!(
                fx.ledger().await.len(),
                n - 1,
                "{context}: the n-th request never left"
            );

            let requests = resume_and_check(&batch, &context).await;
            assert!(
                requests.values().all(|r| *r == 1),
                "{context}: {requests:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_provider_executed_the_lost_answer_is_resent_not_repaid() {
    for provider in PROVIDERS {
        for n in [1, 5, ROWS] {
            let plan = TrialPlan::fixed(provider, ROWS, 1, 60 + n as u64);
            let fx = Fixture::new(SimConfig::default()).await;
            let batch = Batch::new(&fx, &plan);
            let spec = format!("after-response:{n}");
            crash(&batch, Cmd::Run, &spec).await;
            let context = format!("{provider} {spec}");

            let rows = journal_rows(&fx.journal, &batch.id).unwrap();
            let s = states(&rows);
            assert_eq!(s.get("sending"), Some(&1), "{context}: {s:?}");
            assert_eq!(
                s.get("accepted").copied().unwrap_or(0),
                n - 1,
                "{context}: {s:?}"
            );
            let ledger = parse_ledger(&fx.ledger().await);
            assert_eq!(ledger.len(), n, "{context}: executed, answer not journaled");
            let lost = rows.iter().find(|r| r.state == "sending").unwrap();
            assert_eq!(
                ledger.last().unwrap().key,
                lost.key.clone().unwrap(),
                "{context}"
            );

            let requests = resume_and_check(&batch, &context).await;
            let lost_key = lost.key.clone().unwrap();
            assert_eq!(
                requests[&lost_key], 2,
                "{context}: resent once with the same key"
            );
            let others = requests.iter().filter(|(k, _)| **k != lost_key);
            assert!(
                others.clone().all(|(_, r)| *r == 1),
                "{context}: {requests:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mid_group_commit_loses_the_group_and_nothing_else() {
    for provider in PROVIDERS {
        // One row at a time: each row costs at least two commits (its `sending` mark, then
        // its outcome), and a request leaves only after its mark committed.
        for n in [1, 2, 5] {
            let plan = TrialPlan::fixed(provider, ROWS, 1, 80 + n as u64);
            let fx = Fixture::new(SimConfig::default()).await;
            let batch = Batch::new(&fx, &plan);
            let spec = format!("mid-group-commit:{n}");
            crash(&batch, Cmd::Run, &spec).await;
            let context = format!("{provider} {spec} (concurrency 1)");
            let paid = fx.ledger().await.len();
            assert!(paid <= n / 2, "{context}: {paid} payouts before commit {n}");
            resume_and_check(&batch, &context).await;
        }
        // Several rows in flight: groups hold several writes at once (the claims of the next
        // rows, and the outcomes that waited for them). Such a run of 12 rows commits 8
        // groups: the later ones carry outcomes, the last the outcomes of the final rows.
        for n in [1, 3, 5, 7] {
            let plan = TrialPlan::fixed(provider, ROWS, 4, 90 + n as u64);
            let fx = Fixture::new(SimConfig::default()).await;
            let batch = Batch::new(&fx, &plan);
            let spec = format!("mid-group-commit:{n}");
            crash(&batch, Cmd::Run, &spec).await;
            resume_and_check(&batch, &format!("{provider} {spec} (concurrency 4)")).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mid_plan_leaves_no_batch_and_a_rerun_pays_once() {
    for provider in PROVIDERS {
        let plan = TrialPlan::fixed(provider, ROWS, 4, 7);
        let fx = Fixture::new(SimConfig::default()).await;
        let batch = Batch::new(&fx, &plan);
        crash(&batch, Cmd::Run, "mid-plan").await;
        assert!(
            !batch.exists(),
            "{provider}: the plan transaction never committed"
        );
        assert!(fx.ledger().await.is_empty(), "{provider}");
        resume_and_check(&batch, &format!("{provider} mid-plan")).await;
    }
}

/// Crash after crash, in `run` and in `resume`, with faults on: every resume must pick up
/// where the last process died, and the end is still exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn a_chain_of_crashes_under_faults_still_pays_each_row_once() {
    let chain = [
        (Cmd::Run, "after-response:3"),
        (Cmd::Resume, "after-sending-commit:2"),
        (Cmd::Resume, "mid-group-commit:4"),
        (Cmd::Run, "after-response:1"),
        (Cmd::Resume, "mid-group-commit:1"),
    ];
    for (i, provider) in PROVIDERS.into_iter().enumerate() {
        let mut plan = TrialPlan::fixed(provider, ROWS, 3, 123 + i as u64);
        plan.sim = SimConfig {
            seed: 5 + i as u64,
            drop_rate: 0.2,
            error_rate: 0.2,
            ..SimConfig::default()
        };
        plan.max_tries = Some(2);
        let fx = Fixture::new(plan.sim.clone()).await;
        let batch = Batch::new(&fx, &plan);
        for (cmd, spec) in chain {
            crash(&batch, cmd, spec).await;
            let problems = batch.crash_invariants().await;
            assert!(problems.is_empty(), "{provider} {spec}: {problems:?}");
        }
        resume_and_check(&batch, &format!("{provider} crash chain")).await;
    }
}
