//! `icloud-mail-setup probe` — not built yet (see its issue).

use clap::Args;

#[derive(Debug, Args)]
pub struct ProbeArgs {}

pub fn run(_args: ProbeArgs) -> u8 {
    eprintln!("'probe' is not available in this build yet.");
    super::EXIT_USAGE
}
