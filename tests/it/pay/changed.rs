//! A file edited between runs: refused by default; with --allow-changed-file new rows are
//! paid and a changed row that was already paid is a conflict, never paid again.

use crate::exactly_once::payfile::{Expected, key_of};
use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn edited_amount_on_a_paid_row_is_a_conflict_not_a_payment() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);

    payees[1].amount = "99000".into();
    payees.push(ugx_payees(4)[3].clone());
    fx.csv("payroll.csv", &payees);
    let refused = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&refused), 3, "{}", text(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-changed-file"));
    assert_eq!(fx.ledger().await.len(), 3);

    let out = fx.run_edited(&file, &batch).await;
    assert_eq!(code(&out), 1, "a conflict needs a person: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 added") && stdout.contains("1 conflict"),
        "{stdout}"
    );
    let report = fx.report(&batch).await;
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 4, "the new row only: {ledger:?}");
    let changed = report
        .iter()
        .find(|r| r["reference"] == "EMP-0001")
        .unwrap();
    assert!(
        changed["error"].as_str().unwrap().contains("conflict"),
        "{changed}"
    );
    assert_eq!(
        changed["amount"], "10500",
        "the journal keeps what was paid"
    );
    let paid = ledger
        .iter()
        .find(|e| e["phone"] == changed["phone"])
        .unwrap();
    assert_eq!(paid["amount_minor"], 10500);
    let added = report
        .iter()
        .find(|r| r["reference"] == "EMP-0003")
        .unwrap();
    assert_eq!(added["state"], "accepted");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_references_an_edited_amount_is_caught_by_phone() {
    let fx = Fixture::new(SimConfig::default()).await;
    let path = fx.dir.path().join("agents.csv");
    std::fs::write(
        &path,
        "phone,amount,currency\n256770110001,5000,UGX\n256770110008,6000,UGX\n",
    )
    .unwrap();
    let out = fx.run(&path, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    std::fs::write(
        &path,
        "phone,amount,currency\n256770110001,5000,UGX\n256770110008,7000,UGX\n",
    )
    .unwrap();
    let out = fx.run_edited(&path, &batch).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert_eq!(
        fx.ledger().await.len(),
        2,
        "6000 was paid; 7000 is not paid on top"
    );
    let report = fx.report(&batch).await;
    assert!(
        report.iter().any(|r| r["amount"] == "7000"
            && r["state"] == "rejected"
            && r["error"].as_str().unwrap_or("").contains("already")),
        "{report:?}"
    );
    // The two payees as first planned, keyed by their derived identities; the edited line 3
    // is rejected, never sent.
    let expected: Vec<Expected> = [(2, "256770110001", 5000), (3, "256770110008", 6000)]
        .into_iter()
        .map(|(line, phone, amount_minor)| {
            let identity = format!("{phone}|{amount_minor}|UGX|0");
            Expected {
                line,
                key: key_of(&batch, false, &identity),
                identity,
                phone: phone.to_owned(),
                amount_minor,
                currency: "UGX".to_owned(),
            }
        })
        .collect();
    assert_eq!(fx.assert_paid_as(&batch, &expected, &[3]).await, 2);
}

/// Pay three rows, rename the second row's reference to `EMP-001` (and give it `amount`, if
/// any), continue with the refusal's own advice (`--allow-changed-file --batch B`), and return
/// the renamed row's conflict note, after checking that nobody was paid twice.
async fn rename_a_paid_row(amount: Option<&str>) -> String {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);

    payees[1].reference = "EMP-001".into();
    if let Some(amount) = amount {
        payees[1].amount = amount.into();
    }
    fx.csv("payroll.csv", &payees);
    let out = fx.run_edited(&file, &batch).await;
    assert_eq!(code(&out), 1, "a conflict needs a person: {}", text(&out));
    assert_eq!(fx.ledger().await.len(), 3, "nobody is paid twice");
    let report = fx.report(&batch).await;
    let renamed = report.iter().find(|r| r["reference"] == "EMP-001").unwrap();
    assert_eq!(renamed["state"], "rejected", "{renamed}");
    let error = renamed["error"].as_str().unwrap_or("");
    assert!(error.contains("line 3 (reference EMP-0001)"), "{renamed}");
    error.to_string()
}

