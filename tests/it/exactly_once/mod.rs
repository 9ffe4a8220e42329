//! The crash-and-fault suite of issue 5: proof, by trying hard to break it, that payrun pays
//! no payee twice and skips none. The real binary runs against the real simulator with its
//! faults on and is killed at random moments (`random`), aborted at deterministic crash points
//! (`crash_points`), raced against itself (`locks`), fed an edited file after a crash
//! (`changed`) and met with a rate limit right at its start (`preflight`). Every scenario ends
//! in the same checker (`checker`), which is itself shown to reject broken histories
//! (`checker_tests`). The operator-sequence fuzzer (`sequences`) does what people do to files
//! and batch ids — edits, renames, re-saves, copies, new ids — with kills and faults, and
//! checks the money across every batch (`seq_check`) against what was meant (`ledger_model`).

mod changed;
pub(crate) mod checker;
mod checker_tests;
mod commands;
mod crash_points;
mod driver;
mod ledger_model;
mod locks;
mod operator;
pub(crate) mod payfile;
mod preflight;
mod process;
mod random;
mod seq_check;
mod seq_check_tests;
mod sequences;
mod sim_process;
mod trial;
mod workspace;
