//! Callbacks that contradict the journal are on the row's record, not only on `listen`'s
//! stderr: a callback whose amount, phone, currency or reference disagrees with the row, and a
//! final state contrary to the row's final state, leave the row as it was and mark it as
//! needing a person (`rows.attention`, an `attention` event, the report's `attention` field),
//! in the same transaction that records the delivery.

use std::path::Path;

use crate::support::listen::*;
use crate::support::pay::{Fixture, Payee, kes_payees, ugx_payees};
use crate::support::sim::SimConfig;

/// A batch through `provider` whose rows are all `accepted`, and a receiver over its journal.
async fn setup(provider: &'static str) -> (Fixture, String, Vec<JournalRow>, InProcess) {
    let fx = fixture(SimConfig::default()).await;
    let payees: Vec<Payee> = match provider {
        "rohopay" => ugx_payees(3),
        _ => kes_payees(3),
    };
    let (batch, rows) = accepted_batch(&fx, provider, &payees).await;
    let receiver = InProcess::start(&fx.journal).await;
    (fx, batch, rows, receiver)
}

/// The row's note for a person, if any.
fn attention_of(journal: &Path, id: i64) -> Option<String> {
    peek(journal)
        .query_row("SELECT attention FROM rows WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
}

/// `(row id, detail)` of every `attention` event, in order.
fn attention_events(journal: &Path) -> Vec<(i64, String)> {
    let conn = peek(journal);
    let mut stmt = conn
        .prepare("SELECT row_id, detail FROM events WHERE kind = 'attention' ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The report's `attention` field of the row on `line`.
async fn reported_attention(fx: &Fixture, batch: &str, line: u64) -> serde_json::Value {
    let report = fx.report(batch).await;
    let row = report
        .iter()
        .find(|r| r["line"] == line)
        .unwrap_or_else(|| panic!("no line {line} in {report:?}"));
    row["attention"].clone()
}

/// Deliver a RohoPay callback for `wrong` (a row with one fact changed) and check it is
/// refused, recorded on `row` and shown in the report.
async fn rohopay_contradiction(change: fn(&mut JournalRow), expect: &str) {
    let (fx, batch, rows, receiver) = setup("rohopay").await;
    let row = &rows[0];
    let mut wrong = row.clone();
    change(&mut wrong);
    let (status, text) = deliver(
        &receiver.url("rohopay"),
        &rohopay_callback(&wrong, "successful"),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "mismatch\n"));
    assert_eq!(state_of(&fx.journal, row.id), "accepted", "not applied");
    let note = attention_of(&fx.journal, row.id).expect("the row needs a person");
    assert!(note.contains(expect), "{note}");
    assert!(note.contains("successful"), "{note}");
    assert_eq!(
        attention_events(&fx.journal)
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [row.id]
    );
    let shown = reported_attention(&fx, &batch, row.line).await;
    assert!(
        shown.as_str().is_some_and(|s| s.contains(expect)),
        "{shown}"
    );
    for other in &rows[1..] {
        assert_eq!(attention_of(&fx.journal, other.id), None);
    }
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_with_another_amount_needs_a_person() {
    rohopay_contradiction(
        |r| r.amount_minor = r.amount_minor.map(|a| a * 10),
        "amount",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_with_another_phone_needs_a_person() {
    rohopay_contradiction(|r| r.phone = "256770199999".into(), "phone").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_with_another_currency_needs_a_person() {
    rohopay_contradiction(|r| r.currency = "KES".into(), "currency").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_facts_written_differently_are_not_a_contradiction() {
    let (fx, _batch, rows, receiver) = setup("rohopay").await;
    let mut same = rows[0].clone();
    same.phone = format!("+{}", same.phone);
    same.currency = same.currency.to_lowercase();
    assert_eq!(
        deliver(
            &receiver.url("rohopay"),
            &rohopay_callback(&same, "successful")
        )
        .await,
        (200, "succeeded\n".into())
    );
    assert_eq!(attention_of(&fx.journal, rows[0].id), None);
    assert!(attention_events(&fx.journal).is_empty());
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rumbapay_callback_for_another_reference_is_not_applied() {
    let (fx, batch, rows, receiver) = setup("rumbapay").await;
    let row = &rows[0];
    // The request id is this row's, but the provider says it belongs to another reference.
    let mut foreign = row.clone();
    foreign.key = Some("not-a-payrun-key".into());
    let (status, text) = deliver(
        &receiver.url("rumbapay"),
        &rumbapay_callback(&foreign, "success"),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "mismatch\n"));
    assert_eq!(state_of(&fx.journal, row.id), "accepted");
    let note = attention_of(&fx.journal, row.id).expect("the row needs a person");
    assert!(note.contains("reference"), "{note}");
    let shown = reported_attention(&fx, &batch, row.line).await;
    assert!(shown.is_string(), "{shown}");
    receiver.stop().await;
}

/// A final state delivered after the contrary final state.
async fn contrary_final_state(provider: &'static str, first: &str, then: &str, stays: &str) {
    let (fx, batch, rows, receiver) = setup(provider).await;
    let build = if provider == "rohopay" {
        rohopay_callback
    } else {
        rumbapay_callback
    };
    let url = receiver.url(provider);
    let row = &rows[1];
    assert_eq!(
        deliver(&url, &build(row, first)).await,
        (200, format!("{stays}\n"))
    );
    assert_eq!(attention_of(&fx.journal, row.id), None);
    let (status, _) = deliver(&url, &build(row, then)).await;
    assert_eq!(status, 200);
    assert_eq!(state_of(&fx.journal, row.id), stays, "never moved back");
    let note = attention_of(&fx.journal, row.id).expect("the row needs a person");
    assert!(note.contains(then) && note.contains(stays), "{note}");
    assert_eq!(attention_events(&fx.journal).len(), 1);

    let report = fx.report(&batch).await;
    let shown = report.iter().find(|r| r["line"] == row.line).unwrap();
    assert_eq!(shown["state"], stays);
    assert!(
        shown["attention"]
            .as_str()
            .is_some_and(|s| s.contains(then)),
        "a failed row the provider also called paid must not look like plain failed: {shown}"
    );
    let lines = receiver.lines();
    assert!(lines[1].contains("CONFLICT"), "{lines:#?}");

    // The provider retrying the same body changes nothing more.
    let (status, text) = deliver(&url, &build(row, then)).await;
    assert_eq!((status, text.as_str()), (200, "duplicate\n"));
    assert_eq!(attention_events(&fx.journal).len(), 1);
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rohopay_successful_after_failed_needs_a_person() {
    contrary_final_state("rohopay", "failed", "successful", "failed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rohopay_failed_after_successful_needs_a_person() {
    contrary_final_state("rohopay", "successful", "failed", "succeeded").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rumbapay_success_after_failed_needs_a_person() {
    contrary_final_state("rumbapay", "failed", "success", "failed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_pending_is_not_a_contradiction() {
    let (fx, _batch, rows, receiver) = setup("rohopay").await;
    let url = receiver.url("rohopay");
    deliver(&url, &rohopay_callback(&rows[0], "successful")).await;
    deliver(&url, &rohopay_callback(&rows[0], "pending")).await;
    assert_eq!(state_of(&fx.journal, rows[0].id), "succeeded");
    assert_eq!(attention_of(&fx.journal, rows[0].id), None);
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_note_is_written_with_the_delivery_or_not_at_all() {
    let (fx, _batch, rows, receiver) = setup("rohopay").await;
    rusqlite::Connection::open(&fx.journal)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries
             BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
        )
        .unwrap();
    let mut wrong = rows[0].clone();
    wrong.amount_minor = wrong.amount_minor.map(|a| a + 1);
    let (status, _) = deliver(
        &receiver.url("rohopay"),
        &rohopay_callback(&wrong, "successful"),
    )
    .await;
    assert_eq!(status, 500, "the provider must retry");
    assert_eq!(attention_of(&fx.journal, rows[0].id), None, "rolled back");
    assert!(attention_events(&fx.journal).is_empty());
    receiver.stop().await;
}
