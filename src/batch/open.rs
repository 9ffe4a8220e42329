//! Opening a payee file as a batch: find the batch the file already is (same file, same id),
//! or plan a new one, or follow an edited file into its batch when told to. Refused here: a
//! changed file without `--allow-changed-file`; the same payments under another name, another
//! batch id or re-saved (README, "Why re-running a file never double-pays"), because as a new
//! batch they would pay everyone again, unless `--pay-again`; a batch continued by another
//! provider, or between the sandbox and a real provider.

mod checks;
mod request;

use std::path::Path;

pub use self::checks::check_sandbox;
pub(crate) use self::checks::refusal;
use self::checks::{check_callback, check_same_target, same_content_refusal};
pub use self::request::{FileRefused, OpenRequest};
use super::keys;
use super::plan::{self, PlanError, Replanned};
use crate::exit::Refused;
use crate::ingest::Summary;
use crate::journal::{
    Batch, Journal, JournalError, LockInfo, LockToken, NewBatch, PlanStats, format_ms, now_ms,
};

/// What planning settled before sending: the batch lock if it took it to change the batch,
/// warnings the pre-flight must show, and the approval the batch is paid under, if the
/// policy asks for one.
#[derive(Debug, Default)]
pub struct Prepared {
    pub lock: Option<(LockToken, Option<LockInfo>)>,
    pub notes: Vec<String>,
    /// What validation saw, when this run planned or replanned the file.
    pub validation: Option<Box<Summary>>,
    pub approved: Option<super::approval::Approved>,
}

/// How the file became the batch to pay.
#[derive(Debug)]
pub enum How {
    /// The same file as before: its batch continues.
    Continuing,
    /// A new batch.
    Planned(PlanStats),
    /// The batch follows its edited file.
    Replanned(Replanned),
}

/// The batch to pay, how it came about, and what sending needs from planning: the lock if
/// planning already took it, and warnings the pre-flight must show.
#[derive(Debug)]
pub struct Opened {
    pub batch: Batch,
    pub how: How,
    pub prepared: Prepared,
}

