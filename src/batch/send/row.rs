//! Sending one row: mark it `sending` (durable) before the request leaves, try with the stored
//! key and bytes until the provider gives an answer or retries run out, then journal the
//! outcome. A row whose request may have reached the provider is never failed for a timeout,
//! nor for a later attempt's refusal: it ends `in_doubt` and the next resume resends the same
//! key and body. An answer is trusted only when it agrees with the stored request (README,
//! "Answers that contradict the request"); one that does not needs a person.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use super::{SendOptions, backoff, pacer::Pacer, progress::Progress, stop::Stop, stop::StopReason};
use crate::batch::answer::{in_doubt_reason, outcome_of};
use crate::crash;
use crate::domain::RowState;
use crate::journal::{
    Attempt, Claimed, JournalActor, JournalError, LockToken, OpenRow, Outcome, check_lock,
    claim_for_sending, log_attempt, now_ms, record_outcome,
};
use crate::provider::{ErrorClass, Provider, ProviderError, Receipt};

/// Everything the row tasks of one run share.
pub(super) struct Shared<P> {
    pub provider: Arc<P>,
    pub journal: JournalActor,
    pub batch_id: Arc<str>,
    pub token: LockToken,
    pub pacer: Pacer,
    pub stop: Arc<Stop>,
    pub progress: Arc<Progress>,
    pub consecutive_transport: AtomicU32,
    pub opts: SendOptions,
}

/// Most 429 answers one row tolerates in a run before it is left for a later resume.
const MAX_RATE_LIMITED: u32 = 1000;

/// Claim `row` (its `sending` mark durable first), then send it holding `slot`.
pub(super) async fn dispatch<P: Provider>(
    shared: Arc<Shared<P>>,
    row: OpenRow,
    slot: OwnedSemaphorePermit,
) {
    let marked = claim(&shared, std::slice::from_ref(&row)).await;
    if let Some(row) = claimed(&shared, vec![row], marked).pop() {
        send_claimed(shared, row, slot).await;
    }
}

/// Queue the write that marks `rows` `sending` (one commit for all of them).
pub(super) fn claim<P>(
    shared: &Shared<P>,
    rows: &[OpenRow],
) -> impl Future<Output = Result<Vec<Option<Claimed>>, JournalError>> + use<P> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let (batch, token) = (shared.batch_id.clone(), shared.token.clone());
    shared.journal.write_whole(move |c| {
        check_lock(c, &batch, &token)?;
        ids.iter().map(|id| claim_for_sending(c, *id)).collect()
    })
}

/// The rows as their claim left them, to be sent: what is sent is what the journal holds as
/// a row is marked `sending`, not the copy read when the row was queued. A row settled
/// meanwhile is left out; a failed claim kept nothing, and the run stops.
pub(super) fn claimed<P>(
    shared: &Shared<P>,
    rows: Vec<OpenRow>,
    marked: Result<Vec<Option<Claimed>>, JournalError>,
) -> Vec<OpenRow> {
    let claims = match marked {
        Ok(claims) => claims,
        Err(e) => {
            stop_for(shared, e);
            return Vec::new();
        }
    };
    let tally = &shared.progress.tally;
    rows.into_iter()
        .zip(claims)
        .filter_map(|(row, claim)| match claim {
            Some(claim) => {
                tally.claimed.fetch_add(1, Ordering::Relaxed);
                Some(OpenRow {
                    key: claim.key,
                    body: claim.body,
                    ..row
                })
            }
            None => {
                tally.settled_elsewhere.fetch_add(1, Ordering::Relaxed);
                None
            }
        })
        .collect()
}

/// Stop the run for a journal write that failed: the lock was taken over, or the journal
/// itself failed.
pub(super) fn stop_for<P>(shared: &Shared<P>, e: JournalError) {
    shared.stop.trigger(match e {
        JournalError::LockLost(_) => StopReason::LockLost,
        e => StopReason::JournalFailed(e.to_string()),
    });
}

