//! The journal side of a callback on real SQLite files: forward only, dedupe, mismatch,
//! unknown payouts, and the RohoPay callback that outruns its own answer.

use super::*;
use crate::domain::{PayoutRefs, PayoutStatus};
use crate::journal::Journal;
use crate::journal::test_support::{self, temp_journal};

pub(super) use test_support::PHONE;

/// A sandbox batch of `provider` (`<provider>-batch`) whose rows have `keys`.
pub(super) fn plan(journal: &mut Journal, provider: ProviderKind, keys: &[&str]) {
    test_support::plan_keys(journal, &format!("{provider}-batch"), provider, keys);
}

/// Put the row with `key` in `state`, with RohoPay id `P-key` journaled unless still sending.
pub(super) fn set(journal: &Journal, key: &str, state: &str) {
    journal
        .conn()
        .execute(
            "UPDATE rows SET state = ?2,
                provider_id = CASE WHEN ?2 = 'sending' THEN NULL ELSE 'P-' || ?1 END
             WHERE idem_key = ?1",
            [key, state],
        )
        .unwrap();
}

pub(super) fn state(journal: &Journal, key: &str) -> RowState {
    test_support::state_of(journal, test_support::id_of_key(journal, key))
}

pub(super) fn count(journal: &Journal, sql: &str) -> i64 {
    journal.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

pub(super) fn webhook_events(journal: &Journal) -> Vec<String> {
    let mut stmt = journal
        .conn()
        .prepare("SELECT outcome FROM events WHERE kind = 'webhook' ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A RohoPay callback for the row with `key` (id `P-key`).
pub(super) fn roho(key: &str, status: PayoutStatus) -> Callback {
    Callback {
        status,
        status_word: format!("{status:?}").to_lowercase(),
        refs: PayoutRefs {
            provider_id: Some(format!("P-{key}")),
            provider_reference: Some("0987".into()),
            routed_provider: Some("relworx".into()),
            ..PayoutRefs::default()
        },
        key: None,
        phone: Some(PHONE.into()),
        amount_minor: Some(25_000),
        currency: Some("UGX".into()),
    }
}

pub(super) fn apply_roho(journal: &Journal, digest: &str, cb: &Callback) -> Verdict {
    apply(journal.conn(), ProviderKind::Rohopay, digest, cb).unwrap()
}

#[test]
fn applies_once_and_a_repeated_body_changes_nothing() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    let cb = roho("k1", PayoutStatus::Succeeded);
    let verdict = apply_roho(&journal, "d1", &cb);
    assert!(
        matches!(&verdict, Verdict::Applied { row, to: RowState::Succeeded } if row.state == RowState::Accepted),
        "{verdict:?}"
    );
    assert_eq!(state(&journal, "k1"), RowState::Succeeded);
    let routed: String = journal
        .conn()
        .query_row("SELECT routed_provider FROM rows", [], |r| r.get(0))
        .unwrap();
    assert_eq!(routed, "relworx", "provider facts are journaled");

    let again = apply_roho(&journal, "d1", &cb);
    assert!(
        matches!(&again, Verdict::Duplicate { row: Some(_), first } if first == "succeeded"),
        "{again:?}"
    );
    assert_eq!(webhook_events(&journal), ["succeeded"]);
    assert_eq!(
        count(&journal, "SELECT COUNT(*) FROM webhook_deliveries"),
        1
    );
}

#[test]
fn a_late_pending_never_overwrites_succeeded() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Succeeded));
    let late = apply_roho(&journal, "d2", &roho("k1", PayoutStatus::Pending));
    assert!(
        matches!(
            &late,
            Verdict::Ignored {
                reported: RowState::Accepted,
                ..
            }
        ),
        "{late:?}"
    );
    let contrary = apply_roho(&journal, "d3", &roho("k1", PayoutStatus::Failed));
    assert!(matches!(contrary, Verdict::Ignored { .. }), "{contrary:?}");
    assert_eq!(state(&journal, "k1"), RowState::Succeeded);
    assert_eq!(
        webhook_events(&journal),
        [
            "succeeded",
            "ignored: already succeeded",
            "ignored: already succeeded"
        ]
    );
    let error: Option<String> = journal
        .conn()
        .query_row("SELECT last_error FROM rows", [], |r| r.get(0))
        .unwrap();
    assert_eq!(error, None, "an ignored failure leaves no error behind");
}

#[test]
fn a_failure_is_journaled_with_the_provider_word() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Failed));
    assert_eq!(state(&journal, "k1"), RowState::Failed);
    let error: String = journal
        .conn()
        .query_row("SELECT last_error FROM rows", [], |r| r.get(0))
        .unwrap();
    assert!(error.contains("failed (webhook)"), "{error}");
}

