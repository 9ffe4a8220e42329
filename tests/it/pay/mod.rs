//! `payrun run` / `resume` / `status` / `report` against the simulator over loopback, with a
//! real journal file: exactly-once under kills, drops and rate limits; every refusal.

mod ahead;
mod attention;
mod changed;
mod clean;
mod copies;
mod crash;
mod faults;
mod hostile;
mod keys;
mod lies;
mod pauses;
mod queued_outcomes;
mod reconcile;
mod refusals;
mod repeats;
mod rumbapay;
