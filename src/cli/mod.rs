//! The command-line edge: parse arguments, dispatch to a command, map its outcome to an exit
//! code. Commands return `anyhow::Result<Exit>`; errors become one readable line on stderr.

// First, so its `out!`/`outln!` macros are in scope in every module below.
#[macro_use]
mod out;

mod approval;
mod approval_args;
mod args;
mod cancel;
mod clock;
mod config;
mod generate;
mod listen;
mod next_step;
mod observer;
mod pay;
mod preflight;
mod progress;
mod reconcile;
mod reconcile_progress;
mod report;
mod resume;
mod retry;
mod run;
mod signals;
mod sim;
mod status;
mod summary;
mod validate;

pub use approval_args::*;
pub use args::*;

use crate::exit::{Exit, Refused};

/// Entry point used by `main.rs`.
pub fn main() -> std::process::ExitCode {
    // First: the local UTC offset can only be read while this is the only thread.
    clock::init();
    init_tracing();
    let (cli, matches, settings) = match config::parse(std::env::args_os().collect()) {
        Ok(parsed) => parsed,
        Err(e) => return exit_code(Err(e), None).into(),
    };
    let journal = journal_path(&cli.command);
    let outcome = dispatch(cli, &matches, &settings);
    exit_code(outcome, journal.as_deref()).into()
}

/// The journal a command uses, to name it when its disk is full.
fn journal_path(command: &Command) -> Option<std::path::PathBuf> {
    let args = match command {
        Command::Run(a) => &a.journal,
        Command::Resume(a) => &a.journal,
        Command::Status(a) => &a.journal,
        Command::Report(a) => &a.journal,
        Command::Reconcile(a) => &a.journal,
        Command::Retry(a) => &a.journal,
        Command::Cancel(a) => &a.journal,
        Command::Listen(a) => &a.journal,
        Command::Validate(_)
        | Command::Sim(_)
        | Command::Generate(_)
        | Command::Approval(_)
        | Command::Config(_) => {
            return None;
        }
    };
    Some(args.journal.clone())
}

/// A full disk under the journal, wherever in the chain SQLite said so.
fn disk_full(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<crate::journal::JournalError>()
            .is_some_and(crate::journal::JournalError::is_disk_full)
            || cause
                .downcast_ref::<rusqlite::Error>()
                .is_some_and(crate::journal::is_disk_full)
    })
}

fn dispatch(
    cli: Cli,
    matches: &clap::ArgMatches,
    settings: &config::Settings,
) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Run(args) => run::run(args, settings),
        Command::Resume(args) => resume::run(args, settings),
        Command::Status(args) => status::run(args),
        Command::Report(args) => report::run(args),
        Command::Reconcile(args) => reconcile::run(args, settings),
        Command::Retry(args) => retry::run(args, settings),
        Command::Cancel(args) => cancel::run(args),
        Command::Config(ConfigArgs {
            action: ConfigAction::Show(args),
        }) => {
            let sub = matches
                .subcommand_matches("config")
                .and_then(|m| m.subcommand_matches("show"))
                .unwrap_or(matches);
            config::show(&args, settings, sub)
        }
        Command::Listen(args) => listen::run(args, settings),
        Command::Approval(args) => approval::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Generate(args) => generate::run(args),
    }
}

/// Print an error the way a clerk can act on it and pick the exit code. A full disk is an
/// I/O error (exit 2), said as such rather than as SQLite's words.
fn exit_code(outcome: anyhow::Result<Exit>, journal: Option<&std::path::Path>) -> Exit {
    match outcome {
        Ok(exit) => exit,
        Err(err) => {
            if let Some(refused) = err.downcast_ref::<Refused>() {
                eprintln!("refused: {refused}");
                Exit::Refused
            } else if let Some(path) = journal.filter(|_| disk_full(&err)) {
                eprintln!("error: {}", crate::journal::disk_full_message(path));
                Exit::Usage
            } else {
                eprintln!("error: {err:#}");
                Exit::Usage
            }
        }
    }
}

/// Say on stderr which journal files were readable by others and are now 0600.
fn notice_tightened(journal: &crate::journal::Journal) {
    say_tightened(journal.tightened());
}

fn say_tightened(files: &[crate::journal::Tightened]) {
    for t in files {
        eprintln!(
            "note: {} was readable by other users (mode {:04o}); payrun tightened it to 0600 because it holds phone numbers",
            t.path.display(),
            t.was
        );
    }
}

/// The async runtime for commands that talk to a provider: one thread is plenty for
/// I/O-bound sending (SQLite runs on the journal's own thread, file reading on blocking
/// threads), and costs less per payout than two workers handing tasks to each other.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Diagnostics go to stderr, quiet unless `RUST_LOG` asks for more.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
