//! `report --format html`: one self-contained page for the person who approves payroll — the
//! batch, its totals per currency and state with a bar chart, what needs attention and the
//! exact command for it, then every payee. The page loads nothing: no scripts, fonts, images
//! or links, and its Content-Security-Policy forbids any. The journal is read twice (totals
//! and attention first, then the payees, streamed), so memory stays bounded by the attention
//! list's cap, whatever the batch's size.

use std::io::Write;
use std::path::Path;

use super::page_parts::{STYLE, chart, class, esc, money, utc};
use super::totals::{Bucket, Totals};
use crate::domain::RowState;
use crate::journal::{Batch, Journal, JournalError, ReportRow};

/// Rows listed per kind under "Needs attention"; the rest are counted.
const LISTED: usize = 100;

/// What the page is about.
pub struct Context<'a> {
    pub batch: &'a Batch,
    pub journal_path: &'a Path,
}

impl Context<'_> {
    fn journal_flag(&self) -> String {
        format!("--journal {}", self.journal_path.display())
    }

    /// What to run for a payee whose payout may have reached the provider.
    fn settle_command(&self) -> String {
        let resume = crate::cli::observer::resume_command(self.batch, self.journal_path);
        if self.batch.sandbox {
            // A sandbox batch's simulator is gone: only a resume (with a new one) settles it.
            resume
        } else {
            format!("payrun reconcile {} {}", self.batch.id, self.journal_flag())
        }
    }
}

/// The kinds of rows that need attention, in the order the page lists them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
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
            RowState::Planned | RowState::Accepted | RowState::Succeeded => None,
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
struct Overview {
    totals: Totals,
    states: std::collections::BTreeMap<RowState, u64>,
    listed: Vec<(Kind, ReportRow)>,
    counted: [u64; Kind::ALL.len()],
}

impl Overview {
    fn read(journal: &Journal, batch: &Batch) -> Result<Overview, JournalError> {
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

pub fn write(journal: &Journal, ctx: &Context<'_>, mut out: impl Write) -> anyhow::Result<()> {
    let overview = Overview::read(journal, ctx.batch)?;
    let b = ctx.batch;
    let mut page = String::with_capacity(64 * 1024);
    head(&mut page, b);
    facts(&mut page, ctx, &overview);
    // Approvals: who approved the batch belongs here, between the batch and its totals, once
    // the journal records approvals; it records none yet, so the page has no such section.
    totals(&mut page, &overview);
    attention(&mut page, ctx, &overview);
    page.push_str(
        "<section id=\"payees\"><h2>Every payee</h2><table class=\"payees\"><thead><tr>\
         <th class=\"num\">Line</th><th>Reference</th><th>Name</th><th>Phone</th><th>Operator</th>\
         <th class=\"num\">Amount</th><th>State</th><th>Provider reference</th>\
         <th>Failure reason / note</th><th>Last change</th></tr></thead><tbody>\n",
    );
    out.write_all(page.as_bytes())?;
    let mut line = String::new();
    journal.report_rows(&b.id, |row| {
        line.clear();
        payee(&mut line, &row);
        out.write_all(line.as_bytes())
            .map_err(|e| JournalError::Corrupt(format!("cannot write report: {e}")))
    })?;
    write!(
        out,
        "</tbody></table></section>\n<footer>Written by payrun {} from journal {} on {}. Every \
         amount is exact, in major units of its currency; times are UTC.</footer>\n</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&ctx.journal_path.display().to_string()),
        utc(crate::journal::now_ms())
    )?;
    out.flush()?;
    Ok(())
}

fn head(page: &mut String, b: &Batch) {
    page.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Payroll batch {id}</title><style>{STYLE}</style></head><body>\n\
         <header><h1>Payroll batch <code>{id}</code></h1>\
         <p class=\"sub\">What was asked, what was paid, and what still needs someone.</p></header>\n",
        id = esc(&b.id)
    ));
}

