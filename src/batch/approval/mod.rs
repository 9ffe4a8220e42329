//! Maker–checker approvals (README "Approvals"): no batch pays until enough distinct approvers
//! have signed a statement of exactly this file. The maker writes a plain-text statement
//! derived from the file and the flags (`new`); approvers sign it with the SSH keys they
//! already have, with payrun (`sign`) or `ssh-keygen -Y sign -n payrun`; `run` and `resume`
//! refuse unless the statement still matches, has not expired, and carries enough counting
//! signatures (`check`). Nothing here prints: results and refusals are values.
//!
//! Layout: `statement` (the text and its parts), `figures` (its figure lines, derived from the
//! file or the journal), `signers` (the allowed_signers file), `verdict` (which signatures
//! count), `key` (an approver's private key), `dir` (the approval directory), `check` and
//! `new` (the use cases).

mod check;
mod dir;
mod figures;
mod key;
mod new;
mod signers;
mod statement;
mod verdict;

use std::path::PathBuf;
use std::time::Duration;

pub use check::{Checked, check_batch, check_dir, check_file, match_journal};
pub use dir::{STATEMENT, statement_path};
pub use figures::Subject;
pub use key::{KeyError, SigningKey};
pub use new::{NewStatement, Signed, Written, new_statement, sign};
pub use signers::{AllowedSigners, Signer, SignersError};
pub use statement::Statement;
pub use verdict::{Counted, NAMESPACE, Verdict};

/// Who may approve and how many must: filled by the command line from flags and environment
/// (and, later, from a profile the same way). `required` 0 means no approval is needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// The allowed_signers file listing the approvers.
    pub approvers: Option<PathBuf>,
    pub required: u32,
}

/// The policy and the approval directory a `run` or `resume` was given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    pub policy: Policy,
    /// `--approval DIR`.
    pub dir: Option<PathBuf>,
}

/// An approval that met the policy: what the journal records when sending starts, and what
/// the pre-flight shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approved {
    pub dir: PathBuf,
    pub statement: Statement,
    /// SHA-256 of the statement's bytes.
    pub statement_sha256: String,
    pub counted: Vec<Counted>,
    pub required: u32,
    /// When the signatures were checked (Unix milliseconds).
    pub checked_at: i64,
}

/// Longest `--valid-for`.
const MAX_VALID_FOR: Duration = Duration::from_secs(366 * 24 * 3600);

/// `--valid-for`: `1s`, `30m`, `72h`, `7d` (a number and a unit).
pub fn parse_valid_for(raw: &str) -> Result<Duration, String> {
    let text = raw.trim();
    let bad =
        || format!("{raw:?} is not a duration; write a number and a unit: 90s, 30m, 72h or 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(bad()),
    };
    let duration = Duration::from_secs(seconds);
    if seconds == 0 || duration > MAX_VALID_FOR {
        return Err(format!("{raw:?}: a statement is valid for 1s to 366d"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_for_takes_a_number_and_a_unit() {
        assert_eq!(parse_valid_for("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_valid_for("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_valid_for("72h"), Ok(Duration::from_secs(259_200)));
        assert_eq!(parse_valid_for("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "72", "h", "1.5h", "-1s", "0s", "400d", "3w"] {
            assert!(parse_valid_for(bad).is_err(), "{bad}");
        }
    }
}
