//! `report --format html`: one self-contained page for the person who approves payroll — the
//! batch, who approved it, its totals per currency and state with a bar chart, what needs
//! attention and the exact command for it, then every payee. The page loads nothing: no scripts, fonts, images
//! or links, and its Content-Security-Policy forbids any. The journal is read twice (totals
//! and attention first, then the payees, streamed), so memory stays bounded by the attention
//! list's cap, whatever the batch's size.

use std::io::Write;
use std::path::Path;

use super::page_attention::{Overview, attention};
use super::page_parts::{STYLE, chart, class, esc, money, utc};
use super::totals::Bucket;
use crate::journal::{Approval, Batch, Journal, JournalError, ReportRow};

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
    /// What to run to pay the failed payees again, each under a new key.
    pub(super) fn retry_command(&self) -> String {
        format!(
            "payrun retry {} {}{}",
            self.batch.id,
            self.journal_flag(),
            if self.batch.sandbox { " --sandbox" } else { "" }
        )
    }

    pub(super) fn settle_command(&self) -> String {
        let resume = crate::cli::observer::resume_command(self.batch, self.journal_path);
        if self.batch.sandbox {
            // A sandbox batch's simulator is gone: only a resume (with a new one) settles it.
            resume
        } else {
            format!("payrun reconcile {} {}", self.batch.id, self.journal_flag())
        }
    }
}

pub fn write(journal: &Journal, ctx: &Context<'_>, mut out: impl Write) -> anyhow::Result<()> {
    let overview = Overview::read(journal, ctx.batch)?;
    let b = ctx.batch;
    let mut page = String::with_capacity(64 * 1024);
    head(&mut page, b);
    facts(&mut page, ctx, &overview);
    approvals(&mut page, &journal.approvals(&b.id)?);
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

/// Who approved the batch (README "Approvals"), as the journal recorded it when sending
/// started.
fn approvals(page: &mut String, approvals: &[Approval]) {
    page.push_str("<section id=\"approvals\"><h2>Approvals</h2>");
    if approvals.is_empty() {
        page.push_str(
            "<p class=\"note\">None recorded: payrun records the approvals a batch is paid \
             under when sending starts with an approval policy (<code>--approvers</code>).</p>",
        );
    } else {
        page.push_str(
            "<table><thead><tr><th>Approver</th><th>Key</th><th>Statement SHA-256</th>\
             <th>Checked</th></tr></thead><tbody>",
        );
        for a in approvals {
            page.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&a.principal),
                esc(&a.key_fingerprint),
                esc(&a.statement_sha256),
                esc(&a.checked_at)
            ));
        }
        page.push_str("</tbody></table>");
    }
    page.push_str("</section>\n");
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