fn facts(page: &mut String, ctx: &Context<'_>, o: &Overview) {
    let b = ctx.batch;
    let mode = if b.sandbox {
        "<span class=\"mode sandbox\">SANDBOX: simulated, no money moved</span>"
    } else {
        "<span class=\"mode live\">LIVE</span>"
    };
    page.push_str(&format!(
        "<section id=\"batch\"><h2>Batch</h2><dl class=\"facts\">\
         <dt>Provider</dt><dd>{provider} {mode}</dd>\
         <dt>File</dt><dd><code>{file}</code> (SHA-256 <code>{sha}</code>)</dd>\
         <dt>Planned</dt><dd>{created}</dd><dt>Last change</dt><dd>{updated}</dd>\
         <dt>Payees</dt><dd>{payees}</dd></dl></section>\n",
        provider = esc(b.provider.name()),
        file = esc(&b.file_path),
        sha = esc(&b.file_sha256),
        created = utc(b.created_at),
        updated = utc(b.updated_at),
        payees = o.totals.payees,
    ));
}

fn totals(page: &mut String, o: &Overview) {
    page.push_str("<section id=\"totals\"><h2>Totals</h2>");
    let states: Vec<String> = o.states.iter().map(|(s, n)| format!("{n} {s}")).collect();
    page.push_str(&format!(
        "<p class=\"note\">Rows by state: {}. <em>Paid</em> means the provider has the payout \
         (succeeded, or accepted and pending); a payout the provider contradicted counts as in \
         doubt.</p>",
        esc(&states.join(", "))
    ));
    for (currency, figures) in &o.totals.by_currency {
        page.push_str(&format!(
            "<div class=\"currency\"><table class=\"totals\"><thead><tr><th>{cur}</th>\
             <th class=\"num\">Payees</th><th class=\"num\">Amount</th></tr></thead><tbody>",
            cur = esc(currency)
        ));
        let rows = std::iter::once((None, figures.requested))
            .chain(Bucket::ALL.iter().map(|b| (Some(*b), figures.get(*b))));
        for (bucket, tally) in rows {
            // Rejected rows' amounts were never read as money: no total.
            let amount = if bucket == Some(Bucket::Rejected) {
                "—".to_owned()
            } else {
                format!("{} {currency}", money(tally.minor, currency))
            };
            page.push_str(&format!(
                "<tr class=\"{class}\"><td>{label}</td><td class=\"num\">{rows}</td>\
                 <td class=\"num\">{amount}</td></tr>",
                class = class(bucket),
                label = bucket.map_or("Requested", Bucket::label),
                rows = tally.rows,
                amount = esc(&amount),
            ));
        }
        page.push_str("</tbody></table>");
        page.push_str(&chart(currency, figures));
        page.push_str("</div>");
    }
    page.push_str("</section>\n");
}

fn attention(page: &mut String, ctx: &Context<'_>, o: &Overview) {
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
             the payee's number and wallet with them before paying again."
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

fn payee(line: &mut String, row: &ReportRow) {
    let bucket = Bucket::of(row);
    let amount = match row.amount_minor {
        Some(minor) => money(u128::from(minor), &row.currency),
        None => row.amount.clone(),
    };
    let reason = if row.state.is_good() {
        row.attention.as_deref().or(row.conflict.as_deref())
    } else {
        row.attention.as_deref().or(row.error.as_deref())
    };
    let opt = |v: &Option<String>| esc(v.as_deref().unwrap_or("")).into_owned();
    line.push_str(&format!(
        "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td class=\"num\">{} {}</td><td><span class=\"state {}\">{}</span></td><td>{}</td>\
         <td class=\"reason\">{}</td><td>{}</td></tr>\n",
        row.line,
        opt(&row.reference),
        opt(&row.name),
        esc(&row.phone),
        opt(&row.operator),
        esc(&amount),
        esc(&row.currency),
        class(Some(bucket)),
        esc(row.state.as_str()),
        opt(&row.provider_reference),
        esc(reason.unwrap_or("")),
        utc(row.updated_ms),
    ));
}
