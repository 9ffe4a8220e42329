//! The library's front door: plan a payee file into a batch of a journal and pay it, in one
//! call — what `payrun run FILE` does, without the terminal. Re-running the same file continues
//! its batch and never pays a row twice.
//!
//! ```
//! # fn main() -> anyhow::Result<()> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! use std::sync::Arc;
//! use payrun::batch::{self, PayFile, Paid, Quiet, Target, Yes};
//! use payrun::domain::ProviderKind;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("payroll.csv");
//! std::fs::write(
//!     &file,
//!     "reference,phone,amount,currency,first_name,last_name\n\
//!      EMP-0001,256775881399,1400000,UGX,Ronald,Nabirye\n\
//!      EMP-0002,256759730911,850000,UGX,Moses,Kyomuhendo\n",
//! )?;
//! let pay = PayFile::new(&file, dir.path().join("payrun.db"), ProviderKind::Rohopay);
//! // The built-in simulator: no money moves.
//! let sandbox = Target::Sandbox { balance: None };
//!
//! let (first, paid) = batch::pay_file(pay.clone(), &sandbox, Arc::new(Quiet), &Yes).await?;
//! let Paid::Sent(sent) = paid else { panic!("nothing was sent") };
//! assert_eq!(sent.report.counts.sent, 2);
//! assert_eq!(sent.report.counts.succeeded + sent.report.counts.pending, 2);
//!
//! // The same file again is the same batch, with nothing left to send.
//! let (again, paid) = batch::pay_file(pay, &sandbox, Arc::new(Quiet), &Yes).await?;
//! assert_eq!(again.id, first.id);
//! assert!(matches!(paid, Paid::NothingLeft { .. }));
//! # Ok::<(), anyhow::Error>(())
//! # })
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::approval::{self, Approved, Gate, Subject};
use super::endpoint::{Endpoint, Target};
use super::keys;
use super::observer::Observer;
use super::open::{self, How, OpenRequest, Opened};
use super::pay::{self, Confirm, Paid, PayOptions};
use super::plan::PlanFile;
use super::send::SendOptions;
use crate::domain::ProviderKind;
use crate::ingest::{IngestError, IngestOptions};
use crate::journal::{Batch, BatchSettings, Journal, now_ms};

/// A file to pay, and how.
#[derive(Clone, Debug)]
pub struct PayFile {
    pub file: PathBuf,
    /// The journal (created if missing).
    pub journal: PathBuf,
    /// How to read the file; names the provider.
    pub ingest: IngestOptions,
    /// The batch id; by default one derived from the file's path and content.
    pub batch: Option<String>,
    pub settings: BatchSettings,
    /// Follow an edited file into its batch (rows already sent are never re-keyed or repaid).
    pub allow_changed: bool,
    /// Plan payments another batch already plans (everyone in it is paid again).
    pub pay_again: bool,
    pub send: SendOptions,
    /// The sandbox wallet has a limit: its balance is shown, not "unlimited".
    pub sandbox_limited: bool,
    /// Rows repeating an earlier row's phone, amount and currency are meant to be paid.
    pub allow_repeats: bool,
    /// The approval policy and `--approval DIR` (README "Approvals"); off by default.
    pub approval: Gate,
}

impl PayFile {
    /// Pay `file` through `provider`, journaled in `journal`, with the defaults of `payrun run`.
    pub fn new(file: &Path, journal: PathBuf, provider: ProviderKind) -> PayFile {
        PayFile {
            file: file.to_path_buf(),
            journal,
            ingest: IngestOptions::new(provider),
            batch: None,
            settings: BatchSettings::default(),
            allow_changed: false,
            pay_again: false,
            send: SendOptions::default(),
            sandbox_limited: false,
            allow_repeats: false,
            approval: Gate::default(),
        }
    }
}

