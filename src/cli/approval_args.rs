//! The flags of `payrun approval new|sign|check` and the approval policy flags shared with
//! `run` and `resume` (README "Approvals"), declared with clap derive.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::InputArgs;
use crate::batch::approval::{Gate, Policy, parse_valid_for};

/// Who may approve a batch and how many must; shared by `run`, `resume` and `approval check`.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// OpenSSH allowed_signers file listing the approvers: `principal [namespaces="payrun"]
    /// ssh-ed25519 KEY`, one line each.
    #[arg(long, env = "PAYRUN_APPROVERS", value_name = "ALLOWED_SIGNERS")]
    pub approvers: Option<PathBuf>,

    /// Distinct approvers (not the maker) who must have signed before the batch is paid; 0 or
    /// unset: no approval needed.
    #[arg(long, env = "PAYRUN_APPROVALS_REQUIRED", value_name = "N")]
    pub approvals_required: Option<u32>,
}

impl PolicyArgs {
    pub fn policy(&self) -> Policy {
        Policy {
            approvers: self.approvers.clone(),
            required: self.approvals_required.unwrap_or(0),
        }
    }
}

/// `--approval DIR` and the policy, as `run` and `resume` take them.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Approval directory: the statement (statement.txt) and its signatures (*.sig) this
    /// batch is paid under (see `payrun approval`).
    #[arg(long, value_name = "DIR")]
    pub approval: Option<PathBuf>,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl GateArgs {
    pub fn gate(&self) -> Gate {
        Gate {
            policy: self.policy.policy(),
            dir: self.approval.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ApprovalArgs {
    #[command(subcommand)]
    pub command: ApprovalCommand,
}

#[derive(Debug, Subcommand)]
pub enum ApprovalCommand {
    /// Write the statement approvers sign: the file's figures as `run` would plan them.
    New(NewArgs),
    /// Sign a statement with your SSH key (ed25519), beside it as DIR/<name>.sig.
    Sign(SignArgs),
    /// Show which signatures count; exit 0 when the policy is met, 3 when not.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The batch id `run` will be given (default: derived from the file, as `run` does).
    #[arg(long, value_name = "ID")]
    pub batch: Option<String>,

    /// The statement is for paying the valid rows and recording the invalid ones as rejected.
    #[arg(long)]
    pub skip_invalid: bool,

    /// The maker's principal as the approvers file names it; the maker's own signature never
    /// counts. Default: the login name ($USER).
    #[arg(long, value_name = "PRINCIPAL")]
    pub prepared_by: Option<String>,

    /// How long the statement may be paid: 1s, 30m, 72h, 7d.
    #[arg(long, value_name = "DURATION", default_value = "72h", value_parser = parse_valid_for)]
    pub valid_for: Duration,

    /// Directory to write the statement into (default: FILE.approval beside the file).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The approval directory holding statement.txt.
    pub dir: PathBuf,

    /// Your OpenSSH private key (ed25519, without a passphrase; readable only by you).
    #[arg(long, value_name = "PRIVATE_KEY")]
    pub key: PathBuf,

    /// Name the signature file after this principal (default: the key's comment).
    #[arg(long = "as", value_name = "PRINCIPAL")]
    pub as_principal: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The approval directory holding statement.txt and its *.sig signatures.
    pub dir: PathBuf,

    #[command(flatten)]
    pub policy: PolicyArgs,
}