#[test]
fn a_contradicting_callback_is_recorded_not_applied() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    let mut cb = roho("k1", PayoutStatus::Succeeded);
    cb.amount_minor = Some(250_000);
    cb.phone = Some("256700999999".into());
    let verdict = apply_roho(&journal, "d1", &cb);
    let Verdict::Mismatch { problems, .. } = &verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("amount") && p.contains("250000 UGX")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("phone") && p.contains("********9999")),
        "{problems:?}"
    );
    assert!(
        !problems.iter().any(|p| p.contains(PHONE)),
        "phones are masked: {problems:?}"
    );
    assert_eq!(state(&journal, "k1"), RowState::Accepted);
    assert_eq!(webhook_events(&journal), ["mismatch"]);
    assert!(matches!(
        apply_roho(&journal, "d1", &cb),
        Verdict::Duplicate { .. }
    ));
}

#[test]
fn an_unknown_payout_is_remembered_but_looked_at_again() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    let cb = roho("k1", PayoutStatus::Succeeded);
    assert_eq!(apply_roho(&journal, "d1", &cb), Verdict::Unknown);
    assert_eq!(
        count(
            &journal,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'unknown' AND row_id IS NULL"
        ),
        1
    );
    assert_eq!(count(&journal, "SELECT COUNT(*) FROM events"), 0);
    assert_eq!(state(&journal, "k1"), RowState::Planned);

    set(&journal, "k1", "accepted");
    assert!(matches!(
        apply_roho(&journal, "d1", &cb),
        Verdict::Applied {
            to: RowState::Succeeded,
            ..
        }
    ));
    assert_eq!(
        count(
            &journal,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'succeeded'"
        ),
        1
    );
}

#[test]
fn a_rohopay_callback_that_outruns_its_answer_asks_for_a_retry() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "sending");
    let cb = roho("k1", PayoutStatus::Succeeded);
    assert_eq!(apply_roho(&journal, "d1", &cb), Verdict::NotYetJournaled);
    assert_eq!(
        count(&journal, "SELECT COUNT(*) FROM webhook_deliveries"),
        0
    );
    assert_eq!(state(&journal, "k1"), RowState::Sending);
    let mut other = cb.clone();
    other.amount_minor = Some(1);
    assert_eq!(
        apply_roho(&journal, "d2", &other),
        Verdict::Unknown,
        "no row waiting with that amount"
    );
    set(&journal, "k1", "accepted");
    assert!(matches!(
        apply_roho(&journal, "d1", &cb),
        Verdict::Applied { .. }
    ));
}

#[test]
fn a_callback_for_a_row_still_sending_settles_it() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rumbapay, &["k1"]);
    set(&journal, "k1", "sending");
    let base = roho("k1", PayoutStatus::Succeeded);
    let cb = Callback {
        refs: PayoutRefs {
            provider_id: None,
            ..base.refs
        },
        key: Some("k1".into()),
        phone: None,
        ..base
    };
    let verdict = apply(journal.conn(), ProviderKind::Rumbapay, "d1", &cb).unwrap();
    assert!(
        matches!(&verdict, Verdict::Applied { row, .. } if row.state == RowState::Sending),
        "{verdict:?}"
    );
    assert_eq!(state(&journal, "k1"), RowState::Succeeded);
}

#[test]
fn rumbapay_falls_back_to_the_request_id_and_confirms_an_unconfirmed_acceptance() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rumbapay, &["k1"]);
    journal
        .conn()
        .execute_batch("UPDATE rows SET state = 'accepted', unconfirmed = 1, request_id = 'R1'")
        .unwrap();
    // A callback without its reference is found by its request id.
    let base = roho("k1", PayoutStatus::Pending);
    let cb = Callback {
        refs: PayoutRefs {
            request_id: Some("R1".into()),
            provider_id: None,
            ..base.refs
        },
        key: None,
        phone: None,
        ..base
    };
    let verdict = apply(journal.conn(), ProviderKind::Rumbapay, "d1", &cb).unwrap();
    assert!(
        matches!(
            &verdict,
            Verdict::Applied {
                to: RowState::Accepted,
                ..
            }
        ),
        "{verdict:?}"
    );
    assert_eq!(verdict.outcome(), "confirmed");
    assert_eq!(
        count(&journal, "SELECT unconfirmed FROM rows"),
        0,
        "confirmed by the provider"
    );
    assert_eq!(
        apply(journal.conn(), ProviderKind::Rohopay, "d2", &cb).unwrap(),
        Verdict::Unknown,
        "a RohoPay endpoint does not match Rumbapay rows"
    );
}

#[test]
fn an_id_on_two_rows_picks_neither() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1", "k2"]);
    journal
        .conn()
        .execute_batch("UPDATE rows SET state = 'accepted', provider_id = 'P-k1'")
        .unwrap();
    let verdict = apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Succeeded));
    assert!(matches!(verdict, Verdict::Ambiguous { ref rows } if rows.len() == 2));
    assert_eq!(
        count(
            &journal,
            "SELECT COUNT(*) FROM rows WHERE state = 'accepted'"
        ),
        2
    );
}
