//! The pre-flight on screen: what is about to be sent (rows, totals per currency in major units,
//! so a 100x unit mistake is visible, and the wallet balance against each; per operator where
//! the file names operators), the repeated payments with both line numbers, the warnings
//! validation gave, and the confirmation a person types before anything is sent.

use std::io::{IsTerminal, Write};

use super::summary::{grouped, major};
use crate::batch::endpoint::Destination;
use crate::batch::preflight::{BalanceCheck, Preflight};
use crate::exit::Refused;
use crate::ingest::{WarningKind, render_warnings};
use crate::journal::{Batch, Repeats};

/// Where payouts go, in words.
fn label(destination: &Destination) -> String {
    match destination {
        Destination::Sandbox(url) => {
            format!("SANDBOX: the built-in simulator at {url} (simulated, no money moves)")
        }
        Destination::TestKey(url) => format!("TEST mode key at {url}"),
        Destination::Live(url) => format!("LIVE at {url}"),
    }
}

/// Print the pre-flight of `batch`.
pub fn show(batch: &Batch, p: &Preflight) {
    outln!("Pre-flight for batch {} ({})", batch.id, batch.file_name);
    outln!("  provider: {} {}", batch.provider, label(&p.destination));
    outln!(
        "  to send:  {} payout(s); {} other row(s) already settled or rejected (see `payrun status`)",
        p.open,
        p.total_rows.saturating_sub(p.open)
    );
    for note in &p.notes {
        outln!("  WARNING: {note}");
    }
    show_repeats(&p.repeats);
    if let Some(summary) = &p.validation {
        let mut text = Vec::new();
        // Repeats are listed above, from the journal, with both lines.
        let _ = render_warnings(summary, &[WarningKind::RepeatedPayment], &mut text);
        for line in String::from_utf8_lossy(&text).lines() {
            outln!("  {line}");
        }
    }
    if let Some(approved) = &p.approved {
        outln!("{}", super::approval::preflight_line(approved));
    }
    for c in &p.currencies {
        let currency = &c.currency;
        let mut line = format!(
            "  {currency} {}",
            grouped(&major(c.planned + c.doubtful, currency))
        );
        if c.doubtful > 0 {
            line.push_str(&format!(
                " (of which {} may already be paid: in doubt)",
                grouped(&major(c.doubtful, currency))
            ));
        }
        match &c.balance {
            BalanceCheck::Enough(_) if p.sandbox_unlimited => {
                line.push_str(" · balance unlimited (sandbox)")
            }
            BalanceCheck::Enough(balance) => line.push_str(&format!(
                " · balance {}",
                grouped(&major(*balance, currency))
            )),
            BalanceCheck::Short(balance) => line.push_str(&format!(
                " · balance {} · SHORT by {}",
                grouped(&major(*balance, currency)),
                grouped(&major(c.planned - balance, currency))
            )),
            BalanceCheck::Unknown(why) => line.push_str(&format!(" · balance not checked: {why}")),
            BalanceCheck::Failed(_) => {}
        }
        outln!("{line}");
    }
    for o in &p.operators {
        outln!(
            "    via {}: {} {} ({} payout(s))",
            o.operator,
            o.currency,
            grouped(&major(o.amount_minor, &o.currency)),
            o.rows
        );
    }
}

/// Repeated payments shown before the pre-flight: one row pasted twice pays its payee twice.
const REPEATS_SHOWN: usize = 20;

fn show_repeats(repeats: &Repeats) {
    if repeats.count == 0 {
        return;
    }
    outln!(
        "  REPEATED PAYMENTS ({}): same phone, amount and currency as an earlier row; each of these pays that payee again:",
        repeats.count
    );
    for r in repeats.pairs.iter().take(REPEATS_SHOWN) {
        outln!("    line {} repeats line {}", r.line, r.first);
    }
    let listed = repeats.count.min(REPEATS_SHOWN as u64);
    if repeats.count > listed {
        outln!(
            "    ... and {} more (`payrun validate` lists them all)",
            repeats.count - listed
        );
    }
}

/// `--yes`, or a `yes` typed on a terminal.
pub async fn confirm(yes: bool, open: u64) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Refused(
            "not on a terminal, so payrun cannot ask for confirmation; add --yes to send. Nothing was sent."
                .into(),
        )
        .into());
    }
    eprint!("Send {open} payout(s)? Type yes to continue: ");
    let _ = std::io::stderr().flush();
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}
