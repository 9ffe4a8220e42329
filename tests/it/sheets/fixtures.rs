//! The committed workbook fixtures under `tests/fixtures/sheets/`, and how they were made.
//!
//! `.ods` and `.xls` files cannot be written by a Rust library payrun may use, so they were
//! made once, on 2026-12-03, by `make_sheet_fixtures` below (an ignored test; it needs
//! LibreOffice, `apt-get install libreoffice-calc-nogui`, and python3):
//!
//! ```sh
//! cargo test --release --test it -- --ignored make_sheet_fixtures
//! ```
//!
//! - `payroll.ods`, `payroll.xls`: the workbook of [`troubled_payroll`] and [`bonus`] written by
//!   rust_xlsxwriter, converted by LibreOffice Calc (`soffice --headless --convert-to ods|xls`);
//! - `no-saved-result.xlsx`: three valid rows whose row-3 amount is a formula, with the saved
//!   result (`<v>`) removed from the sheet XML by python3's zipfile, as files written by
//!   programs that do not calculate (openpyxl, many exporters) have it.
//!
//! `samples/payroll.xlsx` is made by `make_sample_payroll_xlsx` (also ignored, needs nothing
//! else) from the payees of `samples/payroll.csv`: the December payroll, with phones and net pay
//! stored as numbers and the headers a payroll export uses.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{code, json, stderr, validate};
use crate::support::sample;
use crate::support::workbook::{
    Cell, Sheet, bonus, formula, num, text, troubled_payroll, write_xlsx,
};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sheets")
        .join(name)
}

/// The sheet of `no-saved-result.xlsx` before its formula result was removed.
pub fn unsaved_formula() -> Sheet {
    Sheet::new("Payroll")
        .row(
            1,
            ["reference", "phone", "amount", "currency"]
                .map(text)
                .to_vec(),
        )
        .row(
            2,
            vec![
                text("A-1"),
                num(256_700_222_001.0),
                num(1000.0),
                text("UGX"),
            ],
        )
        .row(
            3,
            vec![
                text("A-2"),
                num(256_700_222_002.0),
                formula("=C2*5", "5000"),
                text("UGX"),
            ],
        )
        .row(
            4,
            vec![
                text("A-3"),
                num(256_700_222_003.0),
                num(3000.0),
                text("UGX"),
            ],
        )
}

const STRIP_SAVED_RESULT: &str = r#"
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == "xl/worksheets/sheet1.xml":
            data, n = re.subn(rb"(<f>[^<]*</f>)<v>[^<]*</v>", rb"\1", data)
            assert n == 1, n
        zout.writestr(item, data)
"#;

#[test]
#[ignore = "regenerates committed fixtures; needs LibreOffice and python3"]
fn make_sheet_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("payroll.xlsx");
    write_xlsx(&source, &[troubled_payroll(), bonus()]);
    let out = fixture("");
    for format in ["ods", "xls"] {
        let status = Command::new("soffice")
            .args(["--headless", "--convert-to", format, "--outdir"])
            .arg(&out)
            .arg(&source)
            .env("HOME", dir.path())
            .status()
            .expect("soffice runs");
        assert!(status.success(), "soffice --convert-to {format}");
    }
    let unsaved = dir.path().join("unsaved.xlsx");
    write_xlsx(&unsaved, &[unsaved_formula()]);
    let status = Command::new("python3")
        .args(["-c", STRIP_SAVED_RESULT])
        .arg(&unsaved)
        .arg(fixture("no-saved-result.xlsx"))
        .status()
        .expect("python3 runs");
    assert!(status.success());
}

#[test]
#[ignore = "regenerates samples/payroll.xlsx"]
fn make_sample_payroll_xlsx() {
    let mut reader = csv::Reader::from_path(sample("payroll.csv")).unwrap();
    let mut sheet = Sheet::new("Payroll December 2026").row(
        1,
        [
            "Staff No",
            "First Name",
            "Last Name",
            "Phone Number",
            "Net Pay",
            "Currency",
            "Narration",
        ]
        .map(text)
        .to_vec(),
    );
    for (i, record) in reader.records().enumerate() {
        let r = record.unwrap();
        let number = |at: usize| Cell::Number(r[at].parse::<f64>().unwrap());
        sheet = sheet.row(
            i as u32 + 2,
            vec![
                text(&r[0]),
                text(&r[4]),
                text(&r[5]),
                number(1),
                number(2),
                text(&r[3]),
                text("Salary December 2026"),
            ],
        );
    }
    write_xlsx(&sample("payroll.xlsx"), &[sheet]);
}

#[test]
fn the_sample_workbook_is_clean_for_rohopay() {
    let out = validate(&sample("payroll.xlsx"), &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        (report["rows"].as_u64(), report["valid"].as_u64()),
        (Some(50), Some(50))
    );
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert_eq!(report["totals"]["UGX"], "62350000");
}
