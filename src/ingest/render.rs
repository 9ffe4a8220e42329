//! The two faces of a [`Summary`]: a readable report for the clerk (problems first, warnings
//! grouped so a thousand normalised phones do not bury the one real problem, then the counts
//! and totals) and one JSON object for scripts.

use std::{
    collections::{BTreeMap, HashMap},
    io::{self, Write},
};

use serde::Serialize;

use super::{RowError, Summary, Warning, WarningKind, outcome::WARNINGS_KEPT_PER_KIND};
use crate::domain::format_major;

/// Warnings of one kind shown in text before the rest are counted.
const WARNINGS_SHOWN_PER_KIND: u64 = 10;

/// `{"rows","valid","invalid","warnings","totals","errors"}`, totals in major units as strings.
#[derive(Serialize)]
struct Report<'a> {
    rows: u64,
    valid: u64,
    invalid: u64,
    warnings: Vec<&'a Warning>,
    totals: BTreeMap<&'static str, String>,
    /// Per currency and operator, for files that name operators (Rumbapay).
    operators: Vec<OperatorLine>,
    errors: &'a [RowError],
}

#[derive(Serialize)]
struct OperatorLine {
    currency: &'static str,
    operator: &'static str,
    rows: u64,
    total: String,
}

/// The summary as one JSON object (no trailing newline). Kinds with more warnings than were
/// kept end with one more entry saying how many are not listed.
pub fn render_json(summary: &Summary) -> String {
    let omitted: Vec<Warning> = summary
        .warnings_omitted()
        .map(|(kind, n)| Warning {
            line: None,
            column: None,
            value: None,
            message: format!("... and {n} more {} not listed", kind.label()),
            kind,
        })
        .collect();
    let report = Report {
        rows: summary.rows,
        valid: summary.valid,
        invalid: summary.invalid,
        warnings: summary.warnings.iter().chain(&omitted).collect(),
        totals: summary
            .totals
            .iter()
            .map(|(currency, total)| (currency.code(), format_major(*total, *currency)))
            .collect(),
        operators: summary
            .operators
            .iter()
            .map(|((currency, operator), tally)| OperatorLine {
                currency: currency.code(),
                operator,
                rows: tally.rows,
                total: format_major(tally.total, *currency),
            })
            .collect(),
        errors: &summary.errors,
    };
    // Serialising plain strings and numbers cannot fail; fall back to a valid object anyway.
    serde_json::to_string(&report).unwrap_or_else(|err| {
        serde_json::json!({ "error": format!("cannot render the report: {err}") }).to_string()
    })
}

