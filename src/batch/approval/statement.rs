//! The statement approvers sign: plain text a person reads before signing, in three blocks —
//! a fixed preamble, the figures (`key: value` lines derived from the file and the flags, see
//! `figures`), and who prepared it, when, and until when it may be paid. payrun reads back only
//! statements exactly as it writes them: a statement edited by hand is refused whatever its
//! signatures say.

use sha2::{Digest, Sha256};

/// The first lines of every statement.
pub const PREAMBLE: &str = "payrun approval statement (format 1)

Signing this statement approves paying exactly the figures below, from exactly the file
named, once. payrun refuses to pay it if the file, a figure or a setting differs, or after
the time it is valid until.
";

const PREPARED_BY: &str = "prepared by: ";
const PREPARED_AT: &str = "prepared at: ";
const VALID_UNTIL: &str = "valid until: ";

/// A statement: its figure lines and its approval block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// `key: value` lines, in the order `figures` derives them.
    pub figures: Vec<String>,
    /// The maker: their signature never counts.
    pub prepared_by: String,
    /// Unix milliseconds (whole seconds).
    pub prepared_at: i64,
    pub valid_until: i64,
}

impl Statement {
    /// The statement's text, byte for byte what is signed.
    pub fn render(&self) -> String {
        let mut out = format!("{PREAMBLE}\n");
        for line in &self.figures {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&format!("{PREPARED_BY}{}\n", self.prepared_by));
        out.push_str(&format!(
            "{PREPARED_AT}{}\n",
            crate::journal::format_ms(self.prepared_at)
        ));
        out.push_str(&format!(
            "{VALID_UNTIL}{}\n",
            crate::journal::format_ms(self.valid_until)
        ));
        out
    }

    /// Read a statement as payrun wrote it. Anything else (another file, a statement edited
    /// by hand) is refused with the reason.
    pub fn parse(bytes: &[u8]) -> Result<Statement, String> {
        let not_ours = "it is not a statement as `payrun approval new` writes it";
        let text = std::str::from_utf8(bytes).map_err(|_| format!("{not_ours} (not UTF-8)"))?;
        let body = text
            .strip_prefix(PREAMBLE)
            .and_then(|b| b.strip_prefix('\n'))
            .ok_or_else(|| format!("{not_ours} (its first lines differ)"))?;
        let (figures, approval) = body
            .split_once("\n\n")
            .ok_or_else(|| format!("{not_ours} (no blank line before \"prepared by\")"))?;
        let figures: Vec<String> = figures.lines().map(str::to_string).collect();
        let mut lines = approval.lines();
        let mut field = |prefix: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(prefix))
                .map(str::to_string)
                .ok_or_else(|| {
                    format!("{not_ours} (no \"{}\" line)", prefix.trim_end_matches(": "))
                })
        };
        let prepared_by = field(PREPARED_BY)?;
        let prepared_at = parse_time(&field(PREPARED_AT)?)?;
        let valid_until = parse_time(&field(VALID_UNTIL)?)?;
        let statement = Statement {
            figures,
            prepared_by,
            prepared_at,
            valid_until,
        };
        if statement.render() != text {
            return Err(format!("{not_ours} (it was changed by hand)"));
        }
        Ok(statement)
    }

    /// The value of figure line `key` (`batch`, `file sha256`, `provider`, ...).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.figures
            .iter()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
    }
}

/// SHA-256 (lowercase hex) of a statement's bytes: what the journal records.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn parse_time(text: &str) -> Result<i64, String> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("{text:?} is not a time (RFC 3339)"))?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| format!("{text:?} is out of range"))
}

/// Why the statement's figures are not the ones derived now: the first line that differs,
/// the file's SHA-256 first (an edited file or another file changes every line after it).
pub fn difference(stated: &[String], derived: &[String]) -> Option<String> {
    let find = |lines: &[String], key: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(key))
            .cloned()
            .unwrap_or_default()
    };
    let (was, now) = (
        find(stated, "file sha256: "),
        find(derived, "file sha256: "),
    );
    if was != now {
        return Some(format!(
            "the statement is for another file, or for this file before it was edited (statement: `{was}`; now: `{now}`)"
        ));
    }
    let longest = stated.len().max(derived.len());
    (0..longest).find_map(|i| match (stated.get(i), derived.get(i)) {
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) => Some(format!(
            "the statement says `{a}`, but payrun derives `{b}` now"
        )),
        (Some(a), None) => Some(format!(
            "the statement says `{a}`, which payrun does not derive now"
        )),
        (None, Some(b)) => Some(format!(
            "payrun derives `{b}` now, which the statement does not say"
        )),
        (None, None) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> Statement {
        Statement {
            figures: vec![
                "batch: payroll-1".into(),
                "file sha256: ab".into(),
                "total UGX: 1,000 in 1 payout(s), largest 1,000 (line 2)".into(),
            ],
            prepared_by: "maker@corp".into(),
            prepared_at: 1_767_225_600_000,
            valid_until: 1_767_484_800_000,
        }
    }

    #[test]
    fn a_rendered_statement_reads_back_exactly() {
        let text = statement().render();
        assert!(text.starts_with(PREAMBLE), "{text}");
        assert!(text.ends_with(
            "\nprepared by: maker@corp\nprepared at: 2026-01-01T00:00:00Z\nvalid until: 2026-01-04T00:00:00Z\n"
        ));
        assert_eq!(Statement::parse(text.as_bytes()).unwrap(), statement());
        assert_eq!(statement().value("file sha256"), Some("ab"));
        assert_eq!(statement().value("file"), None);
    }

    #[test]
    fn a_statement_changed_by_hand_is_not_read() {
        let text = statement().render();
        for edited in [
            text.replace("1,000 in", "2,000 in") + "extra\n",
            text.replace(
                "valid until: 2026-01-04T00:00:00Z",
                "valid until: 2026-01-04T00:00:00.000Z",
            ),
            text.replace("Signing", "Sign"),
            text.replace("prepared at", "prepared on"),
            text.replace("\n\nprepared by", "\nprepared by"),
        ] {
            assert!(Statement::parse(edited.as_bytes()).is_err(), "{edited}");
        }
        assert!(Statement::parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn the_first_differing_figure_is_named_and_the_file_first() {
        let a = statement().figures;
        assert_eq!(difference(&a, &a), None);
        let mut b = a.clone();
        b[2] = "total UGX: 2,000 in 1 payout(s), largest 2,000 (line 2)".into();
        let said = difference(&a, &b).unwrap();
        assert!(
            said.contains("says `total UGX: 1,000") && said.contains("derives `total UGX: 2,000"),
            "{said}"
        );
        b[0] = "batch: payroll-2".into();
        b[1] = "file sha256: cd".into();
        let said = difference(&a, &b).unwrap();
        assert!(
            said.starts_with("the statement is for another file"),
            "{said}"
        );
        let said = difference(&a, &a[..2]).unwrap();
        assert!(said.contains("which payrun does not derive"), "{said}");
        let said = difference(&a[..2], &a).unwrap();
        assert!(said.contains("which the statement does not say"), "{said}");
    }
}
