//! payrun pays a spreadsheet of payees through a mobile-money provider, each exactly once,
//! journaling every step in SQLite so an interrupted run resumes without paying anyone twice.
//!
//! The pipeline: a payee file is read and judged row by row (`ingest`), planned into a batch
//! with one deterministic key per payee (`batch::plan`, `batch::keys`), checked against the
//! wallet (`batch::preflight`), sent at a controlled rate with every step journaled
//! (`batch::send`, `journal`), and settled by callbacks (`webhook`) or by asking the provider
//! (`batch::reconcile`). [`batch::pay_file`] does it all in one call.
//!
//! Modules, top to bottom (each imports only those below it):
//! - `cli`: the command line; parses flags, asks for confirmation and is the only module that
//!   prints.
//! - `batch`: the use cases (open a file as a batch, pre-flight, pay, reconcile), returning
//!   typed results and telling an [`batch::Observer`] how they go.
//! - `ingest`: payee files to checked rows or rejected lines; `provider`: the RohoPay and
//!   Rumbapay clients behind one trait; `journal`: the SQLite journal, the only SQL in the
//!   crate; `webhook`: signed provider callbacks into the journal.
//! - `domain`: checked values (phone, money, currency, operator, row states).
//! - `sim`: a provider simulator for tests and `--sandbox`, written from the provider documents
//!   independently of `provider`.
//! - `exit`: exit codes; `crash`: deterministic crash points for the crash tests;
//!   `private_file`: files created readable by their owner only.

pub mod batch;
pub mod cli;
pub(crate) mod crash;
pub mod domain;
pub mod exit;
pub mod ingest;
pub mod journal;
pub(crate) mod private_file;
pub mod provider;
pub mod sim;
pub mod webhook;
