//! `payrun validate`. STUB: replaced by the work that builds it.

use crate::exit::Exit;

pub fn run(_args: super::ValidateArgs) -> anyhow::Result<Exit> {
    super::not_built::command("validate")
}
