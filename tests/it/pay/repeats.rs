//! A row pasted twice pays its payee twice. `run` shows what validation saw — the repeated
//! rows first, each with the line it repeats, then the other warnings — and per operator
//! totals; a batch with repeats is refused under `--yes` (exit 3, nothing sent, by `run` and by
//! `resume` alike) until `--allow-repeats` says they are meant, and then each row is paid
//! exactly once.

use crate::support::pay::{Fixture, batch_id, code, text};
use crate::support::sim::SimConfig;

/// Line 5 repeats line 2 (same phone as written differently, same amount and currency); line 4
/// has another amount and is no repeat.
const COMMISSIONS: &str = "phone,amount,currency,operator,first_name,last_name\n\
                           254712000001,1500.50,KES,mpesa,Amina,Nakato\n\
                           254712000002,2000,KES,M-Pesa,Brian,Otieno\n\
                           254712000001,1600,KES,mpesa,Amina,Nakato\n\
                           +254 712 000001,1500.50,KES,mpesa,Amina,Nakato\n\
                           254733000003,700,KES,airtel,Chebet,Kirui\n";

#[tokio::test(flavor = "multi_thread")]
async fn repeats_are_listed_refused_under_yes_and_paid_once_each_when_allowed() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("commissions.csv");
    std::fs::write(&file, COMMISSIONS).unwrap();

    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    let all = text(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("REPEATED PAYMENTS (1)") && stdout.contains("line 5 repeats line 2"),
        "{stdout}"
    );
    // The other warnings validation gives, after the repeats.
    let repeats_at = stdout.find("line 5 repeats line 2").unwrap();
    let synonym_at = stdout
        .find("line 3, operator: \"M-Pesa\" read as \"mpesa\"")
        .unwrap_or_else(|| panic!("validation's warnings are shown: {stdout}"));
    assert!(repeats_at < synonym_at, "repeats first: {stdout}");
    assert!(
        stdout.contains("normalised \"+254 712 000001\""),
        "{stdout}"
    );
    // Money per operator beside the currency total.
    assert!(stdout.contains("KES 7,301.00"), "{stdout}");
    assert!(
        stdout.contains("via mpesa: KES 6,601.00 (4 payout(s))")
            && stdout.contains("via airtel: KES 700.00 (1 payout(s))"),
        "{stdout}"
    );
    assert!(all.contains("--allow-repeats"), "says how: {all}");
    assert!(all.contains("Nothing was sent"), "{all}");
    assert!(fx.ledger().await.is_empty(), "nothing sent");

    // The batch is planned now; resuming it is refused the same way.
    let batch = batch_id(&out);
    let out = fx.exec(&["resume", &batch, "--yes"]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("line 5 repeats line 2"),
        "{}",
        text(&out)
    );
    assert!(fx.ledger().await.is_empty(), "nothing sent by resume");

    let out = fx
        .run(&file, "rumbapay", &["--rate", "500", "--allow-repeats"])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let ledger = fx.ledger().await;
    assert_eq!(ledger.len(), 5, "every row once, the repeat as asked");
    let amina_1500: Vec<_> = ledger
        .iter()
        .filter(|p| p["amount_minor"] == 150_050)
        .collect();
    assert_eq!(amina_1500.len(), 2, "{ledger:?}");

    // Nothing is left: no repeat ahead, nothing refused, nothing sent again.
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_without_repeats_needs_no_flag() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("commissions.csv");
    // Without line 5, the repeat.
    let unique: Vec<&str> = COMMISSIONS
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .map(|(_, l)| l)
        .collect();
    let unique = unique.join("\n");
    std::fs::write(&file, unique + "\n").unwrap();
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(!text(&out).contains("REPEATED"), "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), 4);
}

/// A row an edited file adds that repeats a row already paid is refused like any other repeat:
/// planning counted no repeats in the first file, and that count no longer holds once the
/// batch follows an edited one.
#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_added_by_an_edited_file_is_refused() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("commissions.csv");
    let first = "phone,amount,currency,operator,first_name,last_name\n\
                 254712000001,1500.50,KES,mpesa,Amina,Nakato\n\
                 254712000002,2000,KES,mpesa,Brian,Otieno\n";
    std::fs::write(&file, first).unwrap();
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    assert_eq!(fx.ledger().await.len(), 2);

    std::fs::write(
        &file,
        format!("{first}254712000001,1500.50,KES,mpesa,Amina,Nakato\n"),
    )
    .unwrap();
    let edited = ["--batch", &batch, "--allow-changed-file", "--rate", "500"];
    let out = fx.run(&file, "rumbapay", &edited).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("line 4 repeats line 2"),
        "{}",
        text(&out)
    );
    let out = fx.exec(&["resume", &batch, "--yes"]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), 2, "the repeat is not paid");
}
