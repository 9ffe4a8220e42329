//! Exit codes (README "Exit codes"), in one place so every command agrees on them.

use std::fmt;

/// How a command ended, as the shell sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every row reached a final good state (validate: no invalid row).
    Ok = 0,
    /// Finished, but some rows were rejected, failed, or are still in doubt.
    Incomplete = 1,
    /// Usage or configuration error, unreadable input.
    Usage = 2,
    /// Refused before sending anything.
    Refused = 3,
    /// Interrupted; the batch is resumable.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// An error that means "refused before sending anything" (exit 3) rather than a usage error.
/// Commands return it through `anyhow`; `cli::main` maps it to [`Exit::Refused`].
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}
