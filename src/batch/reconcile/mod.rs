//! `reconcile` as a use case: ask the provider for the final state of every accepted or
//! in-doubt payout of a batch, under the batch lock, record what changed, and gather every row
//! that needs a person (rows it could not settle, and rows an answer or callback contradicted,
//! whoever marked them). The engine that checks the rows is [`check`].

mod check;
mod found;

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

pub use check::reconcile;
pub use found::{Attention, Change, ReconcileReport, Seen};

use super::endpoint::Endpoint;
use super::observer::Observer;
use crate::exit::Refused;
use crate::journal::{AttentionRow, Batch, Journal, JournalActor, JournalError};
use crate::provider::{self, Provider, ProviderConfig};

/// The rows of the batch marked as needing a person (a contradicting answer or callback).
#[derive(Debug)]
pub struct Flagged {
    pub count: u64,
    /// The first of them, at most as many as asked for.
    pub rows: Vec<AttentionRow>,
}

/// What reconciling a batch found.
#[derive(Debug)]
pub struct Reconciled {
    pub batch: Batch,
    pub report: ReconcileReport,
    pub flagged: Flagged,
}

/// Reconcile batch `id` of the journal at `path` against the provider the environment
/// configures. `shown` caps the flagged rows listed. A sandbox batch cannot be reconciled: its
/// simulator is gone (`run --sandbox` reconciles at the end of the run).
#[allow(clippy::too_many_arguments)]
pub async fn reconcile_batch(
    path: &Path,
    id: &str,
    rate: NonZeroU32,
    concurrency: usize,
    shown: usize,
    observer: &dyn Observer,
    opened: impl Fn(&Journal),
    config: impl FnOnce(crate::domain::ProviderKind) -> anyhow::Result<ProviderConfig>,
) -> anyhow::Result<Reconciled> {
    let (p, i) = (path.to_path_buf(), id.to_string());
    let (journal, batch) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Journal, Batch)> {
            let journal = Journal::open_existing(&p)?;
            let batch = journal.batch(&i)?;
            Ok((journal, batch))
        })
        .await??;
    opened(&journal);
    if batch.sandbox {
        anyhow::bail!(
            "batch {} was paid against the sandbox simulator, which is gone; `run --sandbox` reconciles at the end of the run",
            batch.id
        );
    }
    let endpoint = Endpoint {
        config: config(batch.provider)?,
        sim: None,
    };
    endpoint.check_key(batch.provider)?;
    let (actor, thread) =
        JournalActor::spawn(journal).context("cannot start the journal thread")?;
    let client = Arc::new(provider::connect(batch.provider, &endpoint.config)?);
    let outcome = locked(client, &actor, &batch, rate, concurrency, observer).await;
    drop(actor);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    let report = outcome?;
    // After its own work: every row of the batch that needs a person, whoever marked it.
    let (p, i) = (path.to_path_buf(), batch.id.clone());
    let flagged = tokio::task::spawn_blocking(move || -> anyhow::Result<Flagged> {
        let journal = Journal::open_existing(&p)?;
        Ok(Flagged {
            count: journal.attention_count(&i)?,
            rows: journal.attention_rows(&i, shown)?,
        })
    })
    .await??;
    Ok(Reconciled {
        batch,
        report,
        flagged,
    })
}

/// Run `reconcile` under the batch lock.
async fn locked<P: Provider>(
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
    let result = reconcile(
        provider,
        actor.clone(),
        &batch.id,
        token.clone(),
        rate,
        concurrency,
        observer,
    )
    .await;
    let id = batch.id.clone();
    let _ = actor.call(move |j| j.release_lock(&id, &token)).await;
    Ok(result?)
}
