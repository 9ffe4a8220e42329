//! Keys that must not collide: batch ids are checked (no separators that could make two
//! (batch, reference) pairs spell the same thing), and a reference written like another row's
//! derived identity is still another payee with its own key.

use std::collections::HashSet;

use crate::support::pay::{Fixture, code, text};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_id_outside_the_documented_characters_is_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let path = fx.dir.path().join("march.csv");
    std::fs::write(
        &path,
        "reference,phone,amount,currency\nb/c,256770110001,5000,UGX\nc,256770110008,6000,UGX\n",
    )
    .unwrap();
    let out = fx
        .run(&path, "rohopay", &["--batch", "march", "--rate", "500"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    for bad in ["march/b", "", "pay day", "caf\u{e9}", &"x".repeat(101)] {
        let out = fx.run(&path, "rohopay", &["--batch", bad]).await;
        assert_eq!(code(&out), 2, "--batch {bad:?}: {}", text(&out));
        assert!(
            text(&out).contains("Batch ids are at most 100 characters"),
            "{}",
            text(&out)
        );
    }
    assert_eq!(fx.ledger().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reference_spelling_a_derived_identity_is_its_own_payee() {
    let fx = Fixture::new(SimConfig::default()).await;
    let path = fx.dir.path().join("mixed.csv");
    std::fs::write(
        &path,
        "reference,phone,amount,currency\n\
         256772123456|5000|UGX|0,256772123456,5000,UGX\n\
         ,256772123456,5000,UGX\n\
         ,256772123456,5000,UGX\n\
         256772123456|5000|UGX|1,256772123456,5000,UGX\n",
    )
    .unwrap();
    let out = fx
        .run(&path, "rohopay", &["--rate", "500", "--allow-repeats"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 4, "{ledger:?}");
    let keys: HashSet<&str> = ledger.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 4);
}

/// A batch planned by an earlier payrun (key scheme 1) keeps its keys, and a row added to it by
/// an edited file is keyed the way its other rows were.
#[tokio::test(flavor = "multi_thread")]
async fn rows_added_to_an_old_batch_use_its_key_scheme() {
    let fx = Fixture::new(SimConfig::default()).await;
    let mut payees = crate::support::pay::ugx_payees(2);
    let file = fx.csv("old.csv", &payees);
    let out = fx
        .run(&file, "rohopay", &["--batch", "old", "--rate", "500"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let before = fx.report("old").await;
    let conn = rusqlite::Connection::open(&fx.journal).unwrap();
    conn.execute("UPDATE batches SET key_scheme = 1 WHERE id = 'old'", [])
        .unwrap();
    drop(conn);
    payees.push(crate::support::pay::ugx_payees(3)[2].clone());
    fx.csv("old.csv", &payees);
    let out = fx.run_edited(&file, "old").await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let after = fx.report("old").await;
    for row in &before {
        let same = after
            .iter()
            .find(|r| r["reference"] == row["reference"])
            .unwrap();
        assert_eq!(same["key"], row["key"], "never re-keyed");
    }
    let added = after.iter().find(|r| r["reference"] == "EMP-0002").unwrap();
    assert_eq!(
        added["key"].as_str().unwrap(),
        payrun::batch::keys::legacy_key("old", "EMP-0002").to_string()
    );
    assert_eq!(fx.ledger().await.len(), 3);
}
