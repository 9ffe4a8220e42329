//! What a caller hands [`open`](super::open) (the file and how to plan it) and the refusal it
//! gets back when the file's rows are not fit to pay.

use std::path::PathBuf;

use crate::batch::plan::PlanFile;
use crate::domain::ProviderKind;
use crate::exit::Refused;
use crate::ingest::{IngestOptions, Summary};
use crate::journal::BatchSettings;

/// A file to open as a batch, and how.
pub struct OpenRequest {
    /// The file's canonical path.
    pub path: PathBuf,
    /// The file, opened once: the bytes hashed are the bytes planned.
    pub file: PlanFile,
    pub kind: ProviderKind,
    /// `--batch`: the batch id; by default one derived from the path and content.
    pub explicit_id: Option<String>,
    pub sandbox: bool,
    /// Where the batch will be sent (without credentials).
    pub base_url: String,
    pub settings: BatchSettings,
    /// `--allow-changed-file`: follow an edited file into its batch.
    pub allow_changed: bool,
    /// `--pay-again`: plan payments already planned as another batch.
    pub pay_again: bool,
    pub opts: IngestOptions,
}

/// A file refused as a whole or for its rows: the problems found, and the refusal.
#[derive(Debug, thiserror::Error)]
#[error("{refused}")]
pub struct FileRefused {
    pub summary: Box<Summary>,
    pub refused: Refused,
}
