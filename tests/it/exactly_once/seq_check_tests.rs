//! The sequence checker checked: each way an operator sequence can go wrong — a payee paid
//! again in a second batch, one skipped with nothing in any report, two payees sharing a key
//! so the journal claims a payment that went to someone else, a row left open — is fabricated
//! here and must be rejected, while the consistent history and a visibly failed payee pass.

use serde_json::{Value, json};

use super::checker::{JournalRow, LedgerEntry};
use super::ledger_model::{Content, Model, Payee};
use super::payfile::UGX;
use super::seq_check::{Finding, judge};

struct World {
    model: Model,
    content: Content,
    journal: Vec<(String, JournalRow)>,
    reports: Vec<(String, Value)>,
    ledger: Vec<LedgerEntry>,
}

fn payee(person: usize, reference: &str, phone: &str, amount_minor: u64) -> Payee {
    Payee {
        person,
        reference: reference.into(),
        phone: phone.into(),
        amount_minor,
        cur: UGX,
    }
}

/// Three people in batch `b`, the first two one phone and amount paid twice on purpose,
/// everyone paid once.
fn world() -> World {
    let content = Content {
        roster: 0,
        payees: vec![
            payee(0, "EMP-001", "256770100001", 5_000),
            payee(1, "EMP-002", "256770100001", 5_000),
            payee(2, "EMP-003", "256770100003", 7_000),
        ],
        crlf: false,
    };
    let mut model = Model::default();
    model.join(1, 0);
    model.saw(&content);
    let mut w = World {
        model,
        content,
        journal: Vec::new(),
        reports: Vec::new(),
        ledger: Vec::new(),
    };
    for (i, p) in w.content.payees.clone().iter().enumerate() {
        pay(&mut w, "b", i as u64 + 2, p, &format!("key-{i}"));
    }
    w
}

/// Journal, report and ledger entries for `p` paid in `batch` under `key`.
fn pay(w: &mut World, batch: &str, line: u64, p: &Payee, key: &str) {
    w.journal
        .push((batch.into(), row(line, p, key, "succeeded")));
    w.reports.push((batch.into(), report(p, "succeeded")));
    w.ledger.push(LedgerEntry {
        provider: "rohopay".into(),
        key: key.into(),
        id: format!("id-{key}"),
        phone: p.phone.clone(),
        amount_minor: p.amount_minor,
        currency: "UGX".into(),
        status: "successful".into(),
        requests: 1,
    });
}

fn row(line: u64, p: &Payee, key: &str, state: &str) -> JournalRow {
    JournalRow {
        attention: None,
        line,
        identity: p.reference.clone(),
        key: Some(key.into()),
        state: state.into(),
        phone: p.phone.clone(),
        amount_minor: Some(p.amount_minor),
        currency: "UGX".into(),
        ..JournalRow::default()
    }
}

fn report(p: &Payee, state: &str) -> Value {
    json!({"reference": p.reference, "phone": p.phone, "amount": p.amount_minor.to_string(),
           "currency": "UGX", "state": state, "error": null, "attention": null})
}

fn judged(w: &World) -> Finding {
    judge(
        &w.model,
        &[("staff.csv", &w.content)],
        &w.ledger,
        &w.journal,
        &w.reports,
    )
}

fn assert_rejected(f: &Finding, needle: &str) {
    assert!(
        f.problems.iter().any(|p| p.contains(needle)),
        "expected {needle:?} among {:#?}",
        f.problems
    );
}

#[test]
fn a_consistent_sequence_passes() {
    let f = judged(&world());
    assert!(f.problems.is_empty(), "{:#?}", f.problems);
    assert_eq!((f.payouts, f.duplicates, f.silently_missing), (3, 0, 0));
}

#[test]
fn a_payee_paid_again_in_a_second_batch_is_caught() {
    let mut w = world();
    let renamed = payee(2, "EMP-0003", "256770100003", 7_000);
    pay(&mut w, "b2", 4, &renamed, "key-again");
    let f = judged(&w);
    assert_eq!(f.duplicates, 1);
    assert_rejected(&f, "PAID TWICE");
    assert_rejected(&f, "TRIPLE PAID TOO OFTEN");
}

#[test]
fn a_third_payment_of_a_phone_paid_twice_on_purpose_is_caught() {
    let mut w = world();
    let again = w.content.payees[1].clone();
    pay(&mut w, "b2", 3, &again, "key-b2");
    assert_rejected(&judged(&w), "PAID TWICE");
}

#[test]
fn a_payee_skipped_with_no_reason_anywhere_is_caught() {
    let mut w = world();
    w.ledger.retain(|e| e.key != "key-2");
    w.journal.retain(|(_, r)| r.key.as_deref() != Some("key-2"));
    w.reports.retain(|(_, r)| r["reference"] != "EMP-003");
    let f = judged(&w);
    assert_eq!(f.silently_missing, 1);
    assert_rejected(&f, "SILENTLY MISSING");
}

#[test]
fn a_payee_shown_failed_is_not_silently_missing() {
    let mut w = world();
    w.ledger.retain(|e| e.key != "key-2");
    let p = w.content.payees[2].clone();
    w.journal[2].1 = row(4, &p, "key-2", "failed");
    w.reports[2].1 = report(&p, "failed");
    let f = judged(&w);
    assert!(f.problems.is_empty(), "{:#?}", f.problems);
}

#[test]
fn a_key_shared_by_two_payees_is_caught() {
    let mut w = world();
    // The last payee's key is the first one's: the provider answered with the first payout.
    w.ledger.retain(|e| e.key != "key-2");
    let p = w.content.payees[2].clone();
    w.journal[2].1 = row(4, &p, "key-0", "succeeded");
    let f = judged(&w);
    assert_rejected(&f, "KEY SHARED");
    assert_rejected(&f, "JOURNAL ≠ LEDGER");
}

#[test]
fn a_journal_row_claiming_a_payment_never_executed_is_caught() {
    let mut w = world();
    w.ledger.retain(|e| e.key != "key-2");
    assert_rejected(&judged(&w), "the provider never executed its key");
}

#[test]
fn a_row_left_open_is_caught() {
    let mut w = world();
    w.ledger.retain(|e| e.key != "key-2");
    let p = w.content.payees[2].clone();
    w.journal[2].1 = row(4, &p, "key-2", "in_doubt");
    assert_rejected(&judged(&w), "LEFT OPEN");
}

#[test]
fn a_row_in_doubt_with_a_note_for_a_person_is_visible_not_left_open() {
    // A provider that keeps contradicting the request (the lying simulator): payrun keeps the
    // row in doubt, never counts it as paid, and tells a person. That is its final word.
    let mut w = world();
    let p = w.content.payees[2].clone();
    let mut doubted = row(4, &p, "key-2", "in_doubt");
    doubted.attention = Some("reference other in the answer, key-2 in the request".into());
    w.journal[2].1 = doubted;
    let f = judged(&w);
    assert!(f.problems.is_empty(), "{:?}", f.problems);
}
