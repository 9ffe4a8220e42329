//! `payrun run FILE`: open the file as a batch ([`batch::open`](crate::batch::open): plan it,
//! or find the batch it already is, or follow an edit when told to), say which, then pay it.

use std::sync::Arc;

use super::RunArgs;
use super::observer::CliObserver;
use super::pay;
use crate::batch::open::FileRefused;
use crate::batch::{self, PayFile};
use crate::exit::Exit;
use crate::ingest::Summary;
use crate::journal::BatchSettings;

pub fn run(args: RunArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    super::runtime()?.block_on(run_async(args, settings))
}

async fn run_async(args: RunArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    let target = pay::target(&args.send, settings, args.input.provider()?)?;
    let ingest = super::validate::ingest_options(&args.input)?;
    if let Some(url) = &args.callback_url {
        crate::provider::check_url("--callback-url", url)?;
    }
    let journal = args.journal.journal.clone();
    let req = PayFile {
        file: args.input.file.clone(),
        journal: journal.clone(),
        ingest,
        batch: args.batch.clone(),
        settings: BatchSettings {
            callback_url: args.callback_url.clone(),
            skip_invalid: args.skip_invalid,
        },
        allow_changed: args.allow_changed_file,
        pay_again: args.pay_again,
        send: pay::send_options(&args.send),
        sandbox_limited: args.send.sandbox_balance.is_some(),
        allow_repeats: args.send.allow_repeats,
        approval: args.approval.gate(),
    };
    super::approval::note_unchecked(&req.approval);
    let observer = Arc::new(CliObserver::new(&journal));
    let confirm = pay::Terminal { yes: args.send.yes };
    let (batch, paid) = batch::pay_file(req, &target, observer, &confirm)
        .await
        .map_err(refused)?;
    Ok(pay::render(&batch, paid, &journal))
}

/// A refused file shows its first problems, then the refusal.
pub(super) fn refused(err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<FileRefused>() {
        Ok(FileRefused { summary, refused }) => {
            print_problems(&summary);
            refused.into()
        }
        Err(err) => err,
    }
}

/// The first problems of a refused file.
fn print_problems(summary: &Summary) {
    const SHOWN: usize = 20;
    for e in summary.errors.iter().take(SHOWN) {
        match e.line {
            Some(line) => eprintln!("line {line}, {} \"{}\": {}", e.column, e.value, e.reason),
            None => eprintln!("{}: {}", e.column, e.reason),
        }
    }
    if summary.errors.len() > SHOWN {
        eprintln!(
            "... and {} more problem(s); `payrun validate` lists them all",
            summary.errors.len() - SHOWN
        );
    }
}
