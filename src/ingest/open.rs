//! Opening a payee file without trusting what the path names. A FIFO, `/dev/zero`, a directory
//! or a terminal given as the payee file would make payrun wait forever for bytes (or read an
//! endless stream of them), so only regular files are read. The check is made on the opened
//! handle, not on the path, so nothing can be swapped in between the check and the reading;
//! the open itself is non-blocking, so opening a FIFO that nobody writes to returns at once.
//! A symlink to a regular file is followed and read like the file.

use std::fs::{File, FileType, OpenOptions};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::{FcntlArg, OFlag, fcntl};

use super::IngestError;

/// Open `path` for reading if it is a regular file (after following symlinks); refuse anything
/// else with [`IngestError::NotRegularFile`], promptly.
pub fn open_regular(path: &Path) -> Result<File, IngestError> {
    let open_error = |source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(open_error)?;
    let kind = file.metadata().map_err(open_error)?.file_type();
    if !kind.is_file() {
        return Err(IngestError::NotRegularFile {
            path: path.to_path_buf(),
            kind: describe(kind),
        });
    }
    // Reads of a regular file never block, but the handle is handed on: make it ordinary.
    let flags = fcntl(&file, FcntlArg::F_GETFL).map_err(|e| open_error(e.into()))?;
    let flags = OFlag::from_bits_truncate(flags) - OFlag::O_NONBLOCK;
    fcntl(&file, FcntlArg::F_SETFL(flags)).map_err(|e| open_error(e.into()))?;
    Ok(file)
}

/// What a non-regular file is, for the refusal message.
fn describe(kind: FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::Mode;

    fn refused(path: &Path) -> String {
        match open_regular(path) {
            Err(err @ IngestError::NotRegularFile { .. }) => err.to_string(),
            other => panic!("{}: expected a refusal, got {other:?}", path.display()),
        }
    }

    #[test]
    fn regular_files_and_symlinks_to_them_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.csv");
        std::fs::write(&file, "phone\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        for path in [&file, &link] {
            let text = std::io::read_to_string(open_regular(path).unwrap()).unwrap();
            assert_eq!(text, "phone\n");
        }
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.csv");
        nix::unistd::mkfifo(&fifo, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
        assert!(refused(&fifo).contains("is not a regular file but a named pipe (FIFO)"));
        let zero = dir.path().join("zero.csv");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(refused(&zero).contains("is not a regular file but a character device"));
        assert!(refused(dir.path()).contains("is not a regular file but a directory"));
    }

    #[test]
    fn a_missing_file_is_an_open_error() {
        assert!(matches!(
            open_regular(Path::new("/nonexistent/p.csv")),
            Err(IngestError::Open { .. })
        ));
    }
}
