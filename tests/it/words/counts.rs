//! The numbers in `validate`'s headers are the lengths of the lists under them, for every
//! sample: "Problems (N)" and "Warnings (N)" count exactly the lines listed (plus any "... and
//! K more"), and the Summary's warnings line agrees.

use crate::support::pay::{code, text};
use crate::support::{payrun, sample};

/// (header count, listed items) of the section starting with `title`.
fn section(stdout: &str, title: &str) -> Option<(u64, u64)> {
    let mut lines = stdout.lines();
    let header = lines.find(|l| l.starts_with(title))?;
    let count = header
        .trim_start_matches(title)
        .trim_start_matches(" (")
        .trim_end_matches("):")
        .parse()
        .unwrap_or_else(|_| panic!("no count in {header:?}"));
    let mut listed = 0;
    for line in lines.take_while(|l| l.starts_with("  ")) {
        listed += match line.trim().strip_prefix("... and ") {
            Some(rest) => rest.split(' ').next().unwrap().parse::<u64>().unwrap(),
            None => 1,
        };
    }
    Some((count, listed))
}

#[test]
fn every_sample_counts_what_it_lists() {
    // The bad samples have invalid rows (exit 1); the good ones have none (exit 0).
    for (name, provider, exit) in [
        ("bad-rows.csv", "rohopay", 1),
        ("bad-commissions.csv", "rumbapay", 1),
        ("payroll.csv", "rohopay", 0),
        ("commissions.csv", "rumbapay", 0),
    ] {
        let out = payrun()
            .args([
                "validate",
                sample(name).to_str().unwrap(),
                "--provider",
                provider,
            ])
            .output()
            .unwrap();
        assert_eq!(code(&out), exit, "{name}: {}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut warnings = 0;
        for title in ["Problems", "Warnings"] {
            if let Some((count, listed)) = section(&stdout, title) {
                assert_eq!(count, listed, "{name}: {title}\n{stdout}");
                if title == "Warnings" {
                    warnings = count;
                }
            }
        }
        let summary = stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("warnings"))
            .unwrap_or_else(|| panic!("{name}: no warnings line\n{stdout}"));
        assert_eq!(
            summary.trim().parse::<u64>().unwrap(),
            warnings,
            "{name}\n{stdout}"
        );

        let json = payrun()
            .args([
                "validate",
                sample(name).to_str().unwrap(),
                "--provider",
                provider,
            ])
            .args(["--format", "json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(
            json["warnings"].as_array().map(|w| w.len() as u64),
            Some(warnings),
            "{name}: {json}"
        );
    }
}
