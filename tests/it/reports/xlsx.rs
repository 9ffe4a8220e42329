//! `report --format xlsx`, read back as a spreadsheet program reads it: typed cells (the phone
//! text, the amount a number, times dates), no formulas, and totals that add up.

use calamine::{Data, Reader, Xlsx, open_workbook};

use super::{HOSTILE_FIRST, mode, report, settled_batch};
use crate::support::pay::{code, exec, text};

fn cell(range: &calamine::Range<Data>, row: usize, col: usize) -> Data {
    range.get((row, col)).cloned().unwrap_or(Data::Empty)
}

fn s(text: &str) -> Data {
    Data::String(text.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workbook_holds_typed_payees_and_totals_and_is_private() {
    let (fx, batch) = settled_batch().await;
    let path = fx.dir.path().join("june.xlsx");
    // The format follows the file's extension; umask 000 still gives a private file.
    let out = exec(
        &mut fx.payrun_with_umask("000", &["report", &batch, "--out", path.to_str().unwrap()]),
    )
    .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(mode(&path), 0o600);

    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), ["Payees", "Totals"]);
    let payees = book.worksheet_range("Payees").unwrap();
    assert_eq!(payees.height(), 4, "a header and three payees");
    let header: Vec<Data> = (0..4).map(|c| cell(&payees, 0, c)).collect();
    assert_eq!(header, [s("Line"), s("Reference"), s("Name"), s("Phone")]);
    // Line 2: paid. The phone is text, never a number Excel would show as 2.5471E+11.
    assert_eq!(cell(&payees, 1, 1), s("AG-1"));
    assert_eq!(cell(&payees, 1, 2), s("Amina Nakato"));
    assert_eq!(cell(&payees, 1, 3), s("254712310001"));
    assert_eq!(cell(&payees, 1, 4), s("mpesa"));
    assert_eq!(cell(&payees, 1, 5), Data::Float(1000.5));
    assert_eq!(cell(&payees, 1, 6), s("KES"));
    assert_eq!(cell(&payees, 1, 7), s("succeeded"));
    assert_eq!(cell(&payees, 1, 8), Data::Float(1.0), "attempt");
    assert!(matches!(cell(&payees, 1, 9), Data::String(id) if id.starts_with("MOB")));
    for col in [15, 16] {
        let Data::DateTime(when) = cell(&payees, 1, col) else {
            panic!("column {col} is not a date: {:?}", cell(&payees, 1, col));
        };
        assert!(when.is_datetime());
        let days_since_1970 = (when.as_f64() - 25_569.0).floor() as u64;
        let today = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 86_400;
        assert!(
            today.abs_diff(days_since_1970) <= 1,
            "{when:?} is not today"
        );
    }
    // Line 3: failed, in Rumbapay's words; its formula-like description stays text.
    assert_eq!(cell(&payees, 2, 7), s("failed"));
    assert!(
        matches!(cell(&payees, 2, 12), Data::String(r) if r.contains("Payout declined by the mobile network")),
        "{:?}",
        cell(&payees, 2, 12)
    );
    assert_eq!(
        cell(&payees, 2, 14),
        s("=HYPERLINK(\"http://evil.example\",\"click\")")
    );
    // Line 4: the hostile name as written, as text.
    assert_eq!(
        cell(&payees, 3, 2),
        s(&format!("{HOSTILE_FIRST} <b id=\"pwned\">O'Brien</b>"))
    );
    assert_eq!(cell(&payees, 3, 5), Data::Float(300.25));
    let formulas = book.worksheet_formula("Payees").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );

    let totals = book.worksheet_range("Totals").unwrap();
    let line = |operator: &str| {
        (0..totals.height())
            .find(|r| cell(&totals, *r, 0) == s("KES") && cell(&totals, *r, 1) == s(operator))
            .unwrap_or_else(|| panic!("no KES {operator} line in {totals:?}"))
    };
    let all = line("All operators");
    // Requested, paid, failed: payees and amount each.
    let figures: Vec<Data> = (2..8).map(|c| cell(&totals, all, c)).collect();
    assert_eq!(
        figures,
        [3.0, 3300.75, 2.0, 1300.75, 1.0, 2000.0].map(Data::Float)
    );
    // In doubt, not sent, cancelled: none.
    for col in [8, 10, 12] {
        assert_eq!(cell(&totals, all, col), Data::Float(0.0), "column {col}");
    }
    let airtel = line("airtel");
    assert_eq!(cell(&totals, airtel, 6), Data::Float(1.0), "airtel failed");
    assert_eq!(
        cell(&totals, line("mpesa"), 4),
        Data::Float(2.0),
        "mpesa paid"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn xlsx_goes_to_standard_output_when_it_is_not_a_terminal() {
    let (fx, batch) = settled_batch().await;
    let bytes = report(&fx, &batch, &["--format", "xlsx"]).await;
    assert_eq!(&bytes[..2], b"PK", "a zip container");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.worksheet_range("Payees").unwrap().height(), 4);
}

/// On a terminal an xlsx report needs `--out`: binary bytes would only scramble the screen.
#[tokio::test(flavor = "multi_thread")]
async fn xlsx_on_a_terminal_is_refused_with_the_command_to_use() {
    let (fx, batch) = settled_batch().await;
    // `script` runs the command with a pseudo-terminal as its standard output.
    let command = format!(
        "{} report {batch} --format xlsx",
        env!("CARGO_BIN_EXE_payrun")
    );
    let out = exec(
        tokio::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("PAYRUN_JOURNAL", &fx.journal)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true),
    )
    .await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        said.contains(&format!(
            "payrun report {batch} --format xlsx --out {batch}.xlsx"
        )),
        "{said}"
    );
    assert!(!said.contains("PK"), "{said}");
}
