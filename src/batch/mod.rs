//! The use cases of a payout run, as a library API: plan a file into a batch (keys, replan of
//! an edited file), check it before sending (balance, refusals), send it (pacer, workers,
//! retries, pauses, stops), resume it and reconcile it. Nothing here prints: results are typed
//! values, and progress reaches the caller through an observer.

mod answer;
pub mod approval;
pub mod endpoint;
pub mod keys;
pub mod observer;
pub mod open;
pub mod pay;
pub mod pay_file;
pub mod plan;
pub mod preflight;
pub mod reconcile;
pub mod retry;
pub mod send;

pub use endpoint::{Endpoint, Target};
pub use observer::{Observer, Quiet};
pub use pay::{Confirm, Paid, Yes};
pub use pay_file::{PayFile, pay_file};
