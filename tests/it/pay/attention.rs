//! Rows that need a person (a provider answer or callback contradicted the request) are shown
//! by every view: `status` (one batch, text and JSON, capped with the rest counted; and the
//! count per batch), `report` (CSV column and JSON field) and `reconcile` (listed with the next
//! step, exit 1).

use serde_json::Value;

use crate::support::listen::{
    InProcess, JournalRow, accepted_batch, deliver, fixture, rohopay_callback,
};
use crate::support::pay::{Fixture, code, text, ugx_payees};
use crate::support::sim::SimConfig;

/// A RohoPay batch of `n` accepted rows; the row on line 3 is then called `failed` and,
/// afterwards, `successful` by the provider: it stays failed and needs a person.
async fn contradicted_batch(n: usize) -> (Fixture, String, Vec<JournalRow>) {
    let fx = fixture(SimConfig::default()).await;
    let (batch, rows) = accepted_batch(&fx, "rohopay", &ugx_payees(n)).await;
    let receiver = InProcess::start(&fx.journal).await;
    let url = receiver.url("rohopay");
    let row = &rows[1];
    assert_eq!(
        deliver(&url, &rohopay_callback(row, "failed")).await,
        (200, "failed\n".into())
    );
    let (status, _) = deliver(&url, &rohopay_callback(row, "successful")).await;
    assert_eq!(status, 200);
    receiver.stop().await;
    (fx, batch, rows)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_counts_and_lists_the_rows_that_need_a_person() {
    let (fx, batch, _rows) = contradicted_batch(3).await;

    let json = fx.status(&batch).await;
    assert_eq!(json["attention"], 1, "{json}");
    let listed = json["attention_rows"].as_array().expect("listed rows");
    assert_eq!(listed.len(), 1, "{json}");
    assert_eq!(listed[0]["line"], 3);
    assert_eq!(listed[0]["reference"], "EMP-0001");
    assert_eq!(listed[0]["state"], "failed");
    assert!(
        listed[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("successful")),
        "{json}"
    );
    assert_eq!(json["attention_not_listed"], 0);
    assert_eq!(json["states"]["failed"], 1, "the state is kept");

    let out = fx.exec(&["status", &batch]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let shown = stdout(&out);
    assert!(shown.contains("1 row(s) need a person"), "{shown}");
    assert!(shown.contains("line 3 EMP-0001 (failed)"), "{shown}");
    assert!(shown.contains("successful"), "{shown}");

    let all = fx.exec(&["status"]).await;
    assert_eq!(code(&all), 0, "{}", text(&all));
    let table = stdout(&all);
    let line = table
        .lines()
        .find(|l| l.starts_with(&batch))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("1 need a person"), "{table}");
    let all = fx.exec(&["status", "--format", "json"]).await;
    let all: Vec<Value> = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(all[0]["attention"], 1);
    assert!(
        all[0].get("attention_rows").is_none(),
        "the table of batches counts, it does not list: {}",
        all[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_lists_a_few_and_counts_the_rest() {
    let fx = fixture(SimConfig::default()).await;
    let (batch, _rows) = accepted_batch(&fx, "rohopay", &ugx_payees(30)).await;
    // Thirty rows flagged, as contradicting answers would leave them.
    rusqlite::Connection::open(&fx.journal)
        .unwrap()
        .execute_batch("UPDATE rows SET attention = 'the provider said another amount'")
        .unwrap();
    let json = fx.status(&batch).await;
    assert_eq!(json["attention"], 30);
    let listed = json["attention_rows"].as_array().unwrap();
    assert_eq!(listed.len(), 20, "{json}");
    assert_eq!(listed[0]["line"], 2, "in file order");
    assert_eq!(json["attention_not_listed"], 10);

    let out = fx.exec(&["status", &batch]).await;
    let shown = stdout(&out);
    assert!(shown.contains("30 row(s) need a person"), "{shown}");
    assert_eq!(shown.matches("another amount").count(), 20, "{shown}");
    assert!(shown.contains("and 10 more"), "{shown}");
    assert!(shown.contains(&format!("payrun report {batch}")), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_has_an_attention_column_and_field() {
    let (fx, batch, _rows) = contradicted_batch(3).await;
    let report = fx.report(&batch).await;
    let flagged: Vec<&Value> = report
        .iter()
        .filter(|r| !r["attention"].is_null())
        .collect();
    assert_eq!(flagged.len(), 1, "{report:?}");
    assert_eq!(flagged[0]["line"], 3);
    assert_eq!(flagged[0]["state"], "failed");

    let csv = fx.exec(&["report", &batch, "--format", "csv"]).await;
    assert_eq!(code(&csv), 0, "{}", text(&csv));
    let csv = stdout(&csv);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.join(","),
        "line,reference,phone,amount,currency,state,key,provider,provider_reference,request_id,\
         failover_reason,error,attempts,updated_at,attention,attempt,approved_by,name,operator,\
         description",
        "columns are added, never renamed"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows[1][14].contains("successful"), "{csv}");
    assert_eq!(&rows[0][14], "");

    // The note is a provider's words: kept spreadsheet-safe like every other cell.
    rusqlite::Connection::open(&fx.journal)
        .unwrap()
        .execute_batch("UPDATE rows SET attention = '=HYPERLINK(\"x\")' WHERE line = 2")
        .unwrap();
    let csv = fx.exec(&["report", &batch, "--format", "csv"]).await;
    assert!(stdout(&csv).contains("'=HYPERLINK"), "{}", text(&csv));
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_exits_1_and_says_what_to_do_with_rows_that_need_a_person() {
    let (fx, batch, _rows) = contradicted_batch(3).await;
    let out = fx.exec(&["reconcile", &batch, "--rate", "500"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let shown = stdout(&out);
    assert!(shown.contains("1 need a person"), "{shown}");
    assert!(shown.contains("line 3 EMP-0001 (failed)"), "{shown}");
    assert!(shown.contains("successful"), "{shown}");
    assert!(
        shown.contains("do not pay it again"),
        "the next step is said: {shown}"
    );
    // Reconcile still did its own work: the other rows were asked about.
    assert!(shown.contains("checked 2 payout(s)"), "{shown}");
}
