//! The rule that a provider's answer must repeat what was asked (pure: [`contradictions`]),
//! and what a contradicting or contrary callback leaves on its row: the note for a person and
//! its `attention` event, written with the delivery.

use super::super::*;
use super::{PHONE, apply_roho, plan, roho, row, seen, set, state};
use crate::domain::{PayoutRefs, PayoutStatus};
use crate::journal::test_support::{self, temp_journal};

const ASKED: Facts<'static> = Facts {
    amount_minor: Some(25_000),
    currency: Some("UGX"),
    phone: Some("256700123456"),
    reference: Some("k1"),
};

#[test]
fn the_same_facts_contradict_nothing() {
    assert!(contradictions(&ASKED, &ASKED).is_empty());
    let silent = Facts::default();
    assert!(
        contradictions(&ASKED, &silent).is_empty(),
        "a fact left out is not a contradiction"
    );
}

#[test]
fn amounts_must_be_equal_in_minor_units() {
    for amount in [24_999, 25_001, 250_000, 0] {
        let said = Facts {
            amount_minor: Some(amount),
            ..ASKED
        };
        let problems = contradictions(&ASKED, &said);
        assert_eq!(problems.len(), 1, "{amount}: {problems:?}");
        assert!(problems[0].starts_with("amount"), "{problems:?}");
        assert!(
            problems[0].contains("25000 UGX in the request"),
            "{problems:?}"
        );
    }
    let kes = Facts {
        amount_minor: Some(75_000),
        currency: Some("KES"),
        ..ASKED
    };
    let said = Facts {
        amount_minor: Some(75_001),
        ..kes
    };
    let problems = contradictions(&kes, &said);
    assert!(
        problems[0].contains("750.01 KES") && problems[0].contains("750.00 KES"),
        "major units of the row's currency: {problems:?}"
    );
    let no_amount = Facts {
        amount_minor: None,
        ..ASKED
    };
    assert_eq!(contradictions(&no_amount, &ASKED).len(), 1);
}

#[test]
fn phones_compare_by_their_digits() {
    for same in ["+256700123456", "256700123456", "+256 700 123 456"] {
        let said = Facts {
            phone: Some(same),
            ..ASKED
        };
        assert!(contradictions(&ASKED, &said).is_empty(), "{same}");
    }
    for other in ["256700123457", "+256700999999", "0700123456"] {
        let said = Facts {
            phone: Some(other),
            ..ASKED
        };
        let problems = contradictions(&ASKED, &said);
        assert_eq!(problems.len(), 1, "{other}: {problems:?}");
        assert!(problems[0].starts_with("phone"), "{problems:?}");
        assert!(!problems[0].contains(PHONE), "masked: {problems:?}");
    }
}

#[test]
fn currencies_compare_regardless_of_case() {
    for same in ["UGX", "ugx", "Ugx"] {
        let said = Facts {
            currency: Some(same),
            ..ASKED
        };
        assert!(contradictions(&ASKED, &said).is_empty(), "{same}");
    }
    let said = Facts {
        currency: Some("KES"),
        ..ASKED
    };
    let problems = contradictions(&ASKED, &said);
    assert_eq!(problems, ["currency KES in the answer, UGX in the request"]);
}

#[test]
fn references_must_be_the_key_sent() {
    let said = Facts {
        reference: Some("k2"),
        ..ASKED
    };
    assert_eq!(
        contradictions(&ASKED, &said),
        ["reference k2 in the answer, k1 in the request"]
    );
    let said = Facts {
        reference: Some("K1"),
        ..ASKED
    };
    assert_eq!(contradictions(&ASKED, &said).len(), 1, "keys are exact");
}

#[test]
fn every_contradiction_is_listed() {
    let said = Facts {
        amount_minor: Some(1),
        currency: Some("KES"),
        phone: Some("1"),
        reference: Some("x"),
    };
    assert_eq!(contradictions(&ASKED, &said).len(), 4);
}

fn attention(journal: &crate::journal::Journal) -> Option<String> {
    seen(journal, "k1").attention
}

fn attention_events(journal: &crate::journal::Journal) -> usize {
    test_support::event_outcomes(journal, Some("attention")).len()
}

