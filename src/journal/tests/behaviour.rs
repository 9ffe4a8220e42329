//! Journal behaviour tests on real SQLite files: atomic planning, the lock, and the rule that
//! state only moves forward.

use crate::domain::{PayoutRefs, ProviderKind, RowState};
use crate::journal::test_support::{self, id_of_identity as id_of, rejected, temp_journal};
use crate::journal::*;

fn new_batch(id: &str) -> NewBatch {
    test_support::new_batch(id, ProviderKind::Rohopay)
}

/// A planned row whose identity is its reference.
fn planned(line: u64, identity: &str) -> PlannedRow {
    PlannedRow {
        reference: Some(identity.to_string()),
        ..test_support::planned(line, identity, &format!("key-{identity}"))
    }
}

/// Plan batch `id` with `rows` and an invalid row on line 99.
fn plan(journal: &mut Journal, id: &str, rows: &[PlannedRow]) -> PlanStats {
    let mut items: Vec<PlanItem> = rows.iter().cloned().map(PlanItem::Planned).collect();
    items.push(PlanItem::Rejected(rejected(99)));
    test_support::plan(journal, &new_batch(id), &items).unwrap()
}

fn state(journal: &Journal, identity: &str) -> RowState {
    test_support::state_of(journal, id_of(journal, identity))
}

#[test]
fn planning_is_all_or_nothing() {
    let (_dir, mut journal) = temp_journal();
    let failed = journal
        .plan_new_batch(&new_batch("b1"), |sink| {
            sink.planned(&planned(2, "A"));
            Err::<(), _>("file became unreadable on line 3")
        })
        .unwrap();
    assert_eq!(failed.err(), Some("file became unreadable on line 3"));
    assert!(journal.find_batch("b1").unwrap().is_none());
    assert_eq!(journal.row_count("b1").unwrap(), 0);

    let stats = plan(&mut journal, "b1", &[planned(2, "A"), planned(3, "B")]);
    assert_eq!(
        stats,
        PlanStats {
            planned: 2,
            rejected: 1
        }
    );
    let batch = journal.batch("b1").unwrap();
    assert_eq!(batch.provider, ProviderKind::Rohopay);
    assert!(batch.sandbox);
    assert_eq!(state(&journal, "A"), RowState::Planned);
    assert_eq!(state(&journal, "rejected:line:99"), RowState::Rejected);
}

#[test]
fn duplicate_identity_in_a_batch_is_refused() {
    let (_dir, mut journal) = temp_journal();
    let result = journal.plan_new_batch(&new_batch("b1"), |sink| {
        sink.planned(&planned(2, "A"));
        sink.planned(&planned(3, "A"));
        Ok::<(), String>(())
    });
    let err = result.unwrap_err();
    assert!(
        test_support::is_constraint(&err),
        "same identity → same key: the unique key index must refuse it, not {err}"
    );
    assert!(journal.find_batch("b1").unwrap().is_none());
}

#[test]
fn open_rows_come_in_plan_order_and_skip_settled() {
    let (_dir, mut journal) = temp_journal();
    plan(
        &mut journal,
        "b1",
        &[planned(2, "A"), planned(3, "B"), planned(4, "C")],
    );
    let b = id_of(&journal, "B");
    assert!(mark_sending(journal.conn(), b).unwrap());
    let accepted = Outcome {
        state: Some(RowState::Accepted),
        ..Outcome::default()
    };
    record_outcome(journal.conn(), b, 1, &accepted).unwrap();
    let page = open_rows_page(journal.conn(), "b1", 0, 10).unwrap();
    let lines: Vec<u64> = page.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 4]);
    let page = open_rows_page(journal.conn(), "b1", page[0].id, 10).unwrap();
    assert_eq!(page.len(), 1);
    assert!(
        !mark_sending(journal.conn(), b).unwrap(),
        "an accepted row is not sent again"
    );
}

#[test]
fn outcome_does_not_overwrite_a_webhook_that_came_first() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, "b1", &[planned(2, "A")]);
    let a = id_of(&journal, "A");
    mark_sending(journal.conn(), a).unwrap();
    let webhook = Outcome {
        state: Some(RowState::Succeeded),
        ..Outcome::default()
    };
    assert_eq!(
        advance(journal.conn(), a, &webhook).unwrap(),
        Some(RowState::Sending)
    );
    let late = Outcome {
        state: Some(RowState::Accepted),
        refs: PayoutRefs {
            provider_id: Some("TX1".into()),
            ..PayoutRefs::default()
        },
        ..Outcome::default()
    };
    record_outcome(journal.conn(), a, 1, &late).unwrap();
    assert_eq!(state(&journal, "A"), RowState::Succeeded);
    let pid: String = journal
        .conn()
        .query_row("SELECT provider_id FROM rows WHERE id = ?1", [a], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(pid, "TX1", "facts are still recorded");
}

