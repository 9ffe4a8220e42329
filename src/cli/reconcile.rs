//! `payrun reconcile BATCH`: ask the provider for the final state of every accepted or
//! in-doubt payout, record what changed, and list what still needs a person: rows it could not
//! settle, and every row of the batch an answer or callback contradicted (exit 1 if any).

use std::num::NonZeroU32;
use std::sync::Arc;

use anyhow::Context;

use super::ReconcileArgs;
use super::pay::Endpoint;
use super::reconcile_progress::ReconcileProgress;
use super::summary::attention_line;
use crate::domain::ProviderKind;
use crate::exit::{Exit, Refused};
use crate::journal::{AttentionRow, Batch, Journal, JournalActor, JournalError, LockToken};
use crate::provider::{Provider, ProviderConfig, rohopay::RohopayClient, rumbapay::RumbapayClient};
use crate::reconcile::{self, Observer, ReconcileReport};

pub fn run(args: ReconcileArgs) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(run_async(args))
}

async fn run_async(args: ReconcileArgs) -> anyhow::Result<Exit> {
    let path = args.journal.journal.clone();
    let id = args.batch.clone();
    let (journal, batch) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Journal, Batch)> {
            let journal = Journal::open_existing(&path)?;
            super::notice_tightened(&journal);
            let batch = journal.batch(&id)?;
            Ok((journal, batch))
        })
        .await??;
    if batch.sandbox {
        anyhow::bail!(
            "batch {} was paid against the sandbox simulator, which is gone; `run --sandbox` reconciles at the end of the run",
            batch.id
        );
    }
    let endpoint = Endpoint {
        config: ProviderConfig::from_env(batch.provider)?,
        sim: None,
    };
    endpoint.check_key(batch.provider)?;
    let (actor, thread) =
        JournalActor::spawn(journal).context("cannot start the journal thread")?;
    let rate = NonZeroU32::new(args.rate).unwrap_or(NonZeroU32::MIN);
    let concurrency = usize::try_from(args.concurrency).unwrap_or(4);
    let watch = ReconcileProgress::new("reconcile", batch.provider.name());
    let outcome = match batch.provider {
        ProviderKind::Rohopay => {
            let client = Arc::new(RohopayClient::new(&endpoint.config)?);
            locked(client, &actor, &batch, rate, concurrency, &watch).await
        }
        ProviderKind::Rumbapay => {
            let client = Arc::new(RumbapayClient::new(&endpoint.config)?);
            locked(client, &actor, &batch, rate, concurrency, &watch).await
        }
    };
    drop(actor);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    let report = outcome?;
    watch.finish();
    // After its own work: every row of the batch that needs a person, whoever marked it.
    let (path, id) = (args.journal.journal.clone(), batch.id.clone());
    let flagged = tokio::task::spawn_blocking(move || -> anyhow::Result<Flagged> {
        let journal = Journal::open_existing(&path)?;
        Ok(Flagged {
            count: journal.attention_count(&id)?,
            rows: journal.attention_rows(&id, SHOWN)?,
        })
    })
    .await??;
    let needs_a_person = print_report(&batch, &report, &flagged);
    Ok(if needs_a_person == 0 {
        Exit::Ok
    } else {
        Exit::Incomplete
    })
}

/// Rows listed at most per section; the rest are counted.
const SHOWN: usize = 50;

/// The rows of the batch marked as needing a person (a contradicting answer or callback).
struct Flagged {
    count: u64,
    rows: Vec<AttentionRow>,
}

/// Run `reconcile` under the batch lock.
pub async fn locked<P: Provider>(
    provider: Arc<P>,
    actor: &JournalActor,
    batch: &Batch,
    rate: NonZeroU32,
    concurrency: usize,
    observer: &dyn Observer,
) -> anyhow::Result<ReconcileReport> {
    let id = batch.id.clone();
    let (token, _) = match actor.call(move |j| j.acquire_lock(&id)).await? {
        Ok(lock) => lock,
        Err(e @ (JournalError::Locked { .. } | JournalError::Busy)) => {
            return Err(Refused(e.to_string()).into());
        }
        Err(e) => return Err(e.into()),
    };
    let result = with_token(
        provider,
        actor,
        batch,
        token.clone(),
        rate,
        concurrency,
        observer,
    )
    .await;
    let id = batch.id.clone();
    let _ = actor.call(move |j| j.release_lock(&id, &token)).await;
    result
}

/// Run `reconcile` when the caller already holds the lock (the end of a sandbox run).
pub async fn with_token<P: Provider>(
    provider: Arc<P>,
    actor: &JournalActor,
    batch: &Batch,
    token: LockToken,
    rate: NonZeroU32,
    concurrency: usize,
    observer: &dyn Observer,
) -> anyhow::Result<ReconcileReport> {
    Ok(reconcile::reconcile(
        provider,
        actor.clone(),
        &batch.id,
        token,
        rate,
        concurrency,
        observer,
    )
    .await?)
}

/// Print what reconcile did and what needs a person; returns how many rows need one.
fn print_report(batch: &Batch, report: &ReconcileReport, flagged: &Flagged) -> u64 {
    outln!(
        "Reconciled batch {}: checked {} payout(s)",
        batch.id,
        report.checked
    );
    for c in report.changes.iter().take(SHOWN) {
        outln!(
            "  line {} {}: {} → {}",
            c.line,
            c.reference.as_deref().unwrap_or("-"),
            c.from,
            c.to
        );
    }
    if report.changes.len() > SHOWN {
        outln!("  ... and {} more change(s)", report.changes.len() - SHOWN);
    }
    // A row reconcile could not settle may be marked too: count it once.
    let unmarked: Vec<_> = report
        .attention
        .iter()
        .filter(|a| {
            !flagged
                .rows
                .iter()
                .any(|f| f.line == a.line && f.reference == a.reference)
        })
        .collect();
    let needs_a_person = flagged.count + unmarked.len() as u64;
    outln!(
        "  {} changed, {} still pending at the provider, {} need a person",
        report.changes.len(),
        report.still_pending,
        needs_a_person
    );
    if needs_a_person == 0 {
        return 0;
    }
    outln!("Needs a person:");
    for a in &unmarked {
        outln!(
            "  line {} {}: {}",
            a.line,
            a.reference.as_deref().unwrap_or("-"),
            a.why
        );
    }
    for f in &flagged.rows {
        outln!("  {}", attention_line(f));
        outln!("    next: {}", next_step(batch, f));
    }
    let more = flagged.count.saturating_sub(flagged.rows.len() as u64);
    if more > 0 {
        outln!(
            "  ... and {more} more the provider contradicted: `payrun report {}` lists them all \
             (column attention)",
            batch.id
        );
    }
    needs_a_person
}

/// What to do with a row the provider contradicted.
fn next_step(batch: &Batch, row: &AttentionRow) -> String {
    let provider = batch.provider.name();
    let payout = match (&row.provider_id, &row.key) {
        (Some(id), _) => format!("payout {id}"),
        (None, Some(key)) => format!("the payout with reference {key}"),
        (None, None) => "this payout".to_owned(),
    };
    format!(
        "ask {provider} what {payout} paid, to whom, and whether it is final; do not pay it \
         again (even if it shows failed) until {provider} confirms it was not paid"
    )
}
