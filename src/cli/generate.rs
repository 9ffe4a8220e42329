//! `payrun generate` (hidden): write a large valid payout file, for benchmarks and load tests.

use anyhow::Context;

use crate::{exit::Exit, ingest::write_sample, private_file};

pub fn run(args: super::GenerateArgs) -> anyhow::Result<Exit> {
    match &args.out {
        Some(path) => {
            // Generated phone numbers look real: 0600 like every file payrun writes.
            let file = private_file::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            write_sample(file, args.provider, args.rows, args.seed)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        // `payrun generate | head`: the reader has seen enough (see `out`).
        None => write_sample(super::out::Stdout, args.provider, args.rows, args.seed)
            .context("cannot write to standard output")?,
    }
    Ok(Exit::Ok)
}
