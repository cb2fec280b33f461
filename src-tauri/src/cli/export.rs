//! `icloud-mail-setup export` — not built yet (see its issue).

use clap::Args;

#[derive(Debug, Args)]
pub struct ExportArgs {}

pub fn run(_args: ExportArgs) -> u8 {
    eprintln!("'export' is not available in this build yet.");
    super::EXIT_USAGE
}
