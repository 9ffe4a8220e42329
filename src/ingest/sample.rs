//! Large valid payout files on demand (`payrun generate`, benchmarks, tests): unique
//! references, unique valid phones (never ending in the simulator's magic 0000 / 0099), real
//! operators and names for Rumbapay. The same seed always gives the same file.

use std::io::{self, BufWriter, Write};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::ProviderKind;

const FIRST_NAMES: [&str; 16] = [
    "Okello",
    "Namubiru",
    "Achieng",
    "Mugisha",
    "Nakato",
    "Tumusiime",
    "Atwine",
    "Kato",
    "Wanjiru",
    "Otieno",
    "Amani",
    "Neema",
    "Baraka",
    "Zawadi",
    "Juma",
    "Halima",
];
const LAST_NAMES: [&str; 16] = [
    "Ssemakula",
    "Babirye",
    "Mwangi",
    "Kamau",
    "Mushi",
    "Massawe",
    "Opio",
    "Nalwoga",
    "Njoroge",
    "Wekesa",
    "Kimaro",
    "Mrema",
    "Byaruhanga",
    "Akello",
    "Odhiambo",
    "Mollel",
];
/// First two national digits per wallet family (Uganda: MTN 77/78, Airtel 70/75).
const UG_PREFIXES: [&str; 4] = ["77", "78", "70", "75"];

/// Distinct phones available per two-digit prefix: 1000 × 9998 (last four digits avoid 0000
/// and 0099).
const PER_PREFIX: u64 = 1000 * 9998;

/// Write `rows` valid payee rows for `provider`, with a header. Rows are unique (reference and
/// phone) up to about 40 million rows for RohoPay and 20 million per currency for Rumbapay.
pub fn write_sample<W: Write>(
    out: W,
    provider: ProviderKind,
    rows: u64,
    seed: u64,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match provider {
        ProviderKind::Rohopay => {
            writeln!(
                out,
                "reference,phone,amount,currency,first_name,last_name,description"
            )?;
            for i in 0..rows {
                let phone = phone("256", &UG_PREFIXES, i, seed);
                let amount = rng.random_range(100..=10_000u32) * 500;
                let (first, last) = names(&mut rng);
                writeln!(
                    out,
                    "EMP-{:07},{phone},{amount},UGX,{first},{last},Salary November 2026",
                    i + 1
                )?;
            }
        }
        ProviderKind::Rumbapay => {
            writeln!(
                out,
                "reference,phone,amount,currency,operator,first_name,last_name,description"
            )?;
            for i in 0..rows {
                let (first, last) = names(&mut rng);
                let (phone, amount, currency, operator) = if i % 2 == 0 {
                    let operator = ["mpesa", "airtel"][rng.random_range(0..2)];
                    let prefix: &[&str] = if operator == "mpesa" {
                        &["72", "71"]
                    } else {
                        &["73", "78"]
                    };
                    let cents = rng.random_range(10_000..=5_000_000u64);
                    let amount = format!("{}.{:02}", cents / 100, cents % 100);
                    (phone("254", prefix, i / 2, seed), amount, "KES", operator)
                } else {
                    let operators = [
                        ("vodacom", ["75", "76"]),
                        ("tigo", ["65", "71"]),
                        ("halopesa", ["62", "61"]),
                        ("airtel", ["68", "69"]),
                    ];
                    let (operator, prefix) = operators[rng.random_range(0..operators.len())];
                    let amount = (rng.random_range(10..=2_000u64) * 500).to_string();
                    (phone("255", &prefix, i / 2, seed), amount, "TZS", operator)
                };
                writeln!(
                    out,
                    "AGT-{:07},{phone},{amount},{currency},{operator},{first},{last},Agent commission November 2026",
                    i + 1
                )?;
            }
        }
    }
    out.flush()
}

fn names(rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
    (
        FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
        LAST_NAMES[rng.random_range(0..LAST_NAMES.len())],
    )
}

/// The `index`-th distinct phone for a country code and prefixes: a bijection from index to
/// (prefix, three digits, four digits), shuffled by the seed, never ending in 0000 or 0099.
fn phone(code: &str, prefixes: &[&str], index: u64, seed: u64) -> String {
    let count = prefixes.len() as u64;
    let prefix = prefixes[(index % count) as usize];
    let k = (index / count) % PER_PREFIX;
    let low_index = ((k % 9998) * 7919 + seed % 9998) % 9998;
    let high = ((k / 9998) * 337 + seed % 1000) % 1000;
    let mut low = low_index + 1; // 1..=9998, never 0000
    if low >= 99 {
        low += 1; // skips 0099: 1..=98, 100..=9999
    }
    format!("{code}{prefix}{high:03}{low:04}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{IngestOptions, RowOutcome, ingest};

    fn generate(provider: ProviderKind, rows: u64, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_sample(&mut out, provider, rows, seed).unwrap();
        out
    }

    #[test]
    fn samples_are_valid_unique_and_warning_free() {
        for provider in [ProviderKind::Rohopay, ProviderKind::Rumbapay] {
            let data = generate(provider, 3000, 7);
            let mut valid = 0;
            let summary = ingest(&data[..], &IngestOptions::new(provider), |row| {
                if let RowOutcome::Valid(row) = row {
                    valid += 1;
                    assert_eq!(row.occurrence, 0);
                    let p = row.phone.international().to_string();
                    assert!(!p.ends_with("0000") && !p.ends_with("0099"), "{p}");
                }
            })
            .unwrap();
            assert_eq!((summary.rows, summary.valid, valid), (3000, 3000, 3000));
            assert!(summary.is_clean(), "{:?}", summary.errors.first());
            assert!(
                summary.warnings.is_empty(),
                "{:?}",
                summary.warnings.first()
            );
        }
    }

    #[test]
    fn same_seed_same_file() {
        assert_eq!(
            generate(ProviderKind::Rumbapay, 50, 3),
            generate(ProviderKind::Rumbapay, 50, 3)
        );
        assert_ne!(
            generate(ProviderKind::Rohopay, 50, 3),
            generate(ProviderKind::Rohopay, 50, 4)
        );
    }

    #[test]
    fn phones_are_a_bijection_avoiding_magic_endings() {
        let mut seen = std::collections::HashSet::new();
        for k in 0..20_000 {
            let p = phone("256", &["77"], k, 11);
            assert!(!p.ends_with("0000") && !p.ends_with("0099"), "{p}");
            assert!(seen.insert(p));
        }
    }
}
