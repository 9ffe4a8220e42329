//! Running the binary when the test must not trust it to end or to stay small: a deadline that
//! kills a child still running and fails the test, and the peak memory of exactly that child:
//! the high-water mark of its own address space (`VmHWM` in `/proc/PID/status`), read while it
//! runs. Not `ru_maxrss`: Linux counts in it the memory of the test process the child was
//! spawned from (vfork shares it until exec), which depends on what other tests hold; and never
//! `RUSAGE_CHILDREN`, which mixes in every other child.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a child did: exit code (None if killed by a signal), output, and its peak RSS.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Maximum resident set size of the child, in bytes.
    pub max_rss: u64,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Run `cmd` (stdin closed, output captured); fail the test, after killing the child, if it has
/// not exited within `deadline`.
// The child is reaped by `wait4` (which also gives its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
pub fn finish_within(cmd: &mut Command, deadline: Duration) -> Finished {
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("payrun starts");
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let started = Instant::now();
    let mut peak = 0;
    let (status, max_rss) = loop {
        let mut status: nix::libc::c_int = 0;
        // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
        let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child's pid with valid pointers to locals; WNOHANG never
        // blocks. The child is reaped here, so `child.wait()` is never called afterwards.
        let got =
            unsafe { nix::libc::wait4(pid.as_raw(), &mut status, nix::libc::WNOHANG, &mut usage) };
        assert!(
            got >= 0,
            "wait4 failed: {}",
            std::io::Error::last_os_error()
        );
        if got == pid.as_raw() {
            break (status, peak);
        }
        peak = peak.max(vm_hwm(pid.as_raw()).unwrap_or(0));
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "payrun was still running after {deadline:?} (killed): {:?}",
                cmd.get_args().collect::<Vec<_>>()
            );
        }
        // Polling for the exit, not waiting for a time: the deadline above is what fails.
        std::thread::sleep(Duration::from_millis(10));
    };
    let code = if nix::libc::WIFEXITED(status) {
        Some(nix::libc::WEXITSTATUS(status))
    } else {
        None
    };
    Finished {
        code,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        max_rss,
    }
}

/// The peak resident memory of process `pid` since its last exec, in bytes (`None` once it has
/// exited). The kernel keeps it as a high-water mark, so polling misses nothing but the last
/// moments before exit.
fn vm_hwm(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kib * 1024)
}
