//! The maker's and the approvers' steps: `approval new` derives the statement from the file
//! and the flags exactly as `run` would plan them and writes it (0600) into the approval
//! directory; `approval sign` signs its bytes with an approver's key and adds the signature
//! beside it, never over another signature file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::dir;
use super::figures::{self, Subject};
use super::key::SigningKey;
use super::statement::{self, Statement};
use crate::batch::keys;
use crate::batch::open::refusal;
use crate::batch::plan::PlanFile;
use crate::exit::Refused;
use crate::ingest::IngestOptions;
use crate::journal::format_ms;

/// What `approval new` is asked for.
#[derive(Clone, Debug)]
pub struct NewStatement {
    pub file: PathBuf,
    pub opts: IngestOptions,
    /// `--batch`, as `run` would be given it.
    pub batch: Option<String>,
    pub skip_invalid: bool,
    pub prepared_by: String,
    pub valid_for: Duration,
    /// Default: `FILE.approval` beside the file.
    pub out: Option<PathBuf>,
}

/// A statement written.
#[derive(Debug)]
pub struct Written {
    pub dir: PathBuf,
    pub path: PathBuf,
    pub statement: Statement,
    pub sha256: String,
}

/// The default approval directory of `file`: `FILE.approval` beside it.
pub fn default_dir(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".approval");
    PathBuf::from(name)
}

/// Derive the statement of `req.file` and write it as `DIR/statement.txt`.
pub fn new_statement(req: &NewStatement, now_ms: i64) -> anyhow::Result<Written> {
    let who = req.prepared_by.trim();
    if who.is_empty() || who.chars().any(char::is_control) {
        anyhow::bail!(
            "--prepared-by {:?}: give the maker's principal as the approvers file names it (e.g. maker@corp)",
            req.prepared_by
        );
    }
    let path = req
        .file
        .canonicalize()
        .with_context(|| format!("cannot read {}", req.file.display()))?;
    let file = PlanFile::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let batch_id = match &req.batch {
        Some(id) => {
            keys::check_batch_id(id).map_err(|e| anyhow::anyhow!("--batch {id:?}: {e}"))?;
            id.clone()
        }
        None => keys::default_batch_id(&path, file.sha256()),
    };
    let file_name = path
        .file_name()
        .map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy())
        .into_owned();
    let subject = Subject {
        batch_id: &batch_id,
        file_name: &file_name,
        provider: req.opts.provider,
        opts: &req.opts,
        skip_invalid: req.skip_invalid,
    };
    let figures = figures::derive(&file, &subject).map_err(refusal)?;
    let prepared_at = now_ms - now_ms.rem_euclid(1000);
    let valid_ms = i64::try_from(req.valid_for.as_millis()).unwrap_or(i64::MAX);
    let statement = Statement {
        figures,
        prepared_by: who.to_string(),
        prepared_at,
        valid_until: prepared_at.saturating_add(valid_ms),
    };
    let dir = req.out.clone().unwrap_or_else(|| default_dir(&req.file));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Ok(old) = dir::read(&dir)
        && !old.signatures.is_empty()
    {
        return Err(Refused(format!(
            "{} already holds {} signature(s) of an earlier statement, which a new statement would make \
             worthless: give another --out DIR, or remove the .sig files first",
            dir.display(),
            old.signatures.len()
        ))
        .into());
    }
    let text = statement.render();
    let written = dir::write_private(&dir, dir::STATEMENT, &text)
        .with_context(|| format!("cannot write the statement into {}", dir.display()))?;
    Ok(Written {
        dir,
        path: written,
        sha256: statement::sha256(text.as_bytes()),
        statement,
    })
}

/// A signature written.
#[derive(Debug)]
pub struct Signed {
    pub path: PathBuf,
    pub fingerprint: String,
    pub statement: Statement,
    pub statement_sha256: String,
}

/// Sign the statement of `dir` with the key at `key` and write the signature as
/// `DIR/<as or the key's comment>.sig`.
pub fn sign(
    dir: &Path,
    key: &Path,
    as_principal: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Signed> {
    let contents = dir::read(dir).map_err(|why| anyhow::anyhow!(why))?;
    let statement = Statement::parse(&contents.statement)
        .map_err(|why| anyhow::anyhow!("{}: {why}", dir::statement_path(dir).display()))?;
    if now_ms >= statement.valid_until {
        return Err(Refused(format!(
            "the statement in {} expired at {}; ask {} for a new one (nothing was signed)",
            dir.display(),
            format_ms(statement.valid_until),
            statement.prepared_by
        ))
        .into());
    }
    let key = SigningKey::load(key)?;
    let armoured = key.sign(&contents.statement)?;
    let name = as_principal
        .filter(|p| !p.trim().is_empty())
        .map(str::to_string)
        .or_else(|| Some(key.comment().to_string()).filter(|c| !c.trim().is_empty()))
        .unwrap_or_else(|| key.fingerprint());
    let path = dir::write_new_signature(dir, &dir::file_stem(&name), &armoured)
        .with_context(|| format!("cannot write the signature into {}", dir.display()))?;
    Ok(Signed {
        path,
        fingerprint: key.fingerprint(),
        statement_sha256: statement::sha256(&contents.statement),
        statement,
    })
}
