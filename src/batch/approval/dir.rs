//! An approval directory as people pass it around: `statement.txt` and one `*.sig` file per
//! signature (payrun's or `ssh-keygen -Y sign`'s, under any name). Reads are capped, so a
//! directory of the wrong files cannot exhaust memory; files payrun writes there are 0600.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The statement's file name inside the directory.
pub const STATEMENT: &str = "statement.txt";

/// Largest statement read: a few dozen lines.
const MAX_STATEMENT: u64 = 1 << 20;
/// Largest signature read (an ed25519 SSHSIG is about 300 bytes).
const MAX_SIGNATURE: u64 = 64 << 10;
/// Signature files looked at, at most.
const MAX_SIGNATURES: usize = 1000;

/// One `*.sig` file: its name, and its text or why it could not be read.
#[derive(Clone, Debug)]
pub struct SigFile {
    pub name: String,
    pub text: Result<String, String>,
}

/// The statement's bytes and every signature file, in name order.
#[derive(Clone, Debug)]
pub struct DirContents {
    pub statement: Vec<u8>,
    pub signatures: Vec<SigFile>,
}

/// Read `path` up to `cap` bytes as UTF-8 text; a longer file is an error.
pub(crate) fn read_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    let bytes = read_bytes(path, cap)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn read_bytes(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let file = crate::ingest::open_regular(path).map_err(std::io::Error::other)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("longer than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// The statement's path in `dir`.
pub fn statement_path(dir: &Path) -> PathBuf {
    dir.join(STATEMENT)
}

/// Read the statement and the signature files of `dir`.
pub fn read(dir: &Path) -> Result<DirContents, String> {
    let path = statement_path(dir);
    let statement = read_bytes(&path, MAX_STATEMENT).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound || !dir.is_dir() {
            format!(
                "{} holds no statement ({STATEMENT}); prepare one with `payrun approval new FILE --provider P --out {}`",
                dir.display(),
                dir.display()
            )
        } else {
            format!("cannot read {}: {e}", path.display())
        }
    })?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sig"))
        .collect();
    names.sort();
    names.truncate(MAX_SIGNATURES);
    let signatures = names
        .into_iter()
        .map(|name| {
            let text = read_capped(&dir.join(&name), MAX_SIGNATURE).map_err(|e| e.to_string());
            SigFile { name, text }
        })
        .collect();
    Ok(DirContents {
        statement,
        signatures,
    })
}

/// Write `text` as `dir/file`, 0600, replacing what was there.
pub fn write_private(dir: &Path, file: &str, text: &str) -> std::io::Result<PathBuf> {
    let path = dir.join(file);
    let mut out = crate::private_file::create(&path)?;
    out.write_all(text.as_bytes())?;
    out.sync_all()?;
    Ok(path)
}

/// Write `text` as `dir/<stem>.sig`, 0600, never over another file: `<stem>-2.sig`,
/// `<stem>-3.sig`, ... when the name is taken (two approvers' keys may carry one comment).
pub fn write_new_signature(dir: &Path, stem: &str, text: &str) -> std::io::Result<PathBuf> {
    for n in 1..=MAX_SIGNATURES {
        let name = if n == 1 {
            format!("{stem}.sig")
        } else {
            format!("{stem}-{n}.sig")
        };
        let path = dir.join(name);
        match crate::private_file::create_new(&path) {
            Ok(mut out) => {
                out.write_all(text.as_bytes())?;
                out.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "{} already holds {MAX_SIGNATURES} signatures named {stem}",
        dir.display()
    )))
}

/// A file name from a principal or a key comment: letters, digits, `@ . _ -` kept, the rest
/// `-`; never empty, never hidden.
pub fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        "signature".into()
    } else {
        stem.to_string()
    }
}
