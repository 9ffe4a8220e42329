//! The `--rejects` file: a `line` column (the row's physical line, to find it in the original),
//! the invalid rows exactly as written, and an `error` column, for the clerk to open in a
//! spreadsheet, fix at the source and re-export. Cells that a spreadsheet
//! would run as a formula are neutralised (OWASP "CSV injection", see `formula`), and the
//! file appears only when complete (written beside the target, then renamed over it).

use std::{
    fs::File,
    io::{self, BufWriter},
    path::{Path, PathBuf},
};

use super::{RejectedRow, formula::spreadsheet_safe, source::writer_builder};

/// Streams rejected rows into a temporary file, renamed to the target by [`finish`].
///
/// [`finish`]: RejectsWriter::finish
pub struct RejectsWriter {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<csv::Writer<BufWriter<File>>>,
    width: usize,
    rows: u64,
}

impl RejectsWriter {
    /// Start a rejects file with `line`, the input's header (as written) and `error`.
    pub fn create(path: &Path, headers: &[String], delimiter: u8) -> io::Result<RejectsWriter> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other("the rejects path has no file name"))?;
        let temp = path.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        // 0600 whatever the umask: it holds phone numbers. Renamed over the target, so an
        // existing rejects file ends up 0600 too.
        let file = crate::private_file::create(&temp)?;
        let mut writer = writer_builder(delimiter).from_writer(BufWriter::new(file));
        let mut rejects = RejectsWriter {
            target: path.to_path_buf(),
            temp,
            writer: None,
            width: headers.len(),
            rows: 0,
        };
        let header = std::iter::once("line".to_string())
            .chain(headers.iter().map(|h| spreadsheet_safe(h).into_owned()))
            .chain(std::iter::once("error".into()));
        writer.write_record(header.collect::<Vec<_>>())?;
        rejects.writer = Some(writer);
        Ok(rejects)
    }

    /// Append one rejected row: its line, its cells as written (short rows padded to the
    /// header), then its problems joined by "; ".
    pub fn write(&mut self, row: &RejectedRow) -> io::Result<()> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| io::Error::other("rejects file already finished"))?;
        let error = row
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.column, e.reason))
            .collect::<Vec<_>>()
            .join("; ");
        let padding = self.width.saturating_sub(row.fields.len());
        let cells = std::iter::once(row.line.to_string())
            .chain(row.fields.iter().map(|f| spreadsheet_safe(f).into_owned()))
            .chain(std::iter::repeat_n(String::new(), padding))
            .chain(std::iter::once(spreadsheet_safe(&error).into_owned()));
        writer.write_record(cells.collect::<Vec<_>>())?;
        self.rows += 1;
        Ok(())
    }

    /// Flush, sync and move the file into place. Returns the number of rows written.
    pub fn finish(mut self) -> io::Result<u64> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| io::Error::other("rejects file already finished"))?;
        let file = writer
            .into_inner()
            .map_err(|err| io::Error::other(err.to_string()))?
            .into_inner()
            .map_err(|err| err.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.temp, &self.target)?;
        Ok(self.rows)
    }

    /// Where the file will be once finished.
    pub fn path(&self) -> &Path {
        &self.target
    }
}

impl Drop for RejectsWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::RowError;

    fn rejected(fields: &[&str]) -> RejectedRow {
        RejectedRow {
            line: 3,
            fields: fields.iter().map(|s| s.to_string()).collect(),
            errors: vec![
                RowError::at(3, "phone", fields[0], "is wrong"),
                RowError::at(3, "amount", "", "is missing"),
            ],
            reference: String::new(),
            phone: fields[0].to_string(),
            amount: String::new(),
            currency: String::new(),
        }
    }

    #[test]
    fn writes_header_rows_and_errors_then_renames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.csv");
        let headers = vec!["phone".to_string(), "amount".into(), "currency".into()];
        let mut w = RejectsWriter::create(&path, &headers, b',').unwrap();
        assert!(!path.exists(), "appears only when finished");
        w.write(&rejected(&["=HYPERLINK(\"x\")", "", "UGX"]))
            .unwrap();
        w.write(&rejected(&["+2567"])).unwrap();
        assert_eq!(w.finish().unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "line,phone,amount,currency,error");
        assert_eq!(
            lines[1],
            "3,\"'=HYPERLINK(\"\"x\"\")\",,UGX,phone: is wrong; amount: is missing"
        );
        assert_eq!(lines[2], "3,'+2567,,,phone: is wrong; amount: is missing");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropping_unfinished_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.csv");
        let w = RejectsWriter::create(&path, &["phone".into()], b';').unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