/// The renamed row pays what the old one already paid, so it is a conflict naming the old line.
#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_reference_on_a_paid_row_is_a_conflict_not_a_payment() {
    let note = rename_a_paid_row(None).await;
    assert!(note.contains("not paid"), "{note}");
}

/// A reference renamed and its amount edited in one go (found by the operator-sequence fuzzer,
/// seeds 18 and 27): the new row is the same payee under a new name, so it is a conflict naming
/// the old line, not a second payment.
#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_reference_with_an_edited_amount_is_a_conflict_not_a_payment() {
    let note = rename_a_paid_row(Some("26000")).await;
    assert!(
        note.contains("another amount") && note.contains("not paid"),
        "{note}"
    );
}

/// A renamed row that became a conflict, then edited again (a new phone) in a later save, is
/// still that conflict: the conflict row is matched by its identity like any other row, so the
/// new phone is not paid as a new payee (found by the operator-sequence fuzzer, seed 1000617).
#[tokio::test(flavor = "multi_thread")]
async fn a_conflict_row_edited_again_is_still_not_paid() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    let again = ["--batch", &batch, "--allow-changed-file", "--rate", "500"];

    payees[1].reference = "EMP-001".into();
    fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &again).await;
    assert_eq!(code(&out), 1, "the rename is a conflict: {}", text(&out));

    payees[1].phone = "256700555123".into();
    fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &again).await;
    assert_eq!(code(&out), 1, "still a conflict: {}", text(&out));
    assert_eq!(fx.ledger().await.len(), 3, "nobody is paid twice");

    // The held row shows what the file asks now (as its reason does), and why it is held:
    // the report is where a clerk looks for the payee at the new phone (seed 1001633).
    let held = held_row(&fx, &batch, "256700555123").await;
    let why = held["error"].as_str().unwrap_or("");
    assert!(
        why.contains("256700555123") && why.contains("held back") && why.contains("new batch"),
        "{why}"
    );
    assert!(!why.contains("already rejected"), "{why}");

    // A third save with yet another phone keeps one reason, not a chain of them.
    payees[1].phone = "256700555124".into();
    fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &again).await;
    assert_eq!(code(&out), 1, "still a conflict: {}", text(&out));
    assert_eq!(fx.ledger().await.len(), 3, "nobody is paid twice");
    let held = held_row(&fx, &batch, "256700555124").await;
    let why = held["error"].as_str().unwrap_or("");
    assert_eq!(why.matches("held back").count(), 1, "{why}");
    assert!(why.contains("256700555124"), "{why}");
}

/// The report's one row of reference EMP-001: held back (`rejected`) at `phone`.
async fn held_row(fx: &Fixture, batch: &str, phone: &str) -> serde_json::Value {
    let report = fx.report(batch).await;
    let held: Vec<_> = report
        .iter()
        .filter(|r| r["reference"] == "EMP-001")
        .collect();
    assert_eq!(held.len(), 1, "{report:?}");
    assert_eq!(held[0]["state"], "rejected", "{report:?}");
    assert_eq!(held[0]["phone"], phone, "{report:?}");
    held[0].clone()
}

