//! Reconcile: ask the provider for the final state of every payout that is accepted (pending
//! at the provider) or in doubt, and move the journal forward. Rumbapay is asked with
//! `GET /v1/transaction/{request_id}`; RohoPay documents no status endpoint, so the stored
//! request is replayed with its stored key — which, for a row in doubt that never reached
//! RohoPay, executes it for the first time, so such a row is marked `sending` first, exactly
//! like a resume would. Every answer is compared with the stored request first (README,
//! "Answers that contradict the request"): one that contradicts it settles nothing and flags
//! the row for a person.

use std::num::NonZeroU32;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::found::{Attention, Change, ReconcileReport, Seen};
use crate::batch::answer::{in_doubt_reason, outcome_of, plainly};
use crate::batch::observer::{Checked, Observer};
use crate::batch::send::{Pacer, Stop};
use crate::domain::ProviderKind;
use crate::domain::RowState;
use crate::journal::{
    Attempt, JournalActor, JournalError, LockToken, Outcome, UnsettledRow, advance, check_lock,
    flag_attention, log_attempt, mark_sending, now_ms, record_outcome, unsettled_rows,
};
use crate::provider::{ErrorClass, Provider, ProviderError, QueryRef};

enum RowResult {
    Changed(Change),
    Pending(Seen),
    Unchanged(Seen),
    Attention(Attention),
    Contradicted(Attention),
}

/// Check every accepted or in-doubt row of `batch_id`. The caller holds the batch lock.
pub async fn reconcile<P: Provider>(
    provider: Arc<P>,
    journal: JournalActor,
    batch_id: &str,
    token: LockToken,
    rate: NonZeroU32,
    concurrency: usize,
    observer: &dyn Observer,
) -> Result<ReconcileReport, JournalError> {
    let batch = batch_id.to_string();
    let rows = journal
        .call(move |j| unsettled_rows(j.conn(), &batch))
        .await??;
    observer.reconciling(rows.len() as u64, provider.kind());
    let pacer = Arc::new(Pacer::new(rate));
    let stop = Arc::new(Stop::default());
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut report = ReconcileReport::default();
    for row in rows {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        let (provider, journal, pacer, stop) = (
            provider.clone(),
            journal.clone(),
            pacer.clone(),
            stop.clone(),
        );
        let (batch, token) = (batch_id.to_string(), token.clone());
        tasks.spawn(async move {
            let result = check(
                provider.as_ref(),
                &journal,
                &batch,
                &token,
                &pacer,
                &stop,
                row,
            )
            .await;
            drop(permit);
            result
        });
        report.checked += 1;
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(RowResult::Changed(c))) => {
                report.changes.push(c);
                observer.checked(Checked::Changed);
            }
            Ok(Ok(RowResult::Pending(seen))) => {
                report.still_pending += 1;
                report.pending.push(seen);
                observer.checked(Checked::Pending);
            }
            Ok(Ok(RowResult::Unchanged(seen))) => {
                report.unchanged.push(seen);
                observer.checked(Checked::Unchanged);
            }
            Ok(Ok(RowResult::Attention(a))) => {
                report.attention.push(a);
                observer.checked(Checked::NeedsPerson);
            }
            Ok(Ok(RowResult::Contradicted(a))) => {
                report.attention.push(a.clone());
                report.contradicted.push(a);
                observer.checked(Checked::NeedsPerson);
            }
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(JournalError::Corrupt(format!("reconcile task failed: {e}"))),
        }
    }
    report.changes.sort_by_key(|c| c.line);
    report.pending.sort_by_key(|s| s.line);
    report.unchanged.sort_by_key(|s| s.line);
    report.attention.sort_by_key(|a| a.line);
    report.contradicted.sort_by_key(|a| a.line);
    observer.reconciled();
    Ok(report)
}

