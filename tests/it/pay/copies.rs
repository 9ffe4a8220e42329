//! The same payees paid again by mistake: a file re-saved with other line endings, copied
//! under a new name, or run under a new `--batch` pays exactly what a recent batch paid and is
//! refused (exit 3) naming it, unless `--pay-again`; older repeats and large overlaps are named
//! in the pre-flight. And a file rewritten while payrun reads it is never planned half-way.

use crate::support::pay::{Fixture, batch_id, code, text, ugx_payees};
use crate::support::sim::SimConfig;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_payees_resaved_with_crlf_and_reordered_are_refused_unless_pay_again() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(3);
    let file = fx.csv("march.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let first = batch_id(&out);

    let text_lf = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = text_lf.lines().collect();
    lines[1..].reverse();
    let copy = fx.dir.path().join("march (copy).csv");
    std::fs::write(&copy, format!("{}\r\n\r\n", lines.join("\r\n"))).unwrap();
    let out = fx.run(&copy, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("batch {first}")) && err.contains("--pay-again"),
        "{err}"
    );
    assert_eq!(fx.ledger().await.len(), 3, "nothing sent");

    let out = fx
        .run(&copy, "rohopay", &["--rate", "500", "--pay-again"])
        .await;
    assert_eq!(code(&out), 0, "on purpose: {}", text(&out));
    assert!(
        stdout(&out).contains(&format!("batch {first}")),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_file_under_a_new_batch_id_is_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("march.csv", &ugx_payees(3));
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--batch", "march-1"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--batch", "march-2"])
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(text(&out).contains("batch march-1"), "{}", text(&out));
    // The batch itself continues as before.
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--batch", "march-1"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains("Continuing batch march-1"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_repeat_and_a_large_overlap_are_named_in_the_pre_flight() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(4);
    let file = fx.csv("january.csv", &payees);
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let january = batch_id(&out);

    // Three of four payments again, with one new payee: not the same file, but a warning.
    let mut february = payees[..3].to_vec();
    february.push(ugx_payees(5)[4].clone());
    let feb = fx.csv("february.csv", &february);
    let out = fx.run(&feb, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains("3 of this batch's 4 payment(s)")
            && stdout(&out).contains(&format!("also in batch {january}")),
        "{}",
        text(&out)
    );

    // January's file again, a month later (its batch aged by hand): named, not refused.
    let conn = rusqlite::Connection::open(&fx.journal).unwrap();
    conn.execute(
        "UPDATE batches SET created_at = created_at - 30 * 86400000 WHERE id = ?1",
        [&january],
    )
    .unwrap();
    drop(conn);
    let again = fx.dir.path().join("january-again.csv");
    std::fs::copy(&file, &again).unwrap();
    let out = fx.run(&again, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains(&format!("same amounts as batch {january}")),
        "{}",
        text(&out)
    );
    assert_eq!(fx.ledger().await.len(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_rewritten_between_hashing_and_planning_is_not_planned() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(3);
    let file = fx.csv("payroll.csv", &payees);
    let shorter = fx.csv("shorter.csv", &payees[..2]);
    let out = fx
        .run_envs(
            &file,
            "rohopay",
            &["--rate", "500"],
            &[("PAYRUN_TEST_REWRITE_AFTER_HASH", shorter.to_str().unwrap())],
        )
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("changed while payrun was reading it"),
        "{}",
        text(&out)
    );
    assert!(fx.ledger().await.is_empty());
    let status = fx.exec(&["status", "--format", "json"]).await;
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("payroll"),
        "no batch was planned: {}",
        text(&status)
    );
    // The file as it now is: planned and paid under its own hash, every row of it.
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    let sha = payrun::batch::keys::file_sha256(&file).unwrap();
    assert_eq!(batch, payrun::batch::keys::default_batch_id(&file, &sha));
    assert_eq!(fx.ledger().await.len(), 2);
}
