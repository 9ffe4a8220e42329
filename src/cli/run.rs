//! `payrun run FILE`: validate and plan the file into a batch (or find the batch it already
//! is), then pay it. Re-running the same file continues its batch; a changed file is refused
//! unless `--allow-changed-file`; the same payments under another name, another batch id or
//! re-saved (README, "Why re-running a file never double-pays") are refused too, because as a new batch
//! they would pay everyone again, unless `--pay-again`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::RunArgs;
use super::pay::{self, Endpoint};
use crate::domain::ProviderKind;
use crate::exit::{Exit, Refused};
use crate::ingest::{IngestError, IngestOptions, Summary};
use crate::journal::{
    Batch, BatchSettings, Journal, JournalError, LockInfo, LockToken, NewBatch, format_ms, now_ms,
};
use crate::keys;
use crate::planner::{self, PlanError, PlanFile};

pub fn run(args: RunArgs) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(run_async(args))
}

async fn run_async(args: RunArgs) -> anyhow::Result<Exit> {
    let opts = super::validate::ingest_options(&args.input)?;
    if let Some(url) = &args.callback_url {
        crate::provider::check_url("--callback-url", url)?;
    }
    let path = args
        .input
        .file
        .canonicalize()
        .with_context(|| format!("cannot read {}", args.input.file.display()))?;
    // Opened once: the bytes hashed here are the bytes planned (see `PlanFile`).
    let opened = path.clone();
    let file = match tokio::task::spawn_blocking(move || PlanFile::open(&opened)).await? {
        Ok(file) => file,
        // The refusal names the file and what it is.
        Err(err @ IngestError::NotRegularFile { .. }) => return Err(err.into()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let kind = args.input.provider;
    let endpoint = Endpoint::connect(kind, &args.send).await?;
    endpoint.check_key(kind)?;

    let journal_path = args.journal.journal.clone();
    let request = PlanRequest {
        sha: file.sha256().to_string(),
        path,
        file,
        kind,
        explicit_id: args.batch.clone(),
        sandbox: args.send.sandbox,
        base_url: endpoint.config.base_url.to_string(),
        settings: BatchSettings {
            callback_url: args.callback_url.clone(),
            skip_invalid: args.skip_invalid,
        },
        allow_changed: args.allow_changed_file,
        pay_again: args.pay_again,
        opts,
    };
    let jp = journal_path.clone();
    let (journal, resolved) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Journal, Resolved)> {
            let mut journal = Journal::open(&jp)
                .with_context(|| format!("cannot open journal {}", jp.display()))?;
            super::notice_tightened(&journal);
            let resolved = resolve(&mut journal, &request)?;
            Ok((journal, resolved))
        })
        .await??;
    let Resolved { batch, lock, notes } = resolved;
    pay::pay(
        journal,
        batch,
        &args.send,
        endpoint,
        &journal_path,
        pay::Prepared { lock, notes },
    )
    .await
}

struct PlanRequest {
    path: PathBuf,
    file: PlanFile,
    sha: String,
    kind: ProviderKind,
    explicit_id: Option<String>,
    sandbox: bool,
    base_url: String,
    settings: BatchSettings,
    allow_changed: bool,
    pay_again: bool,
    opts: IngestOptions,
}

/// The batch to pay, the lock if planning already took it, and what the pre-flight must say.
struct Resolved {
    batch: Batch,
    lock: Option<(LockToken, Option<LockInfo>)>,
    notes: Vec<String>,
}