impl Opened {
    fn continuing(batch: Batch) -> Opened {
        Opened {
            batch,
            how: How::Continuing,
            prepared: Prepared::default(),
        }
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Where a batch's rows come from, as the journal keeps it: the file's path, and for a
/// workbook the sheet read (see [`PlanFile::source`](super::plan::PlanFile::source)).
fn source_text(req: &OpenRequest) -> String {
    req.file.source()
}

fn batch_id(req: &OpenRequest) -> String {
    req.explicit_id
        .clone()
        .unwrap_or_else(|| keys::default_batch_id(&req.path, req.file.sha256()))
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A new batch sharing half or more of its payments with a batch this recent gets a warning.
const OVERLAP_WARNED_DAYS: i64 = 7;

/// Find or create the batch this file belongs to. Another payrun started on the same file at
/// the same moment may plan the batch between our look-up and our own plan (ours then fails
/// on the batch id's uniqueness): look again and continue its batch like any existing one,
/// so this process is refused by the batch lock with the usual message.
pub fn open(journal: &mut Journal, req: &OpenRequest) -> anyhow::Result<Opened> {
    let id = batch_id(req);
    let existed = journal.find_batch(&id)?.is_some();
    match resolve_once(journal, req) {
        Err(_) if !existed && journal.find_batch(&id)?.is_some() => resolve_once(journal, req),
        result => result,
    }
}

fn resolve_once(journal: &mut Journal, req: &OpenRequest) -> anyhow::Result<Opened> {
    let file = req.path.display();
    let id = batch_id(req);
    if let Some(batch) = journal.find_batch(&id)? {
        check_same_target(&batch, req)?;
        check_callback(&batch, req)?;
        if batch.file_sha256 == req.file.sha256() {
            return Ok(Opened::continuing(batch));
        }
        if batch.cancelled_at.is_some() {
            return Err(Refused(format!(
                "batch {id} was cancelled (`payrun cancel`): nothing more is paid in it, not even from an \
                 edited file. To pay this file, plan it as a new batch: payrun run {file} --batch <new id>. \
                 Nothing was sent."
            ))
            .into());
        }
        if !req.allow_changed {
            return Err(Refused(format!(
                "{file} has changed since batch {id} was planned from it. payrun does not pay an edited file into an \
                 existing batch without being told: restore the file, or add --allow-changed-file to pay new and \
                 unsent rows (rows already sent that now differ are reported as conflicts, never paid again). \
                 Nothing was sent."
            ))
            .into());
        }
        return replan(journal, batch, req);
    }
    if let Some(explicit) = &req.explicit_id {
        keys::check_batch_id(explicit).map_err(|e| {
            anyhow::anyhow!(
                "--batch {explicit:?}: {e}. Batch ids are at most {} characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'.",
                keys::MAX_BATCH_ID
            )
        })?;
    }
    let same_bytes = journal.batches_for_sha(req.file.sha256())?;
    if req.explicit_id.is_none()
        && let Some(same) = same_bytes.iter().find(|b| b.file_path == source_text(req))
    {
        check_same_target(same, req)?;
        check_callback(same, req)?;
        return Ok(Opened::continuing(same.clone()));
    }
    let recent = now_ms() - plan::SAME_CONTENT_REFUSED_DAYS * DAY_MS;
    if !req.pay_again
        && let Some(same) = same_bytes.iter().find(|b| b.created_at >= recent)
    {
        return Err(same_content_refusal(
            &req.path,
            same,
            "this exact file content",
        ));
    }
    if req.explicit_id.is_none()
        && let Some(other) = journal
            .batches_for_path(&source_text(req))?
            .into_iter()
            .next()
    {
        return Err(Refused(format!(
            "{file} was already paid as batch {} and has changed since. To continue that batch with the edited \
             file: payrun run {file} --batch {} --allow-changed-file. To pay it as a separate new batch \
             (everyone in it gets paid again!): payrun run {file} --batch <new id> --pay-again. Nothing was sent.",
            other.id, other.id
        ))
        .into());
    }
    plan(journal, id, req)
}

fn plan(journal: &mut Journal, id: String, req: &OpenRequest) -> anyhow::Result<Opened> {
    let file_name = req.path.file_name().map_or_else(
        || path_text(&req.path),
        |n| n.to_string_lossy().into_owned(),
    );
    let new = NewBatch {
        id: id.clone(),
        file_name,
        file_path: source_text(req),
        file_sha256: req.file.sha256().to_string(),
        provider: req.kind,
        sandbox: req.sandbox,
        base_url: req.base_url.clone(),
        settings: req.settings.clone(),
    };
    let planned = match plan::plan_new(journal, &new, &req.file, &req.opts, req.pay_again) {
        Ok(planned) => planned,
        Err(PlanError::SameContent(same)) => {
            return Err(same_content_refusal(&req.path, &same, "this file"));
        }
        Err(e) => return Err(refusal(e)),
    };
    let mut notes: Vec<String> = planned
        .same_content
        .iter()
        .map(|b| {
            format!(
                "this file pays the same payees the same amounts as batch {} (from {}, planned {}){}",
                b.id,
                b.file_name,
                format_ms(b.created_at),
                if req.pay_again { "; paying again as --pay-again asks" } else { "" }
            )
        })
        .collect();
    let since = now_ms() - OVERLAP_WARNED_DAYS * DAY_MS;
    let payments = planned.stats.planned;
    for overlap in journal.payee_overlaps(&id, since)? {
        if payments > 0 && overlap.shared * 2 >= payments {
            notes.push(format!(
                "{} of this batch's {payments} payment(s) (same phone, amount and currency) are also in batch {}, \
                 planned {}: check this is not the same payroll paid twice",
                overlap.shared,
                overlap.batch,
                format_ms(overlap.created_at)
            ));
        }
    }
    Ok(Opened {
        batch: journal.batch(&id)?,
        how: How::Planned(planned.stats),
        prepared: Prepared {
            lock: None,
            notes,
            validation: Some(Box::new(planned.summary)),
            approved: None,
        },
    })
}

/// Continue a batch with an edited file. The batch lock is taken first: another payrun may be
/// sending this batch, and its rows must not change under it. The lock is kept for the sending
/// that follows.
fn replan(journal: &mut Journal, batch: Batch, req: &OpenRequest) -> anyhow::Result<Opened> {
    let lock = match journal.acquire_lock(&batch.id) {
        Ok(lock) => lock,
        Err(e @ (JournalError::Locked { .. } | JournalError::Busy)) => {
            return Err(
                Refused(format!("{e}. The batch was not changed; nothing was sent.")).into(),
            );
        }
        Err(e) => return Err(e.into()),
    };
    match plan::replan_changed(journal, &batch, &req.file, &req.opts) {
        Ok((r, summary)) => Ok(Opened {
            batch: journal.batch(&batch.id)?,
            how: How::Replanned(r),
            prepared: Prepared {
                lock: Some(lock),
                notes: Vec::new(),
                validation: Some(Box::new(summary)),
                approved: None,
            },
        }),
        Err(e) => {
            if let Err(release) = journal.release_lock(&batch.id, &lock.0) {
                tracing::warn!("could not release the batch lock: {release}");
            }
            Err(refusal(e))
        }
    }
}