/// Two sent rows of the same payment that left the file cover two new rows, not three.
#[tokio::test(flavor = "multi_thread")]
async fn renamed_references_are_matched_one_for_one() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(2);
    payees[1].phone = payees[0].phone.clone();
    payees[1].amount = payees[0].amount.clone();
    let file = fx.csv("agents.csv", &payees);
    // Two agents sharing a phone and an amount: a repeat, paid because it is meant.
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--allow-repeats"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);

    let mut renamed = payees.clone();
    for (i, p) in renamed.iter_mut().enumerate() {
        p.reference = format!("AGENT-{i}");
    }
    renamed.push(crate::support::pay::Payee {
        reference: "AGENT-2".into(),
        ..payees[0].clone()
    });
    fx.csv("agents.csv", &renamed);
    let out = fx
        .run(
            &file,
            "rohopay",
            &[
                "--batch",
                &batch,
                "--allow-changed-file",
                "--rate",
                "500",
                "--allow-repeats",
            ],
        )
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 added") && stdout.contains("4 conflict"),
        "two old rows gone, two new rows not paid: {stdout}"
    );
    assert_eq!(fx.ledger().await.len(), 3, "the third one is paid, once");
    let report = fx.report(&batch).await;
    let conflicts: Vec<_> = report
        .iter()
        .filter(|r| r["state"] == "rejected")
        .map(|r| r["error"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(conflicts.len(), 2, "{report:?}");
    assert!(conflicts[0].contains("EMP-0000") != conflicts[1].contains("EMP-0000"));
}

/// The conflict note shows the amount already paid in major units with its currency.
#[tokio::test(flavor = "multi_thread")]
async fn a_conflict_note_shows_the_paid_amount_in_major_units() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = crate::support::pay::kes_payees(2);
    payees[0].amount = "750.00".into();
    let file = fx.csv("kes.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    payees[0].amount = "800.00".into();
    fx.csv("kes.csv", &payees);
    let out = fx.run_edited(&file, &batch).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let report = fx.report(&batch).await;
    let row = report.iter().find(|r| r["reference"] == "AG-0000").unwrap();
    let error = row["error"].as_str().unwrap_or("");
    assert!(
        error.contains("750.00 KES") && !error.contains("75000"),
        "{row}"
    );
}

/// `run --allow-changed-file` while another payrun is sending the batch: refused before it
/// changes anything, so the journal keeps saying what is being paid.
#[tokio::test(flavor = "multi_thread")]
async fn an_edit_while_the_batch_is_being_sent_changes_nothing() {
    let fx = Fixture::new(SimConfig::default()).await;
    let sent = ugx_payees(12);
    let mut payees = sent.clone();
    let file = fx.csv("payroll.csv", &payees);
    let batch = "slow-batch";
    let mut sending = fx.payrun();
    sending.args([
        "run",
        file.to_str().unwrap(),
        "--provider",
        "rohopay",
        "--yes",
        "--batch",
        batch,
        "--rate",
        "2",
        "--concurrency",
        "1",
    ]);
    let sender = sending.spawn().unwrap();
    // Sending has started once the simulator has executed a payout.
    crate::support::wait::until_true("sending to start", || async {
        !fx.ledger().await.is_empty()
    })
    .await;
    payees[11].amount = "99000".into();
    fx.csv("payroll.csv", &payees);
    let out = fx
        .run(
            &file,
            "rohopay",
            &["--batch", batch, "--allow-changed-file"],
        )
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("being sent by another payrun"),
        "{}",
        text(&out)
    );
    let done = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        sender.wait_with_output(),
    )
    .await
    .expect("the first payrun finishes")
    .unwrap();
    assert_eq!(code(&done), 0, "{}", text(&done));
    let report = fx.report(batch).await;
    let last = report
        .iter()
        .find(|r| r["reference"] == "EMP-0011")
        .unwrap();
    assert_eq!(
        last["amount"], "15500",
        "the journal says what was sent: {last}"
    );
    assert_eq!(fx.assert_exactly_once(batch, &sent).await, 12);
}