/// Send a row already marked `sending`, holding `slot` (one of the run's `--concurrency`)
/// until the provider answered or the row gave up; the outcome is queued for the journal
/// before the slot is given back, so the next row's `sending` mark commits with it or after.
pub(super) async fn send_claimed<P: Provider>(
    shared: Arc<Shared<P>>,
    row: OpenRow,
    slot: OwnedSemaphorePermit,
) {
    let id = row.id;
    crash::point("after-sending-commit");

    let (outcome, log) = attempt(&shared, &row).await;
    let state = outcome.state.unwrap_or(RowState::Sending);
    let requests = u32::try_from(log.len()).unwrap_or(u32::MAX);
    // Only the lock holder moves rows: a process that was taken over (frozen past the stale
    // limit, then thawed) must not put back `planned` or `in_doubt` over a row the new owner
    // is sending. The new owner resends this row with the same key, so nothing is lost.
    let (batch, token) = (shared.batch_id.clone(), shared.token.clone());
    let write = move |c: &rusqlite::Connection| {
        check_lock(c, &batch, &token)?;
        record_outcome(c, id, requests, &outcome)?;
        log.iter().try_for_each(|a| log_attempt(c, id, a))
    };
    // With several slots the outcome need not be durable before another row is sent: until
    // it is, the row is `sending`, which a resume settles by resending the same key and body.
    // So nobody waits for it: it commits with the next rows' `sending` marks, and is counted
    // once durable. With one slot, rows go strictly one after the other: marked, sent,
    // recorded.
    if super::ahead::pipelined(shared.opts.concurrency) {
        drop(slot);
        let counts = shared.clone();
        shared
            .journal
            .write_whole_then(write, move |recorded| counted(&counts, state, recorded));
    } else {
        let recorded = shared.journal.write_whole(write).await;
        drop(slot);
        counted(&shared, state, recorded);
    }
}

/// Count a row's recorded outcome, or stop the run if it could not be recorded.
fn counted<P>(shared: &Shared<P>, state: RowState, recorded: Result<(), JournalError>) {
    match recorded {
        Ok(()) => shared.progress.record(state),
        Err(e) => stop_for(shared, e),
    }
}

/// Errors after which the provider certainly did not execute the payout.
fn certainly_not_executed(err: &ProviderError) -> bool {
    matches!(
        err,
        ProviderError::Unreachable { .. }
            | ProviderError::RateLimited { .. }
            | ProviderError::InsufficientFunds { .. }
            | ProviderError::Unauthorized { .. }
            | ProviderError::Misconfigured { .. }
            | ProviderError::Rejected { .. }
    )
}

/// The provider's answer as the journal records it, unless it contradicts the request.
fn answered<P: Provider>(shared: &Shared<P>, row: &OpenRow, receipt: Receipt) -> Outcome {
    match receipt.contradiction(shared.provider.kind(), &row.key, &row.body) {
        None => outcome_of(receipt),
        Some(why) => needs_person(why),
    }
}

/// In doubt, and a person must look: the provider said something payrun cannot trust.
fn needs_person(why: String) -> Outcome {
    Outcome {
        state: Some(RowState::InDoubt),
        error: Some(why.clone()),
        attention: Some(why),
        ..Outcome::default()
    }
}

/// Errors after which retrying cannot help: the row is in doubt until a person (or the
/// provider, through reconcile or a callback) says what happened to this key.
fn settles_in_doubt(err: &ProviderError) -> Option<Outcome> {
    match err {
        ProviderError::KeyReused { .. } | ProviderError::Redirected { .. } => {
            Some(needs_person(err.after_payout()))
        }
        ProviderError::Unconfirmed { contradicts, .. } => Some(if *contradicts {
            needs_person(err.to_string())
        } else {
            unsettled(true, Some(err))
        }),
        _ => None,
    }
}

/// The row was not settled: in doubt if any request may have been executed, else planned
/// again. `last` is the last error of this run's requests; an in-doubt row says what happened
/// in a clerk's words (the error itself is in the row's events).
fn unsettled(maybe_executed: bool, last: Option<&ProviderError>) -> Outcome {
    Outcome {
        state: Some(if maybe_executed {
            RowState::InDoubt
        } else {
            RowState::Planned
        }),
        error: if maybe_executed {
            Some(in_doubt_reason(last))
        } else {
            last.map(ProviderError::after_payout)
        },
        ..Outcome::default()
    }
}

/// A refusal that followed a request whose answer was lost (or an earlier run in doubt).
fn refused_after_doubt(message: &str) -> Outcome {
    needs_person(format!(
        "{message}, after an earlier request with the same key got no answer: that one may have \
         been paid, so the row is not marked failed; check this payout with the provider \
         (`payrun reconcile`) before paying it again"
    ))
}

fn failed(error: String) -> Outcome {
    Outcome {
        state: Some(RowState::Failed),
        error: Some(error),
        ..Outcome::default()
    }
}

