//! Integration tests, compiled as one binary. They run the real `payrun` binary or the library
//! against the real simulator over loopback and real SQLite files in temp dirs.

mod approvals;
mod exactly_once;
mod listen;
mod operate;
mod pay;
mod reports;
mod sheets;
mod sim;
mod support;
mod validate;
mod words;
