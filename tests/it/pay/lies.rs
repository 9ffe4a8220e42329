//! A provider that lies: answers with another amount, phone, currency or reference, a redirect
//! after executing, a refusal of a replay after a lost answer, "duplicate reference" for a
//! reference never sent. The real binary against the lying simulator: no such answer is ever
//! counted as paid, every row waits in doubt with a note for a person, the run exits 1, and
//! the ledger (the truth) shows nothing paid twice.

use payrun::sim::LieMode;
use serde_json::Value;

use crate::support::pay::{Fixture, Payee, batch_id, code, kes_payees, text, ugx_payees};
use crate::support::sim::SimConfig;

struct Lying {
    report: Vec<Value>,
    ledger: Vec<Value>,
    output: String,
}

async fn pay_through_liar(mode: LieMode, provider: &str, extra: SimConfig) -> Lying {
    let fx = Fixture::new(SimConfig {
        seed: 5,
        lie_rate: 1.0,
        lie_modes: vec![mode],
        ..extra
    })
    .await;
    let payees: Vec<Payee> = if provider == "rumbapay" {
        kes_payees(3)
    } else {
        ugx_payees(3)
    };
    let file = fx.csv("payroll.csv", &payees);
    let out = fx
        .run_envs(
            &file,
            provider,
            &["--rate", "200"],
            &[("PAYRUN_MAX_TRIES", "3")],
        )
        .await;
    assert_eq!(code(&out), 1, "{mode:?}: {}", text(&out));
    let batch = batch_id(&out);
    Lying {
        report: fx.report(&batch).await,
        ledger: fx.ledger().await,
        output: text(&out),
    }
}

/// Every row in doubt with a note, none counted as paid; each key executed at most once.
fn assert_nothing_trusted(mode: LieMode, lying: &Lying, note: &str) {
    assert_eq!(lying.report.len(), 3, "{}", lying.output);
    for row in &lying.report {
        assert_eq!(row["state"], "in_doubt", "{mode:?}: {row}");
        let attention = row["attention"].as_str().unwrap_or_default();
        assert!(
            attention.contains(note),
            "{mode:?}: attention {attention:?} should mention {note:?}: {row}"
        );
    }
    for entry in &lying.ledger {
        assert_eq!(entry["requests"].as_u64().map(|n| n >= 1), Some(true));
    }
    let mut keys: Vec<&str> = lying
        .ledger
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(
        keys.len(),
        lying.ledger.len(),
        "a key executed twice: {:?}",
        lying.ledger
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_amount_in_the_answer_is_never_counted_as_paid() {
    for provider in ["rohopay", "rumbapay"] {
        let lying = pay_through_liar(LieMode::Amount, provider, SimConfig::default()).await;
        assert_nothing_trusted(LieMode::Amount, &lying, "amount");
        assert_eq!(
            lying.ledger.len(),
            3,
            "{provider}: the truth is that all were paid"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_phone_in_the_answer_is_never_counted_as_paid() {
    let lying = pay_through_liar(LieMode::Phone, "rohopay", SimConfig::default()).await;
    assert_nothing_trusted(LieMode::Phone, &lying, "phone");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_currency_in_the_answer_is_never_counted_as_paid() {
    for provider in ["rohopay", "rumbapay"] {
        let lying = pay_through_liar(LieMode::Currency, provider, SimConfig::default()).await;
        assert_nothing_trusted(LieMode::Currency, &lying, "currency");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_reference_in_the_answer_is_never_counted_as_paid() {
    let lying = pay_through_liar(LieMode::Reference, "rumbapay", SimConfig::default()).await;
    assert_nothing_trusted(LieMode::Reference, &lying, "reference");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_after_executing_is_in_doubt_naming_the_host_never_planned() {
    let lying = pay_through_liar(LieMode::Redirect, "rohopay", SimConfig::default()).await;
    assert_nothing_trusted(LieMode::Redirect, &lying, "127.0.0.1:9");
    assert_eq!(lying.ledger.len(), 3, "the provider executed every one");
    for entry in &lying.ledger {
        assert_eq!(entry["requests"], 1, "a redirect is not retried: {entry}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_replay_after_a_lost_answer_is_in_doubt_never_failed() {
    for provider in ["rohopay", "rumbapay"] {
        let drops = SimConfig {
            drop_rate: 1.0,
            ..SimConfig::default()
        };
        let lying = pay_through_liar(LieMode::Replay4xx, provider, drops).await;
        assert_nothing_trusted(LieMode::Replay4xx, &lying, "may have been paid");
        assert_eq!(lying.ledger.len(), 3, "{provider}: the first requests paid");
        for entry in &lying.ledger {
            assert!(entry["requests"].as_u64() >= Some(2), "{entry}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_reference_for_a_reference_never_sent_is_not_trusted() {
    let lying = pay_through_liar(LieMode::DupRef, "rumbapay", SimConfig::default()).await;
    assert_nothing_trusted(LieMode::DupRef, &lying, "duplicate reference");
    assert!(
        lying.ledger.is_empty(),
        "nothing was paid: {:?}",
        lying.ledger
    );
}

/// Reconcile asks Rumbapay for each accepted row's transaction; where the lookup names another
/// reference (a transaction that is not this row's — as when a restarted sandbox handed out an
/// id again), the row is not settled from it, is flagged for a person, and reconcile exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn reconcile_never_settles_a_row_from_a_transaction_with_another_reference() {
    let fx = Fixture::new(SimConfig {
        seed: 21,
        lie_rate: 0.5,
        lie_modes: vec![LieMode::Reference],
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("commissions.csv", &kes_payees(12));
    // A fixed batch id fixes the keys, so seed 21 makes the same payout answers and the same
    // lookups lie on every run (a default id comes from the temp path, and with it whether any
    // lookup lied at all: it failed about one run in sixty).
    let out = fx
        .run(
            &file,
            "rumbapay",
            &["--rate", "500", "--batch", "lies-reconcile"],
        )
        .await;
    assert_eq!(code(&out), 1, "some answers lied: {}", text(&out));
    let batch = batch_id(&out);
    let out = fx.exec(&["reconcile", &batch, "--rate", "500"]).await;
    let report = fx.report(&batch).await;
    let mut contradicted = 0;
    for row in &report {
        let Some(id) = row["request_id"].as_str() else {
            continue; // its payout answer lied: never journaled, in doubt
        };
        let truth: Value = crate::support::sim::transaction(&fx.sim, id)
            .await
            .json()
            .await
            .unwrap();
        if truth["reference"] != row["key"] {
            contradicted += 1;
            assert_ne!(row["state"], "succeeded", "settled from a lie: {row}");
            let note = row["attention"].as_str().unwrap_or_default();
            assert!(note.contains("reference"), "{row}");
        } else {
            assert_eq!(row["state"], "succeeded", "{row}");
        }
    }
    assert!(contradicted > 0, "the lookup lie was exercised: {report:?}");
    assert_eq!(
        code(&out),
        1,
        "reconcile says rows need a person: {}",
        text(&out)
    );
}
