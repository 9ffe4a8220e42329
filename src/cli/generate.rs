//! `payrun generate` (hidden): write a large valid payout file, for benchmarks and load tests.

use std::{
    fs::File,
    io::{self, ErrorKind},
};

use anyhow::Context;

use crate::{exit::Exit, ingest::write_sample};

pub fn run(args: super::GenerateArgs) -> anyhow::Result<Exit> {
    match &args.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            write_sample(file, args.provider, args.rows, args.seed)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => match write_sample(io::stdout().lock(), args.provider, args.rows, args.seed) {
            // `payrun generate | head`: the reader has seen enough.
            Err(err) if err.kind() == ErrorKind::BrokenPipe => {}
            other => other.context("cannot write to standard output")?,
        },
    }
    Ok(Exit::Ok)
}
