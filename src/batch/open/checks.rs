//! The refusals of opening a file as a batch, each with the command that gets the person
//! further: the same payments as another batch, a callback URL or a provider or endpoint other
//! than the batch's, and a file refused for its rows.

use std::path::Path;

use super::request::{FileRefused, OpenRequest};
use crate::batch::plan::PlanError;
use crate::exit::Refused;
use crate::journal::{Batch, format_ms};

/// The refusal for a file that pays what `same` already pays.
pub(super) fn same_content_refusal(path: &Path, same: &Batch, what: &str) -> anyhow::Error {
    Refused(format!(
        "{what} ({}) was already planned as batch {} (from {}, planned {}, last sent or updated {}): it \
         pays the same payees the same amounts. Paying it as a new batch would pay everyone in it again. To continue that batch: \
         payrun resume {}. To pay them all again on purpose: add --pay-again. Nothing was sent.",
        path.display(),
        same.id,
        same.file_name,
        format_ms(same.created_at),
        format_ms(same.updated_at),
        same.id
    ))
    .into()
}

/// A callback URL given again must be the batch's own: its stored requests carry that one,
/// and a different one would be silently ignored.
pub(super) fn check_callback(batch: &Batch, req: &OpenRequest) -> anyhow::Result<()> {
    let Some(given) = &req.settings.callback_url else {
        return Ok(());
    };
    if batch.settings.callback_url.as_deref() == Some(given.as_str()) {
        return Ok(());
    }
    let planned = batch.settings.callback_url.as_deref().map_or_else(
        || "no callback URL".to_string(),
        |u| format!("callback URL {u}"),
    );
    Err(anyhow::anyhow!(
        "--callback-url {given} differs from batch {}'s, which was planned with {planned}; its requests are \
         stored and are sent as planned. Run it again without --callback-url (or with the same one); to use \
         another callback URL, plan a new batch.",
        batch.id
    ))
}

/// A batch is continued only by the same provider and the same kind of endpoint.
pub(super) fn check_same_target(batch: &Batch, req: &OpenRequest) -> anyhow::Result<()> {
    if batch.provider != req.kind {
        return Err(Refused(format!(
            "batch {} was planned for {}, not {}; nothing was sent",
            batch.id, batch.provider, req.kind
        ))
        .into());
    }
    check_sandbox(batch, req.sandbox)
}

/// A sandbox batch is never continued against a real provider, nor the other way round.
pub fn check_sandbox(batch: &Batch, sandbox: bool) -> anyhow::Result<()> {
    match (batch.sandbox, sandbox) {
        (true, false) => Err(Refused(format!(
            "batch {} was paid against the sandbox simulator; continue it with --sandbox (or plan the file as a new \
             batch with --batch to pay it for real). Nothing was sent.",
            batch.id
        ))
        .into()),
        (false, true) => Err(Refused(format!(
            "batch {} was paid through the real provider; it cannot be continued with --sandbox. Nothing was sent.",
            batch.id
        ))
        .into()),
        _ => Ok(()),
    }
}

/// A planning failure as the user sees it: bad rows and control mismatches are refusals
/// (exit 3) carrying the problems found; an unreadable file or a journal error is an error.
pub(crate) fn refusal(err: PlanError) -> anyhow::Error {
    match err {
        PlanError::Invalid(summary) => FileRefused {
            refused: Refused(format!(
                "{} invalid row(s); fix them (see above or `payrun validate`) or add --skip-invalid to pay \
                 only the valid rows. Nothing was sent.",
                summary.invalid
            )),
            summary,
        }
        .into(),
        PlanError::ControlMismatch(summary) => FileRefused {
            refused: Refused(
                "the file as a whole is refused (a control count/total that does not match, or a \
                 total too large to pay; see above); nothing was sent"
                    .into(),
            ),
            summary,
        }
        .into(),
        PlanError::Ingest(e) => anyhow::Error::new(e),
        e @ PlanError::FileChanged(_) => Refused(e.to_string()).into(),
        e => e.into(),
    }
}
