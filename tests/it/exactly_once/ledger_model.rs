//! What the operator of a fuzzed sequence meant to pay, kept independently of payrun: the
//! people on each roster (a person keeps their identity through a renamed reference or a new
//! phone), the files on disk with their exact bytes, and the batches payrun planned. From it
//! come the allowances the ledger is checked against (each person paid at most once, each
//! (phone, amount, currency) at most as often as one file asked for it) and the outcome a `run`
//! must have by the README's rules on changed and repeated files.

use crate::support::csv::{Line, payee_file};
use crate::support::money::major_text;
use std::collections::{BTreeMap, BTreeSet};

use super::payfile::Cur;

/// One payee row as the operator wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payee {
    /// The model's person; rows of two people may share a phone (a second payment on purpose).
    pub person: usize,
    pub reference: String,
    /// International digits, no `+`.
    pub phone: String,
    pub amount_minor: u64,
    pub cur: Cur,
}

/// The payees of one file in line order, and how the file is saved.
#[derive(Clone, Debug)]
pub struct Content {
    pub roster: usize,
    pub payees: Vec<Payee>,
    pub crlf: bool,
}

/// What a batch pays, independent of line order and line endings: the planned requests
/// without the batch id.
pub type Fingerprint = BTreeSet<(String, String, u64, &'static str)>;

impl Content {
    pub fn fingerprint(&self) -> Fingerprint {
        self.payees
            .iter()
            .map(|p| {
                (
                    p.reference.clone(),
                    p.phone.clone(),
                    p.amount_minor,
                    p.cur.code,
                )
            })
            .collect()
    }

    /// The file's bytes: a reference column, and the operator and name columns Rumbapay needs.
    pub fn csv(&self) -> String {
        let eol = if self.crlf { "\r\n" } else { "\n" };
        let amounts: Vec<String> = self
            .payees
            .iter()
            .map(|p| major_text(p.amount_minor, p.cur.code))
            .collect();
        payee_file(
            true,
            eol,
            self.payees.iter().zip(&amounts).map(|(p, amount)| Line {
                reference: Some(&p.reference),
                phone: &p.phone,
                amount,
                currency: p.cur.code,
                operator: p.cur.operators[0],
            }),
        )
    }
}

/// A batch payrun planned, as the model saw it.
#[derive(Clone, Debug, Default)]
pub struct BatchModel {
    pub path: String,
    pub sha: String,
    /// Every content it was planned or re-planned with, the current one last.
    pub fingerprints: Vec<Fingerprint>,
}

/// What the README's rules (after the pending fixes, where marked) say a `run` must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Plans or continues a batch (exit 0 or 1).
    Proceed,
    /// Refused before sending anything (exit 3).
    Refuse3,
    /// Refused as a usage error (exit 2).
    Refuse2,
    /// The rules leave it open (a re-save at the same path, say): only the money is checked.
    Either,
}

/// Which of `Expect`'s verdicts rest on fixes still pending on other branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Today,
    PendingFix,
}

/// The whole operator model of one sequence.
#[derive(Debug, Default)]
pub struct Model {
    /// Phone → the person group it belongs to (people sharing a phone form one group).
    pub group_of_phone: BTreeMap<String, usize>,
    /// Group → how many people it holds (the most payouts its phones may receive).
    pub group_size: BTreeMap<usize, usize>,
    /// Person → group.
    pub group_of_person: BTreeMap<usize, usize>,
    /// (phone, amount, currency) → the most times any one file version asked for it.
    pub triple_allowance: BTreeMap<(String, u64, String), usize>,
    pub batches: BTreeMap<String, BatchModel>,
}

/// Batch ids payrun must accept (README: letters, digits, `.`, `_`, `:`, `-`).
pub fn valid_batch_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

impl Model {
    /// Take note of a file version the operator wrote: its triples raise the allowances.
    pub fn saw(&mut self, content: &Content) {
        let mut counts: BTreeMap<(String, u64, String), usize> = BTreeMap::new();
        for p in &content.payees {
            *counts
                .entry((p.phone.clone(), p.amount_minor, p.cur.code.to_string()))
                .or_default() += 1;
            let group = *self.group_of_person.entry(p.person).or_insert(p.person);
            self.group_of_phone.entry(p.phone.clone()).or_insert(group);
        }
        for (triple, n) in counts {
            let allowed = self.triple_allowance.entry(triple).or_default();
            *allowed = (*allowed).max(n);
        }
        self.group_size.clear();
        for group in self.group_of_person.values() {
            *self.group_size.entry(*group).or_default() += 1;
        }
    }

    /// A new person who shares `with`'s group (same phone: paid as often as rows ask).
    pub fn join(&mut self, person: usize, with: usize) {
        let group = self.group_of_person.get(&with).copied().unwrap_or(with);
        self.group_of_person.insert(person, group);
    }

    /// The batch whose current content this file repeats, if any.
    pub fn same_content(&self, content: &Content) -> Option<&str> {
        let fp = content.fingerprint();
        self.batches
            .iter()
            .find(|(_, b)| b.fingerprints.last() == Some(&fp))
            .map(|(id, _)| id.as_str())
    }

