//! Rendering batch figures for people: per-state counts and per-currency totals in major
//! units, used by the pre-flight summary, the final summary and `status`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::batch::send::RunCounts;
use crate::domain::RowState;
use crate::domain::{Currency, format_major};
use crate::journal::{Approval, AttentionRow, Batch, StateCount};

/// Major-unit text for a currency code as stored; unknown codes (rejected rows) show minor units.
pub fn major(amount_minor: u128, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => format_major(amount_minor, c),
        Err(_) => amount_minor.to_string(),
    }
}

pub use crate::domain::grouped;

/// The line after sending: what this run did, each figure by its name and from the journal's
/// outcomes, the rate over the rows actually sent (none when nothing was):
/// `Sent 48 payout(s) in 4.8 s (10.0/s achieved, 50 HTTP requests): 47 accepted (45
/// succeeded, 2 pending), 0 failed, 1 in doubt; 2 not sent (still open, resume sends them)`.
pub fn run_line(c: &RunCounts, elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if c.sent > 0 && secs > 0.0 {
        format!("{:.1}/s achieved, ", c.sent as f64 / secs)
    } else {
        String::new()
    };
    let mut line = format!(
        "Sent {} payout(s) in {secs:.1} s ({rate}{} HTTP requests): {} accepted ({} succeeded, {} pending), {} failed, {} in doubt",
        c.sent,
        c.requests,
        c.accepted(),
        c.succeeded,
        c.pending,
        c.failed,
        c.in_doubt
    );
    if c.not_sent > 0 {
        line.push_str(&format!(
            "; {} not sent (still open, resume sends them)",
            c.not_sent
        ));
    }
    line
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
    /// Rows that need a person: an answer or callback contradicted the request.
    pub attention: u64,
    /// The first of them, in file order (one batch's status only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention_rows: Option<Vec<AttentionRow>>,
    /// How many of them `attention_rows` leaves out (`payrun report` lists all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention_not_listed: Option<u64>,
    pub created_at: String,
    pub updated_at: String,
    /// Who approved the batch (README "Approvals"), recorded when sending started.
    pub approvals: Vec<Approval>,
    /// Rows on each attempt after the first (`payrun retry`): `{"2": 3}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub retried: BTreeMap<String, u64>,
    /// How the batch's last run ended (`status` only; `null` when none was recorded).
    pub last_run: Option<super::next_step::LastRunView>,
    /// The exact command to run next (`status` only; `null` when there is nothing to do).
    pub next: Option<String>,
    /// What `status` says in the place of a next command when there is none.
    #[serde(skip)]
    pub next_text: Option<String>,
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
                let trusted = c.amount_minor.saturating_sub(c.contested_minor);
                *paid.entry(c.currency.clone()).or_default() += trusted;
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
            attention: 0,
            attention_rows: None,
            attention_not_listed: None,
            created_at: crate::journal::format_ms(batch.created_at),
            updated_at: crate::journal::format_ms(batch.updated_at),
            approvals: Vec::new(),
            retried: BTreeMap::new(),
            last_run: None,
            next: None,
            next_text: None,
        }
    }

    /// With the approvals the batch was paid under.
    pub fn with_approvals(mut self, approvals: Vec<Approval>) -> BatchFigures {
        self.approvals = approvals;
        self
    }

    /// `approved by alice@corp, bob@corp`, or nothing without approvals.
    pub fn approvers(&self) -> Option<String> {
        let mut who: Vec<&str> = Vec::new();
        for a in &self.approvals {
            if !who.contains(&a.principal.as_str()) {
                who.push(&a.principal);
            }
        }
        (!who.is_empty()).then(|| format!("approved by {}", who.join(", ")))
    }

    /// With the number of rows that need a person and, for one batch's status, the first of
    /// them (`rows`, at most as many as the caller chose to read).
    pub fn with_attention(mut self, count: u64, rows: Option<Vec<AttentionRow>>) -> BatchFigures {
        self.attention = count;
        if let Some(rows) = rows {
            self.attention_not_listed = Some(count.saturating_sub(rows.len() as u64));
            self.attention_rows = Some(rows);
        }
        self
    }

    pub fn count(&self, state: RowState) -> u64 {
        self.states.get(state.as_str()).copied().unwrap_or(0)
    }

    /// Every row reached a good state (accepted or succeeded), nothing conflicts and no row
    /// needs a person.
    pub fn all_good(&self) -> bool {
        self.conflicts == 0
            && self.attention == 0
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
        if self.attention > 0 {
            out.push_str(&self.attention_text());
        }
        for a in &self.approvals {
            out.push_str(&format!("  approved by {}\n", a.text()));
        }
        if !self.retried.is_empty() {
            let parts: Vec<String> = self
                .retried
                .iter()
                .map(|(attempt, rows)| format!("{rows} on attempt {attempt}"))
                .collect();
            out.push_str(&format!(
                "  retried (`payrun retry`): {} row(s): {}\n",
                self.retried.values().sum::<u64>(),
                parts.join(", ")
            ));
        }
        if let Some(run) = &self.last_run {
            out.push_str(&format!("  last run: {}\n", run.text));
        }
        match (&self.next, &self.next_text) {
            (Some(next), _) => out.push_str(&format!("  next: {next}\n")),
            (None, Some(text)) => out.push_str(&format!("  next: {text}\n")),
            (None, None) => {}
        }
        out
    }

    /// The rows that need a person, for `status BATCH`: the count, the listed rows, the rest.
    fn attention_text(&self) -> String {
        let mut out = format!(
            "  {} row(s) need a person: a provider answer contradicted the request or itself; check each \
             with the provider before paying it again\n",
            self.attention
        );
        for r in self.attention_rows.iter().flatten() {
            out.push_str(&format!("    {}\n", attention_line(r)));
        }
        match self.attention_not_listed {
            Some(more) if more > 0 => out.push_str(&format!(
                "    ... and {more} more: `payrun report {}` lists them all (column attention)\n",
                self.batch
            )),
            _ => {}
        }
        out
    }

    /// The `states` column of the table of batches: the states, then the rows that need a
    /// person, if any.
    pub fn states_and_attention(&self) -> String {
        if self.attention == 0 {
            self.states_line()
        } else {
            format!("{}; {} need a person", self.states_line(), self.attention)
        }
    }
}

