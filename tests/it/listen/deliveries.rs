//! Signed deliveries against a journal a real run left `accepted`: twice, out of order, for a
//! payout no row knows, contradicting the row, or ahead of the answer that names it.

use crate::support::listen::*;
use crate::support::pay::{Payee, kes_payees, ugx_payees};
use crate::support::sim::SimConfig;

/// A batch through `provider`, all rows `accepted`, a receiver over its journal, and a
/// callback builder for that provider.
async fn setup(
    provider: &'static str,
) -> (
    crate::support::pay::Fixture,
    Vec<JournalRow>,
    InProcess,
    fn(&JournalRow, &str) -> Vec<u8>,
) {
    let fx = fixture(SimConfig::default()).await;
    let payees: Vec<Payee> = match provider {
        "rohopay" => ugx_payees(3),
        _ => kes_payees(3),
    };
    let (_batch, rows) = accepted_batch(&fx, provider, &payees).await;
    let receiver = InProcess::start(&fx.journal).await;
    let build: fn(&JournalRow, &str) -> Vec<u8> = match provider {
        "rohopay" => rohopay_callback,
        _ => rumbapay_callback,
    };
    (fx, rows, receiver, build)
}

fn success_word(provider: &str) -> &'static str {
    if provider == "rohopay" {
        "successful"
    } else {
        "success"
    }
}