async fn check<P: Provider>(
    provider: &P,
    journal: &JournalActor,
    batch: &str,
    token: &LockToken,
    pacer: &Pacer,
    stop: &Stop,
    row: UnsettledRow,
) -> Result<RowResult, JournalError> {
    let attention = |why: String| {
        Ok(RowResult::Attention(Attention {
            line: row.line,
            reference: row.reference.clone(),
            why,
        }))
    };
    let resend = row.state != RowState::Accepted;
    // Rumbapay is asked by its request id; without one there is nothing to ask with, and
    // nothing is asked (nor logged as asked).
    if provider.kind() == ProviderKind::Rumbapay && row.request_id.is_none() {
        let search = format!(
            "look it up in the Rumbapay dashboard by its reference {}",
            row.key
        );
        return attention(if resend {
            format!(
                "in doubt, and payrun has no Rumbapay request id to ask about it with, so nothing was asked; \
                 `payrun resume` resends it with the same reference (Rumbapay answers \"duplicate reference\" \
                 if it already has it), or {search}"
            )
        } else {
            format!(
                "accepted by Rumbapay, but payrun has no Rumbapay request id to ask about it with, so nothing \
                 was asked; {search}, or let its webhook settle it (`payrun listen`)"
            )
        });
    }
    // A RohoPay replay of a row in doubt may execute it: journal `sending` first.
    let replays_unsent = resend && provider.kind() == ProviderKind::Rohopay;
    if replays_unsent {
        let (b, t, id) = (batch.to_string(), token.clone(), row.id);
        let marked = journal
            .write(move |c| {
                check_lock(c, &b, &t)?;
                mark_sending(c, id)
            })
            .await?;
        if !marked {
            // Settled meanwhile (by a callback): nothing was asked.
            return Ok(RowResult::Unchanged(Seen {
                line: row.line,
                reference: row.reference.clone(),
                state: row.state,
            }));
        }
    }
    let query = QueryRef {
        key: row.key.clone(),
        body: row.body.clone(),
        request_id: row.request_id.clone(),
    };
    let answer = ask(provider, journal, pacer, stop, row.id, &query).await;
    let id = row.id;

    let outcome = match answer {
        Ok(Some(receipt)) => match receipt.contradiction(provider.kind(), &row.key, &row.body) {
            None => outcome_of(receipt),
            Some(why) => {
                // Settles nothing: the row stays where it is (a replayed row back in doubt)
                // and is flagged for a person.
                let note = why.clone();
                if replays_unsent {
                    let mut outcome = in_doubt(why.clone());
                    outcome.attention = Some(why.clone());
                    record(journal, id, outcome).await?;
                } else {
                    journal.write(move |c| flag_attention(c, id, &note)).await?;
                }
                return Ok(RowResult::Contradicted(Attention {
                    line: row.line,
                    reference: row.reference.clone(),
                    why,
                }));
            }
        },
        Ok(None) => {
            if replays_unsent {
                record(
                    journal,
                    id,
                    in_doubt("the provider does not know this payout".into()),
                )
                .await?;
            }
            return attention(format!(
                "the provider does not know this payout (request id {})",
                row.request_id.as_deref().unwrap_or("none")
            ));
        }
        Err(e) => {
            if replays_unsent {
                // A RohoPay replay is the payout request itself. Its error is in the row's
                // events (`ask` logged it); the row says what happened in plain words.
                record(journal, id, in_doubt(in_doubt_reason(Some(&e)))).await?;
            }
            return attention(format!(
                "could not check: {}; nothing changed, run reconcile again later",
                plainly(&e)
            ));
        }
    };
    let to = outcome.state.unwrap_or(row.state);
    let reason = outcome.error.clone();
    let from = if replays_unsent {
        record(journal, id, outcome).await?;
        Some(row.state).filter(|s| *s != to)
    } else {
        journal.write(move |c| advance(c, id, &outcome)).await?
    };
    let seen = Seen {
        line: row.line,
        reference: row.reference,
        state: to,
    };
    Ok(match from {
        Some(from) => RowResult::Changed(Change {
            line: seen.line,
            reference: seen.reference,
            from,
            to,
            reason,
        }),
        None if to == RowState::Accepted => RowResult::Pending(seen),
        None => RowResult::Unchanged(seen),
    })
}

/// Transient answers (still processing, 5xx, 429, no answer) get a few backed-off retries.
const QUERY_TRIES: u32 = 5;

/// Ask the provider, logging every attempt; retries transient failures.
async fn ask<P: Provider>(
    provider: &P,
    journal: &JournalActor,
    pacer: &Pacer,
    stop: &Stop,
    row_id: i64,
    query: &QueryRef,
) -> Result<Option<crate::provider::Receipt>, ProviderError> {
    let mut tries = 0;
    loop {
        pacer.ready(stop).await;
        let started = std::time::Instant::now();
        let answer = provider.query(query).await;
        let attempt = Attempt {
            kind: if provider.kind() == ProviderKind::Rohopay {
                "replay"
            } else {
                "query"
            },
            at: now_ms(),
            http_status: match &answer {
                Ok(Some(r)) => Some(r.http_status),
                Ok(None) => Some(404),
                Err(e) => e.http_status(),
            },
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            outcome: match &answer {
                Ok(Some(r)) => r.status_word.clone(),
                Ok(None) => "not_found".into(),
                Err(e) => e.outcome_word().into(),
            },
            detail: answer.as_ref().err().map(ToString::to_string),
        };
        journal.write_later(move |c| log_attempt(c, row_id, &attempt));
        tries += 1;
        let transient = match &answer {
            Err(ProviderError::RateLimited { retry_after }) => {
                pacer.pause_for(retry_after.unwrap_or(std::time::Duration::from_secs(1)));
                true
            }
            Err(e) => {
                matches!(e.class(), ErrorClass::Retryable)
                    || matches!(e, ProviderError::NoAnswer { .. })
            }
            Ok(_) => false,
        };
        if !transient || tries >= QUERY_TRIES {
            return answer;
        }
        tokio::time::sleep(crate::batch::send::backoff::delay(tries)).await;
    }
}

fn in_doubt(error: String) -> Outcome {
    Outcome {
        state: Some(RowState::InDoubt),
        error: Some(error),
        ..Outcome::default()
    }
}

async fn record(journal: &JournalActor, id: i64, outcome: Outcome) -> Result<(), JournalError> {
    journal
        .write(move |c| record_outcome(c, id, 1, &outcome))
        .await
}
