//! Claiming rows ahead of free slots. Every request still leaves only after its row's
//! `sending` mark is durable; with more than one slot, the next rows' marks are committed (a
//! chunk per write, several chunks queued) while the current requests are in flight, so a
//! request leaves as soon as a slot frees instead of waiting a whole commit for its own mark.
//!
//! A row claimed ahead is `sending` before its request leaves, as an in-flight row is: a crash
//! leaves it for resume, which sends the same key and body. A run that stops (Ctrl-C, an
//! empty wallet, ...) gives the rows it claimed and did not send back to the state they were
//! claimed from. With one slot nothing overlaps: a row is marked, sent and recorded before
//! the next is marked.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::row::{self, Shared};
use super::source::OpenRows;
use crate::journal::{JournalError, OpenRow, check_lock, put_back};
use crate::provider::Provider;

/// Claims (writes) queued ahead at once; each marks `ahead / CLAIMS` rows.
const CLAIMS: usize = 4;
/// The most rows marked `sending` ahead of a free slot.
const MAX_AHEAD: usize = 512;

/// Whether rows overlap: with one slot, a row is marked, sent and recorded before the next
/// is marked (no claim ahead, no outcome left to commit with the next row's mark).
pub(super) fn pipelined(concurrency: usize) -> bool {
    concurrency > 1
}

/// Claimed ahead per slot at the least, and at the most.
const PER_SLOT: (usize, usize) = (2, 8);

/// How many rows a run with `concurrency` slots claims ahead of free slots at `rate` per
/// second: [`AHEAD_MS`] milliseconds' worth of sends, at least two and at most eight per
/// slot; none with one slot. At fast rates the claims are bigger, so fewer commits (and
/// fsyncs) carry them.
pub(super) fn rows_ahead(concurrency: usize, rate: u32) -> usize {
    if !pipelined(concurrency) {
        return 0;
    }
    let worth = usize::try_from(super::pacer::sends_in(rate, AHEAD_MS)).unwrap_or(usize::MAX);
    let (least, most) = (
        concurrency.saturating_mul(PER_SLOT.0),
        concurrency.saturating_mul(PER_SLOT.1),
    );
    worth.clamp(least, most).min(MAX_AHEAD)
}

/// How long (ms) the rows claimed ahead last at the run's rate, when slots allow: longer than
/// a commit takes, so a free slot does not wait for one.
const AHEAD_MS: u32 = 5;

/// Send every row of `rows`, claiming up to `ahead` of them before a slot is free for them.
/// Returns how many were handed to a slot.
pub(super) async fn send<P: Provider>(
    shared: &Arc<Shared<P>>,
    rows: &mut OpenRows,
    limit: &Arc<Semaphore>,
    tasks: &mut JoinSet<()>,
    ahead: usize,
) -> Result<u64, JournalError> {
    let chunk = (ahead / CLAIMS).max(1);
    let mut claims = VecDeque::with_capacity(CLAIMS);
    let mut more = true;
    let mut dispatched = 0u64;
    let mut unsent = Vec::new();
    'run: loop {
        while more && claims.len() < CLAIMS && !shared.stop.is_set() {
            let next = rows.take(chunk).await?;
            more = next.len() == chunk;
            if next.is_empty() {
                break;
            }
            let marks = row::claim(shared, &next);
            claims.push_back((next, marks));
        }
        let Some((next, marks)) = claims.pop_front() else {
            break;
        };
        let mut ready = row::claimed(shared, next, marks.await).into_iter();
        while let Some(row) = ready.next() {
            let Some(slot) = super::slot(shared, limit).await else {
                unsent.push(row);
                unsent.extend(ready);
                break 'run;
            };
            tasks.spawn(row::send_claimed(shared.clone(), row, slot));
            dispatched += 1;
            while tasks.try_join_next().is_some() {}
        }
    }
    for (next, marks) in claims {
        unsent.extend(row::claimed(shared, next, marks.await));
    }
    give_back(shared, unsent).await;
    Ok(dispatched)
}

/// Put rows claimed and never sent back as they were. Only the lock holder does: after a
/// takeover they stay `sending`, and the new owner sends them with the same key.
async fn give_back<P>(shared: &Shared<P>, rows: Vec<OpenRow>) {
    if rows.is_empty() {
        return;
    }
    let back: Vec<_> = rows.iter().map(|r| (r.id, r.state)).collect();
    let (batch, token) = (shared.batch_id.clone(), shared.token.clone());
    let put = shared
        .journal
        .write_whole(move |c| {
            check_lock(c, &batch, &token)?;
            back.iter()
                .try_for_each(|(id, state)| put_back(c, *id, *state))
        })
        .await;
    match put {
        Ok(()) => rows.iter().for_each(|r| shared.progress.record(r.state)),
        Err(e) => row::stop_for(shared, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_ahead_grow_with_the_rate_within_two_to_eight_per_slot() {
        assert_eq!(
            rows_ahead(1, 100_000),
            0,
            "one slot: strictly one at a time"
        );
        assert_eq!(rows_ahead(4, 10), 8, "slow: two per slot");
        assert_eq!(rows_ahead(16, 100), 32);
        assert_eq!(rows_ahead(16, 10_000), 50, "5 ms worth");
        assert_eq!(rows_ahead(16, 100_000), 128, "eight per slot at most");
        assert_eq!(rows_ahead(300, 100_000), MAX_AHEAD);
    }
}
