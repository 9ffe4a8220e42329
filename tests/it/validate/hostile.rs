//! Files made to break payrun: things that are not regular files (a FIFO, a symlink to
//! `/dev/zero`, a directory, a device), a field of hundreds of megabytes, a quote that is never
//! closed. Each must end promptly, in bounded memory, with a message naming the line.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::support::child::{Finished, finish_within};

/// Long enough for a slow shared machine, far shorter than "forever".
const DEADLINE: Duration = Duration::from_secs(20);

/// A FIFO, a symlink to /dev/zero, a directory and /dev/null, in `dir`.
fn not_regular_files(dir: &tempfile::TempDir) -> Vec<(PathBuf, &'static str)> {
    let fifo = dir.path().join("fifo.csv");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let zero = dir.path().join("zero.csv");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let folder = dir.path().join("folder.csv");
    std::fs::create_dir(&folder).unwrap();
    vec![
        (fifo, "a named pipe (FIFO)"),
        (zero, "a character device"),
        (folder, "a directory"),
        (PathBuf::from("/dev/null"), "a character device"),
    ]
}

fn refused_promptly(done: &Finished, what: &str) {
    assert_eq!(done.code, Some(2), "{done:?}");
    assert!(done.stdout.is_empty(), "{done:?}");
    assert!(
        done.stderr
            .contains(&format!("is not a regular file but {what}")),
        "{done:?}"
    );
    assert_eq!(done.stderr.lines().count(), 1, "{done:?}");
}

#[test]
fn validate_refuses_what_is_not_a_regular_file_promptly() {
    let dir = tempfile::tempdir().unwrap();
    for (path, what) in not_regular_files(&dir) {
        let done = finish_within(
            payrun()
                .arg("validate")
                .arg(&path)
                .args(["--provider", "rohopay"]),
            DEADLINE,
        );
        refused_promptly(&done, what);
    }
}

#[test]
fn run_refuses_what_is_not_a_regular_file_promptly_and_plans_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("payrun.db");
    for (path, what) in not_regular_files(&dir) {
        let done = finish_within(
            payrun()
                .arg("run")
                .arg(&path)
                .args(["--provider", "rohopay", "--sandbox", "--yes", "--journal"])
                .arg(&journal),
            DEADLINE,
        );
        refused_promptly(&done, what);
    }
    assert!(!journal.exists(), "nothing was planned, no journal created");
}

#[test]
fn a_symlink_to_a_regular_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(sample("payroll.csv"), &link).unwrap();
    let done = finish_within(
        payrun()
            .arg("validate")
            .arg(&link)
            .args(["--provider", "rohopay"]),
        DEADLINE,
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(done.stdout.contains("OK: every row is valid."), "{done:?}");
}

#[test]
fn a_200_mb_field_is_cut_in_bounded_memory_and_the_next_rows_are_judged() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(b"reference,phone,amount,currency,name\nE1,256700123456,1000,UGX,Amina N\nE2,256700123457,1000,UGX,")
        .unwrap();
    let block = vec![b'A'; 1 << 20];
    for _ in 0..200 {
        file.write_all(&block).unwrap();
    }
    file.write_all(b"\nE3,256700123458,1000,UGX,\"Ana\nNakato\"\nE4,2567O0123459,1000,UGX,Ben O\n")
        .unwrap();
    file.into_inner().unwrap().sync_all().unwrap();

    let done = finish_within(
        payrun()
            .arg("validate")
            .arg(&path)
            .args(["--provider", "rohopay"]),
        Duration::from_secs(60),
    );
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.max_rss < 150 * 1024 * 1024,
        "peak RSS {} MiB",
        done.max_rss >> 20
    );
    let out = &done.stdout;
    assert!(
        out.len() < 4096,
        "the value is not echoed: {} bytes",
        out.len()
    );
    let long = format!(
        "line 3, name \"{}…\": is 209715200 bytes long; at most 65536 bytes of a value are read",
        "A".repeat(40)
    );
    assert!(out.contains(&long), "{out}");
    // The rows after it are read and judged, with their physical line numbers.
    assert!(out.contains("line 6, phone \"2567O0123459\""), "{out}");
    assert!(out.contains("valid     2"), "{out}");
    assert!(out.contains("invalid   2"), "{out}");
}

#[test]
fn an_unclosed_quote_is_named_where_it_opened_and_merges_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quote.csv");
    std::fs::write(
        &path,
        "reference,phone,amount,currency,description\n\
         E1,256700123456,1000,UGX,ok\n\
         E2,256700123457,1000,UGX,\"bonus\n\
         E3,256700123458,1000,UGX,x\n\
         E4,256700123459,1000,UGX,y\n",
    )
    .unwrap();
    let output = validate(&path, "rohopay", &["--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        error_positions(&report),
        vec![(Some(3), "description".into())]
    );
    let reason = report["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "a quote opened here is never closed, so lines 3 to 5 (3 lines, to the end of the file)"
        ),
        "{reason}"
    );
    assert_eq!(
        (report["valid"].as_u64(), report["invalid"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(report["totals"]["UGX"], "1000", "only E1 counts");
}

#[test]
fn invisible_and_control_characters_are_shown_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invisible.csv");
    std::fs::write(
        &path,
        "phone,amount,currency,no\u{200D}te\n\
         2567\u{200B}00123456,1000,UGX,\n\
         256700123457,1\u{A0}000,UGX,\n\
         256700123458,1000,U\u{202E}GX,\n\
         \u{1b}[31m256700123459,1000,UGX,\n",
    )
    .unwrap();
    let output = validate(&path, "rohopay", &[]);
    let out = stdout(&output);
    for want in [
        "line 2, phone \"2567<U+200B ZERO WIDTH SPACE>00123456\": contains U+200B ZERO WIDTH SPACE;",
        "line 3, amount \"1<U+00A0 NO-BREAK SPACE>000\": contains U+00A0 NO-BREAK SPACE;",
        "\"U<U+202E RIGHT-TO-LEFT OVERRIDE>GX\"",
        "line 5, phone \"<U+001B ESCAPE>[31m256700123459\"",
        "\"no<U+200D ZERO WIDTH JOINER>te\"",
    ] {
        assert!(out.contains(want), "{want} missing from:\n{out}");
    }
    assert!(
        !out.contains(['\u{1b}', '\u{200B}', '\u{200D}', '\u{A0}', '\u{202E}']),
        "{out:?}"
    );
}
