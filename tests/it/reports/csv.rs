//! `report` as CSV and JSON: the payee's name, operator and description at the end of each
//! line, and every cell still safe to open in a spreadsheet.

use super::{HOSTILE_FIRST, mode, report, settled_batch};

#[tokio::test(flavor = "multi_thread")]
async fn csv_and_json_gain_name_operator_and_description() {
    let (fx, batch) = settled_batch().await;
    let out = fx.dir.path().join("june.csv");
    report(&fx, &batch, &["--out", out.to_str().unwrap()]).await;
    assert_eq!(mode(&out), 0o600);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header.len(), 20);
    assert_eq!(
        header[..3],
        ["line", "reference", "phone"],
        "old columns keep their place"
    );
    assert_eq!(
        header[14..],
        [
            "attention",
            "attempt",
            "approved_by",
            "name",
            "operator",
            "description"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        (&rows[0][17], &rows[0][18], &rows[0][19]),
        ("Amina Nakato", "mpesa", "June commission")
    );
    // Formula cells are neutralised, as in the rest of the report.
    assert_eq!(&rows[1][18], "airtel");
    assert_eq!(
        &rows[1][19],
        "'=HYPERLINK(\"http://evil.example\",\"click\")"
    );
    assert_eq!(&rows[2][19], "'@SUM(1)");
    assert!(rows[2][17].starts_with(HOSTILE_FIRST));

    let json: Vec<serde_json::Value> =
        serde_json::from_slice(&report(&fx, &batch, &["--format", "json"]).await).unwrap();
    assert_eq!(json[0]["name"], "Amina Nakato");
    assert_eq!(json[1]["operator"], "airtel");
    assert_eq!(
        json[1]["description"],
        "=HYPERLINK(\"http://evil.example\",\"click\")"
    );
}
