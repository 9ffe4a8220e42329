//! The checker checked: a checker that cannot fail proves nothing, so each kind of broken
//! history is fabricated here (a payee paid twice, one skipped, a wrong amount, a journal that
//! denies a payment or leaves a row open, a repeated key, a request sent before its `sending`
//! mark) and must be rejected, while the consistent history passes.

use serde_json::{Value, json};

use super::checker::{JournalRow, LedgerEntry, Verdict, check, check_write_ahead};
use super::payfile::{Expected, idempotency_key};

struct World {
    expected: Vec<Expected>,
    report: Vec<Value>,
    journal: Vec<JournalRow>,
    ledger: Vec<LedgerEntry>,
}

/// Three valid rows (the last two the same payment twice, without references) and one
/// rejected line, all paid once through RohoPay.
fn world() -> World {
    let rows = [
        ("EMP-1", "256770100001", 25_000),
        ("256770100002|5000|UGX|0", "256770100002", 5_000),
        ("256770100002|5000|UGX|1", "256770100002", 5_000),
    ];
    let mut w = World {
        expected: Vec::new(),
        report: Vec::new(),
        journal: Vec::new(),
        ledger: Vec::new(),
    };
    for (i, (identity, phone, amount)) in rows.into_iter().enumerate() {
        let line = i as u64 + 2;
        let key = idempotency_key("b-1", identity);
        w.expected.push(Expected {
            line,
            identity: identity.into(),
            key: key.clone(),
            phone: phone.into(),
            amount_minor: amount,
            currency: "UGX".into(),
        });
        w.report.push(json!({
            "line": line, "phone": phone, "amount": amount.to_string(), "currency": "UGX",
            "state": "accepted", "key": key,
        }));
        w.journal.push(JournalRow {
            attention: None,
            line,
            identity: identity.into(),
            key: Some(key.clone()),
            state: "accepted".into(),
            phone: phone.into(),
            amount_minor: Some(amount),
            currency: "UGX".into(),
            provider_id: Some(format!("ID{i}")),
            request_id: None,
            ..JournalRow::default()
        });
        w.ledger.push(LedgerEntry {
            provider: "rohopay".into(),
            key,
            id: format!("ID{i}"),
            phone: phone.into(),
            amount_minor: amount,
            currency: "UGX".into(),
            status: "successful".into(),
            requests: 1 + i as u64,
        });
    }
    w.report
        .push(json!({"line": 5, "state": "rejected", "key": null}));
    w.journal.push(JournalRow {
        attention: None,
        line: 5,
        identity: "rejected:line:5".into(),
        state: "rejected".into(),
        ..JournalRow::default()
    });
    w
}

fn verdict(w: &World) -> Verdict {
    check(&w.expected, Some(&[5]), &w.report, &w.journal, &w.ledger)
}

fn assert_rejected(w: &World, needle: &str) -> Verdict {
    let v = verdict(w);
    assert!(
        v.problems.iter().any(|p| p.contains(needle)),
        "expected a {needle} problem, got {:?}",
        v.problems
    );
    v
}

#[test]
fn a_consistent_history_passes() {
    let v = verdict(&world());
    assert!(v.is_clean(), "{:?}", v.problems);
    assert_eq!((v.payouts, v.duplicates, v.missing, v.resent), (3, 0, 0, 2));
}

#[test]
fn a_payee_paid_twice_is_a_duplicate() {
    let mut w = world();
    let again = w.ledger[0].clone();
    w.ledger.push(LedgerEntry {
        id: "ID-again".into(),
        ..again
    });
    let v = assert_rejected(&w, "DUPLICATE");
    assert_eq!(v.duplicates, 1);
}

#[test]
fn a_skipped_payee_is_missing_even_if_the_journal_forgot_it_too() {
    let mut w = world();
    w.ledger.remove(2);
    let v = assert_rejected(&w, "MISSING");
    assert_eq!(v.missing, 1);
    assert_rejected(&w, "never executed");

    // A planner that merged the repeated payment into one row: journal and report lack it.
    let mut w = world();
    w.ledger.remove(2);
    w.journal.remove(2);
    w.report.remove(2);
    assert_eq!(assert_rejected(&w, "MISSING").missing, 1);
    assert_rejected(&w, "not in the journal");
    assert_rejected(&w, "REPORT");
}