/// `line 3 EMP-0001 (failed): <the note>`: one row that needs a person.
pub fn attention_line(r: &AttentionRow) -> String {
    format!(
        "line {} {} ({}): {}",
        r.line,
        r.reference.as_deref().unwrap_or("-"),
        r.state,
        printable(&r.reason)
    )
}

/// `text` with control characters (a provider's words may carry any) shown as `?`, so a note
/// cannot move the cursor or clear the operator's terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_line_names_each_figure_and_rates_only_what_was_sent() {
        let idle = RunCounts {
            open: 4,
            not_sent: 4,
            requests: 4,
            ..RunCounts::default()
        };
        assert_eq!(
            run_line(&idle, std::time::Duration::from_millis(5)),
            "Sent 0 payout(s) in 0.0 s (4 HTTP requests): 0 accepted (0 succeeded, 0 pending), \
             0 failed, 0 in doubt; 4 not sent (still open, resume sends them)"
        );
        let busy = RunCounts {
            open: 160,
            sent: 156,
            succeeded: 150,
            pending: 6,
            not_sent: 4,
            requests: 156,
            ..RunCounts::default()
        };
        let line = run_line(&busy, std::time::Duration::from_secs(10));
        assert!(
            line.starts_with(
                "Sent 156 payout(s) in 10.0 s (15.6/s achieved, 156 HTTP requests): 156 accepted"
            ),
            "{line}"
        );
        assert!(
            line.ends_with("; 4 not sent (still open, resume sends them)"),
            "{line}"
        );
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped("62350000"), "62,350,000");
        assert_eq!(grouped("1520.50"), "1,520.50");
        assert_eq!(grouped("999"), "999");
        assert_eq!(grouped("1000"), "1,000");
        assert_eq!(grouped("0.05"), "0.05");
    }

    #[test]
    fn notes_are_printed_without_control_characters() {
        assert_eq!(printable("ok \u{1b}[2J\nnext"), "ok ?[2J?next");
        let row = AttentionRow {
            line: 3,
            reference: None,
            state: RowState::Failed,
            reason: "callback successful".into(),
            provider_id: None,
            key: None,
        };
        assert_eq!(
            attention_line(&row),
            "line 3 - (failed): callback successful"
        );
    }
}
