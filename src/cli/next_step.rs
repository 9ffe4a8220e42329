//! What `status` says about a batch beyond its counts: how its last run ended (finished,
//! wallet empty, provider unavailable, interrupted, lock lost, cancelled, or running now) and
//! the exact command to run next (`resume`, `reconcile`, `retry`), or that there is none.

use std::path::Path;

use serde::Serialize;

use super::clock;
use super::summary::BatchFigures;
use crate::domain::{RowState, RunEnd};
use crate::journal::{Batch, Holder};

/// The last run of a batch, as `status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LastRunView {
    /// `run`, `resume`, `retry` or `cancel`.
    pub command: String,
    /// How it ended (`finished`, `wallet_empty`, `provider_unavailable`, `interrupted`,
    /// `lock_lost`, `credentials_refused`, `journal_failed`, `cancelled`), or `running`.
    pub end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// For people: one sentence, times in local time with the offset.
    #[serde(skip)]
    pub text: String,
}

/// How the last run of `batch` ended. A run with no recorded end was interrupted, unless a
/// live process still holds the batch (then it is running now).
pub fn last_run(batch: &Batch, holder: Option<&Holder>) -> Option<LastRunView> {
    let run = batch.last_run.as_ref()?;
    let started = clock::local(run.started);
    let (end, text) = match (run.end, holder.filter(|h| h.live)) {
        (None, Some(h)) => (
            "running".to_string(),
            format!(
                "{} running now (payrun pid {} on {}), started {started}",
                run.command, h.pid, h.host
            ),
        ),
        (None, None) => (
            RunEnd::Interrupted.as_str().to_string(),
            format!(
                "{} interrupted: its process stopped before it finished (killed, crashed or the machine \
                 went down), started {started}",
                run.command
            ),
        ),
        (Some(end), _) => {
            let when = run.ended.map_or(started.clone(), clock::local);
            let text = match end {
                RunEnd::Finished => format!("{} finished {when}", run.command),
                RunEnd::Cancelled => format!("cancelled {when}"),
                other => format!(
                    "{} stopped {when}: {}{}",
                    run.command,
                    other.words(),
                    run.detail
                        .as_deref()
                        .map(|d| format!(" ({})", super::summary::printable(d)))
                        .unwrap_or_default()
                ),
            };
            (end.as_str().to_string(), text)
        }
    };
    Some(LastRunView {
        command: run.command.clone(),
        end,
        detail: run.detail.clone(),
        started_at: crate::journal::format_ms(run.started),
        ended_at: run.ended.map(crate::journal::format_ms),
        text,
    })
}

