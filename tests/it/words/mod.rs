//! Hostile conditions and honest words (issue 9): a closed stdout, credentials in a base URL,
//! file modes under umask 000, a full disk, and messages that must say only what happened.

mod closed_stdout;
mod counts;
mod full_disk;
mod messages;
mod modes;
mod reconcile;
mod secrets;
