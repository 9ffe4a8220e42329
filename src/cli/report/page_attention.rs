//! The "Needs attention" part of the html report: which payees a person must act on (failed,
//! in doubt, contradicted by the provider, rejected, not sent yet), the first of each kind
//! found in one pass over the journal, and what to do about each kind, with the exact command.

use super::page::Context;
use super::page_parts::{esc, money};
use super::totals::Totals;
use crate::domain::RowState;
use crate::journal::{Batch, Journal, JournalError, ReportRow};

/// Rows listed per kind under "Needs attention"; the rest are counted.
const LISTED: usize = 100;

/// The kinds of rows that need attention, in the order the page lists them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Failed,
    InDoubt,
    Contradicted,
    Rejected,
}

impl Kind {
    fn of(row: &ReportRow) -> Option<Kind> {
        if row.attention.is_some() {
            return Some(Kind::Contradicted);
        }
        match row.state {
            RowState::Failed => Some(Kind::Failed),
            RowState::InDoubt | RowState::Sending => Some(Kind::InDoubt),
            RowState::Rejected => Some(Kind::Rejected),
            RowState::Planned | RowState::Accepted | RowState::Succeeded | RowState::Cancelled => {
                None
            }
        }
    }

    const ALL: [Kind; 4] = [
        Kind::Failed,
        Kind::InDoubt,
        Kind::Contradicted,
        Kind::Rejected,
    ];

    fn title(self) -> &'static str {
        match self {
            Kind::Failed => "Failed: not paid",
            Kind::InDoubt => "In doubt: the provider has not said whether it paid",
            Kind::Contradicted => "The provider contradicted the request: a person must check",
            Kind::Rejected => "Rejected: never sent",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Kind::Failed => "failed",
            Kind::InDoubt | Kind::Contradicted => "doubt",
            Kind::Rejected => "rejected",
        }
    }
}

/// The first pass: totals, and the rows that need attention (the first [`LISTED`] of each kind).
#[derive(Default)]
pub(super) struct Overview {
    pub totals: Totals,
    pub states: std::collections::BTreeMap<RowState, u64>,
    listed: Vec<(Kind, ReportRow)>,
    counted: [u64; Kind::ALL.len()],
}

impl Overview {
    pub fn read(journal: &Journal, batch: &Batch) -> Result<Overview, JournalError> {
        let mut o = Overview::default();
        journal.report_rows(&batch.id, |row| {
            o.totals.add(&row);
            *o.states.entry(row.state).or_default() += 1;
            if let Some(kind) = Kind::of(&row) {
                let n = &mut o.counted[kind as usize];
                *n += 1;
                if *n <= LISTED as u64 {
                    o.listed.push((kind, row));
                }
            }
            Ok(())
        })?;
        Ok(o)
    }
}

pub(super) fn attention(page: &mut String, ctx: &Context<'_>, o: &Overview) {
    page.push_str("<section id=\"attention\"><h2>Needs attention</h2>");
    let not_sent = o.states.get(&RowState::Planned).copied().unwrap_or(0);
    if o.counted.iter().all(|n| *n == 0) && not_sent == 0 {
        page.push_str("<p class=\"ok\">Nothing: every payee is paid or with the provider.</p>");
    }
    for kind in Kind::ALL {
        let count = o.counted[kind as usize];
        if count == 0 {
            continue;
        }
        page.push_str(&format!(
            "<h3>{} ({count})</h3><p class=\"note\">{}</p><ul class=\"attention\">",
            kind.title(),
            esc(&advice(kind, ctx))
        ));
        for (_, row) in o.listed.iter().filter(|(k, _)| *k == kind) {
            page.push_str(&format!(
                "<li class=\"{}\"><span class=\"what\">{}</span><br>{}</li>",
                kind.class(),
                esc(&who(row)),
                esc(&why(kind, row))
            ));
        }
        page.push_str("</ul>");
        if count > LISTED as u64 {
            page.push_str(&format!(
                "<p class=\"note\">… and {} more, in the table below.</p>",
                count - LISTED as u64
            ));
        }
    }
    if not_sent > 0 {
        page.push_str(&format!(
            "<h3>Not sent yet ({not_sent})</h3><ul class=\"attention\"><li class=\"notsent\">\
             To send them: <code>{}</code></li></ul>",
            esc(&crate::cli::observer::resume_command(
                ctx.batch,
                ctx.journal_path
            ))
        ));
    }
    page.push_str("</section>\n");
}

/// What to do about every row of a kind.
fn advice(kind: Kind, ctx: &Context<'_>) -> String {
    let provider = ctx.batch.provider.name();
    match kind {
        Kind::Failed => format!(
            "{provider} refused these payouts or reported them failed: nothing was paid. Check \
             the payee's number and wallet with them, then pay them again under a new key with: \
             {}",
            ctx.retry_command()
        ),
        Kind::InDoubt => format!(
            "The request may have reached {provider} but no answer came back. To find out, run: \
             {}. It asks {provider} (or resends with the same key, which cannot pay twice).",
            ctx.settle_command()
        ),
        Kind::Contradicted => format!(
            "An answer or callback from {provider} disagreed with what payrun asked. Ask \
             {provider} what these payouts paid, to whom, and whether it is final; do not pay \
             them again until {provider} confirms they were not paid."
        ),
        Kind::Rejected => "These rows were invalid in the file (or conflicted with a payout \
                           already made) and were never sent. Correct them and pay them in a \
                           new file."
            .to_owned(),
    }
}

/// "line 5 · EMP-0004 · Amina Nakato · 256770120000 · 11,000 UGX"
fn who(row: &ReportRow) -> String {
    let amount = match row.amount_minor {
        Some(minor) => money(u128::from(minor), &row.currency),
        None => row.amount.clone(),
    };
    [
        Some(format!("line {}", row.line)),
        row.reference.clone(),
        row.name.clone(),
        Some(row.phone.clone()),
        Some(format!("{amount} {}", row.currency)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

fn why(kind: Kind, row: &ReportRow) -> String {
    let said = match kind {
        Kind::Contradicted => row.attention.as_deref(),
        _ => row.error.as_deref(),
    };
    said.unwrap_or("no reason recorded").to_owned()
}
