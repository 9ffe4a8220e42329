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

use super::endpoint::{Endpoint, Target};
use super::observer::Observer;
use super::open::{self, OpenRequest, Opened};
use super::pay::{self, Confirm, Paid, PayOptions};
use super::plan::PlanFile;
use super::send::SendOptions;
use crate::domain::ProviderKind;
use crate::ingest::{IngestError, IngestOptions};
use crate::journal::{Batch, BatchSettings, Journal};

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
    let opened = path.clone();
    let file = match tokio::task::spawn_blocking(move || PlanFile::open(&opened)).await? {
        Ok(file) => file,
        // The refusal names the file and what it is.
        Err(err @ IngestError::NotRegularFile { .. }) => return Err(err.into()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
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
            let opened = open::open(&mut journal, &request)?;
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

#[cfg(test)]
mod tests;
