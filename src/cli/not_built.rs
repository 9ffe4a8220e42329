//! Placeholder for commands declared in the surface but not built yet: says so, exits 2.

use crate::exit::Exit;

pub fn command(name: &str) -> anyhow::Result<Exit> {
    eprintln!("payrun {name}: not built yet in this version");
    Ok(Exit::Usage)
}
