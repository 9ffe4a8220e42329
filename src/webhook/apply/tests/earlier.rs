//! Callbacks about an earlier, failed attempt of a row that `payrun retry` paid again.

use super::*;
use crate::journal::{LockToken, NewAttempt, begin_attempts};

/// Row `k1` failed (RohoPay id `P-k1`) and was retried under key `k1-2`, now accepted as `P2`.
fn retried(journal: &mut Journal, provider: ProviderKind) -> LockToken {
    plan(journal, provider, &["k1"]);
    set(journal, "k1", "failed");
    let batch = format!("{provider}-batch");
    let (token, _) = journal.acquire_lock(&batch).unwrap();
    let attempt = NewAttempt {
        row_id: row(journal, "k1"),
        failed_attempt: 1,
        key: "k1-2".into(),
        body: b"{}".to_vec(),
    };
    let started = begin_attempts(journal.conn(), &batch, &token, &[attempt]).unwrap();
    assert_eq!(started.len(), 1);
    test_support::set_facts(
        journal,
        row(journal, "k1-2"),
        RowState::Accepted,
        Some("P2"),
        None,
        false,
    );
    token
}

#[test]
fn a_late_failed_callback_about_the_old_attempt_changes_nothing() {
    let (_dir, mut journal) = temp_journal();
    retried(&mut journal, ProviderKind::Rohopay);
    let verdict = apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Failed));
    assert!(
        matches!(
            &verdict,
            Verdict::Earlier {
                attempt: 1,
                flagged: false,
                ..
            }
        ),
        "{verdict:?}"
    );
    assert_eq!(state(&journal, "k1-2"), RowState::Accepted);
    assert_eq!(seen(&journal, "k1-2").attention, None);
}

#[test]
fn the_old_attempt_paid_after_all_needs_a_person() {
    let (_dir, mut journal) = temp_journal();
    retried(&mut journal, ProviderKind::Rohopay);
    let verdict = apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Succeeded));
    assert!(
        matches!(
            &verdict,
            Verdict::Earlier {
                attempt: 1,
                flagged: true,
                ..
            }
        ),
        "{verdict:?}"
    );
    assert_eq!(
        state(&journal, "k1-2"),
        RowState::Accepted,
        "the row is not moved"
    );
    let note = seen(&journal, "k1-2").attention.unwrap();
    assert!(note.contains("may be paid twice"), "{note}");
    // The current attempt's own callback still applies.
    let mut current = roho("k1", PayoutStatus::Succeeded);
    current.refs.provider_id = Some("P2".into());
    let verdict = apply_roho(&journal, "d2", &current);
    assert!(matches!(verdict, Verdict::Applied { .. }), "{verdict:?}");
}

#[test]
fn a_rumbapay_callback_with_the_old_reference_is_about_the_old_attempt() {
    let (_dir, mut journal) = temp_journal();
    retried(&mut journal, ProviderKind::Rumbapay);
    let mut cb = roho("k1", PayoutStatus::Failed);
    cb.refs = PayoutRefs::default();
    cb.key = Some("k1".into());
    let verdict = apply(journal.conn(), ProviderKind::Rumbapay, "d1", &cb).unwrap();
    assert!(
        matches!(
            &verdict,
            Verdict::Earlier {
                attempt: 1,
                flagged: false,
                ..
            }
        ),
        "{verdict:?}"
    );
    assert_eq!(seen(&journal, "k1-2").attention, None, "no false alarm");
    cb.key = Some("k1-2".into());
    cb.status = PayoutStatus::Succeeded;
    let verdict = apply(journal.conn(), ProviderKind::Rumbapay, "d2", &cb).unwrap();
    assert!(matches!(verdict, Verdict::Applied { .. }), "{verdict:?}");
    assert_eq!(state(&journal, "k1-2"), RowState::Succeeded);
}
