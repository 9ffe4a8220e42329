//! The pieces of the html report that hold no payee data of their own: escaping (every value
//! written into the page goes through [`esc`]; payee names and provider messages are hostile
//! input), the inline style sheet, times, and the inline SVG bar chart of a currency's totals.
//! Nothing here refers to anything outside the page: no scripts, fonts, images or links.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::totals::{Bucket, Figures, Tally};
use crate::cli::summary::{grouped, major};

/// `text` safe inside an element or a quoted attribute.
pub fn esc(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An amount for people: `1,520.50`.
pub fn money(minor: u128, currency: &str) -> String {
    grouped(&major(minor, currency))
}

/// A journal time (Unix milliseconds) as `2026-11-21 10:44:41 UTC`.
pub fn utc(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .map_or_else(|| ms.to_string(), |t| format!("{t} UTC"))
}

/// The CSS class of a bucket, which sets its colour in the style sheet and the chart.
pub fn class(bucket: Option<Bucket>) -> &'static str {
    match bucket {
        None => "requested",
        Some(Bucket::Paid) => "paid",
        Some(Bucket::Failed) => "failed",
        Some(Bucket::InDoubt) => "doubt",
        Some(Bucket::NotSent) => "notsent",
        Some(Bucket::Cancelled) => "cancelled",
        Some(Bucket::Rejected) => "rejected",
    }
}

/// The buckets a chart draws: everything with an amount (rejected rows have none).
const CHARTED: [Option<Bucket>; 6] = [
    None,
    Some(Bucket::Paid),
    Some(Bucket::Failed),
    Some(Bucket::InDoubt),
    Some(Bucket::NotSent),
    Some(Bucket::Cancelled),
];

const LABEL_W: u128 = 110;
const BAR_W: u128 = 330;
const ROW_H: u128 = 24;

/// A horizontal bar per bucket, its length the bucket's share of the amount requested
/// (integer arithmetic: no float touches the money).
pub fn chart(currency: &str, figures: &Figures) -> String {
    let height = ROW_H * CHARTED.len() as u128 + 4;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" width="{w}" height="{height}" viewBox="0 0 {w} {height}"><title>{cur}: amounts by state</title>"#,
        w = LABEL_W + BAR_W + 150,
        cur = esc(currency)
    );
    let whole = figures.requested.minor;
    for (i, bucket) in (0u128..).zip(CHARTED) {
        let tally: Tally = bucket.map_or(figures.requested, |b| figures.get(b));
        let len = tally
            .minor
            .saturating_mul(BAR_W)
            .checked_div(whole)
            .unwrap_or(0);
        let len = if tally.minor > 0 { len.max(2) } else { 0 };
        let y = i * ROW_H + 2;
        let label = bucket.map_or("Requested", Bucket::label);
        let _ = write!(
            svg,
            r#"<text x="0" y="{ty}" class="lbl">{label}</text><rect x="{LABEL_W}" y="{y}" width="{len}" height="{bh}" rx="3" class="{class}"/><text x="{vx}" y="{ty}" class="val">{value}</text>"#,
            ty = y + 15,
            bh = ROW_H - 6,
            class = class(bucket),
            vx = LABEL_W + len + 6,
            value = esc(&money(tally.minor, currency)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The page's style sheet, inline: the page must stand alone (sent by mail, opened offline).
pub const STYLE: &str = r#"
:root { color-scheme: light; --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb;
  --paid:#15803d; --failed:#b91c1c; --doubt:#b45309; --notsent:#475569;
  --cancelled:#a1a1aa; --rejected:#7c3aed; --requested:#94a3b8; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
.sub, .note { color: var(--muted); }
code { font: 12.5px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  background: #f3f4f6; padding: 1px 4px; border-radius: 4px; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.mode { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.mode.live { background: #fee2e2; color: var(--failed); }
.mode.sandbox { background: #e0f2fe; color: #0369a1; }
.currency { display: flex; flex-wrap: wrap; gap: 12px 32px; align-items: flex-start; margin-bottom: 18px; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f9fafb; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.totals td:first-child { white-space: nowrap; }
tr.requested td { font-weight: 600; border-bottom: 2px solid var(--line); }
.chart .lbl, .chart .val { font: 12px system-ui, Arial, sans-serif; fill: var(--ink); }
.chart rect.requested { fill: var(--requested); } .chart rect.paid { fill: var(--paid); }
.chart rect.failed { fill: var(--failed); } .chart rect.doubt { fill: var(--doubt); }
.chart rect.notsent { fill: var(--notsent); } .chart rect.cancelled { fill: var(--cancelled); }
.state { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; white-space: nowrap; }
.state.paid { background: var(--paid); } .state.failed { background: var(--failed); }
.state.doubt { background: var(--doubt); } .state.notsent { background: var(--notsent); }
.state.cancelled { background: var(--cancelled); } .state.rejected { background: var(--rejected); }
ul.attention { list-style: none; padding: 0; margin: 0; }
ul.attention li { border-left: 4px solid var(--line); padding: 6px 12px; margin: 0 0 8px; background: #fafafa; }
ul.attention li.failed { border-color: var(--failed); } ul.attention li.doubt { border-color: var(--doubt); }
ul.attention li.rejected { border-color: var(--rejected); } ul.attention li.notsent { border-color: var(--notsent); }
ul.attention .what { font-weight: 600; }
.ok { color: var(--paid); font-weight: 600; }
table.payees { font-size: 13px; width: 100%; }
table.payees td.reason { max-width: 380px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert!(matches!(esc("Amina Nakato"), Cow::Borrowed(_)));
    }

    #[test]
    fn times_are_utc_and_labelled() {
        assert_eq!(utc(1_795_253_400_000), "2026-11-21 09:30:00 UTC");
    }

    #[test]
    fn bars_are_shares_of_the_amount_requested() {
        let mut totals = super::super::totals::Totals::default();
        let mut row = crate::journal::test_support::report_row();
        row.attention = None;
        row.state = crate::domain::RowState::Succeeded;
        row.amount_minor = Some(300);
        totals.add(&row);
        row.state = crate::domain::RowState::Failed;
        row.amount_minor = Some(100);
        totals.add(&row);
        let svg = chart("KES", &totals.by_currency["KES"]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(
            svg.contains(r#"width="330" height="18" rx="3" class="requested""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"width="247" height="18" rx="3" class="paid""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"width="82" height="18" rx="3" class="failed""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"width="0" height="18" rx="3" class="doubt""#),
            "{svg}"
        );
        assert!(svg.contains(">4.00<"), "{svg}");
        assert!(!svg.contains("href"), "{svg}");
    }
}
