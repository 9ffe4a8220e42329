//! Files payrun writes that a person reads (reports, rejects, exports, approval statements and
//! signatures) are created 0600, whatever the umask, and an existing file being overwritten is
//! tightened to 0600 first.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Owner read and write, nobody else.
pub const PRIVATE_MODE: u32 = 0o600;

/// Create or truncate `path` for writing, readable and writable by its owner only.
pub fn create(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE_MODE)
        .open(path)?;
    // `mode` applies only to a new file (and through the umask): set it on the handle too.
    file.set_permissions(Permissions::from_mode(PRIVATE_MODE))?;
    Ok(file)
}

/// Create `path` for writing, readable and writable by its owner only; an existing file is
/// an error (`AlreadyExists`), never overwritten.
pub fn create_new(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(PRIVATE_MODE))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_and_overwritten_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        drop(create(&path).unwrap());
        assert_eq!(mode(&path), PRIVATE_MODE);
        std::fs::set_permissions(&path, Permissions::from_mode(0o666)).unwrap();
        drop(create(&path).unwrap());
        assert_eq!(mode(&path), PRIVATE_MODE);
        let fresh = dir.path().join("new.sig");
        drop(create_new(&fresh).unwrap());
        assert_eq!(mode(&fresh), PRIVATE_MODE);
        assert_eq!(
            create_new(&fresh).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
    }
}
