//! One operator sequence, fully decided by its seed: a simulator process with its own fault
//! mix, one or two rosters written as payout files, and a series of what people do to them —
//! run (with the default id, the roster's `--batch`, or `--allow-changed-file`), a new
//! `--batch`, edit an amount or a phone, rename a reference, re-save with CRLF, copy under a
//! new name, SIGKILL mid-run, resume, reconcile. Every command's exit is held against what
//! the operator model says the README's rules require, then the operator wraps up (each
//! roster's latest file run into its batch, every batch resumed until done and reconciled)
//! and `seq_check` judges the money.

use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::commands::{Cmd, Kill, command, complete, pick_kill};
use super::ledger_model::{Content, Payee, valid_batch_id};
use super::payfile::{Cur, currencies};
use super::seq_check::{Finding, check_sequence};
use super::sim_process::SimProcess;
use super::workspace::{Sequence, Target};

/// What one sequence did and found.
#[derive(Debug, Default)]
pub struct SeqOutcome {
    pub seed: u64,
    pub setup: String,
    pub commands: usize,
    pub kills: usize,
    pub refusals: usize,
    pub finding: Finding,
    pub log: Vec<String>,
    pub elapsed: Duration,
}

impl SeqOutcome {
    pub fn failed(&self) -> bool {
        !self.finding.problems.is_empty()
    }
}

/// A probability: zero half the time, else uniform up to `max`, rounded to 3 decimals.
fn modest(rng: &mut ChaCha8Rng, max: f64) -> f64 {
    if rng.random_bool(0.5) {
        0.0
    } else {
        (rng.random_range(0.0..=max) * 1000.0).round() / 1000.0
    }
}

/// The simulator's switches for a seed. `lie_modes` (the simulator's lying answers) are
/// added only when the suite's list of them is not empty.
fn sim_args(rng: &mut ChaCha8Rng, seed: u64, lie_modes: &[&str]) -> Vec<String> {
    let mut args = vec!["--seed".to_string(), seed.to_string()];
    for (flag, max) in [
        ("--drop-rate", 0.1),
        ("--error-rate", 0.15),
        ("--slow-rate", 0.1),
    ] {
        let p = modest(rng, max);
        if p > 0.0 {
            args.extend([flag.to_string(), p.to_string()]);
        }
    }
    args.extend([
        "--slow-ms".to_string(),
        rng.random_range(10..120u64).to_string(),
    ]);
    if !lie_modes.is_empty() {
        args.extend([
            "--lie-rate".to_string(),
            modest(rng, 0.1).to_string(),
            "--lie-modes".to_string(),
            lie_modes.join(","),
        ]);
    }
    args
}

/// A national number the simulator treats as an ordinary payee, not used before.
fn fresh_phone(rng: &mut ChaCha8Rng, seq: &mut Sequence, cur: Cur) -> String {
    loop {
        let n = format!("7{:08}", rng.random_range(0..100_000_000u32));
        let phone = format!("{}{n}", cur.dialling);
        if !n.ends_with("0000") && !n.ends_with("0099") && seq.phones.insert(phone.clone()) {
            return phone;
        }
    }
}

fn amount(rng: &mut ChaCha8Rng, cur: Cur) -> u64 {
    match cur.decimals {
        0 => rng.random_range(2..200u64) * 500,
        _ => rng.random_range(10_000..500_000u64),
    }
}

/// A roster of `n` people (and sometimes one more row paying someone twice on purpose).
fn roster(
    rng: &mut ChaCha8Rng,
    seq: &mut Sequence,
    roster: usize,
    n: usize,
    dept: bool,
) -> Content {
    let curs = currencies(seq.provider);
    let mut payees: Vec<Payee> = Vec::new();
    for i in 0..n {
        let cur = curs[rng.random_range(0..curs.len())];
        let person = seq.next_person();
        payees.push(Payee {
            person,
            reference: format!("{}EMP-{:03}", if dept { "ops/" } else { "" }, i + 1),
            phone: fresh_phone(rng, seq, cur),
            amount_minor: amount(rng, cur),
            cur,
        });
    }
    if rng.random_bool(0.3) {
        let mut again = payees[rng.random_range(0..n)].clone();
        let person = seq.next_person();
        seq.model.join(person, again.person);
        again.person = person;
        again.reference = format!("{}EMP-{:03}", if dept { "ops/" } else { "" }, n + 1);
        payees.push(again);
    }
    Content {
        roster,
        payees,
        crlf: false,
    }
}

