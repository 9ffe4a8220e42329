//! `payrun retry` after `--fail-rate` failures: each failed payee is paid exactly once more,
//! under a new key; rows in doubt are never touched; a second retry pays nobody again.

use std::collections::BTreeSet;

use super::{paid_per_phone, report_by_reference};
use crate::support::pay::{Fixture, batch_id, code, kes_payees, text};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn retry_pays_each_failed_payee_exactly_once_more_and_never_one_in_doubt() {
    // Rumbapay: a 5xx executes nothing and leaves the row in doubt with no request id, so
    // reconcile cannot settle it (and sends nothing for it); failures are learnt by reconcile.
    let fx = Fixture::new(SimConfig {
        seed: 11,
        fail_rate: 0.3,
        error_rate: 0.2,
        ..SimConfig::default()
    })
    .await;
    let payees = kes_payees(40);
    let file = fx.csv("commissions.csv", &payees);
    let out = fx
        .run_envs(
            &file,
            "rumbapay",
            &["--rate", "500"],
            &[("PAYRUN_MAX_TRIES", "1")],
        )
        .await;
    let batch = batch_id(&out);
    let out = fx.exec(&["reconcile", &batch]).await;
    assert!(code(&out) <= 1, "{}", text(&out));

    let before = report_by_reference(&fx, &batch).await;
    let failed: BTreeSet<String> = before
        .iter()
        .filter(|(_, r)| r["state"] == "failed")
        .map(|(k, _)| k.clone())
        .collect();
    let in_doubt: BTreeSet<String> = before
        .iter()
        .filter(|(_, r)| r["state"] == "in_doubt")
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        !failed.is_empty() && !in_doubt.is_empty(),
        "the seed gives both failed and in-doubt rows: {failed:?} {in_doubt:?}"
    );
    let status = fx.status(&batch).await;
    assert!(
        status["next"]
            .as_str()
            .unwrap()
            .starts_with(&format!("payrun resume {batch}")),
        "rows in doubt come first: {status}"
    );
    let paid_before = paid_per_phone(&fx).await;

    let out = fx.exec(&["retry", &batch, "--yes", "--rate", "500"]).await;
    assert_eq!(code(&out), 1, "rows in doubt remain: {}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "Retry of batch {batch}: {} failed payout(s) get a new attempt",
            failed.len()
        )),
        "{said}"
    );
    assert!(
        said.contains("(attempt 1 failed: provider reported the payout failed: Payout declined"),
        "{said}"
    );
    assert!(said.contains("Not retried, and why:"), "{said}");
    assert!(
        said.contains("may already be with the provider; `payrun reconcile"),
        "the in-doubt rows are listed: {said}"
    );
    assert!(said.contains("Pre-flight for batch"), "{said}");

    let after = report_by_reference(&fx, &batch).await;
    let paid_after = paid_per_phone(&fx).await;
    for payee in &payees {
        let phone = payee.phone.trim_start_matches('+');
        let was = paid_before.get(phone).map_or(0, Vec::len);
        let now = paid_after.get(phone).map_or(0, Vec::len);
        let row = &after[&payee.reference];
        if failed.contains(&payee.reference) {
            assert_eq!(now, was + 1, "{} paid exactly once more", payee.reference);
            assert_eq!(row["attempt"], 2, "{row}");
            let old_key = before[&payee.reference]["key"].as_str().unwrap();
            let new_key = row["key"].as_str().unwrap();
            assert_ne!(old_key, new_key, "a new key");
            let newest = paid_after[phone].last().unwrap();
            assert_eq!(newest["key"], new_key, "the new payout carries the new key");
        } else {
            assert_eq!(now, was, "{} not paid again", payee.reference);
            assert_eq!(row["attempt"], 1, "{row}");
            assert_eq!(row["key"], before[&payee.reference]["key"]);
        }
        if in_doubt.contains(&payee.reference) {
            assert_eq!(now, 0, "a 5xx executed nothing and retry sent nothing");
            assert_eq!(row["state"], "in_doubt");
        }
    }
    let status = fx.status(&batch).await;
    assert_eq!(
        status["retried"]["2"].as_u64(),
        Some(failed.len() as u64),
        "{status}"
    );
    assert_eq!(status["last_run"]["command"], "retry");
    assert_eq!(status["last_run"]["end"], "finished");

    // Nothing failed on its last attempt any more: a second retry pays nobody.
    let out = fx.exec(&["retry", &batch, "--yes"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("Nothing to retry in batch {batch}")),
        "{}",
        text(&out)
    );
    assert_eq!(paid_per_phone(&fx).await, paid_after);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_narrows_the_retry_to_named_lines() {
    let fx = Fixture::new(SimConfig {
        seed: 5,
        fail_rate: 0.5,
        ..SimConfig::default()
    })
    .await;
    let payees = crate::support::pay::ugx_payees(12);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    let batch = batch_id(&out);
    fx.exec(&["reconcile", &batch]).await;
    let before = fx.report(&batch).await;
    let failed_lines: Vec<u64> = before
        .iter()
        .filter(|r| r["state"] == "failed")
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert!(failed_lines.len() >= 2, "{failed_lines:?}");
    let status = fx.status(&batch).await;
    assert_eq!(
        status["next"].as_str().unwrap(),
        format!("payrun retry {batch} --journal {}", fx.journal.display()),
        "{status}"
    );
    let paid = fx.ledger().await.len();
    let one = failed_lines[0];
    let ok_line = before
        .iter()
        .find(|r| r["state"] == "succeeded")
        .map(|r| r["line"].as_u64().unwrap())
        .unwrap();
    let only = format!("{one},{ok_line},99");
    let out = fx.exec(&["retry", &batch, "--yes", "--only", &only]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 failed payout(s) get a new attempt"),
        "{}",
        text(&out)
    );
    assert!(said.contains("(succeeded): the provider has it"), "{said}");
    assert!(said.contains("line 99: no row of batch"), "{said}");
    assert_eq!(fx.ledger().await.len(), paid + 1);
    let after = fx.report(&batch).await;
    for r in &after {
        let line = r["line"].as_u64().unwrap();
        let attempt = if line == one { 2 } else { 1 };
        assert_eq!(r["attempt"], attempt, "{r}");
    }
}
