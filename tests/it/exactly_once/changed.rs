//! The crash variant of `tests/it/pay/changed.rs`: the provider executed a row but payrun died
//! before journaling the answer (`after-response`), and then the file is edited to change that
//! very row's amount. The edited file is refused; with `--allow-changed-file` the row is a
//! conflict — its original request is resent to settle the doubt, the new amount is never
//! paid — and everything else is paid once. With a reference column the row keeps its
//! identity; without one the edit makes a new identity that must not be paid either.

use super::checker::parse_ledger;
use super::driver::{Batch, PROCESS_DEADLINE};
use super::payfile::PayFile;
use super::process::{Kill, Running};
use super::trial::{Cmd, TrialPlan};
use crate::support::pay::Fixture;
use crate::support::sim::SimConfig;

const ROWS: usize = 10;
/// The row whose answer is lost and which is then edited (line 4 of the file).
const EDITED: usize = 2;

async fn crash_then_edit(provider: &'static str, references: bool) {
    let context = format!("{provider}, reference column {references}");
    let mut plan = TrialPlan::fixed(provider, ROWS, 1, 0);
    plan.file = PayFile::simple(provider, ROWS, references);
    let fx = Fixture::new(SimConfig::default()).await;
    let batch = Batch::new(&fx, &plan);

    let mut command = batch.command(Cmd::Run);
    command.env("PAYRUN_CRASH_AT", format!("after-response:{}", EDITED + 1));
    let end = Running::spawn(&mut command)
        .finish(Kill::Never, &fx.sim, PROCESS_DEADLINE)
        .await;
    assert!(end.aborted(), "{context}: {}", end.text());
    assert_eq!(fx.ledger().await.len(), EDITED + 1, "{context}");

    let mut edited = plan.file.clone();
    let old_amount = edited.rows[EDITED].amount_minor;
    edited.set_amount(EDITED, old_amount + 50_000);
    edited.write(&batch.file);

    let refused = batch.spawn_and_finish(Cmd::Run, Kill::Never).await;
    assert_eq!(refused.code(), Some(3), "{context}: {}", refused.text());
    assert!(
        refused.stderr.contains("--allow-changed-file"),
        "{}",
        refused.text()
    );
    assert_eq!(
        fx.ledger().await.len(),
        EDITED + 1,
        "{context}: refused sends nothing"
    );

    let mut allowed = batch.command(Cmd::Run);
    allowed.arg("--allow-changed-file");
    let end = Running::spawn(&mut allowed)
        .finish(Kill::Never, &fx.sim, PROCESS_DEADLINE)
        .await;
    assert_eq!(
        end.code(),
        Some(1),
        "{context}: a conflict needs a person: {}",
        end.text()
    );
    // Without references the edit is two conflicts: the sent row gone from the file, and the
    // new row that would pay its phone again.
    let conflicts = if references {
        "1 conflict"
    } else {
        "2 conflict"
    };
    assert!(end.stdout.contains(conflicts), "{context}: {}", end.text());

    let mut log = Vec::new();
    assert_eq!(batch.complete(&mut log).await, Ok(1), "{context}: {log:?}");
    // Paid as first planned: the original file is the expectation, the new amount nowhere.
    let expected = plan.file.expected(&batch.id);
    let report = fx.report(&batch.id).await;
    let journal = super::checker::journal_rows(&fx.journal, &batch.id).unwrap();
    let ledger = parse_ledger(&fx.ledger().await);
    let new_row_lines: &[u64] = if references {
        &[]
    } else {
        &[EDITED as u64 + 2]
    };
    let v = super::checker::check(&expected, Some(new_row_lines), &report, &journal, &ledger);
    assert!(v.is_clean(), "{context}: {:#?}", v.problems);
    assert_eq!(v.payouts, ROWS, "{context}");
    assert!(super::checker::integrity_problem(&fx.journal).is_none());

    let lost = ledger
        .iter()
        .find(|e| e.key == expected[EDITED].key)
        .unwrap();
    assert_eq!(lost.amount_minor, old_amount, "{context}");
    assert_eq!(
        lost.requests, 2,
        "{context}: the original request was resent once"
    );
    let flagged = report
        .iter()
        .filter(|r| r["line"] == EDITED as u64 + 2)
        .filter(|r| r["error"].as_str().is_some_and(|e| e.contains("conflict")))
        .count();
    assert!(
        flagged >= 1,
        "{context}: the edited row is reported as a conflict: {report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_in_doubt_row_edited_after_a_crash_is_a_conflict_never_repaid() {
    for provider in ["rohopay", "rumbapay"] {
        for references in [true, false] {
            crash_then_edit(provider, references).await;
        }
    }
}