#[test]
fn a_contradicting_callback_marks_its_row_for_a_person() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    let mut cb = roho("k1", PayoutStatus::Succeeded);
    cb.amount_minor = Some(250_000);
    assert!(matches!(
        apply_roho(&journal, "d1", &cb),
        Verdict::Mismatch { .. }
    ));
    assert_eq!(state(&journal, "k1"), RowState::Accepted, "not applied");
    let note = attention(&journal).unwrap();
    assert!(
        note.contains("succeeded") && note.contains("250000 UGX"),
        "{note}"
    );
    assert_eq!(attention_events(&journal), 1);
    // The provider retrying the same body adds nothing.
    apply_roho(&journal, "d1", &cb);
    assert_eq!(attention_events(&journal), 1);
}

#[test]
fn the_opposite_final_state_keeps_the_row_and_marks_it() {
    for (first, then, kept) in [
        (
            PayoutStatus::Failed,
            PayoutStatus::Succeeded,
            RowState::Failed,
        ),
        (
            PayoutStatus::Succeeded,
            PayoutStatus::Failed,
            RowState::Succeeded,
        ),
    ] {
        let (_dir, mut journal) = temp_journal();
        plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
        set(&journal, "k1", "accepted");
        apply_roho(&journal, "d1", &roho("k1", first));
        assert_eq!(attention(&journal), None);
        let verdict = apply_roho(&journal, "d2", &roho("k1", then));
        assert!(verdict.is_contrary(), "{verdict:?}");
        assert_eq!(state(&journal, "k1"), kept);
        let note = attention(&journal).unwrap();
        assert!(note.contains(kept.as_str()), "{note}");
        assert_eq!(attention_events(&journal), 1);
    }
}

#[test]
fn a_late_pending_or_a_repeated_final_state_is_no_contradiction() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1"]);
    set(&journal, "k1", "accepted");
    apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Succeeded));
    let pending = apply_roho(&journal, "d2", &roho("k1", PayoutStatus::Pending));
    assert!(!pending.is_contrary());
    let mut again = roho("k1", PayoutStatus::Succeeded);
    again.refs.provider_reference = Some("another body".into());
    assert!(!apply_roho(&journal, "d3", &again).is_contrary());
    assert_eq!(attention(&journal), None);
    assert_eq!(attention_events(&journal), 0);
}

#[test]
fn a_rumbapay_callback_for_another_reference_is_a_mismatch() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rumbapay, &["k1"]);
    let k1 = row(&journal, "k1");
    test_support::set_facts(&journal, k1, RowState::Accepted, None, Some("R1"), false);
    let base = roho("k1", PayoutStatus::Succeeded);
    let cb = Callback {
        refs: PayoutRefs {
            request_id: Some("R1".into()),
            provider_id: None,
            ..base.refs
        },
        key: Some("not-ours".into()),
        phone: None,
        ..base
    };
    let verdict = apply(journal.conn(), ProviderKind::Rumbapay, "d1", &cb).unwrap();
    let Verdict::Mismatch { problems, .. } = &verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(
        problems,
        &["reference not-ours in the answer, k1 in the request"]
    );
    assert_eq!(state(&journal, "k1"), RowState::Accepted);
    assert!(attention(&journal).is_some());
}

#[test]
fn a_callback_naming_several_rows_marks_each() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, ProviderKind::Rohopay, &["k1", "k2"]);
    for key in ["k1", "k2"] {
        let id = row(&journal, key);
        test_support::set_facts(&journal, id, RowState::Accepted, Some("P-k1"), None, false);
    }
    let verdict = apply_roho(&journal, "d1", &roho("k1", PayoutStatus::Succeeded));
    assert!(matches!(verdict, Verdict::Ambiguous { .. }), "{verdict:?}");
    assert_eq!(
        ["k1", "k2"]
            .iter()
            .map(|k| seen(&journal, k))
            .filter(|r| r.state == RowState::Accepted)
            .filter(|r| r
                .attention
                .as_deref()
                .is_some_and(|a| a.contains("several rows")))
            .count(),
        2
    );
    assert_eq!(attention_events(&journal), 2);
}