/// The readable report: every problem with its line, warnings (at most ten of each kind, then a
/// count), then rows/valid/invalid/warnings and the total per currency.
pub fn render_text(summary: &Summary, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
    if !summary.errors.is_empty() {
        writeln!(out, "Problems ({}):", summary.errors.len())?;
        for error in &summary.errors {
            writeln!(out, "  {error}")?;
        }
        writeln!(out)?;
    }
    if !summary.warnings.is_empty() {
        writeln!(out, "Warnings ({}):", summary.warnings_total())?;
        let mut shown: HashMap<WarningKind, u64> = HashMap::new();
        for warning in &summary.warnings {
            let count = shown.entry(warning.kind).or_default();
            *count += 1;
            if *count <= WARNINGS_SHOWN_PER_KIND {
                writeln!(out, "  {warning}")?;
            }
        }
        for (kind, total) in &summary.warning_counts {
            if *total > WARNINGS_SHOWN_PER_KIND {
                writeln!(
                    out,
                    "  ... and {} more {} (--format json lists the first {WARNINGS_KEPT_PER_KIND} of each kind)",
                    total - WARNINGS_SHOWN_PER_KIND,
                    kind.label()
                )?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "Summary:")?;
    writeln!(out, "  rows      {}", summary.rows)?;
    writeln!(out, "  valid     {}", summary.valid)?;
    writeln!(out, "  invalid   {}", summary.invalid)?;
    writeln!(out, "  warnings  {}", summary.warnings_total())?;
    if summary.totals.is_empty() {
        writeln!(out, "  total     nothing to pay")?;
    }
    for (currency, total) in &summary.totals {
        let rows = summary.counts.get(currency).copied().unwrap_or(0);
        writeln!(
            out,
            "  total     {currency} {} ({rows} {})",
            format_major(*total, *currency),
            if rows == 1 { "row" } else { "rows" }
        )?;
    }
    for ((currency, operator), tally) in &summary.operators {
        writeln!(
            out,
            "  operator  {currency} {operator} {} ({} {})",
            format_major(tally.total, *currency),
            tally.rows,
            if tally.rows == 1 { "row" } else { "rows" }
        )?;
    }
    writeln!(out)?;
    if summary.is_clean() {
        writeln!(out, "OK: every row is valid.")?;
    } else if summary.invalid > 0 {
        writeln!(
            out,
            "NOT READY: {} {} must be fixed before paying (see Problems above).",
            summary.invalid,
            if summary.invalid == 1 { "row" } else { "rows" }
        )?;
    } else if summary
        .errors
        .iter()
        .any(|e| e.line.is_none() && e.column == "total")
    {
        writeln!(
            out,
            "NOT READY: a total is too large to pay in one batch (see Problems above)."
        )?;
    } else {
        writeln!(
            out,
            "NOT READY: the control figures do not match (see Problems above)."
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn summary() -> Summary {
        let mut s = Summary {
            rows: 3,
            valid: 2,
            invalid: 1,
            ..Summary::default()
        };
        s.totals.insert(Currency::UGX, 25_000);
        s.counts.insert(Currency::UGX, 1);
        s.totals.insert(Currency::KES, 250_050);
        s.counts.insert(Currency::KES, 1);
        s.operators.insert(
            (Currency::KES, "mpesa"),
            crate::ingest::OperatorTotal {
                rows: 1,
                total: 250_050,
            },
        );
        s.errors
            .push(RowError::at(17, "phone", "2.567E+11", "looks mangled"));
        for line in 2..30 {
            s.warn(Warning {
                line: Some(line),
                column: Some("phone".into()),
                value: Some("0700123456".into()),
                message: "normalised \"0700123456\" to 256700123456".into(),
                kind: WarningKind::PhoneNormalised,
            });
        }
        s
    }

    #[test]
    fn json_has_exactly_the_agreed_keys_and_major_unit_totals() {
        let value: serde_json::Value = serde_json::from_str(&render_json(&summary())).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "errors",
                "invalid",
                "operators",
                "rows",
                "totals",
                "valid",
                "warnings"
            ]
        );
        assert_eq!(
            value["operators"],
            serde_json::json!([{"currency": "KES", "operator": "mpesa", "rows": 1, "total": "2500.50"}])
        );
        assert_eq!(value["totals"]["UGX"], "25000");
        assert_eq!(value["totals"]["KES"], "2500.50");
        assert_eq!(value["errors"][0]["line"], 17);
        assert_eq!(value["errors"][0]["column"], "phone");
        assert_eq!(value["warnings"].as_array().unwrap().len(), 28);
    }

    #[test]
    fn text_lists_problems_groups_warnings_and_totals() {
        let mut out = Vec::new();
        render_text(&summary(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("  line 17, phone \"2.567E+11\": looks mangled"),
            "{text}"
        );
        assert_eq!(text.matches("normalised \"0700123456\"").count(), 10);
        assert!(
            text.contains("... and 18 more normalised phone numbers"),
            "{text}"
        );
        assert!(text.contains("total     UGX 25000 (1 row)"), "{text}");
        assert!(text.contains("total     KES 2500.50 (1 row)"), "{text}");
        assert!(
            text.contains("operator  KES mpesa 2500.50 (1 row)"),
            "{text}"
        );
        assert!(text.contains("NOT READY: 1 row"), "{text}");
    }
}