/// Run the sequence of `seed` and check it. `lie_modes` is passed to the simulator.
pub async fn run_sequence(seed: u64, lie_modes: &[&str]) -> SeqOutcome {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let provider = if rng.random_bool(0.5) {
        "rohopay"
    } else {
        "rumbapay"
    };
    let args = sim_args(&mut rng, seed, lie_modes);
    let sim = SimProcess::start(&args).await;
    let mut seq = Sequence::new(provider, sim);
    let dept = rng.random_bool(0.5);
    let rosters = if rng.random_bool(0.6) { 2 } else { 1 };
    let n = rng.random_range(4..=16);
    let first = roster(&mut rng, &mut seq, 0, n, dept);
    seq.add_file("staff.csv", first, None);
    // `--batch pay` for `ops/EMP-001` and `--batch pay/ops` for `EMP-001` spell the same
    // key text: the sequences that take both ids look for payees sharing a key.
    let collide = dept && rosters == 2 && rng.random_bool(0.8);
    let id = if collide || rng.random_bool(0.5) {
        "pay"
    } else {
        "pay.1"
    };
    seq.roster_ids.push(id.to_string());
    if rosters == 2 {
        let n = rng.random_range(3..=10);
        let second = roster(&mut rng, &mut seq, 1, n, false);
        seq.add_file("contractors.csv", second, None);
        let id = if collide { "pay/ops" } else { "pay-2" };
        seq.roster_ids.push(id.to_string());
    }
    let steps = rng.random_range(4..=10usize);
    let mut out = SeqOutcome {
        seed,
        setup: format!(
            "{provider} · sim {} · {rosters} roster(s) · dept refs {dept} · {steps} steps · ids {:?}",
            args.join(" "),
            seq.roster_ids
        ),
        ..SeqOutcome::default()
    };
    let mut problems = Vec::new();
    for step in 0..steps {
        // Each roster's file is run first, in order; then anything goes.
        let first_runs = step < rosters;
        let what = if first_runs {
            0
        } else {
            rng.random_range(0..100u32)
        };
        let file = if first_runs {
            step
        } else {
            rng.random_range(0..seq.files.len())
        };
        match what {
            0..30 => {
                let target = seq.choose_run(&mut rng, file);
                let kill = pick_kill(&mut rng, seq.files[file].content.payees.len());
                command(
                    &mut seq,
                    &mut out,
                    &mut problems,
                    Cmd::Run(file, target),
                    kill,
                )
                .await;
            }
            30..38 => {
                let fresh = seq.fresh_id(&mut rng);
                let target = if seq.model.same_content(&seq.files[file].content).is_some()
                    || !valid_batch_id(&fresh)
                {
                    Target::Explicit(fresh, false)
                } else {
                    seq.choose_run(&mut rng, file)
                };
                command(
                    &mut seq,
                    &mut out,
                    &mut problems,
                    Cmd::Run(file, target),
                    Kill::Never,
                )
                .await;
            }
            38..50 => {
                if let Some(batch) = seq.some_batch(&mut rng) {
                    let kill = pick_kill(&mut rng, seq.files[0].content.payees.len());
                    command(&mut seq, &mut out, &mut problems, Cmd::Resume(batch), kill).await;
                }
            }
            50..56 => {
                if let Some(batch) = seq.some_batch(&mut rng) {
                    command(
                        &mut seq,
                        &mut out,
                        &mut problems,
                        Cmd::Reconcile(batch),
                        Kill::Never,
                    )
                    .await;
                }
            }
            56..66 => {
                let row = rng.random_range(0..seq.files[file].content.payees.len());
                let name = seq.files[file].name.clone();
                let p = &mut seq.files[file].content.payees[row];
                let before = p.amount_minor;
                let unit = if p.cur.decimals == 0 { 500 } else { 100 };
                p.amount_minor += rng.random_range(1..=20u64) * unit;
                out.log.push(format!(
                    "edit '{name}': {} amount {before} → {}",
                    p.reference, p.amount_minor
                ));
                seq.rewrite(file);
            }
            66..72 => {
                let row = rng.random_range(0..seq.files[file].content.payees.len());
                let cur = seq.files[file].content.payees[row].cur;
                let phone = fresh_phone(&mut rng, &mut seq, cur);
                let name = seq.files[file].name.clone();
                let p = &mut seq.files[file].content.payees[row];
                out.log.push(format!(
                    "edit '{name}': {} phone {} → {phone}",
                    p.reference, p.phone
                ));
                p.phone = phone;
                if seq.changed_identity(file, row, true) {
                    out.log
                        .push("  (renamed and re-phoned: a new payee, or a held conflict if a run saw the rename alone)".into());
                }
                seq.rewrite(file);
            }
            72..82 => {
                let row = rng.random_range(0..seq.files[file].content.payees.len());
                let name = seq.files[file].name.clone();
                let p = &mut seq.files[file].content.payees[row];
                let renamed = p.reference.replacen("EMP-", "EMP-0", 1);
                out.log
                    .push(format!("rename in '{name}': {} → {renamed}", p.reference));
                p.reference = renamed;
                if seq.changed_identity(file, row, false) {
                    out.log
                        .push("  (renamed and re-phoned: a new payee, or a held conflict if a run saw the rename alone)".into());
                }
                seq.rewrite(file);
            }
            82..91 => {
                let in_place = rng.random_bool(0.5);
                let to = seq.resave(file, in_place);
                out.log.push(format!(
                    "re-save '{}' with {} line endings as '{}'",
                    seq.files[file].name,
                    if seq.files[to].content.crlf {
                        "CRLF"
                    } else {
                        "LF"
                    },
                    seq.files[to].name
                ));
            }
            _ => {
                let to = seq.copy(file);
                out.log.push(format!(
                    "copy '{}' to '{}'",
                    seq.files[file].name, seq.files[to].name
                ));
            }
        }
    }

    // The operator wraps up: each roster's latest file into its batch, then every batch
    // resumed until nothing is open, then reconciled.
    for r in 0..seq.roster_ids.len() {
        let file = seq.latest[r];
        let target = match seq.home_of(file) {
            Some(home) => Target::Explicit(home, true),
            None if valid_batch_id(&seq.roster_ids[r]) => {
                Target::Explicit(seq.roster_ids[r].clone(), false)
            }
            None => Target::Default,
        };
        command(
            &mut seq,
            &mut out,
            &mut problems,
            Cmd::Run(file, target),
            Kill::Never,
        )
        .await;
    }
    for batch in seq.journal_batches() {
        complete(&mut seq, &mut out, &mut problems, &batch).await;
        command(
            &mut seq,
            &mut out,
            &mut problems,
            Cmd::Reconcile(batch),
            Kill::Never,
        )
        .await;
    }
    out.finding = check_sequence(&seq).await;
    out.finding.problems.splice(0..0, problems);
    out.elapsed = started.elapsed();
    out
}
