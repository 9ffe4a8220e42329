//! One payrun command of an operator sequence: spawned against the sequence's simulator and
//! journal, SIGKILLed as planned (after a delay, or once the provider executed some more
//! payouts), and held against the operator model — a refusal must send nothing, and a
//! command the README's rules refuse must not pay.

use std::time::Duration;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::ledger_model::{Basis, Expect};
use super::operator::SeqOutcome;
use super::process::{Ended, Running};
use super::workspace::{Sequence, Target};

/// Longest any one payrun process may take before it counts as hung.
const PROCESS_DEADLINE: Duration = Duration::from_secs(60);
/// Kill-free resumes allowed to finish a batch at the end.
const MAX_RESUMES: usize = 15;

/// When a command is killed.
#[derive(Clone, Copy, Debug)]
pub enum Kill {
    Never,
    AfterMs(u64),
    AfterPayouts(usize),
}

pub fn pick_kill(rng: &mut ChaCha8Rng, rows: usize) -> Kill {
    match rng.random_range(0..100u32) {
        0..60 => Kill::Never,
        60..85 => Kill::AfterPayouts(rng.random_range(1..=rows.div_ceil(2).max(1))),
        _ => Kill::AfterMs(rng.random_range(0..60)),
    }
}

/// A payrun command of the sequence.
#[derive(Clone, Debug)]
pub enum Cmd {
    /// `run FILE` into a target, by index into the sequence's files.
    Run(usize, Target),
    Resume(String),
    Reconcile(String),
}

/// Resume `batch` without kills until payrun exits 0, or 1 with nothing left open.
pub async fn complete(
    seq: &mut Sequence,
    out: &mut SeqOutcome,
    problems: &mut Vec<String>,
    batch: &str,
) {
    for _ in 0..MAX_RESUMES {
        let end = command(
            seq,
            out,
            problems,
            Cmd::Resume(batch.to_string()),
            Kill::Never,
        )
        .await;
        match end.and_then(|e| e.code()) {
            Some(0) => return,
            Some(1) if seq.open_rows(batch) == 0 => return,
            Some(1) => {}
            _ => return,
        }
    }
    problems.push(format!(
        "batch {batch} still has open rows after {MAX_RESUMES} resumes"
    ));
}

/// Spawn `cmd`, kill it as planned, and hold its exit against the model. Returns how it
/// ended (`None` when the command was skipped).
pub async fn command(
    seq: &mut Sequence,
    out: &mut SeqOutcome,
    problems: &mut Vec<String>,
    cmd: Cmd,
    kill: Kill,
) -> Option<Ended> {
    let before = seq.sim.settled_ledger().await.len();
    let (mut process, expect, line, run) = match &cmd {
        Cmd::Run(file, target) => {
            let (command, expect, line, id) = seq.run_command(*file, target);
            (command, expect, line, Some((*file, id)))
        }
        Cmd::Resume(batch) => {
            let mut c = seq.payrun();
            c.args(["resume", batch, "--yes"]);
            seq.send_args(&mut c);
            (
                c,
                (Expect::Proceed, Basis::Today),
                format!("resume {batch}"),
                None,
            )
        }
        Cmd::Reconcile(batch) => {
            let mut c = seq.payrun();
            c.args(["reconcile", batch, "--rate", "1000"]);
            (
                c,
                (Expect::Proceed, Basis::Today),
                format!("reconcile {batch}"),
                None,
            )
        }
    };
    let mut running = Running::spawn(&mut process);
    match kill {
        Kill::Never => {}
        Kill::AfterMs(ms) => {
            let due = tokio::select! {
                () = running.wait() => false,
                () = tokio::time::sleep(Duration::from_millis(ms)) => true,
            };
            if due {
                running.sigkill();
            }
        }
        Kill::AfterPayouts(n) => loop {
            let exited = tokio::select! {
                () = running.wait() => true,
                () = tokio::time::sleep(Duration::from_millis(5)) => false,
            };
            if exited {
                break;
            }
            if seq.sim.ledger().await.len() >= before + n {
                running.sigkill();
                break;
            }
        },
    }
    let end = running.collect(PROCESS_DEADLINE).await;
    out.commands += 1;
    let killed = end.killed();
    out.kills += usize::from(killed);
    out.log.push(format!(
        "{line} [expect {:?}{}] {kill:?}: {}",
        expect.0,
        if expect.1 == Basis::PendingFix {
            ", pending fix"
        } else {
            ""
        },
        end.describe()
    ));
    let after = seq.sim.settled_ledger().await.len();
    let sent = after.saturating_sub(before);
    let code = end.code();
    if matches!(code, Some(2 | 3)) {
        out.refusals += 1;
        if after != before {
            problems.push(format!(
                "REFUSED BUT SENT: `{line}` exited {code:?} yet {sent} payouts were executed"
            ));
        }
    }
    let tag = if expect.1 == Basis::PendingFix {
        "[pending fix] "
    } else {
        ""
    };
    match (expect.0, code) {
        (Expect::Refuse3 | Expect::Refuse2, None) if killed && !end.hung && sent > 0 => {
            problems.push(format!(
                "{tag}NOT REFUSED: `{line}` should be refused ({:?}) but sent {sent} payouts before it was killed",
                expect.0
            ));
        }
        (_, None) if killed && !end.hung => {}
        (Expect::Proceed, Some(0 | 1))
        | (Expect::Refuse3, Some(3))
        | (Expect::Refuse2, Some(2)) => {}
        (Expect::Either, Some(0 | 1 | 3)) => {}
        (Expect::Refuse3 | Expect::Refuse2, Some(0 | 1))
        | (Expect::Refuse3 | Expect::Refuse2, None) => {
            problems.push(format!(
                "{tag}NOT REFUSED: `{line}` should be refused ({:?}) but {}; {sent} payouts sent",
                expect.0,
                end.describe()
            ));
        }
        _ => problems.push(format!(
            "{tag}UNEXPECTED EXIT: `{line}` expected {:?}, got {}\n{}",
            expect.0,
            end.describe(),
            end.text()
        )),
    }
    if let Some((file, id)) = run {
        seq.observe_run(file, &id);
    }
    Some(end)
}
