//! The command-line edge: parse arguments, dispatch to a command, map its outcome to an exit
//! code. Commands return `anyhow::Result<Exit>`; errors become one readable line on stderr.

mod args;
mod endpoint;
mod generate;
mod listen;
mod pay;
mod preflight;
mod reconcile;
mod report;
mod resume;
mod run;
mod signals;
mod sim;
mod status;
mod summary;
mod validate;

pub use args::*;

use clap::Parser;

use crate::exit::{Exit, Refused};

/// Entry point used by `main.rs`.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let outcome = dispatch(cli);
    exit_code(outcome).into()
}

fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Run(args) => run::run(args),
        Command::Resume(args) => resume::run(args),
        Command::Status(args) => status::run(args),
        Command::Report(args) => report::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Listen(args) => listen::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Generate(args) => generate::run(args),
    }
}

/// Print an error the way a clerk can act on it and pick the exit code.
fn exit_code(outcome: anyhow::Result<Exit>) -> Exit {
    match outcome {
        Ok(exit) => exit,
        Err(err) => {
            if let Some(refused) = err.downcast_ref::<Refused>() {
                eprintln!("refused: {refused}");
                Exit::Refused
            } else {
                eprintln!("error: {err:#}");
                Exit::Usage
            }
        }
    }
}

/// The async runtime for commands that talk to a provider: two workers are plenty for
/// I/O-bound sending; SQLite runs on the journal's own thread.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
