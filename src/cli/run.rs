//! `payrun run FILE`: validate and plan the file into a batch (or find the batch it already
//! is), then pay it. Re-running the same file continues its batch; a changed file is refused
//! unless `--allow-changed-file`; the same content under another name is refused too, because
//! as a new batch it would pay everyone again.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::RunArgs;
use super::pay::{self, Endpoint};
use crate::domain::ProviderKind;
use crate::exit::{Exit, Refused};
use crate::ingest::{IngestOptions, Summary};
use crate::journal::{Batch, BatchSettings, Journal, NewBatch};
use crate::keys;
use crate::planner::{self, PlanError};

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
    let hashed = path.clone();
    let sha = tokio::task::spawn_blocking(move || keys::file_sha256(&hashed))
        .await?
        .with_context(|| format!("cannot read {}", path.display()))?;
    let kind = args.input.provider;
    let endpoint = Endpoint::connect(kind, &args.send).await?;
    endpoint.check_key(kind)?;

    let journal_path = args.journal.journal.clone();
    let request = PlanRequest {
        path,
        sha,
        kind,
        explicit_id: args.batch.clone(),
        sandbox: args.send.sandbox,
        base_url: endpoint.config.base_url.to_string(),
        settings: BatchSettings {
            callback_url: args.callback_url.clone(),
            skip_invalid: args.skip_invalid,
        },
        allow_changed: args.allow_changed_file,
        opts,
    };
    let jp = journal_path.clone();
    let (journal, batch) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Journal, Batch)> {
            let mut journal = Journal::open(&jp)
                .with_context(|| format!("cannot open journal {}", jp.display()))?;
            let batch = resolve(&mut journal, &request)?;
            Ok((journal, batch))
        })
        .await??;
    pay::pay(journal, batch, &args.send, endpoint, &journal_path).await
}

struct PlanRequest {
    path: PathBuf,
    sha: String,
    kind: ProviderKind,
    explicit_id: Option<String>,
    sandbox: bool,
    base_url: String,
    settings: BatchSettings,
    allow_changed: bool,
    opts: IngestOptions,
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn batch_id(req: &PlanRequest) -> String {
    req.explicit_id
        .clone()
        .unwrap_or_else(|| keys::default_batch_id(&req.path, &req.sha))
}

/// Find or create the batch this file belongs to. Another payrun started on the same file at
/// the same moment may plan the batch between our look-up and our own plan (ours then fails
/// on the batch id's uniqueness): look again and continue its batch like any existing one,
/// so this process is refused by the batch lock with the usual message.
fn resolve(journal: &mut Journal, req: &PlanRequest) -> anyhow::Result<Batch> {
    let id = batch_id(req);
    let existed = journal.find_batch(&id)?.is_some();
    match resolve_once(journal, req) {
        Err(_) if !existed && journal.find_batch(&id)?.is_some() => resolve_once(journal, req),
        result => result,
    }
}

fn resolve_once(journal: &mut Journal, req: &PlanRequest) -> anyhow::Result<Batch> {
    let file = req.path.display();
    let id = batch_id(req);
    if let Some(batch) = journal.find_batch(&id)? {
        check_same_target(&batch, req)?;
        if batch.file_sha256 == req.sha {
            println!("Continuing batch {} (same file as before).", batch.id);
            return Ok(batch);
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
    if req.explicit_id.is_none() {
        if let Some(same) = journal.batches_for_sha(&req.sha)?.into_iter().next() {
            if same.file_path == path_text(&req.path) {
                check_same_target(&same, req)?;
                println!("Continuing batch {} (same file as before).", same.id);
                return Ok(same);
            }
            return Err(Refused(format!(
                "this exact file content was already planned as batch {} (from {}). Paying it as a new batch would \
                 pay everyone in it again. To continue that batch: payrun resume {}. To pay it again on purpose, \
                 give a new batch id with --batch. Nothing was sent.",
                same.id, same.file_path, same.id
            ))
            .into());
        }
        if let Some(other) = journal
            .batches_for_path(&path_text(&req.path))?
            .into_iter()
            .next()
        {
            return Err(Refused(format!(
                "{file} was already paid as batch {} and has changed since. To continue that batch with the edited \
                 file: payrun run {file} --batch {} --allow-changed-file. To pay it as a separate new batch \
                 (everyone in it gets paid again!): payrun run {file} --batch <new id>. Nothing was sent.",
                other.id, other.id
            ))
            .into());
        }
    }
    plan(journal, id, req)
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

fn plan(journal: &mut Journal, id: String, req: &PlanRequest) -> anyhow::Result<Batch> {
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
    match planner::plan_new(journal, &new, &req.path, &req.opts) {
        Ok(planned) => {
            println!(
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
            Ok(journal.batch(&id)?)
        }
        Err(e) => Err(refusal(e)),
    }
}

fn replan(journal: &mut Journal, batch: Batch, req: &PlanRequest) -> anyhow::Result<Batch> {
    match planner::replan_changed(journal, &batch, &req.path, &req.opts, &req.sha) {
        Ok((r, _)) => {
            println!(
                "Batch {} follows the edited file: {} unchanged, {} added, {} updated before sending, {} withdrawn, \
                 {} conflict(s), {} invalid",
                batch.id, r.unchanged, r.added, r.updated, r.withdrawn, r.conflicts, r.rejected
            );
            if r.conflicts > 0 {
                println!(
                    "  conflicts are rows already sent that the file now changes; they are not paid again: see `payrun report {}`",
                    batch.id
                );
            }
            Ok(journal.batch(&batch.id)?)
        }
        Err(e) => Err(refusal(e)),
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
            Refused("the file does not match its control count/total; nothing was sent".into())
                .into()
        }
        PlanError::Ingest(e) => anyhow::Error::new(e),
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
