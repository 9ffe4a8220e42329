//! Standard output for every command. A closed stdout (`payrun status | head`) is the end of
//! the output, not an error: the first write that finds the reader gone switches printing off
//! quietly and the command carries on — `run` and `resume` keep sending and journaling, and
//! their exit code still says how the payouts went. Any other write failure (a full disk under
//! a redirect) is said once on stderr and printing stops the same way. Nothing here panics,
//! unlike `println!`.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output can no longer be written.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Print to standard output, like `print!`, without ever panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!($($arg)*))
    };
}

/// Print a line to standard output, like `println!`, without ever panicking.
macro_rules! outln {
    () => {
        $crate::cli::out::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Write formatted text to standard output; after a failure, do nothing.
pub fn print(args: fmt::Arguments<'_>) {
    let _ = Stdout.write_fmt(args);
}

/// Whether standard output was found closed (or unwritable).
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// A writer on standard output that swallows its end: once a write fails, this and every
/// later write report success and write nothing, so CSV and JSON writers streaming into it
/// stop producing errors instead of aborting the command.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stdout;

impl Stdout {
    /// A write's result as the caller sees it: a failure (other than an interruption, which
    /// `write_all` retries) sets `closed` and reads as success.
    fn settle<T>(closed: &AtomicBool, result: io::Result<T>, done: T) -> io::Result<T> {
        match result {
            Ok(v) => Ok(v),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                if !closed.swap(true, Ordering::Relaxed) && e.kind() != io::ErrorKind::BrokenPipe {
                    eprintln!("warning: cannot write to standard output ({e}); output stops here");
                }
                Ok(done)
            }
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if closed() {
            return Ok(buf.len());
        }
        Self::settle(&CLOSED, io::stdout().lock().write(buf), buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if closed() {
            return Ok(());
        }
        Self::settle(&CLOSED, io::stdout().lock().flush(), ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_reports_success_and_closes() {
        let flag = AtomicBool::new(false);
        let written: io::Result<usize> = Ok(3);
        assert_eq!(Stdout::settle(&flag, written, 7).unwrap(), 3);
        assert!(!flag.load(Ordering::Relaxed));
        // Interrupted is retried by `write_all`, never taken for the end.
        let interrupted: io::Result<usize> = Err(io::Error::from(io::ErrorKind::Interrupted));
        assert!(Stdout::settle(&flag, interrupted, 1).is_err());
        assert!(!flag.load(Ordering::Relaxed));
        let broken: io::Result<usize> = Err(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(Stdout::settle(&flag, broken, 7).unwrap(), 7);
        assert!(flag.load(Ordering::Relaxed));
    }
}
