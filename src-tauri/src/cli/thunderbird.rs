//! `icloud-mail-setup thunderbird …` — not built yet (see its issue).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ThunderbirdCommand {}

pub fn run(command: ThunderbirdCommand) -> u8 {
    match command {}
}
