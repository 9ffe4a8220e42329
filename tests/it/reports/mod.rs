//! `payrun report` for people (issue 13): the xlsx workbook read back with a spreadsheet
//! library, the html page rendered in a real headless Chromium, and the csv's new columns,
//! each written by the real binary from a batch paid against the simulator.

mod csv;
mod html;
mod xlsx;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::pay::{Fixture, batch_id, code, text};
use crate::support::sim::SimConfig;

/// A hostile payee name: markup that must show as text in the page, never run.
pub const HOSTILE_FIRST: &str = "<img src=x onerror=alert(1)>";

/// A Rumbapay batch in KES, reconciled to final states: line 2 paid (mpesa), line 3 failed in
/// Rumbapay's words (airtel, a formula as its description), line 4 paid (a hostile name).
pub async fn settled_batch() -> (Fixture, String) {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.dir.path().join("commissions.csv");
    std::fs::write(
        &file,
        format!(
            "reference,phone,amount,currency,operator,first_name,last_name,description\n\
             AG-1,+254712310001,1000.50,KES,mpesa,Amina,Nakato,June commission\n\
             AG-2,+254712310000,2000,KES,airtel,Bad,Number,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\n\
             AG-3,+254712310003,300.25,KES,mpesa,{HOSTILE_FIRST},\"<b id=\"\"pwned\"\">O'Brien</b>\",@SUM(1)\n"
        ),
    )
    .unwrap();
    let out = fx.run(&file, "rumbapay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let batch = batch_id(&out);
    crate::support::wait::until_true("the simulator to settle", || async {
        fx.ledger().await.iter().all(|e| e["status"] != "pending")
    })
    .await;
    let out = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&out), 1, "a payee failed: {}", text(&out));
    (fx, batch)
}

/// `report BATCH ARGS`, which must succeed; returns stdout.
pub async fn report(fx: &Fixture, batch: &str, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["report", batch];
    all.extend_from_slice(args);
    let out = fx.exec(&all).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    out.stdout
}

/// The file's permission bits.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