    /// Whether a new batch of this content would pay someone some batch already holds.
    pub fn overlaps(&self, content: &Content) -> bool {
        let phones: BTreeSet<&str> = content.payees.iter().map(|p| p.phone.as_str()).collect();
        self.batches.values().any(|b| {
            b.fingerprints.iter().any(|fp| {
                fp.iter()
                    .any(|(_, phone, _, _)| phones.contains(phone.as_str()))
            })
        })
    }

    /// The outcome of `run PATH [--batch ID] [--allow-changed-file]` on `content` (bytes
    /// hashing to `sha`); `default_id` is the id payrun derives from the file.
    pub fn expect_run(
        &self,
        path: &str,
        sha: &str,
        content: &Content,
        explicit: Option<&str>,
        default_id: &str,
        allow_changed: bool,
    ) -> (Expect, Basis) {
        if let Some(id) = explicit
            && !valid_batch_id(id)
        {
            return (Expect::Refuse2, Basis::PendingFix);
        }
        let id = explicit.unwrap_or(default_id);
        let same_payees = self.same_content(content);
        if let Some(batch) = self.batches.get(id) {
            if batch.sha == sha || allow_changed {
                return (Expect::Proceed, Basis::Today);
            }
            // Only the line endings changed: refusing or continuing are both sound.
            if same_payees == Some(id) {
                return (Expect::Either, Basis::Today);
            }
            return (Expect::Refuse3, Basis::Today);
        }
        if explicit.is_none() {
            if let Some((_, b)) = self.batches.iter().find(|(_, b)| b.sha == sha) {
                return if b.path == path {
                    (Expect::Proceed, Basis::Today)
                } else {
                    (Expect::Refuse3, Basis::Today)
                };
            }
            if self.batches.values().any(|b| b.path == path) {
                return if same_payees.is_some() {
                    (Expect::Either, Basis::Today)
                } else {
                    (Expect::Refuse3, Basis::Today)
                };
            }
        }
        if same_payees.is_some() {
            // A new batch (new id, a copy, a re-save) of payees a batch already holds.
            return (Expect::Refuse3, Basis::PendingFix);
        }
        (Expect::Proceed, Basis::Today)
    }

    /// Record that batch `id` now holds `content` from `path`.
    pub fn planned(&mut self, id: &str, path: &str, sha: &str, content: &Content) {
        let b = self.batches.entry(id.to_string()).or_default();
        b.path = path.to_string();
        b.sha = sha.to_string();
        let fp = content.fingerprint();
        b.fingerprints.retain(|old| *old != fp);
        b.fingerprints.push(fp);
    }
}

#[cfg(test)]
mod tests {
    use super::super::payfile::UGX;
    use super::*;

    fn content(amount: u64, crlf: bool) -> Content {
        Content {
            roster: 0,
            payees: vec![Payee {
                person: 0,
                reference: "EMP-001".into(),
                phone: "256700111222".into(),
                amount_minor: amount,
                cur: UGX,
            }],
            crlf,
        }
    }

    #[test]
    fn a_copy_or_resave_of_a_planned_batch_must_be_refused() {
        let mut m = Model::default();
        let c = content(5000, false);
        m.planned("b1", "/a.csv", "sha1", &c);
        let crlf = content(5000, true);
        let e = m.expect_run("/b.csv", "sha2", &crlf, None, "b-sha2", false);
        assert_eq!(e, (Expect::Refuse3, Basis::PendingFix));
        let e = m.expect_run("/a.csv", "sha1", &c, Some("b2"), "x", false);
        assert_eq!(e, (Expect::Refuse3, Basis::PendingFix));
        let e = m.expect_run("/a.csv", "sha1", &c, None, "a-sha1", false);
        assert_eq!(e, (Expect::Proceed, Basis::Today));
        let edited = content(6000, false);
        let e = m.expect_run("/a.csv", "sha3", &edited, Some("b1"), "x", false);
        assert_eq!(e, (Expect::Refuse3, Basis::Today));
        let e = m.expect_run("/a.csv", "sha3", &edited, Some("b1"), "x", true);
        assert_eq!(e, (Expect::Proceed, Basis::Today));
        let e = m.expect_run("/a.csv", "sha3", &edited, Some("pay/ops"), "x", true);
        assert_eq!(e, (Expect::Refuse2, Basis::PendingFix));
    }

    #[test]
    fn allowances_take_the_most_any_one_file_asked_for() {
        let mut m = Model::default();
        let mut c = content(5000, false);
        let mut again = c.payees[0].clone();
        again.person = 1;
        again.reference = "EMP-002".into();
        m.join(1, 0);
        c.payees.push(again);
        m.saw(&c);
        m.saw(&content(5000, false));
        assert_eq!(
            m.triple_allowance[&("256700111222".to_string(), 5000, "UGX".to_string())],
            2
        );
        assert_eq!(m.group_size[&m.group_of_phone["256700111222"]], 2);
    }
}
