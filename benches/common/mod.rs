//! Shared by the custom-harness benches: running the release `payrun` binary as a measured
//! child (wall time, user+sys CPU time, peak RSS, stdout), the CPU time of work done in the
//! bench itself, and cargo's bench-filter convention.
//!
//! The child is started from a small re-exec of the bench (`--measure-child`), not from the
//! bench itself: a child shares its parent's memory until it execs, so spawning from a parent
//! that holds a lot would inflate the child's recorded peak.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// What one measured run of the binary gave.
pub struct Measured {
    pub elapsed: Duration,
    /// User + system CPU time of the child (`getrusage(RUSAGE_CHILDREN)` delta).
    pub cpu: Duration,
    /// Peak resident set size in KiB (Linux `ru_maxrss`).
    pub peak_rss_kib: i64,
    pub stdout: String,
}

impl Measured {
    pub fn peak_rss_mb(&self) -> f64 {
        self.peak_rss_kib as f64 * 1024.0 / 1e6
    }
}

/// If this process was re-executed as the measuring child, do that job and return true.
pub fn handle_measure_child() -> Result<bool, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("--measure-child") {
        return Ok(false);
    }
    let (program, rest) = args[2..].split_first().ok_or("nothing to run")?;
    let before = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let started = Instant::now();
    let output = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{program} exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout)
        )
        .into());
    }
    let after = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let kib = after.max_rss();
    let cpu = cpu_time(&after).saturating_sub(cpu_time(&before));
    println!("{} {kib} {}", elapsed.as_secs_f64(), cpu.as_secs_f64());
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(true)
}

/// `cargo bench` passes `--bench`; a filter that is not `name` means "not this bench".
pub fn filtered_out(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && a != name)
}

/// Run `payrun ARGS` (with `envs`) through the measuring child.
pub fn measure_payrun(args: &[&str], envs: &[(&str, String)]) -> Result<Measured, String> {
    let output = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .arg("--measure-child")
        .arg(env!("CARGO_BIN_EXE_payrun"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| format!("cannot run the measuring child: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "payrun {} failed: {text}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let (first, stdout) = text.split_once('\n').unwrap_or((&text, ""));
    let mut fields = first.split_whitespace();
    let seconds: f64 = fields
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or("no time")?;
    let kib: i64 = fields.next().and_then(|f| f.parse().ok()).ok_or("no RSS")?;
    let cpu: f64 = fields
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or("no CPU time")?;
    Ok(Measured {
        elapsed: Duration::from_secs_f64(seconds),
        cpu: Duration::from_secs_f64(cpu),
        peak_rss_kib: kib,
        stdout: stdout.to_string(),
    })
}

/// User + system CPU time in a `getrusage` result.
pub fn cpu_time(usage: &nix::sys::resource::Usage) -> Duration {
    let micros = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    micros(usage.user_time()) + micros(usage.system_time())
}

/// User + system CPU time this process has used so far (all its threads).
pub fn own_cpu() -> Result<Duration, String> {
    getrusage(UsageWho::RUSAGE_SELF)
        .map(|u| cpu_time(&u))
        .map_err(|e| format!("getrusage: {e}"))
}

/// "MET" / "NOT MET" for a report line.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "MET" } else { "NOT MET" }
}
