//! `payrun approval new|sign|check` on screen (README "Approvals"), and the approval lines of
//! the pre-flight. Keys and signatures are never printed: only principals, key fingerprints
//! and file names.

use anyhow::Context;

use super::approval_args::{ApprovalArgs, ApprovalCommand, CheckArgs, NewArgs, SignArgs};
use crate::batch::approval::{self, Approved, Gate, NewStatement, Statement};
use crate::exit::Exit;
use crate::journal::{format_ms, now_ms};

pub fn run(args: ApprovalArgs) -> anyhow::Result<Exit> {
    match args.command {
        ApprovalCommand::New(a) => new(a),
        ApprovalCommand::Sign(a) => sign(a),
        ApprovalCommand::Check(a) => check(a),
    }
}

fn new(args: NewArgs) -> anyhow::Result<Exit> {
    let opts = super::validate::ingest_options(&args.input)?;
    let prepared_by = match args.prepared_by {
        Some(who) => who,
        None => std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .context(
                "give --prepared-by PRINCIPAL: the maker's name as the approvers file has it",
            )?,
    };
    let req = NewStatement {
        file: args.input.file.clone(),
        opts,
        batch: args.batch,
        skip_invalid: args.skip_invalid,
        prepared_by,
        valid_for: args.valid_for,
        out: args.out,
    };
    let written = approval::new_statement(&req, now_ms()).map_err(super::run::refused)?;
    out!("{}", written.statement.render());
    let dir = written.dir.display();
    outln!();
    outln!(
        "Statement written to {} (sha256 {}).",
        written.path.display(),
        written.sha256
    );
    outln!("Each approver reads it, then signs it with their SSH key:");
    outln!("  payrun approval sign {dir} --key ~/.ssh/id_ed25519");
    outln!(
        "  or: ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n {} {}",
        approval::NAMESPACE,
        approval::statement_path(&written.dir).display()
    );
    outln!(
        "Check the signatures: payrun approval check {dir} --approvers ALLOWED_SIGNERS --approvals-required N"
    );
    outln!(
        "Pay it: payrun run {} --provider {} --approval {dir} (with the same flags as here)",
        args.input.file.display(),
        args.input.provider()?
    );
    Ok(Exit::Ok)
}

fn sign(args: SignArgs) -> anyhow::Result<Exit> {
    let signed = approval::sign(&args.dir, &args.key, args.as_principal.as_deref(), now_ms())?;
    outln!(
        "Signed the statement of batch {} (sha256 {}) with key {}: {}",
        signed.statement.value("batch").unwrap_or("?"),
        signed.statement_sha256,
        signed.fingerprint,
        signed.path.display()
    );
    Ok(Exit::Ok)
}

fn check(args: CheckArgs) -> anyhow::Result<Exit> {
    let policy = args.policy.policy();
    let Some(approvers) = policy.approvers else {
        anyhow::bail!(
            "give --approvers ALLOWED_SIGNERS (or set PAYRUN_APPROVERS): the file that lists the approvers"
        );
    };
    let Some(required) = args.policy.approvals_required else {
        anyhow::bail!(
            "give --approvals-required N (or set PAYRUN_APPROVALS_REQUIRED): how many approvers must sign"
        );
    };
    let checked = approval::check_dir(&args.dir, &approvers, required, now_ms())?;
    outln!("{}", about(&checked.statement, &checked.statement_sha256));
    outln!("{}", checked.verdict.line());
    if let Some(expired) = &checked.expired {
        outln!("{expired}");
    }
    if checked.met() {
        outln!(
            "APPROVED: `payrun run` with --approval {} pays it.",
            args.dir.display()
        );
        Ok(Exit::Ok)
    } else {
        outln!("NOT APPROVED: `payrun run` refuses to pay it.");
        Ok(Exit::Refused)
    }
}

/// `Statement of batch B (file F, sha256 S), prepared by M at T, valid until U`.
fn about(statement: &Statement, sha256: &str) -> String {
    format!(
        "Statement of batch {} (file {}, statement sha256 {}), prepared by {} at {}, valid until {}",
        statement.value("batch").unwrap_or("?"),
        statement.value("file").unwrap_or("?"),
        sha256,
        statement.prepared_by,
        format_ms(statement.prepared_at),
        format_ms(statement.valid_until)
    )
}

/// Said before paying when `--approval` is given but the policy requires none.
pub fn note_unchecked(gate: &Gate) {
    if gate.policy.required == 0
        && let Some(dir) = &gate.dir
    {
        eprintln!(
            "note: --approval {} is not checked: no approvals are required (--approvals-required or PAYRUN_APPROVALS_REQUIRED)",
            dir.display()
        );
    }
}

/// The pre-flight's approval line.
pub fn preflight_line(approved: &Approved) -> String {
    let who: Vec<String> = approved
        .counted
        .iter()
        .map(|c| format!("{} (key {})", c.principal, c.fingerprint))
        .collect();
    format!(
        "  approved: {} of {} required: {}; statement sha256 {} ({}), checked {}",
        approved.counted.len(),
        approved.required,
        who.join(", "),
        approved.statement_sha256,
        approved.dir.display(),
        format_ms(approved.checked_at)
    )
}
