//! The journal holds phone numbers: it and its `-wal` and `-shm` files are for their owner
//! only. A journal that others can read (copied, restored from a backup, created by hand) is
//! tightened to 0600 rather than refused, before SQLite opens it — SQLite gives the `-wal`
//! and `-shm` files it creates the database file's mode — and its side files are checked
//! again once the connection has created them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::private_file::PRIVATE_MODE;

/// A file whose mode was narrowed to 0600, and what it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tightened {
    pub path: PathBuf,
    pub was: u32,
}

/// The journal and the side files SQLite keeps beside it.
fn journal_files(path: &Path) -> [PathBuf; 3] {
    let side = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), side("-wal"), side("-shm")]
}

/// Narrow every existing journal file that group or others may read or write to 0600.
/// Missing files are skipped; a file that cannot be changed (owned by someone else) is an
/// error naming it.
pub(super) fn tighten(path: &Path) -> std::io::Result<Vec<Tightened>> {
    let mut tightened = Vec::new();
    for file in journal_files(path) {
        let mode = match std::fs::metadata(&file) {
            Ok(meta) => meta.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if mode & 0o077 == 0 {
            continue;
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(PRIVATE_MODE)).map_err(
            |e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "{} is readable by other users (mode {mode:04o}) and could not be set to 0600: {e}",
                        file.display()
                    ),
                )
            },
        )?;
        tightened.push(Tightened {
            path: file,
            was: mode,
        });
    }
    Ok(tightened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_journal_files_are_narrowed_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("j.db");
        let [_, wal, shm] = journal_files(&db);
        for (file, mode) in [(&db, 0o644), (&wal, 0o600), (&shm, 0o666)] {
            std::fs::write(file, b"").unwrap();
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let done = tighten(&db).unwrap();
        assert_eq!(
            done,
            vec![
                Tightened {
                    path: db.clone(),
                    was: 0o644
                },
                Tightened {
                    path: shm.clone(),
                    was: 0o666
                },
            ]
        );
        for file in [&db, &wal, &shm] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
        assert!(tighten(&db).unwrap().is_empty(), "nothing left to do");
    }
}
