//! Payout files generated from a seed for the exactly-once trials, and what paying them must
//! produce. The expectation (identity, idempotency key, phone, amount in minor units) is
//! computed here from the generated rows and the key rules (README, "Keys and identity") alone, never read back from payrun, so
//! a planner that drops, merges or re-keys a row is caught rather than trusted.

use crate::support::csv::{Line, payee_file};
use crate::support::money::major_text;
use std::path::Path;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// payrun's idempotency-key namespace as documented in `src/batch/keys.rs`. Hard-coded on purpose:
/// if it ever changed, every batch planned before would be re-keyed, and this suite says so.
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x25b3d957_9bf9_59c5_a2c5_f8c30e836bf0);

/// A currency the trials pay in, with what a valid row of it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cur {
    pub code: &'static str,
    pub dialling: &'static str,
    pub decimals: u32,
    pub operators: &'static [&'static str],
}

pub const UGX: Cur = Cur {
    code: "UGX",
    dialling: "256",
    decimals: 0,
    operators: &[""],
};
pub const KES: Cur = Cur {
    code: "KES",
    dialling: "254",
    decimals: 2,
    operators: &["mpesa", "airtel"],
};
pub const TZS: Cur = Cur {
    code: "TZS",
    dialling: "255",
    decimals: 2,
    operators: &["vodacom", "tigo"],
};

/// Currencies of a provider that this suite mixes in one file.
pub fn currencies(provider: &str) -> &'static [Cur] {
    match provider {
        "rohopay" => &[UGX, KES],
        _ => &[KES, TZS],
    }
}

/// One data row of a generated file.
#[derive(Clone, Debug)]
pub struct Row {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// `None` = empty cell, or no reference column at all.
    pub reference: Option<String>,
    /// International digits, as payrun normalises them.
    pub phone: String,
    /// The phone cell as written (`+`, spaces and all).
    pub phone_cell: String,
    /// The amount cell as written, in major units.
    pub amount_cell: String,
    pub amount_minor: u64,
    pub cur: Cur,
    pub operator: &'static str,
    /// False for rows written to be rejected (only with `--skip-invalid`).
    pub valid: bool,
}

/// A generated payout file.
#[derive(Clone, Debug)]
pub struct PayFile {
    pub reference_column: bool,
    pub rows: Vec<Row>,
}

/// What paying one valid row must lead to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub line: u64,
    pub identity: String,
    pub key: String,
    pub phone: String,
    pub amount_minor: u64,
    pub currency: String,
}

/// Key scheme 2 (README, "Keys and identity"): UUIDv5 of the namespace over the length-prefixed (8 bytes,
/// big-endian) fields "payrun-key/2", batch id, identity kind ("r" for a reference, "d" for an
/// identity derived from phone, amount and currency) and identity. Written here from the
/// description, not shared with payrun's code.
pub fn idempotency_key(batch_id: &str, identity: &str) -> String {
    key_of(batch_id, !is_derived(identity), identity)
}

/// The key of a row whose identity is (`reference`) or is not the file's reference.
pub fn key_of(batch_id: &str, reference: bool, identity: &str) -> String {
    let mut name = Vec::new();
    for field in [
        "payrun-key/2",
        batch_id,
        if reference { "r" } else { "d" },
        identity,
    ] {
        name.extend_from_slice(&(field.len() as u64).to_be_bytes());
        name.extend_from_slice(field.as_bytes());
    }
    Uuid::new_v5(&KEY_NAMESPACE, &name).to_string()
}

/// Whether an identity has the derived shape `phone|amount|currency|n`.
fn is_derived(identity: &str) -> bool {
    identity.split('|').count() == 4
}

/// A national number of 9 digits starting with 7 that the simulator treats as an ordinary
/// payee (it fails numbers ending in 0000 and never settles those ending in 0099).
fn national(rng: &mut ChaCha8Rng) -> String {
    loop {
        let n = format!("7{:08}", rng.random_range(0..100_000_000u32));
        if !n.ends_with("0000") && !n.ends_with("0099") {
            return n;
        }
    }
}

fn write_amount(rng: &mut ChaCha8Rng, minor: u64, cur: Cur) -> String {
    if cur.decimals == 0 {
        return minor.to_string();
    }
    let (int, frac) = (minor / 100, minor % 100);
    match (frac, rng.random_range(0..3u8)) {
        (0, 0) => int.to_string(),
        (f, 1) if f % 10 == 0 => format!("{int}.{}", f / 10),
        _ => format!("{int}.{frac:02}"),
    }
}

fn write_phone(rng: &mut ChaCha8Rng, cur: Cur, national: &str) -> String {
    match rng.random_range(0..4u8) {
        0 => format!("+{}{national}", cur.dialling),
        1 => format!(
            "+{} {} {} {}",
            cur.dialling,
            &national[..3],
            &national[3..6],
            &national[6..]
        ),
        _ => format!("{}{national}", cur.dialling),
    }
}

/// A row written to be invalid: a spreadsheet-mangled phone, a thousands separator, a
/// currency the provider does not pay in.
fn invalid_row(rng: &mut ChaCha8Rng, line: u64, reference: Option<String>, cur: Cur) -> Row {
    let (phone_cell, amount_cell, cur) = match rng.random_range(0..3u8) {
        0 => ("2.567E+11".to_string(), "5000".to_string(), cur),
        1 => (
            format!("{}{}", cur.dialling, national(rng)),
            "\"12,00\"".to_string(), // ambiguous: 12.00 or 1200?
            cur,
        ),
        _ => (
            format!("{}{}", cur.dialling, national(rng)),
            "5000".to_string(),
            Cur { code: "USD", ..cur },
        ),
    };
    Row {
        line,
        reference,
        phone: String::new(),
        phone_cell,
        amount_cell,
        amount_minor: 0,
        cur,
        operator: cur.operators[0],
        valid: false,
    }
}