/// The exact command to run next for a batch, or `None` when there is nothing to do (or a
/// live payrun is on it). Rows not sent yet or in doubt come first (`resume`), then payouts
/// the provider has not settled (`reconcile`), then failed rows (`retry`). A cancelled batch
/// is only ever reconciled.
pub fn next_command(
    batch: &Batch,
    figures: &BatchFigures,
    retryable: u64,
    holder: Option<&Holder>,
    journal: &Path,
) -> Option<String> {
    if holder.is_some_and(|h| h.live) {
        return None;
    }
    let count = |states: &[RowState]| states.iter().map(|s| figures.count(*s)).sum::<u64>();
    let open = count(&[RowState::Planned, RowState::Sending, RowState::InDoubt]);
    let unsettled = count(&[RowState::Accepted, RowState::Sending, RowState::InDoubt]);
    let command = |verb: &str| {
        let mut cmd = format!("payrun {verb} {} --journal {}", batch.id, journal.display());
        if batch.sandbox && verb != "reconcile" {
            cmd.push_str(" --sandbox");
        }
        cmd
    };
    if batch.cancelled_at.is_some() {
        return (unsettled > 0).then(|| command("reconcile"));
    }
    if open > 0 {
        Some(command("resume"))
    } else if unsettled > 0 {
        Some(command("reconcile"))
    } else if retryable > 0 {
        Some(command("retry"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKind;
    use crate::journal::{BatchSettings, LastRun, StateCount};

    fn batch() -> Batch {
        Batch {
            id: "pay-1".into(),
            file_name: "pay.csv".into(),
            file_path: "/tmp/pay.csv".into(),
            file_sha256: "00".into(),
            provider: ProviderKind::Rohopay,
            sandbox: false,
            base_url: "https://api.rohopay.com".into(),
            settings: BatchSettings::default(),
            created_at: 0,
            updated_at: 0,
            key_scheme: 2,
            fingerprint: None,
            cancelled_at: None,
            last_run: None,
        }
    }

    fn figures(b: &Batch, states: &[(RowState, u64)]) -> BatchFigures {
        let counts: Vec<StateCount> = states
            .iter()
            .map(|(state, rows)| StateCount {
                state: *state,
                currency: "UGX".into(),
                rows: *rows,
                amount_minor: 1000 * u128::from(*rows),
                contested_minor: 0,
            })
            .collect();
        BatchFigures::new(b, &counts, 0)
    }

    fn next(b: &Batch, states: &[(RowState, u64)], retryable: u64) -> Option<String> {
        next_command(b, &figures(b, states), retryable, None, Path::new("pay.db"))
    }

    #[test]
    fn the_next_command_follows_what_is_left() {
        let b = batch();
        use RowState::*;
        assert_eq!(
            next(&b, &[(Succeeded, 5), (Planned, 2), (Failed, 1)], 1).as_deref(),
            Some("payrun resume pay-1 --journal pay.db")
        );
        assert_eq!(
            next(&b, &[(Succeeded, 5), (InDoubt, 1)], 0).as_deref(),
            Some("payrun resume pay-1 --journal pay.db")
        );
        assert_eq!(
            next(&b, &[(Accepted, 5), (Failed, 1)], 1).as_deref(),
            Some("payrun reconcile pay-1 --journal pay.db")
        );
        assert_eq!(
            next(&b, &[(Succeeded, 5), (Failed, 2)], 2).as_deref(),
            Some("payrun retry pay-1 --journal pay.db")
        );
        assert_eq!(
            next(&b, &[(Succeeded, 5), (Failed, 2)], 0),
            None,
            "failed rows for a person"
        );
        assert_eq!(next(&b, &[(Succeeded, 5), (Rejected, 1)], 0), None);
        let sandbox = Batch {
            sandbox: true,
            ..batch()
        };
        assert_eq!(
            next(&sandbox, &[(Planned, 1)], 0).as_deref(),
            Some("payrun resume pay-1 --journal pay.db --sandbox")
        );
        let cancelled = Batch {
            cancelled_at: Some(1),
            ..batch()
        };
        assert_eq!(next(&cancelled, &[(Cancelled, 3), (Failed, 1)], 1), None);
        assert_eq!(
            next(&cancelled, &[(Cancelled, 3), (InDoubt, 1)], 0).as_deref(),
            Some("payrun reconcile pay-1 --journal pay.db")
        );
        let live = Holder {
            pid: 7,
            host: "h".into(),
            age_ms: 10,
            live: true,
        };
        assert_eq!(
            next_command(
                &b,
                &figures(&b, &[(Planned, 1)]),
                0,
                Some(&live),
                Path::new("x")
            ),
            None,
            "another payrun is on it"
        );
    }

    #[test]
    fn a_run_without_an_end_was_interrupted_unless_its_process_lives() {
        let mut b = batch();
        assert_eq!(last_run(&b, None), None);
        b.last_run = Some(LastRun {
            command: "run".into(),
            started: 1_795_253_400_000,
            ended: None,
            end: None,
            detail: None,
        });
        let dead = Holder {
            pid: 7,
            host: "h".into(),
            age_ms: 60_000,
            live: false,
        };
        let view = last_run(&b, Some(&dead)).unwrap();
        assert_eq!(view.end, "interrupted");
        assert!(
            view.text
                .starts_with("run interrupted: its process stopped"),
            "{}",
            view.text
        );
        let live = Holder { live: true, ..dead };
        let view = last_run(&b, Some(&live)).unwrap();
        assert_eq!(view.end, "running");
        assert!(
            view.text.contains("running now (payrun pid 7 on h)"),
            "{}",
            view.text
        );
        b.last_run = Some(LastRun {
            command: "resume".into(),
            started: 1_795_253_400_000,
            ended: Some(1_795_253_460_000),
            end: Some(RunEnd::WalletEmpty),
            detail: Some("insufficient balance".into()),
        });
        let view = last_run(&b, None).unwrap();
        assert_eq!(view.end, "wallet_empty");
        assert!(
            view.text.starts_with("resume stopped 2026-11-21 ")
                && view.text.ends_with(": wallet empty (insufficient balance)"),
            "{}",
            view.text
        );
        assert_eq!(view.ended_at.as_deref(), Some("2026-11-21T09:31:00Z"));
    }
}
