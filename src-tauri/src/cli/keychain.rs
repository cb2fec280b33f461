//! `icloud-mail-setup keychain …` — not built yet (see its issue).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum KeychainCommand {}

pub fn run(command: KeychainCommand) -> u8 {
    match command {}
}
