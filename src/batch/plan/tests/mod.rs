//! Planning and replanning (`--allow-changed-file`) through the real entry points against a
//! real SQLite journal in a temp dir: a payout file is a list of [`Payee`]s written as CSV,
//! rows are sent between plans through the journal API as `batch::send` sends them, and
//! [`check`] holds what the journal says against the rules of edited files.

mod check;
mod props;
mod regressions;

use super::{PlanFile, Planned, Replanned, plan_new, replan_changed};
use crate::batch::keys::{self, IdentityKind};
use crate::domain::ProviderKind;
use crate::ingest::{IngestOptions, RowOutcome};
use crate::journal::test_support::{StoredRow, new_batch, stored_rows, temp_journal_unsynced};
use crate::journal::{BatchSettings, Journal};

/// The batch every test here plans.
pub const BATCH: &str = "props";

/// One data line of a payout file, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payee {
    /// The `reference` cell (files with that column); empty for a row identified by its
    /// phone, amount and currency.
    pub reference: String,
    pub phone: String,
    pub amount: String,
    pub currency: String,
}

impl Payee {
    pub fn new(reference: &str, phone: &str, amount: &str, currency: &str) -> Payee {
        Payee {
            reference: reference.into(),
            phone: phone.into(),
            amount: amount.into(),
            currency: currency.into(),
        }
    }
}

/// A valid row of a file as the planner identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub line: u64,
    pub kind: IdentityKind,
    pub identity: String,
    pub phone: String,
    pub amount_minor: u64,
    pub currency: String,
}

/// What a file holds, as ingest reads it: its valid rows and the lines of its invalid ones.
#[derive(Clone, Debug, Default)]
pub struct FileRows {
    pub valid: Vec<FileRow>,
    pub invalid: Vec<u64>,
}

/// A journal, one batch planned into it from files in a temp dir, with or without a
/// `reference` column; invalid rows are recorded (`--skip-invalid`).
pub struct Desk {
    _dir: tempfile::TempDir,
    files: tempfile::TempDir,
    pub journal: Journal,
    with_reference: bool,
    saved: u32,
}

impl Desk {
    pub fn new(with_reference: bool) -> Desk {
        // What is under test is planning, not fsync.
        let (dir, journal) = temp_journal_unsynced();
        Desk {
            _dir: dir,
            files: tempfile::tempdir().unwrap(),
            journal,
            with_reference,
            saved: 0,
        }
    }

    fn opts() -> IngestOptions {
        IngestOptions::new(ProviderKind::Rohopay)
    }

    pub fn csv(&self, payees: &[Payee]) -> String {
        let mut text = String::from(if self.with_reference {
            "reference,phone,amount,currency\n"
        } else {
            "phone,amount,currency\n"
        });
        for p in payees {
            if self.with_reference {
                text.push_str(&p.reference);
                text.push(',');
            }
            text.push_str(&format!("{},{},{}\n", p.phone, p.amount, p.currency));
        }
        text
    }

    /// Save `payees` as a new version of the file (each version under its own name, so an
    /// open handle never sees a later one).
    fn save(&mut self, payees: &[Payee]) -> PlanFile {
        self.saved += 1;
        let path = self
            .files
            .path()
            .join(format!("payroll-{}.csv", self.saved));
        std::fs::write(&path, self.csv(payees)).unwrap();
        PlanFile::open(&path).unwrap()
    }

    /// Plan the batch from `payees`, as the first `run` of a file does.
    pub fn plan(&mut self, payees: &[Payee]) -> Planned {
        let file = self.save(payees);
        let mut batch = new_batch(BATCH, ProviderKind::Rohopay);
        batch.settings = BatchSettings {
            callback_url: None,
            skip_invalid: true,
        };
        batch.file_sha256 = file.sha256().to_string();
        plan_new(&mut self.journal, &batch, &file, &Self::opts(), true).unwrap()
    }

    /// Continue the batch with an edited file, as `run --allow-changed-file` does.
    pub fn replan(&mut self, payees: &[Payee]) -> Replanned {
        let file = self.save(payees);
        let batch = self.journal.batch(BATCH).unwrap();
        replan_changed(&mut self.journal, &batch, &file, &Self::opts())
            .unwrap()
            .0
    }

    pub fn rows(&self) -> Vec<StoredRow> {
        stored_rows(&self.journal, BATCH)
    }

    /// The rows of `payees` as ingest and the planner see them.
    pub fn file_rows(&self, payees: &[Payee]) -> FileRows {
        let mut rows = FileRows::default();
        let text = self.csv(payees);
        crate::ingest::ingest(text.as_bytes(), &Self::opts(), |outcome| match outcome {
            RowOutcome::Valid(row) => rows.valid.push(FileRow {
                line: row.line,
                kind: IdentityKind::of(&row),
                identity: keys::row_identity(&row),
                phone: row.phone.international().to_string(),
                amount_minor: row.amount.get(),
                currency: row.currency.code().to_string(),
            }),
            RowOutcome::Rejected(row) => rows.invalid.push(row.line),
        })
        .unwrap();
        rows
    }
}
