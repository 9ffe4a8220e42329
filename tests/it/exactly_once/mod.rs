//! The crash-and-fault suite of issue 5: proof, by trying hard to break it, that payrun pays
//! no payee twice and skips none. The real binary runs against the real simulator with its
//! faults on and is killed at random moments (`random`), aborted at deterministic crash points
//! (`crash_points`), raced against itself (`locks`), fed an edited file after a crash
//! (`changed`) and met with a rate limit right at its start (`preflight`). Every scenario ends
//! in the same checker (`checker`), which is itself shown to reject broken histories
//! (`checker_tests`).

mod changed;
mod checker;
mod checker_tests;
mod crash_points;
mod driver;
mod locks;
mod payfile;
mod preflight;
mod process;
mod random;
mod trial;
