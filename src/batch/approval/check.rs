//! Checking an approval: for `approval check` (the statement and its signatures), for `run`
//! (the statement against the file and the flags now, then the signatures) and for `resume`
//! (the statement against the batch in the journal, which is what a resume pays). Every
//! refusal is one line naming what is missing, and nothing was sent.

use std::path::Path;

use super::dir::{self, DirContents};
use super::figures::{self, Subject};
use super::signers::AllowedSigners;
use super::statement::{self, Statement};
use super::verdict::{self, Verdict};
use super::{Approved, Gate};
use crate::batch::open::refusal;
use crate::batch::plan::PlanFile;
use crate::exit::Refused;
use crate::journal::{Batch, Journal, format_ms};

/// What `approval check` found.
#[derive(Debug)]
pub struct Checked {
    pub statement: Statement,
    pub statement_sha256: String,
    pub verdict: Verdict,
    /// Why the statement cannot be paid any more, if it expired.
    pub expired: Option<String>,
}

impl Checked {
    /// The policy is met: not expired and enough counting signatures.
    pub fn met(&self) -> bool {
        self.expired.is_none() && self.verdict.met()
    }
}

fn refused(why: String) -> anyhow::Error {
    Refused(why).into()
}

/// The statement of `dir`, read and parsed, with its bytes.
fn read(dir: &Path) -> anyhow::Result<(DirContents, Statement)> {
    let contents = dir::read(dir).map_err(refused)?;
    let statement = Statement::parse(&contents.statement).map_err(|why| {
        refused(format!(
            "{}: {why}; prepare a new one with `payrun approval new`",
            dir::statement_path(dir).display()
        ))
    })?;
    Ok((contents, statement))
}

fn expiry(statement: &Statement, now_ms: i64) -> Option<String> {
    (now_ms >= statement.valid_until).then(|| {
        format!(
            "the statement expired at {} (prepared by {} at {}); prepare and sign a new one with `payrun approval new`",
            format_ms(statement.valid_until),
            statement.prepared_by,
            format_ms(statement.prepared_at)
        )
    })
}

fn signers(path: &Path) -> anyhow::Result<AllowedSigners> {
    AllowedSigners::load(path).map_err(|e| refused(e.to_string()))
}

/// `approval check DIR`: the statement, its signatures against `approvers`, and its expiry.
pub fn check_dir(
    dir: &Path,
    approvers: &Path,
    required: u32,
    now_ms: i64,
) -> anyhow::Result<Checked> {
    let signers = signers(approvers)?;
    let (contents, statement) = read(dir)?;
    let verdict = verdict::evaluate(
        &contents.statement,
        &statement.prepared_by,
        &contents.signatures,
        &signers,
        required,
        now_ms,
    );
    Ok(Checked {
        expired: expiry(&statement, now_ms),
        statement_sha256: statement::sha256(&contents.statement),
        statement,
        verdict,
    })
}

/// The policy's parts a paying command needs, or `None` when no approval is required.
fn required(gate: &Gate) -> anyhow::Result<Option<(&Path, &Path)>> {
    let policy = &gate.policy;
    if policy.required == 0 {
        return Ok(None);
    }
    let Some(approvers) = policy.approvers.as_deref() else {
        anyhow::bail!(
            "{} approval(s) are required but no approvers are listed: give --approvers ALLOWED_SIGNERS (or set PAYRUN_APPROVERS)",
            policy.required
        );
    };
    let Some(dir) = gate.dir.as_deref() else {
        return Err(refused(format!(
            "this batch needs {} approval(s) before it is paid: prepare a statement with `payrun approval new FILE --provider P`, \
             have it signed (`payrun approval sign DIR --key KEY`), then give --approval DIR. Nothing was sent.",
            policy.required
        )));
    };
    Ok(Some((approvers, dir)))
}

/// Signatures and expiry, once the statement's figures are known to match.
fn approve(
    dir: &Path,
    contents: &DirContents,
    statement: Statement,
    approvers: &Path,
    required: u32,
    now_ms: i64,
) -> anyhow::Result<Approved> {
    if let Some(why) = expiry(&statement, now_ms) {
        return Err(refused(format!(
            "{}: {why}. Nothing was sent.",
            dir.display()
        )));
    }
    let signers = signers(approvers)?;
    let verdict = verdict::evaluate(
        &contents.statement,
        &statement.prepared_by,
        &contents.signatures,
        &signers,
        required,
        now_ms,
    );
    if !verdict.met() {
        return Err(refused(format!(
            "not approved: {}. Nothing was sent.",
            verdict.line()
        )));
    }
    Ok(Approved {
        dir: dir.to_path_buf(),
        statement_sha256: statement::sha256(&contents.statement),
        statement,
        counted: verdict.counted,
        required,
        checked_at: now_ms,
    })
}

/// `run`: the approval must match the file (as opened, the bytes that will be planned) and
/// the flags now, byte for byte in every figure line, not be expired, and carry enough
/// counting signatures. `Ok(None)` when the policy requires no approval.
pub fn check_file(
    gate: &Gate,
    file: &PlanFile,
    subject: &Subject<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<Approved>> {
    let Some((approvers, dir)) = required(gate)? else {
        return Ok(None);
    };
    let (contents, statement) = read(dir)?;
    let derived = figures::derive(file, subject).map_err(refusal)?;
    if let Some(diff) = statement::difference(&statement.figures, &derived) {
        return Err(refused(format!(
            "the approval in {} does not match {} and the flags given now: {diff}. Prepare and sign a new \
             statement (`payrun approval new`). Nothing was sent.",
            dir.display(),
            file.path().display()
        )));
    }
    approve(
        dir,
        &contents,
        statement,
        approvers,
        gate.policy.required,
        now_ms,
    )
    .map(Some)
}

/// The batch in the journal pays what the statement says: its batch, file, provider, payees
/// and totals per currency (what the journal can answer; see `figures`).
pub fn match_journal(
    journal: &Journal,
    batch: &Batch,
    statement: &Statement,
    dir: &Path,
) -> anyhow::Result<()> {
    let derived = figures::from_journal(journal, batch)?;
    let stated: Vec<String> = statement
        .figures
        .iter()
        .filter(|l| figures::answered_by_journal(l))
        .cloned()
        .collect();
    match statement::difference(&stated, &derived) {
        None => Ok(()),
        Some(diff) => Err(refused(format!(
            "the approval in {} does not match batch {} in the journal, which is what would be paid: {diff}. \
             Nothing was sent.",
            dir.display(),
            batch.id
        ))),
    }
}

/// `resume`: the approval must match the batch in the journal (resume does not read the
/// file), not be expired, and carry enough counting signatures.
pub fn check_batch(
    gate: &Gate,
    journal: &Journal,
    batch: &Batch,
    now_ms: i64,
) -> anyhow::Result<Option<Approved>> {
    let Some((approvers, dir)) = required(gate)? else {
        return Ok(None);
    };
    let (contents, statement) = read(dir)?;
    match_journal(journal, batch, &statement, dir)?;
    approve(
        dir,
        &contents,
        statement,
        approvers,
        gate.policy.required,
        now_ms,
    )
    .map(Some)
}
