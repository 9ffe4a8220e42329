//! payrun: validate a payout CSV, then pay every payee exactly once through a mobile-money
//! provider, journaling every step so an interrupted run resumes without double payment.
//!
//! Layout: `domain` (checked value types), `cli` (the command-line edge), `exit` (exit codes).
//! Later layers: `ingest` (CSV → rows), `sim` (provider simulator), `provider` (API clients),
//! `journal` (SQLite), `runner` (rate-limited sending).

pub mod cli;
pub mod crash;
pub mod domain;
pub mod exit;
pub mod ingest;
pub mod journal;
pub mod keys;
pub mod planner;
pub mod private_file;
pub mod provider;
pub mod reconcile;
pub mod runner;
pub mod sim;
pub mod webhook;
