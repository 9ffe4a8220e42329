//! Rendering batch figures for people: per-state counts and per-currency totals in major
//! units, used by the pre-flight summary, the final summary and `status`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{Currency, format_major};
use crate::journal::{Batch, RowState, StateCount};

/// Major-unit text for a currency code as stored; unknown codes (rejected rows) show minor units.
pub fn major(amount_minor: u128, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => format_major(amount_minor, c),
        Err(_) => amount_minor.to_string(),
    }
}

/// Thousands separators for people: `62350000` → `62,350,000`, `1520.50` → `1,520.50`.
pub fn grouped(amount: &str) -> String {
    let (int, frac) = amount
        .split_once('.')
        .map_or((amount, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(amount.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A batch's figures, in the shape `status --format json` prints.
#[derive(Debug, Serialize)]
pub struct BatchFigures {
    pub batch: String,
    pub provider: String,
    pub sandbox: bool,
    pub file: String,
    pub rows: u64,
    pub states: BTreeMap<&'static str, u64>,
    /// Major units per currency of every valid row.
    pub totals: BTreeMap<String, String>,
    /// Major units per currency of rows the provider has (accepted + succeeded).
    pub paid: BTreeMap<String, String>,
    pub conflicts: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl BatchFigures {
    pub fn new(batch: &Batch, counts: &[StateCount], conflicts: u64) -> BatchFigures {
        let mut states: BTreeMap<&'static str, u64> =
            RowState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        let mut totals: BTreeMap<String, u128> = BTreeMap::new();
        let mut paid: BTreeMap<String, u128> = BTreeMap::new();
        let mut rows = 0;
        for c in counts {
            rows += c.rows;
            *states.entry(c.state.as_str()).or_default() += c.rows;
            if c.state != RowState::Rejected {
                *totals.entry(c.currency.clone()).or_default() += c.amount_minor;
            }
            if c.state.is_good() {
                *paid.entry(c.currency.clone()).or_default() += c.amount_minor;
            }
        }
        let render = |m: BTreeMap<String, u128>| {
            m.into_iter()
                .map(|(cur, v)| {
                    let text = major(v, &cur);
                    (cur, text)
                })
                .collect()
        };
        BatchFigures {
            batch: batch.id.clone(),
            provider: batch.provider.name().to_string(),
            sandbox: batch.sandbox,
            file: batch.file_name.clone(),
            rows,
            states,
            totals: render(totals),
            paid: render(paid),
            conflicts,
            created_at: crate::journal::format_ms(batch.created_at),
            updated_at: crate::journal::format_ms(batch.updated_at),
        }
    }

    pub fn count(&self, state: RowState) -> u64 {
        self.states.get(state.as_str()).copied().unwrap_or(0)
    }

    /// Every row reached a good state (accepted or succeeded) and nothing conflicts.
    pub fn all_good(&self) -> bool {
        self.conflicts == 0
            && self.count(RowState::Accepted) + self.count(RowState::Succeeded) == self.rows
    }

    /// "50 succeeded, 2 accepted, 1 failed" — only the non-zero states.
    pub fn states_line(&self) -> String {
        let parts: Vec<String> = RowState::ALL
            .iter()
            .filter_map(|s| {
                let n = self.count(*s);
                (n > 0).then(|| format!("{n} {}", s.as_str().replace('_', " ")))
            })
            .collect();
        if parts.is_empty() {
            "no rows".into()
        } else {
            parts.join(", ")
        }
    }

    /// Readable multi-line block.
    pub fn text(&self) -> String {
        let mode = if self.sandbox {
            " (sandbox: simulated, no money moved)"
        } else {
            ""
        };
        let mut out = format!(
            "batch {} · {}{} · {}\n  rows {}: {}\n",
            self.batch,
            self.provider,
            mode,
            self.file,
            self.rows,
            self.states_line()
        );
        for (cur, total) in &self.totals {
            let paid = self.paid.get(cur).map_or("0", String::as_str);
            out.push_str(&format!(
                "  {cur} {} in the file, {} with the provider\n",
                grouped(total),
                grouped(paid)
            ));
        }
        if self.conflicts > 0 {
            out.push_str(&format!(
                "  {} conflict(s) from an edited file: see `payrun report {}`\n",
                self.conflicts, self.batch
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped("62350000"), "62,350,000");
        assert_eq!(grouped("1520.50"), "1,520.50");
        assert_eq!(grouped("999"), "999");
        assert_eq!(grouped("1000"), "1,000");
        assert_eq!(grouped("0.05"), "0.05");
    }
}