/// Plan `req.file` into its batch (or find the batch it already is) and pay every open row
/// through `target`, asking `confirm` after the pre-flight. Returns the batch and what paying
/// did. A refused file is an error carrying [`open::FileRefused`].
pub async fn pay_file<C: Confirm>(
    req: PayFile,
    target: &Target,
    observer: Arc<dyn Observer>,
    confirm: &C,
) -> anyhow::Result<(Batch, Paid)> {
    let path = req
        .file
        .canonicalize()
        .with_context(|| format!("cannot read {}", req.file.display()))?;
    // Opened once: the bytes hashed here are the bytes planned (see `PlanFile`).
    let (opened, sheet) = (path.clone(), req.ingest.sheet.clone());
    let file =
        match tokio::task::spawn_blocking(move || PlanFile::open_sheet(&opened, sheet.as_deref()))
            .await?
        {
            Ok(file) => file,
            // The refusal names the file and what it is.
            Err(err @ IngestError::NotRegularFile { .. }) => return Err(err.into()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
    let (file, approved) = tokio::task::spawn_blocking({
        let (gate, opts, batch) = (req.approval.clone(), req.ingest.clone(), req.batch.clone());
        let skip_invalid = req.settings.skip_invalid;
        move || -> anyhow::Result<(PlanFile, Option<Approved>)> {
            let approved = check_approval(&gate, &file, &opts, batch.as_deref(), skip_invalid)?;
            Ok((file, approved))
        }
    })
    .await??;
    let kind = req.ingest.provider;
    let endpoint = Endpoint::connect(kind, target).await?;
    endpoint.check_key(kind)?;
    let request = OpenRequest {
        path,
        file,
        kind,
        explicit_id: req.batch,
        sandbox: endpoint.is_sandbox(),
        base_url: endpoint.config.base_url.to_string(),
        settings: req.settings,
        allow_changed: req.allow_changed,
        pay_again: req.pay_again,
        opts: req.ingest,
    };
    let (jp, watcher) = (req.journal.clone(), observer.clone());
    let (journal, opened) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Journal, Opened)> {
            let mut journal = Journal::open(&jp)
                .with_context(|| format!("cannot open journal {}", jp.display()))?;
            if !journal.tightened().is_empty() {
                watcher.tightened(journal.tightened());
            }
            let mut opened = open::open(&mut journal, &request)?;
            // A batch planned earlier pays what it was planned with: it must be what the
            // statement says too. (An edited file's batch was just replanned from this file.)
            if let Some(approved) = &approved
                && !matches!(opened.how, How::Replanned(_))
            {
                let matched = approval::match_journal(
                    &journal,
                    &opened.batch,
                    &approved.statement,
                    &approved.dir,
                );
                if let Err(e) = matched {
                    if let Some((token, _)) = &opened.prepared.lock {
                        let _ = journal.release_lock(&opened.batch.id, token);
                    }
                    return Err(e);
                }
            }
            opened.prepared.approved = approved;
            Ok((journal, opened))
        })
        .await??;
    observer.opened(&opened.batch, &opened.how);
    let Opened {
        batch, prepared, ..
    } = opened;
    let opts = PayOptions {
        send: req.send,
        sandbox_limited: req.sandbox_limited,
        allow_repeats: req.allow_repeats,
        command: pay::Command::Run,
    };
    let paid = pay::pay(
        journal,
        batch.clone(),
        endpoint,
        prepared,
        opts,
        observer,
        confirm,
    )
    .await?;
    Ok((batch, paid))
}

/// The approval `gate` asks for, checked against the file as opened (the bytes that will be
/// planned) and the flags; `None` when the policy asks for none.
fn check_approval(
    gate: &Gate,
    file: &PlanFile,
    opts: &IngestOptions,
    explicit_id: Option<&str>,
    skip_invalid: bool,
) -> anyhow::Result<Option<Approved>> {
    if gate.policy.required == 0 {
        return Ok(None);
    }
    let batch_id = explicit_id
        .map(str::to_string)
        .unwrap_or_else(|| keys::default_batch_id(file.path(), file.sha256()));
    let file_name = file
        .path()
        .file_name()
        .map_or_else(|| file.path().to_string_lossy(), |n| n.to_string_lossy())
        .into_owned();
    let subject = Subject {
        batch_id: &batch_id,
        file_name: &file_name,
        provider: opts.provider,
        opts,
        skip_invalid,
    };
    approval::check_file(gate, file, &subject, now_ms())
}

#[cfg(test)]
mod tests;