impl Resolved {
    fn continuing(batch: Batch) -> Resolved {
        Resolved {
            batch,
            lock: None,
            notes: Vec::new(),
        }
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn batch_id(req: &PlanRequest) -> String {
    req.explicit_id
        .clone()
        .unwrap_or_else(|| keys::default_batch_id(&req.path, &req.sha))
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A new batch sharing half or more of its payments with a batch this recent gets a warning.
const OVERLAP_WARNED_DAYS: i64 = 7;

/// Find or create the batch this file belongs to. Another payrun started on the same file at
/// the same moment may plan the batch between our look-up and our own plan (ours then fails
/// on the batch id's uniqueness): look again and continue its batch like any existing one,
/// so this process is refused by the batch lock with the usual message.
fn resolve(journal: &mut Journal, req: &PlanRequest) -> anyhow::Result<Resolved> {
    let id = batch_id(req);
    let existed = journal.find_batch(&id)?.is_some();
    match resolve_once(journal, req) {
        Err(_) if !existed && journal.find_batch(&id)?.is_some() => resolve_once(journal, req),
        result => result,
    }
}

fn resolve_once(journal: &mut Journal, req: &PlanRequest) -> anyhow::Result<Resolved> {
    let file = req.path.display();
    let id = batch_id(req);
    if let Some(batch) = journal.find_batch(&id)? {
        check_same_target(&batch, req)?;
        check_callback(&batch, req)?;
        if batch.file_sha256 == req.sha {
            outln!("Continuing batch {} (same file as before).", batch.id);
            return Ok(Resolved::continuing(batch));
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
    let same_bytes = journal.batches_for_sha(&req.sha)?;
    if req.explicit_id.is_none()
        && let Some(same) = same_bytes
            .iter()
            .find(|b| b.file_path == path_text(&req.path))
    {
        check_same_target(same, req)?;
        check_callback(same, req)?;
        outln!("Continuing batch {} (same file as before).", same.id);
        return Ok(Resolved::continuing(same.clone()));
    }
    let recent = now_ms() - planner::SAME_CONTENT_REFUSED_DAYS * DAY_MS;
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
            .batches_for_path(&path_text(&req.path))?
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

/// The refusal for a file that pays what `same` already pays.
fn same_content_refusal(path: &Path, same: &Batch, what: &str) -> anyhow::Error {
    Refused(format!(
        "{what} ({}) was already planned as batch {} (from {}, planned {}, last sent or updated {}): it \
         pays the same payees the same amounts. Paying it as a new batch would pay everyone in it again. To continue that batch: \
         payrun resume {}. To pay them all again on purpose: add --pay-again. Nothing was sent.",
        path.display(),
        same.id,
        same.file_name,
        format_ms(same.created_at),
        format_ms(same.updated_at),
        same.id
    ))
    .into()
}

/// A callback URL given again must be the batch's own: its stored requests carry that one,
/// and a different one would be silently ignored.
fn check_callback(batch: &Batch, req: &PlanRequest) -> anyhow::Result<()> {
    let Some(given) = &req.settings.callback_url else {
        return Ok(());
    };
    if batch.settings.callback_url.as_deref() == Some(given.as_str()) {
        return Ok(());
    }
    let planned = batch.settings.callback_url.as_deref().map_or_else(
        || "no callback URL".to_string(),
        |u| format!("callback URL {u}"),
    );
    Err(anyhow::anyhow!(
        "--callback-url {given} differs from batch {}'s, which was planned with {planned}; its requests are \
         stored and are sent as planned. Run it again without --callback-url (or with the same one); to use \
         another callback URL, plan a new batch.",
        batch.id
    ))
}

/// A batch is continued only by the same provider and the same kind of endpoint.
fn check_same_target(batch: &Batch, req: &PlanRequest) -> anyhow::Result<()> {
    if batch.provider != req.kind {
        return Err(Refused(format!(
            "batch {} was planned for {}, not {}; nothing was sent",
            batch.id, batch.provider, req.kind
        ))
        .into());
    }
    check_sandbox(batch, req.sandbox)
}

/// A sandbox batch is never continued against a real provider, nor the other way round.
pub fn check_sandbox(batch: &Batch, sandbox: bool) -> anyhow::Result<()> {
    match (batch.sandbox, sandbox) {
        (true, false) => Err(Refused(format!(
            "batch {} was paid against the sandbox simulator; continue it with --sandbox (or plan the file as a new \
             batch with --batch to pay it for real). Nothing was sent.",
            batch.id
        ))
        .into()),
        (false, true) => Err(Refused(format!(
            "batch {} was paid through the real provider; it cannot be continued with --sandbox. Nothing was sent.",
            batch.id
        ))
        .into()),
        _ => Ok(()),
    }
}

fn plan(journal: &mut Journal, id: String, req: &PlanRequest) -> anyhow::Result<Resolved> {
    let file_name = req.path.file_name().map_or_else(
        || path_text(&req.path),
        |n| n.to_string_lossy().into_owned(),
    );
    let new = NewBatch {
        id: id.clone(),
        file_name,
        file_path: path_text(&req.path),
        file_sha256: req.sha.clone(),
        provider: req.kind,
        sandbox: req.sandbox,
        base_url: req.base_url.clone(),
        settings: req.settings.clone(),
    };
    let planned = match planner::plan_new(journal, &new, &req.file, &req.opts, req.pay_again) {
        Ok(planned) => planned,
        Err(PlanError::SameContent(same)) => {
            return Err(same_content_refusal(&req.path, &same, "this file"));
        }
        Err(e) => return Err(refusal(e)),
    };
    outln!(
        "Planned batch {id}: {} payout(s){} (journal {})",
        planned.stats.planned,
        if planned.stats.rejected > 0 {
            format!(
                ", {} invalid row(s) recorded as rejected",
                planned.stats.rejected
            )
        } else {
            String::new()
        },
        journal.path().display()
    );
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
    Ok(Resolved {
        batch: journal.batch(&id)?,
        lock: None,
        notes,
    })
}

/// Continue a batch with an edited file. The batch lock is taken first: another payrun may be
/// sending this batch, and its rows must not change under it. The lock is kept for the sending
/// that follows.
fn replan(journal: &mut Journal, batch: Batch, req: &PlanRequest) -> anyhow::Result<Resolved> {
    let lock = match journal.acquire_lock(&batch.id) {
        Ok(lock) => lock,
        Err(e @ (JournalError::Locked { .. } | JournalError::Busy)) => {
            return Err(
                Refused(format!("{e}. The batch was not changed; nothing was sent.")).into(),
            );
        }
        Err(e) => return Err(e.into()),
    };
    match planner::replan_changed(journal, &batch, &req.file, &req.opts) {
        Ok((r, _)) => {
            outln!(
                "Batch {} follows the edited file: {} unchanged, {} added, {} updated before sending, {} withdrawn, \
                 {} conflict(s), {} invalid",
                batch.id,
                r.unchanged,
                r.added,
                r.updated,
                r.withdrawn,
                r.conflicts,
                r.rejected
            );
            if r.conflicts > 0 {
                outln!(
                    "  conflicts are rows already sent that the file now changes or pays again; they are not paid: see `payrun report {}`",
                    batch.id
                );
            }
            Ok(Resolved {
                batch: journal.batch(&batch.id)?,
                lock: Some(lock),
                notes: Vec::new(),
            })
        }
        Err(e) => {
            if let Err(release) = journal.release_lock(&batch.id, &lock.0) {
                eprintln!("warning: could not release the batch lock: {release}");
            }
            Err(refusal(e))
        }
    }
}

/// A planning failure as the user sees it: bad rows and control mismatches are refusals
/// (exit 3) listing the first problems; an unreadable file or a journal error is an error.
fn refusal(err: PlanError) -> anyhow::Error {
    match err {
        PlanError::Invalid(summary) => {
            print_problems(&summary);
            Refused(format!(
                "{} invalid row(s); fix them (see above or `payrun validate`) or add --skip-invalid to pay \
                 only the valid rows. Nothing was sent.",
                summary.invalid
            ))
            .into()
        }
        PlanError::ControlMismatch(summary) => {
            print_problems(&summary);
            Refused(
                "the file as a whole is refused (a control count/total that does not match, or a \
                 total too large to pay; see above); nothing was sent"
                    .into(),
            )
            .into()
        }
        PlanError::Ingest(e) => anyhow::Error::new(e),
        e @ PlanError::FileChanged(_) => Refused(e.to_string()).into(),
        e => e.into(),
    }
}

/// The first problems of a refused file.
fn print_problems(summary: &Summary) {
    const SHOWN: usize = 20;
    for e in summary.errors.iter().take(SHOWN) {
        match e.line {
            Some(line) => eprintln!("line {line}, {} \"{}\": {}", e.column, e.value, e.reason),
            None => eprintln!("{}: {}", e.column, e.reason),
        }
    }
    if summary.errors.len() > SHOWN {
        eprintln!(
            "... and {} more problem(s); `payrun validate` lists them all",
            summary.errors.len() - SHOWN
        );
    }
}