impl PayFile {
    /// `n` rows for `provider`: mixed currencies, some repeated payments (same phone, amount
    /// and currency again: a second payment, not a duplicate), references present, empty or
    /// absent, and `invalid` rows meant to be rejected.
    pub fn generate(
        rng: &mut ChaCha8Rng,
        provider: &'static str,
        n: usize,
        invalid: usize,
    ) -> PayFile {
        let reference_column = rng.random_bool(0.6);
        let curs = currencies(provider);
        let mut rows: Vec<Row> = Vec::with_capacity(n + invalid);
        let mut invalid_left = invalid;
        for i in 0..n + invalid {
            let line = i as u64 + 2;
            let reference = (reference_column && rng.random_bool(0.85))
                .then(|| format!("P{:05}-{i}", rng.random_range(0..100_000u32)));
            let remaining = n + invalid - i;
            if invalid_left > 0 && rng.random_range(0..remaining) < invalid_left {
                invalid_left -= 1;
                let cur = curs[rng.random_range(0..curs.len())];
                rows.push(invalid_row(rng, line, reference, cur));
                continue;
            }
            let earlier: Vec<&Row> = rows.iter().filter(|r| r.valid).collect();
            if !earlier.is_empty() && rng.random_bool(0.15) {
                let again = earlier[rng.random_range(0..earlier.len())].clone();
                let phone_cell =
                    write_phone(rng, again.cur, &again.phone[again.cur.dialling.len()..]);
                rows.push(Row {
                    line,
                    reference,
                    phone_cell,
                    ..again
                });
                continue;
            }
            let cur = curs[rng.random_range(0..curs.len())];
            let national = national(rng);
            let amount_minor = match cur.decimals {
                // RohoPay's documented minimum is 1000 UGX.
                0 => rng.random_range(2..500u64) * 500,
                _ => rng.random_range(10_000..5_000_000u64),
            };
            rows.push(Row {
                line,
                reference,
                phone: format!("{}{national}", cur.dialling),
                phone_cell: write_phone(rng, cur, &national),
                amount_cell: write_amount(rng, amount_minor, cur),
                amount_minor,
                cur,
                operator: cur.operators[rng.random_range(0..cur.operators.len())],
                valid: true,
            });
        }
        PayFile {
            reference_column,
            rows,
        }
    }

    /// `n` distinct payees in one currency (UGX for RohoPay, KES for Rumbapay), with or
    /// without a reference column: for scenarios that edit a known row.
    pub fn simple(provider: &'static str, n: usize, references: bool) -> PayFile {
        let cur = currencies(provider)[0];
        let rows = (0..n)
            .map(|i| {
                let national = format!("7{:08}", 10_001 + i * 7);
                let amount_minor = 1_000_000 + i as u64 * 1_500;
                Row {
                    line: i as u64 + 2,
                    reference: references.then(|| format!("EMP-{i:03}")),
                    phone: format!("{}{national}", cur.dialling),
                    phone_cell: format!("{}{national}", cur.dialling),
                    amount_cell: major_text(amount_minor, cur.code),
                    amount_minor,
                    cur,
                    operator: cur.operators[0],
                    valid: true,
                }
            })
            .collect();
        PayFile {
            reference_column: references,
            rows,
        }
    }

    /// Change the amount of the row at `index`, as a clerk editing the file would.
    pub fn set_amount(&mut self, index: usize, amount_minor: u64) {
        let row = &mut self.rows[index];
        row.amount_minor = amount_minor;
        row.amount_cell = major_text(amount_minor, row.cur.code);
    }

    /// The file's text: header, then one line per row.
    pub fn csv(&self) -> String {
        payee_file(
            self.reference_column,
            "\n",
            self.rows.iter().map(|r| Line {
                reference: r.reference.as_deref(),
                phone: &r.phone_cell,
                amount: &r.amount_cell,
                currency: r.cur.code,
                operator: r.operator,
            }),
        )
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.csv()).expect("write the payout file");
    }

    /// Every valid row with its identity and key in `batch_id`. A row without a reference is
    /// `phone|amount_minor|currency|n`, n counting earlier valid rows with the same triple.
    pub fn expected(&self, batch_id: &str) -> Vec<Expected> {
        let mut out = Vec::new();
        for (i, r) in self.rows.iter().enumerate().filter(|(_, r)| r.valid) {
            let identity = match &r.reference {
                Some(reference) => reference.clone(),
                None => {
                    let n = self.rows[..i]
                        .iter()
                        .filter(|e| {
                            e.valid
                                && e.phone == r.phone
                                && e.amount_minor == r.amount_minor
                                && e.cur == r.cur
                        })
                        .count();
                    format!("{}|{}|{}|{n}", r.phone, r.amount_minor, r.cur.code)
                }
            };
            out.push(Expected {
                line: r.line,
                key: key_of(batch_id, r.reference.is_some(), &identity),
                identity,
                phone: r.phone.clone(),
                amount_minor: r.amount_minor,
                currency: r.cur.code.to_string(),
            });
        }
        out
    }

    pub fn invalid_lines(&self) -> Vec<u64> {
        self.rows
            .iter()
            .filter(|r| !r.valid)
            .map(|r| r.line)
            .collect()
    }

    /// Rows paid more than once on purpose (same phone, amount and currency as an earlier row).
    pub fn repeats(&self) -> usize {
        let valid: Vec<&Row> = self.rows.iter().filter(|r| r.valid).collect();
        valid
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                valid[..*i].iter().any(|e| {
                    e.phone == r.phone && e.amount_minor == r.amount_minor && e.cur == r.cur
                })
            })
            .count()
    }
}
