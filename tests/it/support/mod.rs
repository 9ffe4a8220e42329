//! Shared test helpers: the binary under test, sample paths, the simulator.
#![allow(dead_code)]

pub mod child;
pub mod chromium;
pub mod csv;
pub mod journal;
pub mod listen;
pub mod money;
pub mod pay;
pub mod sim;
pub mod wait;
pub mod workbook;

use std::path::PathBuf;
use std::process::Command;

/// A `Command` for the payrun binary built for this test run.
pub fn payrun() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payrun"));
    cmd.env_remove("PAYRUN_JOURNAL")
        .env_remove("ROHOPAY_API_KEY")
        .env_remove("ROHOPAY_BASE_URL")
        .env_remove("RUMBAPAY_API_KEY")
        .env_remove("RUMBAPAY_BASE_URL")
        .env_remove("RUST_LOG");
    no_config(&mut cmd);
    cmd
}

/// No config file but the one a test writes: none named, and no user config directory.
pub fn no_config(cmd: &mut Command) {
    cmd.env_remove("PAYRUN_CONFIG")
        .env_remove("PAYRUN_PROFILE")
        .env("XDG_CONFIG_HOME", "/nonexistent/payrun-tests");
}

/// Path of a file under `samples/`.
pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}
