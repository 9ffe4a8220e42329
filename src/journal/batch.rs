//! Batch records: which file, which provider, where it was sent, and the settings it was
//! planned with. A batch is created once and continued by every later run or resume.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Journal, JournalError, now_ms};
use crate::domain::{ProviderKind, RunEnd};

/// Settings a batch was planned with, kept for the record and for resume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSettings {
    pub callback_url: Option<String>,
    pub skip_invalid: bool,
}

/// What `run` knows about a batch before it exists.
#[derive(Clone, Debug)]
pub struct NewBatch {
    pub id: String,
    pub file_name: String,
    pub file_path: String,
    pub file_sha256: String,
    pub provider: ProviderKind,
    pub sandbox: bool,
    pub base_url: String,
    pub settings: BatchSettings,
}

/// A batch as stored.
#[derive(Clone, Debug)]
pub struct Batch {
    pub id: String,
    pub file_name: String,
    pub file_path: String,
    pub file_sha256: String,
    pub provider: ProviderKind,
    pub sandbox: bool,
    pub base_url: String,
    pub settings: BatchSettings,
    pub created_at: i64,
    pub updated_at: i64,
    /// How its rows' keys were derived (`crate::batch::keys::KEY_SCHEME`); 1 for batches planned by
    /// an earlier payrun, whose stored keys are used as they are.
    pub key_scheme: i64,
    /// What the batch pays, independent of file bytes and batch id (`crate::batch::plan`); `None`
    /// for batches planned by an earlier payrun.
    pub fingerprint: Option<String>,
    /// When `payrun cancel` withdrew its unsent rows; nothing is sent in it after that.
    pub cancelled_at: Option<i64>,
    /// The last `run`, `resume`, `retry` or `cancel` that got as far as sending (or cancelling).
    pub last_run: Option<LastRun>,
}

/// The last run of a batch: which command, when, and how it ended. `end` is `None` while it
/// runs, and for ever if its process died first (killed, crashed, a power cut).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastRun {
    /// `run`, `resume`, `retry` or `cancel`.
    pub command: String,
    pub started: i64,
    pub ended: Option<i64>,
    pub end: Option<RunEnd>,
    /// The provider's or payrun's words about a stop (an empty wallet's message, a pause's end).
    pub detail: Option<String>,
}

pub(super) const BATCH_COLUMNS: &str = "id, file_name, file_path, file_sha256, provider, sandbox, base_url, settings, created_at, updated_at, key_scheme, fingerprint, cancelled_at, run_command, run_started, run_ended, run_end, run_detail";

pub(super) fn batch_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Batch, JournalError>> {
    let provider: String = row.get(4)?;
    let settings: String = row.get(7)?;
    let id: String = row.get(0)?;
    let Some(provider) = ProviderKind::parse(&provider) else {
        return Ok(Err(JournalError::Corrupt(format!(
            "batch {id} has unknown provider {provider:?}"
        ))));
    };
    let settings = match serde_json::from_str(&settings) {
        Ok(s) => s,
        Err(e) => {
            return Ok(Err(JournalError::Corrupt(format!(
                "batch {id} settings: {e}"
            ))));
        }
    };
    let command: Option<String> = row.get(13)?;
    let started: Option<i64> = row.get(14)?;
    let end: Option<String> = row.get(16)?;
    let last_run = match (command, started) {
        (Some(command), Some(started)) => Some(LastRun {
            command,
            started,
            ended: row.get(15)?,
            end: end.as_deref().and_then(RunEnd::parse),
            detail: row.get(17)?,
        }),
        _ => None,
    };
    Ok(Ok(Batch {
        id,
        file_name: row.get(1)?,
        file_path: row.get(2)?,
        file_sha256: row.get(3)?,
        provider,
        sandbox: row.get(5)?,
        base_url: row.get(6)?,
        settings,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
        key_scheme: row.get(10)?,
        fingerprint: row.get(11)?,
        cancelled_at: row.get(12)?,
        last_run,
    }))
}

impl Journal {
    /// The batch with this id, if any.
    pub fn find_batch(&self, id: &str) -> Result<Option<Batch>, JournalError> {
        let sql = format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1");
        self.conn()
            .query_row(&sql, [id], batch_from_row)
            .optional()?
            .transpose()
    }

    /// The batch with this id, or [`JournalError::BatchNotFound`].
    pub fn batch(&self, id: &str) -> Result<Batch, JournalError> {
        self.find_batch(id)?
            .ok_or_else(|| JournalError::BatchNotFound(id.to_string()))
    }

    /// Batches planned from the file at this path, newest first.
    pub fn batches_for_path(&self, file_path: &str) -> Result<Vec<Batch>, JournalError> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE file_path = ?1 ORDER BY created_at DESC"
        );
        self.collect_batches(&sql, [file_path])
    }

    /// Batches planned from a file with exactly this content, newest first.
    pub fn batches_for_sha(&self, file_sha256: &str) -> Result<Vec<Batch>, JournalError> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE file_sha256 = ?1 ORDER BY created_at DESC"
        );
        self.collect_batches(&sql, [file_sha256])
    }

    /// Every batch, newest first.
    pub fn list_batches(&self) -> Result<Vec<Batch>, JournalError> {
        let sql = format!("SELECT {BATCH_COLUMNS} FROM batches ORDER BY created_at DESC");
        self.collect_batches(&sql, [])
    }

    fn collect_batches<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<Batch>, JournalError> {
        let mut stmt = self.conn().prepare(sql)?;
        let rows = stmt.query_map(params, batch_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }
}

/// Insert a new batch, keyed with the current key scheme; returns its `seq`, which numbers its rows (see `super::span`).
pub(super) fn insert_batch(
    tx: &rusqlite::Transaction<'_>,
    batch: &NewBatch,
) -> Result<i64, JournalError> {
    let settings = serde_json::to_string(&batch.settings)
        .map_err(|e| JournalError::Corrupt(format!("cannot encode settings: {e}")))?;
    let now = now_ms();
    tx.execute(
        "INSERT INTO batches (id, file_name, file_path, file_sha256, provider, sandbox, base_url,
                              settings, created_at, updated_at, key_scheme)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
        params![
            batch.id,
            batch.file_name,
            batch.file_path,
            batch.file_sha256,
            batch.provider.name(),
            batch.sandbox,
            batch.base_url,
            settings,
            now,
            crate::batch::keys::KEY_SCHEME
        ],
    )?;
    Ok(tx.last_insert_rowid())
}
