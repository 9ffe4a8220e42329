//! The journal side of a callback on real SQLite files: forward only, dedupe, mismatch,
//! unknown payouts, and the RohoPay callback that outruns its own answer.

mod contradictions;
mod earlier;

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
    let state = RowState::parse(state).unwrap();
    let id = format!("P-{key}");
    let provider_id = (state != RowState::Sending).then_some(id.as_str());
    test_support::set_facts(journal, row(journal, key), state, provider_id, None, false);
}

/// The journal id of the row with `key`.
pub(super) fn row(journal: &Journal, key: &str) -> i64 {
    test_support::id_of_key(journal, key)
}

/// The row with `key` as it stands.
pub(super) fn seen(journal: &Journal, key: &str) -> test_support::RowSeen {
    test_support::row_seen(journal, row(journal, key))
}

pub(super) fn state(journal: &Journal, key: &str) -> RowState {
    test_support::state_of(journal, test_support::id_of_key(journal, key))
}

pub(super) fn webhook_events(journal: &Journal) -> Vec<String> {
    test_support::event_outcomes(journal, Some("webhook"))
}

/// How many remembered deliveries have `outcome` (all of them if `None`) and, when
/// `unattached`, no row.
pub(super) fn deliveries(journal: &Journal, outcome: Option<&str>, unattached: bool) -> usize {
    test_support::deliveries(journal)
        .into_iter()
        .filter(|(o, row)| outcome.is_none_or(|want| o == want) && (!unattached || row.is_none()))
        .count()
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
        reason: None,
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
    let routed = seen(&journal, "k1").routed_provider;
    assert_eq!(
        routed.as_deref(),
        Some("relworx"),
        "provider facts are journaled"
    );

    let again = apply_roho(&journal, "d1", &cb);
    assert!(
        matches!(&again, Verdict::Duplicate { row: Some(_), first } if first == "succeeded"),
        "{again:?}"
    );
    assert_eq!(webhook_events(&journal), ["succeeded"]);
    assert_eq!(deliveries(&journal, None, false), 1);
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
    let error = seen(&journal, "k1").last_error;
    assert_eq!(error, None, "an ignored failure leaves no error behind");
}

#[test]
fn a_failure_is_journaled_with_the_provider_word() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Failed));
    assert_eq!(state(&journal, "k1"), RowState::Failed);
    let error = seen(&journal, "k1").last_error.unwrap_or_default();
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
    assert_eq!(deliveries(&journal, Some("unknown"), true), 1);
    assert_eq!(test_support::event_outcomes(&journal, None).len(), 0);
    assert_eq!(state(&journal, "k1"), RowState::Planned);

    set(&journal, "k1", "accepted");
    assert!(matches!(
        apply_roho(&journal, "d1", &cb),
        Verdict::Applied {
            to: RowState::Succeeded,
            ..
        }
    ));
    assert_eq!(deliveries(&journal, Some("succeeded"), false), 1);
}

#[test]
fn a_rohopay_callback_that_outruns_its_answer_asks_for_a_retry() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "sending");
    let cb = roho("k1", PayoutStatus::Succeeded);
    assert_eq!(apply_roho(&journal, "d1", &cb), Verdict::NotYetJournaled);
    assert_eq!(deliveries(&journal, None, false), 0);
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
    let k1 = row(&journal, "k1");
    test_support::set_facts(&journal, k1, RowState::Accepted, None, Some("R1"), true);
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
    assert!(
        !seen(&journal, "k1").unconfirmed,
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
    for key in ["k1", "k2"] {
        let id = row(&journal, key);
        test_support::set_facts(&journal, id, RowState::Accepted, Some("P-k1"), None, false);
    }
    let verdict = apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Succeeded));
    assert!(matches!(verdict, Verdict::Ambiguous { ref rows } if rows.len() == 2));
    assert_eq!(
        ["k1", "k2"]
            .iter()
            .filter(|k| seen(&journal, k).state == RowState::Accepted)
            .count(),
        2
    );
}
