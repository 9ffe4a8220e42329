//! `payrun resume BATCH`: continue a batch from the journal alone (the file is not re-read).
//! `sending` and `in_doubt` rows are resent with their stored key and bytes; nothing is re-keyed.

use anyhow::Context;

use super::ResumeArgs;
use super::pay;
use crate::batch::approval;
use crate::batch::endpoint::Endpoint;
use crate::batch::open::check_sandbox;
use crate::batch::pay::Command;
use crate::exit::Exit;
use crate::journal::{Journal, now_ms};

pub fn run(args: ResumeArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(resume(args, settings))
}

async fn resume(args: ResumeArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    let path = args.journal.journal.clone();
    let id = args.batch.clone();
    let gate = args.approval.gate();
    super::approval::note_unchecked(&gate);
    let (journal, batch, approved) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let journal = Journal::open_existing(&path)?;
        super::notice_tightened(&journal);
        let batch = journal.batch(&id)?;
        // Resume does not read the file: the approval must match the batch in the journal.
        let approved = approval::check_batch(&gate, &journal, &batch, now_ms())?;
        Ok((journal, batch, approved))
    })
    .await??;
    check_sandbox(&batch, args.send.sandbox)?;
    let target = pay::target(&args.send, settings, batch.provider)?;
    let endpoint = Endpoint::connect(batch.provider, &target)
        .await
        .with_context(|| format!("cannot reach {} for batch {}", batch.provider, batch.id))?;
    if batch.sandbox {
        outln!(
            "note: the sandbox simulator starts empty on every run; rows resent now are simulated again (no money moves)"
        );
    }
    pay::pay(
        journal,
        batch,
        &args.send,
        endpoint,
        &args.journal.journal,
        approved,
        Command::Resume,
    )
    .await
}
