//! One line per delivery for the operator watching `payrun listen`: which batch and line, what
//! changed or why nothing did. Lines never carry a secret, and phone numbers are masked to
//! their last four digits. Where the lines go is a [`LogSink`] (stderr for the command).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::domain::ProviderKind;
use crate::journal::{RowRef, format_ms, now_ms};
use crate::provider::Callback;

use super::verdict::Verdict;

/// Where delivery lines go.
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&str) + Send + Sync>);

impl LogSink {
    /// Each line to stderr, prefixed with the time. A failed write is dropped, never a panic.
    pub fn stderr() -> LogSink {
        LogSink::new(|line| {
            let _ = writeln!(std::io::stderr().lock(), "{} {line}", format_ms(now_ms()));
        })
    }

    /// Lines go to `f` (tests collect them).
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> LogSink {
        LogSink(Arc::new(f))
    }

    pub fn line(&self, line: &str) {
        (self.0)(line);
    }
}

/// All but the last four digits replaced by `*`: `256700123456` → `********3456`. Anything
/// that is not a digit (`+`, spaces) is kept so the shape stays recognisable.
pub fn mask_phone(phone: &str) -> String {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen + 4 > digits { c } else { '*' }
        })
        .collect()
}

fn row_text(row: &RowRef) -> String {
    format!(
        "batch {} line {} (phone {})",
        row.batch_id,
        row.line,
        mask_phone(&row.phone)
    )
}

/// How the callback named its payout, for lines about payouts no row matches.
fn names(cb: &Callback) -> String {
    let pairs = [
        ("id", &cb.refs.provider_id),
        ("internal_reference", &cb.refs.internal_reference),
        ("reference", &cb.key),
        ("request_id", &cb.refs.request_id),
    ];
    let named: Vec<String> = pairs
        .iter()
        .filter_map(|(label, v)| v.as_deref().map(|v| format!("{label} {v}")))
        .collect();
    if named.is_empty() {
        "a payout with no id".to_owned()
    } else {
        named.join(", ")
    }
}

/// The line for a callback that reached the journal.
pub fn verdict_line(provider: ProviderKind, cb: &Callback, verdict: &Verdict) -> String {
    let word = &cb.status_word;
    let head = format!("{provider} webhook:");
    match verdict {
        Verdict::Applied { row, to } if *to == row.state => {
            format!("{head} {}: {to} confirmed ({word})", row_text(row))
        }
        Verdict::Applied { row, to } => {
            format!("{head} {}: {} -> {to} ({word})", row_text(row), row.state)
        }
        Verdict::Ignored { row, reported } if verdict.is_contrary() => format!(
            "{head} CONFLICT {}: the provider now says {reported} ({word}) but the row is \
             already {}; left as it is and marked as needing a person, check this payout with \
             the provider",
            row_text(row),
            row.state
        ),
        Verdict::Ignored { row, reported } => format!(
            "{head} {}: ignored {reported} ({word}), the row is already {}",
            row_text(row),
            row.state
        ),
        Verdict::Duplicate { row, first } => {
            let whose = row.as_ref().map_or_else(|| names(cb), row_text);
            format!("{head} {whose}: duplicate delivery (first handled: {first}); nothing changed")
        }
        Verdict::Mismatch { row, problems } => format!(
            "{head} MISMATCH {}: {}; NOT applied, marked as needing a person: check this payout \
             with the provider",
            row_text(row),
            problems.join("; ")
        ),
        Verdict::Earlier {
            row,
            attempt,
            reported,
            flagged: true,
        } => format!(
            "{head} CONFLICT {}: the provider says attempt {attempt}, which failed and was retried, \
             is {reported} ({word}); marked as needing a person: this payee may be paid twice, check \
             both payouts with the provider",
            row_text(row)
        ),
        Verdict::Earlier {
            row,
            attempt,
            reported,
            ..
        } => format!(
            "{head} {}: ignored {reported} ({word}) about attempt {attempt}, which failed and was retried",
            row_text(row)
        ),
        Verdict::Ambiguous { rows } => format!(
            "{head} {} matches several rows (ids {rows:?}); NOT applied, each marked as needing \
             a person: check by hand",
            names(cb)
        ),
        Verdict::Unknown => format!(
            "{head} no row in this journal for {} ({word}); acknowledged and ignored",
            names(cb)
        ),
        Verdict::NotYetJournaled => format!(
            "{head} {} ({word}) is not journaled yet: a payout to {} is still waiting for its \
             answer; asked the provider to retry",
            names(cb),
            cb.phone.as_deref().map_or_else(String::new, mask_phone)
        ),
    }
}

/// The line for a delivery refused before it could touch the journal.
pub fn refused_line(
    provider: ProviderKind,
    peer: Option<SocketAddr>,
    status: u16,
    reason: &str,
) -> String {
    let from = peer.map_or_else(String::new, |p| format!(" from {p}"));
    format!("{provider} webhook{from}: refused with {status}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_the_last_four_digits() {
        assert_eq!(mask_phone("256700123456"), "********3456");
        assert_eq!(mask_phone("+254 712 973 246"), "+*** *** **3 246");
        assert_eq!(mask_phone("123"), "123");
        assert_eq!(mask_phone(""), "");
    }
}