async fn delivered_twice_applies_once(provider: &'static str) {
    let (fx, rows, receiver, build) = setup(provider).await;
    let url = receiver.url(provider);
    let body = build(&rows[0], success_word(provider));

    assert_eq!(deliver(&url, &body).await, (200, "succeeded\n".into()));
    let after_first = snapshot(&fx.journal);
    assert_eq!(deliver(&url, &body).await, (200, "duplicate\n".into()));
    assert_eq!(
        snapshot(&fx.journal),
        after_first,
        "the repeat changed nothing"
    );

    assert_eq!(state_of(&fx.journal, rows[0].id), "succeeded");
    assert_eq!(state_of(&fx.journal, rows[1].id), "accepted");
    assert_eq!(
        webhook_events(&fx.journal),
        [(rows[0].id, "succeeded".to_owned())]
    );
    assert_eq!(delivery_outcomes(&fx.journal), ["succeeded"]);
    let lines = receiver.lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].contains("accepted -> succeeded"), "{lines:#?}");
    assert!(lines[1].contains("duplicate delivery"), "{lines:#?}");
    assert!(
        lines[1].contains(&format!("line {}", rows[0].line)),
        "{lines:#?}"
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rohopay_delivered_twice_changes_the_row_once() {
    delivered_twice_applies_once("rohopay").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rumbapay_delivered_twice_changes_the_row_once() {
    delivered_twice_applies_once("rumbapay").await;
}

async fn out_of_order_stays_forward(provider: &'static str) {
    let (fx, rows, receiver, build) = setup(provider).await;
    let url = receiver.url(provider);
    let row = &rows[1];

    assert_eq!(
        deliver(&url, &build(row, success_word(provider))).await,
        (200, "succeeded\n".into())
    );
    assert_eq!(
        deliver(&url, &build(row, "pending")).await,
        (200, "ignored: already succeeded\n".into())
    );
    assert_eq!(state_of(&fx.journal, row.id), "succeeded");
    assert_eq!(
        deliver(&url, &build(row, "failed")).await,
        (200, "ignored: already succeeded\n".into())
    );
    assert_eq!(state_of(&fx.journal, row.id), "succeeded");
    let outcomes: Vec<String> = webhook_events(&fx.journal)
        .into_iter()
        .map(|(id, outcome)| {
            assert_eq!(id, row.id);
            outcome
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "succeeded",
            "ignored: already succeeded",
            "ignored: already succeeded"
        ]
    );
    let lines = receiver.lines();
    assert!(
        lines[2].contains("CONFLICT"),
        "a contrary final state is loud: {lines:#?}"
    );

    // The other order: pending first changes nothing, the final state then applies.
    let other = &rows[2];
    assert_eq!(
        deliver(&url, &build(other, "pending")).await,
        (200, "ignored: already accepted\n".into())
    );
    assert_eq!(
        deliver(&url, &build(other, "failed")).await,
        (200, "failed\n".into())
    );
    assert_eq!(state_of(&fx.journal, other.id), "failed");
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rohopay_pending_after_successful_keeps_the_row_succeeded() {
    out_of_order_stays_forward("rohopay").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rumbapay_pending_after_success_keeps_the_row_succeeded() {
    out_of_order_stays_forward("rumbapay").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_payout_is_acknowledged_and_changes_nothing() {
    let (fx, rows, receiver, _) = setup("rohopay").await;
    let before = snapshot(&fx.journal);
    let mut stranger = rows[0].clone();
    stranger.provider_id = Some("01jnotinthisjournal".into());
    stranger.internal_reference = Some("RHP-NOPE".into());
    let (status, text) = deliver(
        &receiver.url("rohopay"),
        &rohopay_callback(&stranger, "successful"),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "unknown\n"));
    let after = snapshot(&fx.journal);
    assert_eq!(after["rows"], before["rows"]);
    assert_eq!(after["events"], before["events"]);
    assert_eq!(delivery_outcomes(&fx.journal), ["unknown"]);
    let lines = receiver.lines();
    assert!(lines[0].contains("01jnotinthisjournal"), "{lines:#?}");
    assert!(lines[0].contains("acknowledged and ignored"), "{lines:#?}");

    // A Rumbapay callback whose reference no row carries is unknown too.
    let mut foreign = rows[0].clone();
    foreign.key = Some("not-a-payrun-key".into());
    let (status, text) = deliver(
        &receiver.url("rumbapay"),
        &rumbapay_callback(&foreign, "success"),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "unknown\n"));
    assert_eq!(snapshot(&fx.journal)["rows"], before["rows"]);
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_contradicting_the_row_is_recorded_not_applied() {
    let (fx, rows, receiver, _) = setup("rohopay").await;
    let mut wrong = rows[0].clone();
    wrong.amount_minor = wrong.amount_minor.map(|a| a + 1000);
    let (status, text) = deliver(
        &receiver.url("rohopay"),
        &rohopay_callback(&wrong, "successful"),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "mismatch\n"));
    assert_eq!(state_of(&fx.journal, rows[0].id), "accepted");
    assert_eq!(
        webhook_events(&fx.journal),
        [(rows[0].id, "mismatch".to_owned())]
    );
    let lines = receiver.lines();
    assert!(lines[0].contains("MISMATCH"), "{lines:#?}");
    assert!(lines[0].contains("amount"), "{lines:#?}");
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rohopay_callback_ahead_of_its_answer_is_retried_not_lost() {
    let (fx, rows, receiver, _) = setup("rohopay").await;
    let row = &rows[0];
    let body = rohopay_callback(row, "successful");
    // Recreate the race: the request left (row `sending`), its answer is not journaled yet.
    let write = rusqlite::Connection::open(&fx.journal).unwrap();
    write
        .execute(
            "UPDATE rows SET state = 'sending', provider_id = NULL, internal_reference = NULL
             WHERE id = ?1",
            [row.id],
        )
        .unwrap();
    let before = snapshot(&fx.journal);
    let response = crate::support::sim::client()
        .post(receiver.url("rohopay"))
        .header("X-Signature", sign(SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        snapshot(&fx.journal),
        before,
        "nothing written, not even the digest"
    );

    // The answer is journaled; the provider's retry of the same body now applies.
    write
        .execute(
            "UPDATE rows SET state = 'accepted', provider_id = ?2, internal_reference = ?3
             WHERE id = ?1",
            rusqlite::params![row.id, row.provider_id, row.internal_reference],
        )
        .unwrap();
    assert_eq!(
        deliver(&receiver.url("rohopay"), &body).await,
        (200, "succeeded\n".into())
    );
    assert_eq!(state_of(&fx.journal, row.id), "succeeded");
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_journal_write_is_500_and_leaves_the_row_as_it_was() {
    let (fx, rows, receiver, _) = setup("rohopay").await;
    // Break the write half way: the state change succeeds, recording the delivery cannot.
    rusqlite::Connection::open(&fx.journal)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries
             BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
        )
        .unwrap();
    let (status, _) = deliver(
        &receiver.url("rohopay"),
        &rohopay_callback(&rows[0], "successful"),
    )
    .await;
    assert_eq!(status, 500, "the provider must retry");
    assert_eq!(
        state_of(&fx.journal, rows[0].id),
        "accepted",
        "rolled back as a whole"
    );
    assert!(webhook_events(&fx.journal).is_empty());
    let lines = receiver.lines();
    assert!(lines[0].contains("journal write failed"), "{lines:#?}");
    receiver.stop().await;
}