/// Try until settled; returns the outcome and the HTTP requests made, for the row's events.
async fn attempt<P: Provider>(shared: &Shared<P>, row: &OpenRow) -> (Outcome, Vec<Attempt>) {
    let mut requests: Vec<Attempt> = Vec::with_capacity(1);
    let mut tries = 0u32;
    let mut rate_limited = 0u32;
    let mut maybe_executed = row.state != RowState::Planned;
    let mut last: Option<ProviderError> = None;
    loop {
        if !shared.pacer.ready(&shared.stop).await {
            return (unsettled(maybe_executed, last.as_ref()), requests);
        }
        let started = Instant::now();
        let result = shared.provider.submit(&row.key, &row.body).await;
        shared
            .progress
            .tally
            .attempts
            .fetch_add(1, Ordering::Relaxed);
        requests.push(attempt_of(started.elapsed(), &result));
        crash::point("after-response");

        let err = match result {
            Ok(receipt) => {
                shared.consecutive_transport.store(0, Ordering::Relaxed);
                return (answered(shared, row, receipt), requests);
            }
            Err(err) => err,
        };
        note_transport(shared, &err);
        let ran_before = maybe_executed;
        maybe_executed |= !certainly_not_executed(&err);
        let message = err.after_payout();
        match err.class() {
            // An earlier request with this key may have paid: this refusal says nothing about
            // that one, so the row waits in doubt for the provider (or a person) to tell.
            ErrorClass::Definitive if ran_before => {
                return (refused_after_doubt(&message), requests);
            }
            ErrorClass::Definitive => return (failed(message), requests),
            ErrorClass::InsufficientFunds => {
                shared.stop.trigger(StopReason::InsufficientFunds(message));
                return (unsettled(maybe_executed, Some(&err)), requests);
            }
            ErrorClass::Fatal => {
                shared.stop.trigger(StopReason::Fatal(message));
                return (unsettled(maybe_executed, Some(&err)), requests);
            }
            ErrorClass::RateLimited => {
                let wait = match &err {
                    ProviderError::RateLimited { retry_after } => *retry_after,
                    _ => None,
                }
                .unwrap_or(Duration::from_secs(1));
                if wait > shared.opts.max_pause {
                    // Nothing of this request ran: the row stays as it was (planned unless an
                    // earlier request may have run) and a later resume sends it.
                    let until_ms = now_ms()
                        .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
                    shared
                        .stop
                        .trigger(StopReason::ProviderPaused { wait, until_ms });
                    return (unsettled(maybe_executed, Some(&err)), requests);
                }
                shared.pacer.pause_for(wait);
                shared.progress.paused(wait);
                rate_limited += 1;
                last = Some(err);
                if rate_limited >= MAX_RATE_LIMITED {
                    return (unsettled(maybe_executed, last.as_ref()), requests);
                }
            }
            ErrorClass::Retryable | ErrorClass::InDoubt => {
                if let Some(outcome) = settles_in_doubt(&err) {
                    return (outcome, requests);
                }
                tries += 1;
                last = Some(err);
                if tries >= shared.opts.max_tries || shared.stop.is_set() {
                    return (unsettled(maybe_executed, last.as_ref()), requests);
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff::delay(tries)) => {}
                    _ = shared.stop.wait() => return (unsettled(maybe_executed, last.as_ref()), requests),
                }
            }
        }
    }
}

/// Count consecutive transport failures across all workers; too many pause the batch.
fn note_transport<P>(shared: &Shared<P>, err: &ProviderError) {
    if !err.is_transport() {
        shared.consecutive_transport.store(0, Ordering::Relaxed);
        return;
    }
    let n = shared.consecutive_transport.fetch_add(1, Ordering::Relaxed) + 1;
    if n >= shared.opts.unavailable_after {
        shared.stop.trigger(StopReason::ProviderUnavailable(format!(
            "{n} consecutive connection failures, the last: {err}"
        )));
    }
}

/// The request as the row's event log records it (written with the row's outcome).
fn attempt_of(latency: Duration, result: &Result<Receipt, ProviderError>) -> Attempt {
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(r) => Attempt {
            kind: "send",
            at: now_ms(),
            http_status: Some(r.http_status),
            latency_ms,
            outcome: r.status_word.clone(),
            detail: None,
        },
        Err(e) => Attempt {
            kind: "send",
            at: now_ms(),
            http_status: e.http_status(),
            latency_ms,
            outcome: e.outcome_word().to_string(),
            detail: Some(e.after_payout()),
        },
    }
}
