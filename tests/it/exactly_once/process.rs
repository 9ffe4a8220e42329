//! Running the real payrun binary as a child that may be killed: its output is drained while
//! it runs (so a kill never loses what it printed), and a [`Kill`] decides when SIGKILL (or
//! SIGINT, then SIGKILL mid-drain) lands — after a delay, or once the provider has executed a
//! number of further payouts, polled from the simulator's ledger rather than guessed.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::support::sim::{SimHandle, ledger};

/// When to kill a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// Let it finish.
    Never,
    /// SIGKILL this long after spawning.
    After(Duration),
    /// SIGKILL as soon as the ledger holds this many payouts more than at spawn.
    AfterPayouts(usize),
    /// SIGINT after the first delay (a graceful stop begins draining), SIGKILL after the second.
    Interrupt(Duration, Duration),
}

/// How a child ended.
#[derive(Debug)]
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// SIGINT was sent.
    pub interrupted: bool,
    /// The run took longer than the deadline and was killed for it.
    pub hung: bool,
}

impl Ended {
    /// Ended by our SIGKILL.
    pub fn killed(&self) -> bool {
        self.status.signal() == Some(Signal::SIGKILL as i32)
    }

    /// Ended by our SIGINT's default action: payrun had not yet installed its Ctrl-C
    /// handler (still planning or in the pre-flight).
    pub fn died_of_ctrl_c(&self) -> bool {
        self.interrupted && self.status.signal() == Some(Signal::SIGINT as i32)
    }

    /// Ended by a crash point's abort().
    pub fn aborted(&self) -> bool {
        self.status.signal() == Some(Signal::SIGABRT as i32)
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// One line for a trial log: exit code or signal, and time taken.
    pub fn describe(&self) -> String {
        let how = match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(9)) => "SIGKILL".to_string(),
            (None, Some(6)) => "abort".to_string(),
            (None, Some(sig)) => format!("signal {sig}"),
            (None, None) => "unknown end".to_string(),
        };
        let int = if self.interrupted {
            " after SIGINT"
        } else {
            ""
        };
        format!("{how}{int} in {} ms", self.elapsed.as_millis())
    }

    /// stdout and stderr, for failure messages.
    pub fn text(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// A running child whose output is being collected.
pub struct Running {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
    started: Instant,
    interrupted: bool,
}

fn drain<R: tokio::io::AsyncRead + Unpin + Send + 'static>(pipe: Option<R>) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf).await;
        }
        buf
    })
}

impl Running {
    /// Spawn `cmd` (stdout and stderr must be piped).
    pub fn spawn(cmd: &mut Command) -> Running {
        let mut child = cmd.spawn().expect("payrun starts");
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        Running {
            child,
            stdout,
            stderr,
            started: Instant::now(),
            interrupted: false,
        }
    }

    pub fn pid(&self) -> Option<Pid> {
        self.child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw)
    }

    /// Wait for the child to exit on its own (cancel-safe; call [`Running::finish`] after).
    pub async fn wait(&mut self) {
        let _ = self.child.wait().await;
    }

    /// Wait until `at` after spawn; false if the child exited first.
    async fn still_running_at(&mut self, at: Duration) -> bool {
        let until = tokio::time::Instant::from_std(self.started + at);
        tokio::select! {
            _ = self.child.wait() => false,
            () = tokio::time::sleep_until(until) => true,
        }
    }

    /// SIGKILL now (a no-op if it already exited).
    pub fn sigkill(&mut self) {
        let _ = self.child.start_kill();
    }

    /// Apply `trigger`, then wait for the end (at most `deadline` from spawn: past it the child
    /// is killed and reported as hung).
    pub async fn finish(mut self, trigger: Kill, sim: &SimHandle, deadline: Duration) -> Ended {
        match trigger {
            Kill::Never => {}
            Kill::After(at) => {
                if self.still_running_at(at).await {
                    self.sigkill();
                }
            }
            Kill::AfterPayouts(more) => {
                let base = ledger(sim).await.len();
                loop {
                    if !self
                        .still_running_at(self.started.elapsed() + Duration::from_millis(5))
                        .await
                    {
                        break;
                    }
                    if ledger(sim).await.len() >= base + more {
                        self.sigkill();
                        break;
                    }
                    if self.started.elapsed() > deadline {
                        break;
                    }
                }
            }
            Kill::Interrupt(first, then) => {
                if self.still_running_at(first).await {
                    if let Some(pid) = self.pid() {
                        let _ = kill(pid, Signal::SIGINT);
                        self.interrupted = true;
                    }
                    if self.still_running_at(first + then).await {
                        self.sigkill();
                    }
                }
            }
        }
        self.collect(deadline).await
    }

    /// Wait for the end without sending anything (at most `deadline` from spawn: past it the
    /// child is killed and reported as hung), with everything it printed.
    pub async fn collect(mut self, deadline: Duration) -> Ended {
        let mut hung = false;
        let status = match tokio::time::timeout(
            deadline.saturating_sub(self.started.elapsed()),
            self.child.wait(),
        )
        .await
        {
            Ok(status) => status.expect("wait for payrun"),
            Err(_) => {
                hung = true;
                let _ = self.child.start_kill();
                self.child.wait().await.expect("wait for payrun")
            }
        };
        let elapsed = self.started.elapsed();
        let stdout = self.stdout.await.unwrap_or_default();
        let stderr = self.stderr.await.unwrap_or_default();
        Ended {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
            interrupted: self.interrupted,
            hung,
        }
    }
}
