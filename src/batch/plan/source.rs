//! The payout file as planning reads it: opened once, hashed, then planned from the same open
//! handle while being hashed again. What is stored under a file's hash is exactly what was
//! planned: a file rewritten in between is refused (nothing planned), and a file replaced by
//! another (renamed over) does not matter, because the handle still reads the first one.
//!
//! A workbook pays the rows of one of its sheets, so its hash (the batch's file hash, and the
//! default batch id's hex digits) is that of its bytes *and* of the sheet read: the November
//! sheet and the December sheet of one workbook are two batches, never one batch continued.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::PlanError;
use crate::ingest::{self, IngestError, IngestOptions, RowOutcome, Summary};

/// An open payout file and the SHA-256 of its bytes at the time it was opened.
#[derive(Debug)]
pub struct PlanFile {
    path: PathBuf,
    file: File,
    /// What the batch stores: the bytes' hash, or for a workbook the hash of that and the
    /// sheet read.
    sha256: String,
    /// The SHA-256 of the bytes, to tell a file rewritten since it was opened.
    bytes_sha256: String,
    /// The sheet read, for a workbook.
    sheet: Option<String>,
}

/// Reads through to `inner`, hashing every byte read.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl PlanFile {
    /// Open `path` and hash its content. Anything but a regular file (a FIFO, a device, a
    /// directory) is refused before a byte is read: hashing it could never end.
    pub fn open(path: &Path) -> Result<PlanFile, IngestError> {
        PlanFile::open_sheet(path, None)
    }

    /// [`PlanFile::open`] for the sheet `sheet` (`--sheet`) of a workbook, or its first visible
    /// one; the sheet read is part of the hash. `--sheet` with a CSV file is refused.
    pub fn open_sheet(path: &Path, sheet: Option<&str>) -> Result<PlanFile, IngestError> {
        let file = ingest::open_regular(path)?;
        let mut reader = Hashing {
            inner: &file,
            hasher: Sha256::new(),
        };
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|source| IngestError::Read { source })?;
        let bytes_sha256 = hex::encode(reader.hasher.finalize());
        let mut handle = &file;
        handle
            .seek(SeekFrom::Start(0))
            .map_err(|source| IngestError::Read { source })?;
        let sheet = ingest::sheet_to_read(handle, sheet)?;
        let sha256 = match &sheet {
            None => bytes_sha256.clone(),
            Some(name) => {
                let mut hasher = Sha256::new();
                for part in ["payrun-sheet/1", bytes_sha256.as_str(), name.as_str()] {
                    hasher.update((part.len() as u64).to_be_bytes());
                    hasher.update(part.as_bytes());
                }
                hex::encode(hasher.finalize())
            }
        };
        test_hook_after_hash(path);
        Ok(PlanFile {
            path: path.to_path_buf(),
            file,
            sha256,
            bytes_sha256,
            sheet,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the batch's rows come from, as the journal keeps it (its `file_path`): the path,
    /// and for a workbook `#sheet=` and the sheet read, so that each sheet of a workbook is
    /// found as its own batch and an edited sheet as the batch it was.
    pub fn source(&self) -> String {
        let path = self.path.to_string_lossy();
        match &self.sheet {
            Some(sheet) => format!("{path}#sheet={sheet}"),
            None => path.into_owned(),
        }
    }

    /// SHA-256 (lowercase hex) of the bytes seen when the file was opened; for a workbook, of
    /// those bytes' SHA-256 and the name of the sheet read (see the module comment).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Validate the file from its first byte, from the open handle. Refuses with
    /// [`PlanError::FileChanged`] if the bytes read now are not the ones hashed at open: the
    /// caller must then discard every row it was given.
    pub fn ingest(
        &self,
        opts: &IngestOptions,
        on_row: impl FnMut(RowOutcome),
    ) -> Result<Summary, PlanError> {
        let mut handle = &self.file;
        handle
            .seek(SeekFrom::Start(0))
            .map_err(|source| self.open_error(source))?;
        let mut reader = Hashing {
            inner: handle,
            hasher: Sha256::new(),
        };
        let summary = ingest::ingest(&mut reader, opts, on_row)?;
        // Whatever the CSV reader did not need still counts for the hash.
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| self.open_error(e))?;
        if hex::encode(reader.hasher.finalize()) != self.bytes_sha256 {
            return Err(PlanError::FileChanged(self.path.clone()));
        }
        Ok(summary)
    }

    fn open_error(&self, source: std::io::Error) -> PlanError {
        PlanError::Ingest(ingest::IngestError::Open {
            path: self.path.clone(),
            source,
        })
    }
}

/// For the test suite only, inert unless `PAYRUN_TEST_REWRITE_AFTER_HASH` is set: rewrites the
/// payout file in place with the bytes of the file that variable names, just after payrun
/// hashed it, as an editor saving at that moment would. Compiled in with the `crash-points`
/// feature, like the crash points.
#[cfg(feature = "crash-points")]
fn test_hook_after_hash(path: &Path) {
    if let Some(from) = std::env::var_os("PAYRUN_TEST_REWRITE_AFTER_HASH")
        && let Ok(bytes) = std::fs::read(from)
    {
        let _ = std::fs::write(path, bytes);
    }
}

#[cfg(not(feature = "crash-points"))]
fn test_hook_after_hash(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderKind;

    const FILE: &str = "reference,phone,amount,currency\nE1,256700123456,5000,UGX\n";

    #[test]
    fn hashes_the_bytes_it_plans() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, FILE).unwrap();
        let file = PlanFile::open(&path).unwrap();
        assert_eq!(
            file.sha256(),
            crate::batch::keys::file_sha256(&path).unwrap()
        );
        let opts = IngestOptions::new(ProviderKind::Rohopay);
        let mut rows = 0;
        file.ingest(&opts, |_| rows += 1).unwrap();
        assert_eq!(rows, 1);
        // Twice from the same handle: the second pass starts at the first byte again.
        file.ingest(&opts, |_| rows += 1).unwrap();
        assert_eq!(rows, 2);
    }

    #[test]
    fn sheet_is_refused_for_csv_and_the_source_is_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, FILE).unwrap();
        assert!(matches!(
            PlanFile::open_sheet(&path, Some("Payroll")),
            Err(IngestError::SheetForCsv { .. })
        ));
        let file = PlanFile::open_sheet(&path, None).unwrap();
        assert_eq!(file.source(), path.to_string_lossy());
    }

    #[test]
    fn a_file_rewritten_after_hashing_is_refused_and_a_replaced_one_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, FILE).unwrap();
        let opts = IngestOptions::new(ProviderKind::Rohopay);

        let file = PlanFile::open(&path).unwrap();
        std::fs::write(&path, format!("{FILE}E2,256700123457,6000,UGX\n")).unwrap();
        assert!(matches!(
            file.ingest(&opts, |_| {}),
            Err(PlanError::FileChanged(_))
        ));

        std::fs::write(&path, FILE).unwrap();
        let file = PlanFile::open(&path).unwrap();
        let other = dir.path().join("other.csv");
        std::fs::write(&other, format!("{FILE}E2,256700123457,6000,UGX\n")).unwrap();
        std::fs::rename(&other, &path).unwrap();
        let mut rows = 0;
        file.ingest(&opts, |_| rows += 1).unwrap();
        assert_eq!(rows, 1, "the file that was hashed is the one planned");
    }
}
