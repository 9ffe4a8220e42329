//! A journal on a full disk: payrun says the disk is full, where, and that nothing unjournaled
//! was sent; nothing is paid twice, every paid row is journaled, and once space is freed a
//! resume finishes the batch exactly once. Needs `mount -t tmpfs` (root); skipped with a
//! message where mounting is not permitted.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::pay::{Fixture, code, text, ugx_payees};
use crate::support::sim::SimConfig;

/// A small tmpfs mounted for the test, unmounted when dropped (also when the test fails).
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Result<SmallDisk, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(SmallDisk {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fill the disk to the last byte with `path`.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

/// `payrun report BATCH --format json` of the journal at `journal`.
async fn report_in(fx: &Fixture, batch: &str, journal: &str) -> Vec<serde_json::Value> {
    let out = fx
        .exec(&["report", batch, "--format", "json", "--journal", journal])
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_is_named_and_nothing_unjournaled_is_sent() {
    let fx = Fixture::new(SimConfig::default()).await;
    let disk_dir = fx.dir.path().join("small");
    std::fs::create_dir(&disk_dir).unwrap();
    // 64 MB: the batch fits easily, and so does the write-ahead log of sending it, which grows
    // past 16 MB (1000 pages of 16 KiB) before a checkpoint rewinds it.
    let disk = match SmallDisk::mount(&disk_dir, "64m") {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!(
                "SKIPPED a_full_disk_is_named_and_nothing_unjournaled_is_sent: cannot mount a tmpfs ({why})"
            );
            return;
        }
    };
    let journal = disk_dir.join("payrun.db");
    let journal_s = journal.to_str().unwrap();
    let payees = ugx_payees(300);
    let file = fx.csv("payroll.csv", &payees);
    let file_s = file.to_str().unwrap();
    // Plan the batch (not confirmed: nothing sent), then fill the disk but for a little room.
    let planned = fx
        .exec(&[
            "run",
            file_s,
            "--provider",
            "rohopay",
            "--batch",
            "full",
            "--journal",
            journal_s,
        ])
        .await;
    assert_eq!(code(&planned), 3, "{}", text(&planned));
    let filler = disk_dir.join("filler");
    fill(&filler);
    let size = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .and_then(|f| f.set_len(size.saturating_sub(160 * 1024)))
        .unwrap();

    let args = [
        "resume",
        "full",
        "--yes",
        "--rate",
        "1000",
        "--journal",
        journal_s,
    ];
    let out = fx.exec(&args).await;
    let all = text(&out);
    assert_eq!(code(&out), 2, "an I/O error: {all}");
    assert!(all.contains("disk") && all.contains("full"), "{all}");
    assert!(all.contains(journal_s), "names where: {all}");
    assert!(all.contains("nothing unjournaled was sent"), "{all}");
    assert!(!all.contains("corrupt"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    let ledger = fx.ledger().await;
    assert!(
        ledger.len() < 300,
        "the disk filled before the end: {}",
        ledger.len()
    );

    // Free the space: every payout the provider made is journaled (not `planned`), and a
    // resume finishes the batch without paying anyone twice.
    std::fs::remove_file(&filler).unwrap();
    let report = report_in(&fx, "full", journal_s).await;
    for paid in &ledger {
        let row = report
            .iter()
            .find(|r| r["key"] == paid["key"])
            .unwrap_or_else(|| panic!("paid key not in the journal: {paid}"));
        assert_ne!(
            row["state"], "planned",
            "paid but journaled as never sent: {row}"
        );
    }
    let out = fx.exec(&args).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    // The exactly-once checker reads the journal on the small disk.
    let mut fx = fx;
    fx.journal = journal.clone();
    assert_eq!(fx.assert_exactly_once("full", &payees).await, 300);
    drop(disk);
}
