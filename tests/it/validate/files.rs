//! Files that cannot be read (and bad flags) end with one clear line on stderr and exit 2, never
//! a panic; the rejects file never replaces the input.

use std::path::PathBuf;

use super::*;

/// Assert exit 2 with exactly one `error: ...` line on stderr and nothing on stdout; returns it.
fn one_line_error(output: &Output) -> String {
    let err = stderr(output);
    assert_eq!(code(output), 2, "stderr: {err}");
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("error: "), "{err:?}");
    assert!(!err.contains("panicked"), "{err:?}");
    err
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn missing_file() {
    let err = one_line_error(&validate(
        Path::new("/nonexistent/payroll.csv"),
        "rohopay",
        &[],
    ));
    assert!(
        err.contains("cannot open /nonexistent/payroll.csv"),
        "{err}"
    );
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = one_line_error(&validate(&write(&dir, "empty.csv", b""), "rohopay", &[]));
    assert!(err.contains("the file is empty"), "{err}");
}

#[test]
fn not_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "latin1.csv",
        b"phone,amount,currency,first_name\n256700123456,25000,UGX,Ann\n256700123457,25000,UGX,Ren\xe9e\n",
    );
    let err = one_line_error(&validate(&file, "rohopay", &["--format", "json"]));
    assert!(err.contains("line 3, column 4, is not UTF-8"), "{err}");
}

#[test]
fn binary_garbage_and_broken_workbooks() {
    let dir = tempfile::tempdir().unwrap();
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    one_line_error(&validate(
        &write(&dir, "garbage.csv", &garbage),
        "rohopay",
        &[],
    ));
    let err = one_line_error(&validate(
        &write(
            &dir,
            "payroll.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00rest of a zip",
        ),
        "rohopay",
        &[],
    ));
    // Read as a workbook (by its content), refused as one that cannot be read.
    assert!(
        err.contains("cannot read this Excel workbook (.xlsx): ")
            && err.contains("save it again (as .xlsx), or save the payee sheet as \"CSV UTF-8\""),
        "{err}"
    );
    let err = one_line_error(&validate(
        &write(
            &dir,
            "old.csv",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 truncated",
        ),
        "rohopay",
        &[],
    ));
    assert!(
        err.contains("cannot read this Excel 97-2003 workbook (.xls): "),
        "{err}"
    );
    one_line_error(&validate(dir.path(), "rohopay", &[]));
}

#[test]
fn missing_columns_say_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "cols.csv", b"name,amount,currency\nAnn,25000,UGX\n");
    let err = one_line_error(&validate(&file, "rohopay", &[]));
    assert!(
        err.contains("msisdn, mobile, phone_number")
            && err.contains("the header has: name, amount, currency"),
        "{err}"
    );
}

#[test]
fn bad_flags_and_limits_files() {
    let err = one_line_error(&validate(
        &sample("payroll.csv"),
        "rohopay",
        &["--currency", "GHS"],
    ));
    assert!(err.contains("rohopay does not pay GHS"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let limits = write(&dir, "limits.toml", b"[rohopay.UGX]\nmin = 2500.5\n");
    let err = one_line_error(&validate(
        &sample("payroll.csv"),
        "rohopay",
        &["--limits", limits.to_str().unwrap()],
    ));
    assert!(
        err.contains("limits.toml") && err.contains("[rohopay.UGX] min"),
        "{err}"
    );
    let err = one_line_error(&validate(
        &sample("payroll.csv"),
        "rohopay",
        &["--limits", "/nonexistent/limits.toml"],
    ));
    assert!(err.contains("cannot read limits file"), "{err}");
}

#[test]
fn rejects_never_overwrite_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(&dir, "pay.csv", b"phone,amount,currency\nbad,1,UGX\n");
    let before = std::fs::read(&input).unwrap();
    let err = one_line_error(&validate(
        &input,
        "rohopay",
        &["--rejects", input.to_str().unwrap()],
    ));
    assert!(err.contains("is the input file itself"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn unusable_file_leaves_no_rejects_behind() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(&dir, "pay.csv", b"phone,amount,currency\nbad,1,UGX\n\xff\n");
    let out = dir.path().join("rejects.csv");
    one_line_error(&validate(
        &input,
        "rohopay",
        &["--rejects", out.to_str().unwrap()],
    ));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}
