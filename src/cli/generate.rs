//! `payrun generate`. STUB: replaced by the work that builds it.

use crate::exit::Exit;

pub fn run(_args: super::GenerateArgs) -> anyhow::Result<Exit> {
    super::not_built::command("generate")
}