#[test]
fn a_payout_nobody_asked_for_or_with_other_values_is_caught() {
    let mut w = world();
    w.ledger.push(LedgerEntry {
        key: "a-fresh-key-minted-on-resume".into(),
        ..w.ledger[0].clone()
    });
    assert_eq!(
        assert_rejected(&w, "EXTRA").duplicates,
        1,
        "a payout too many"
    );

    let mut w = world();
    w.ledger[1].amount_minor = 50_000;
    assert_rejected(&w, "WRONG PAYOUT");
    let mut w = world();
    w.ledger[1].phone = "256770100009".into();
    assert_rejected(&w, "WRONG PAYOUT");
    let mut w = world();
    w.ledger[1].currency = "KES".into();
    assert_rejected(&w, "WRONG PAYOUT");
}

#[test]
fn a_journal_that_disagrees_with_the_ledger_is_caught() {
    for state in ["in_doubt", "sending", "planned", "failed", "rejected"] {
        let mut w = world();
        w.journal[0].state = state.into();
        assert_rejected(&w, "the ledger executed it");
    }
    let mut w = world();
    w.journal[1].state = "succeeded".into();
    w.ledger[1].status = "failed".into();
    assert_rejected(&w, "the ledger executed it");

    let mut w = world();
    w.journal[0].provider_id = Some("ID-other".into());
    assert_rejected(&w, "journaled provider id");

    let mut w = world();
    w.journal[0].amount_minor = Some(1);
    assert_rejected(&w, "differs from the file");

    let mut w = world();
    w.journal[3].state = "planned".into();
    assert_rejected(&w, "keyless row");
}

#[test]
fn failed_is_fine_only_when_the_provider_failed_it() {
    let mut w = world();
    w.journal[1].state = "failed".into();
    w.ledger[1].status = "failed".into();
    assert!(verdict(&w).is_clean(), "{:?}", verdict(&w).problems);
}

#[test]
fn a_repeated_key_in_the_journal_is_caught() {
    let mut w = world();
    let mut twin = w.journal[0].clone();
    twin.line = 9;
    w.journal.push(twin);
    assert_rejected(&w, "appears on 2 rows");
}

#[test]
fn an_invalid_row_that_was_not_rejected_is_caught() {
    let w = world();
    let v = check(&w.expected, Some(&[5, 6]), &w.report, &w.journal, &w.ledger);
    assert!(
        v.problems.iter().any(|p| p.contains("rejected lines")),
        "{:?}",
        v.problems
    );
}

#[test]
fn a_request_sent_before_its_sending_mark_breaks_write_ahead() {
    let w = world();
    assert!(check_write_ahead(&w.journal, &w.ledger).is_empty());
    let mut w = world();
    w.journal[2].state = "planned".into();
    let problems = check_write_ahead(&w.journal, &w.ledger);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let mut w = world();
    w.journal.remove(0);
    assert_eq!(check_write_ahead(&w.journal, &w.ledger).len(), 1);
}

#[test]
fn a_contradicted_row_left_for_a_person_is_visible_not_missing_but_plain_doubt_is_not_final() {
    // The provider executed the payout but its answer contradicted the request: in doubt with
    // a note, and the ledger's payout is not a disagreement.
    let mut w = world();
    w.journal[0].state = "in_doubt".into();
    w.journal[0].attention = Some("the answer says 7000 UGX, the request 5000 UGX".into());
    let v = verdict(&w);
    assert!(v.is_clean(), "{:?}", v.problems);
    assert_eq!(v.attention, 1);

    // A lie that executed nothing (a 409 for a reference never sent): not silently missing.
    w.ledger.remove(0);
    let v = verdict(&w);
    assert!(v.is_clean(), "{:?}", v.problems);
    assert_eq!((v.missing, v.attention), (0, 1));

    // The same row in doubt without a note is left open: a problem, and missing.
    w.journal[0].attention = None;
    let v = assert_rejected(&w, "left in_doubt");
    assert_eq!(v.missing, 1);

    // A note never excuses a payment made twice.
    let mut w = world();
    w.journal[0].state = "in_doubt".into();
    w.journal[0].attention = Some("contradicted".into());
    let again = w.ledger[0].clone();
    w.ledger.push(LedgerEntry {
        id: "ID-again".into(),
        ..again
    });
    assert_eq!(assert_rejected(&w, "DUPLICATE").duplicates, 1);
}