/// A later run of a batch with another `--callback-url` is refused naming both: the stored
/// requests carry the first one, and the new one would be silently ignored.
#[tokio::test(flavor = "multi_thread")]
async fn a_different_callback_url_on_a_later_run_is_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(2));
    let first = "http://127.0.0.1:9/hooks/rohopay";
    let out = fx
        .run(
            &file,
            "rohopay",
            &["--rate", "500", "--callback-url", first],
        )
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let other = "http://127.0.0.1:9/hooks/other";
    let out = fx.run(&file, "rohopay", &["--callback-url", other]).await;
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(first) && err.contains(other), "{err}");
    let out = fx.run(&file, "rohopay", &["--callback-url", first]).await;
    assert_eq!(code(&out), 0, "the same URL is fine: {}", text(&out));
    assert_eq!(fx.ledger().await.len(), 2);
}

/// Another base URL than the batch was planned with is named; another provider host is
/// refused while rows may be with the first one.
#[tokio::test(flavor = "multi_thread")]
async fn another_provider_host_is_refused_while_rows_may_be_with_the_first() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(2));
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    assert_eq!(
        crate::support::pay::states(&fx.report(&batch).await)["accepted"],
        2,
        "pending at the provider"
    );
    let port = fx
        .sim
        .rohopay_base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let elsewhere = format!("http://localhost:{port}");
    let out = fx
        .exec_with_env(&["resume", &batch, "--yes"], "ROHOPAY_BASE_URL", &elsewhere)
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("another host") && text(&out).contains(&elsewhere),
        "{}",
        text(&out)
    );

    let second = crate::support::sim::spawn_sim(SimConfig::default()).await;
    let out = fx
        .exec_with_env(
            &["resume", &batch, "--yes"],
            "ROHOPAY_BASE_URL",
            &second.rohopay_base_url(),
        )
        .await;
    assert_eq!(code(&out), 0, "same host, another port: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "was planned to be sent to {}",
            fx.sim.rohopay_base_url()
        )),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), 2);
}

/// A held conflict row edited again takes the file's values (`hold_again`); whatever later
/// saves do to it (back to the payment it first repeated, removed, back with yet another
/// phone), and whatever command runs next (`resume`, `retry`, `reconcile`), it is never sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_held_row_edited_again_is_never_sent_by_any_later_command() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = ugx_payees(3);
    let first = payees[1].clone();
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    let again = ["--batch", &batch, "--allow-changed-file", "--rate", "500"];
    let save = async |payees: &[crate::support::pay::Payee], why: &str| {
        fx.csv("payroll.csv", payees);
        let out = fx.run(&file, "rohopay", &again).await;
        assert_eq!(code(&out), 1, "{why}: still a conflict: {}", text(&out));
        assert_eq!(fx.ledger().await.len(), 3, "{why}: nobody is paid twice");
    };
    payees[1].reference = "EMP-001".into();
    save(&payees, "renamed").await;
    payees[1].phone = "256700555123".into();
    save(&payees, "re-phoned").await;
    // Back to exactly what the gone row paid.
    payees[1].phone = first.phone.clone();
    save(&payees, "back to the first payment").await;
    // Removed, then back with another phone and amount.
    let without: Vec<_> = payees
        .iter()
        .filter(|p| p.reference != "EMP-001")
        .cloned()
        .collect();
    fx.csv("payroll.csv", &without);
    let out = fx.run(&file, "rohopay", &again).await;
    assert_eq!(fx.ledger().await.len(), 3, "removed: {}", text(&out));
    payees[1].phone = "256700555124".into();
    payees[1].amount = "7700".into();
    save(&payees, "back again").await;

    for args in [
        vec!["resume", batch.as_str(), "--yes"],
        vec!["retry", batch.as_str(), "--yes", "--rate", "500"],
        vec!["reconcile", batch.as_str()],
    ] {
        let out = fx.exec(&args).await;
        assert_eq!(fx.ledger().await.len(), 3, "{args:?}: {}", text(&out));
    }
    held_row(&fx, &batch, "256700555124").await;
    // `status` reads the migrated-index queries too, and answers.
    fx.status(&batch).await;
}
