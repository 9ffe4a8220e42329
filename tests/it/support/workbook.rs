//! Workbooks written by a real spreadsheet library (rust_xlsxwriter) for the tests: typed
//! cells (numbers, dates, formulas with their saved results, spreadsheet errors), several
//! sheets, hidden rows.

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

/// One cell as a clerk's spreadsheet holds it.
#[derive(Clone, Debug)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A formula and the result saved with it (`#DIV/0!` is saved as an error cell).
    Formula(String, String),
    /// A date, formatted as one.
    Date(u16, u8, u8),
    Blank,
}

pub fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

pub fn num(n: f64) -> Cell {
    Cell::Number(n)
}

pub fn formula(f: &str, result: &str) -> Cell {
    Cell::Formula(f.to_string(), result.to_string())
}

/// One sheet: rows by their 1-based row number as the spreadsheet shows it.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<(u32, Vec<Cell>)>,
    /// 1-based numbers of hidden rows.
    pub hidden_rows: Vec<u32>,
}

impl Sheet {
    pub fn new(name: &str) -> Sheet {
        Sheet {
            name: name.to_string(),
            ..Sheet::default()
        }
    }

    /// Add `cells` as row `row` (1-based).
    pub fn row(mut self, row: u32, cells: Vec<Cell>) -> Sheet {
        self.rows.push((row, cells));
        self
    }

    pub fn hide_row(mut self, row: u32) -> Sheet {
        self.hidden_rows.push(row);
        self
    }
}

/// Write `sheets`, in order, as an .xlsx workbook at `path`.
pub fn write_xlsx(path: &Path, sheets: &[Sheet]) {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for spec in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(&spec.name).unwrap();
        for (row, cells) in &spec.rows {
            let r = row - 1;
            for (c, cell) in cells.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s).unwrap();
                    }
                    Cell::Number(n) => {
                        sheet.write_number(r, c, *n).unwrap();
                    }
                    Cell::Formula(f, result) => {
                        let f = Formula::new(f).set_result(result);
                        sheet.write_formula(r, c, f).unwrap();
                    }
                    Cell::Date(y, m, d) => {
                        let day = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        sheet.write_datetime_with_format(r, c, day, &date).unwrap();
                    }
                    Cell::Blank => {}
                }
            }
        }
        for row in &spec.hidden_rows {
            sheet.set_row_hidden(row - 1).unwrap();
        }
    }
    book.save(path).unwrap();
}

/// The header of the payroll sheets: names as clerks write them, matched through aliases.
fn header() -> Vec<Cell> {
    ["Staff No", "Name", "Phone", "Net Pay", "Currency", "Notes"]
        .map(text)
        .to_vec()
}

/// A payroll sheet with every kind of trouble a typed sheet can hold. Row 1 is blank (the
/// header is row 2); row 7 is blank; row 9 is hidden. Valid: rows 3, 4 and 9.
pub fn troubled_payroll() -> Sheet {
    Sheet::new("Payroll")
        .row(2, header())
        .row(
            3,
            vec![
                text("EMP-001"),
                text("Ronald Nabirye"),
                num(256_775_881_399.0),
                num(1_400_000.0),
                text("UGX"),
            ],
        )
        .row(
            4,
            vec![
                num(1002.0),
                text("Moses Kyomuhendo"),
                num(254_712_345_678.0),
                num(1234.56),
                text("KES"),
            ],
        )
        .row(
            5,
            vec![
                text("EMP-003"),
                text("Lost Zero"),
                num(772_123_456.0),
                num(50_000.0),
                text("UGX"),
            ],
        )
        .row(
            6,
            vec![
                text("EMP-004"),
                text("Broken Formula"),
                num(256_759_730_911.0),
                formula("=1/0", "#DIV/0!"),
                text("UGX"),
            ],
        )
        .row(
            8,
            vec![
                text("EMP-005"),
                text("Date Amount"),
                num(256_759_730_912.0),
                Cell::Date(2026, 11, 30),
                text("UGX"),
            ],
        )
        .row(
            9,
            vec![
                text("EMP-006"),
                text("Hidden Row"),
                num(256_759_730_913.0),
                num(75_000.0),
                text("UGX"),
                text("row hidden in the sheet"),
            ],
        )
        .hide_row(9)
        .row(
            10,
            vec![
                text("EMP-007"),
                text("Unrounded Sum"),
                num(254_712_345_679.0),
                formula("=0.1+0.2", "0.30000000000000004"),
                text("KES"),
            ],
        )
        .row(
            11,
            vec![
                text("Total"),
                Cell::Blank,
                Cell::Blank,
                formula("=SUM(D3:D10)", "1526234.86"),
            ],
        )
}

/// A second sheet with two valid rows.
pub fn bonus() -> Sheet {
    Sheet::new("Bonus")
        .row(
            1,
            ["reference", "phone", "amount", "currency"]
                .map(text)
                .to_vec(),
        )
        .row(
            2,
            vec![
                text("B-1"),
                num(256_700_111_222.0),
                num(5000.0),
                text("UGX"),
            ],
        )
        .row(
            3,
            vec![
                text("B-2"),
                num(254_700_111_223.0),
                num(2500.5),
                text("KES"),
            ],
        )
}

/// One row of [`valid_payroll`] as it must be paid.
#[derive(Clone, Debug)]
pub struct PaidRow {
    pub line: u64,
    pub reference: String,
    pub phone: String,
    pub amount_minor: u64,
    pub currency: &'static str,
}

/// What [`valid_payroll`]`(n)` pays: row `i` is on line `i + 2`; every third reference is a
/// number (read as its digits); even rows are UGX, odd rows KES with cents.
pub fn valid_payroll_rows(n: u32) -> Vec<PaidRow> {
    (0..u64::from(n))
        .map(|i| {
            let reference = if i % 3 == 2 {
                (5000 + i).to_string()
            } else {
                format!("EMP-{i:03}")
            };
            let (phone, amount_minor, currency) = if i % 2 == 0 {
                (256_770_100_000 + i * 7 + 1, 100_000 + i * 500, "UGX")
            } else {
                (254_712_900_000 + i * 7 + 1, 100_000 + i * 1234, "KES")
            };
            PaidRow {
                line: i + 2,
                reference,
                phone: phone.to_string(),
                amount_minor,
                currency,
            }
        })
        .collect()
}

/// A valid payroll of `n` rows (see [`valid_payroll_rows`]): numeric phones, numeric amounts
/// (with cents in KES), numeric staff numbers on every third row.
pub fn valid_payroll(n: u32) -> Sheet {
    let mut sheet = Sheet::new("Payroll").row(1, header());
    for row in valid_payroll_rows(n) {
        let reference = match row.reference.parse::<u32>() {
            Ok(number) => num(f64::from(number)),
            Err(_) => text(&row.reference),
        };
        let amount = match row.currency {
            "UGX" => row.amount_minor as f64,
            // A cell typed as 1012.34: the f64 nearest to it, as a spreadsheet stores it.
            _ => format!("{}.{:02}", row.amount_minor / 100, row.amount_minor % 100)
                .parse()
                .unwrap(),
        };
        sheet = sheet.row(
            row.line as u32,
            vec![
                reference,
                text(&format!("Payee {}", row.line)),
                num(row.phone.parse::<u64>().unwrap() as f64),
                num(amount),
                text(row.currency),
            ],
        );
    }
    sheet
}
