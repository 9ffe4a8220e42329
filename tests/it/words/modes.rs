//! Files that hold phone numbers are 0600 whatever the umask: the journal and its -wal/-shm,
//! `validate --rejects`, `report --out`, `generate --out`; a journal others can read is
//! tightened to 0600 with a notice.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::pay::{Fixture, code, exec, text, ugx_payees};
use crate::support::sim::SimConfig;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn sidecar(journal: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", journal.display()))
}

/// `payrun ARGS` under `umask 000`, with the fixture's environment.
async fn under_umask_000(fx: &Fixture, args: &[&str]) -> Output {
    exec(&mut fx.payrun_with_umask("000", args)).await
}

/// `payrun listen` on the journal, under umask 000: the modes of the journal and its -wal and
/// -shm while it is open, and its stderr.
async fn modes_while_listening(fx: &Fixture) -> ([u32; 3], String) {
    let journal = fx.journal.to_str().unwrap();
    let mut child = fx
        .payrun_with_umask(
            "000",
            &["listen", "--journal", journal, "--addr", "127.0.0.1:0"],
        )
        .env("ROHOPAY_WEBHOOK_SECRET", "whsec_modes")
        .spawn()
        .expect("listen starts");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("piped");
    tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).read_line(&mut first),
    )
    .await
    .expect("listen announced itself within 30 s")
    .expect("read");
    assert!(first.starts_with("listening on"), "{first}");
    let modes = [
        mode(&fx.journal),
        mode(&sidecar(&fx.journal, "-wal")),
        mode(&sidecar(&fx.journal, "-shm")),
    ];
    child.start_kill().expect("kill listen");
    let out = child.wait_with_output().await.expect("listen output");
    (modes, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn files_with_phone_numbers_are_0600_under_umask_000() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let file = file.to_str().unwrap();
    let out = under_umask_000(
        &fx,
        &[
            "run",
            file,
            "--provider",
            "rohopay",
            "--yes",
            "--batch",
            "m",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(mode(&fx.journal), 0o600);
    let (modes, stderr) = modes_while_listening(&fx).await;
    assert_eq!(modes, [0o600; 3], "journal, -wal, -shm; {stderr}");
    assert!(
        !stderr.contains("tightened"),
        "nothing to tighten: {stderr}"
    );

    let dir = fx.dir.path();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "phone,amount,currency\n256770000001,12,UGX\n256772123456,5000,UGX\n",
    )
    .unwrap();
    let rejects = dir.join("rejects.csv");
    let report = dir.join("report.csv");
    let generated = dir.join("generated.csv");
    // An existing file that is overwritten is tightened too.
    std::fs::write(&report, "old").unwrap();
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (rejects_s, report_s, generated_s) = (
        rejects.to_str().unwrap(),
        report.to_str().unwrap(),
        generated.to_str().unwrap(),
    );
    let out = under_umask_000(
        &fx,
        &[
            "validate",
            bad.to_str().unwrap(),
            "--provider",
            "rohopay",
            "--rejects",
            rejects_s,
        ],
    )
    .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let out = under_umask_000(&fx, &["report", "m", "--out", report_s]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = under_umask_000(&fx, &["generate", "--rows", "3", "--out", generated_s]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    for path in [&rejects, &report, &generated] {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }
    assert!(std::fs::read_to_string(&report).unwrap().contains("256"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_journal_others_can_read_is_tightened_to_0600_with_a_notice() {
    let fx = Fixture::new(SimConfig::default()).await;
    let file = fx.csv("payroll.csv", &ugx_payees(2));
    let out = fx.run(&file, "rohopay", &["--batch", "t"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let loosen =
        || std::fs::set_permissions(&fx.journal, std::fs::Permissions::from_mode(0o644)).unwrap();

    loosen();
    let out = under_umask_000(&fx, &["status", "t"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tightened") && stderr.contains("0644") && stderr.contains("0600"),
        "{stderr}"
    );
    assert_eq!(mode(&fx.journal), 0o600);

    // Left-over -wal/-shm files with the loose mode are tightened as well, before SQLite
    // opens them.
    loosen();
    for suffix in ["-wal", "-shm"] {
        let path = sidecar(&fx.journal, suffix);
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let (modes, stderr) = modes_while_listening(&fx).await;
    assert_eq!(modes, [0o600; 3], "journal, -wal, -shm; {stderr}");
    assert!(stderr.contains("tightened"), "{stderr}");
    assert!(
        stderr.contains("-wal") && stderr.contains("-shm"),
        "{stderr}"
    );
}