#[test]
fn advance_only_moves_forward() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, "b1", &[planned(2, "A")]);
    let a = id_of(&journal, "A");
    let to = |s| Outcome {
        state: Some(s),
        ..Outcome::default()
    };
    mark_sending(journal.conn(), a).unwrap();
    record_outcome(
        journal.conn(),
        a,
        1,
        &Outcome {
            unconfirmed: true,
            ..to(RowState::Accepted)
        },
    )
    .unwrap();
    // Confirming an unconfirmed acceptance clears the flag without a state change.
    assert_eq!(
        advance(journal.conn(), a, &to(RowState::Accepted)).unwrap(),
        None
    );
    let unconfirmed: bool = journal
        .conn()
        .query_row("SELECT unconfirmed FROM rows WHERE id = ?1", [a], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!unconfirmed);
    assert_eq!(
        advance(journal.conn(), a, &to(RowState::Failed)).unwrap(),
        Some(RowState::Accepted)
    );
    assert_eq!(
        advance(journal.conn(), a, &to(RowState::Succeeded)).unwrap(),
        None,
        "terminal stays"
    );
    assert_eq!(
        advance(journal.conn(), a, &to(RowState::Accepted)).unwrap(),
        None
    );
    assert_eq!(state(&journal, "A"), RowState::Failed);
    let rejected = id_of(&journal, "rejected:line:99");
    assert_eq!(
        advance(journal.conn(), rejected, &to(RowState::Succeeded)).unwrap(),
        None
    );
}

#[test]
fn lock_is_exclusive_and_dead_owners_are_taken_over() {
    let (dir, mut journal) = temp_journal();
    plan(&mut journal, "b1", &[planned(2, "A")]);
    let (token, stolen) = journal.acquire_lock("b1").unwrap();
    assert!(stolen.is_none());

    let mut other = Journal::open(&dir.path().join("payrun.db")).unwrap();
    match other.acquire_lock("b1") {
        Err(JournalError::Locked { pid, .. }) => assert_eq!(pid, i64::from(std::process::id())),
        other => panic!("expected Locked, got {other:?}"),
    }

    // A lock whose pid is gone (on this host) is stale at once.
    journal
        .conn()
        .execute(
            "UPDATE batches SET lock_pid = 2147483646 WHERE id = 'b1'",
            [],
        )
        .unwrap();
    let (new_token, stolen) = other.acquire_lock("b1").unwrap();
    assert_eq!(stolen.map(|s| s.pid), Some(2_147_483_646));
    assert!(matches!(
        check_lock(journal.conn(), "b1", &token),
        Err(JournalError::LockLost(_))
    ));
    assert!(check_lock(other.conn(), "b1", &new_token).is_ok());
    assert!(matches!(
        heartbeat(journal.conn(), "b1", &token),
        Err(JournalError::LockLost(_))
    ));

    // A stale heartbeat is taken over even if the pid looks alive.
    other
        .conn()
        .execute("UPDATE batches SET lock_heartbeat = 0 WHERE id = 'b1'", [])
        .unwrap();
    let (token3, stolen) = journal.acquire_lock("b1").unwrap();
    assert!(stolen.is_some());
    journal.release_lock("b1", &token3).unwrap();
    let (_, stolen) = other.acquire_lock("b1").unwrap();
    assert!(stolen.is_none(), "a released lock is free");
}

#[test]
fn counts_and_report_rows() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, "b1", &[planned(2, "A"), planned(3, "B")]);
    let counts = journal.state_counts("b1").unwrap();
    let planned_rows: u64 = counts
        .iter()
        .filter(|c| c.state == RowState::Planned)
        .map(|c| c.rows)
        .sum();
    assert_eq!(planned_rows, 2);
    let planned_amount: u128 = counts
        .iter()
        .filter(|c| c.state == RowState::Planned)
        .map(|c| c.amount_minor)
        .sum();
    assert_eq!(planned_amount, 50_000);
    let mut lines = Vec::new();
    journal
        .report_rows("b1", |r| {
            lines.push((r.line, r.state));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        lines,
        vec![
            (2, RowState::Planned),
            (3, RowState::Planned),
            (99, RowState::Rejected)
        ]
    );
}
