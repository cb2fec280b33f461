//! `icloud-mail-setup thunderbird …`: add the account to a Thunderbird profile, list the profiles.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use icloud_mail_core::export::thunderbird_profile::{self, AddOutcome};

use super::export::{report, AccountArgs};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Subcommand)]
pub enum ThunderbirdCommand {
    /// Add the account to a Thunderbird profile (quit Thunderbird first). Adding it twice changes nothing.
    #[command(after_help = "Without --profile, the profile Thunderbird opens by default is used. prefs.js is backed up \
        first (prefs.js.bak-<time>) and written atomically; its existing lines stay as they are. Thunderbird asks for the \
        app-specific password when it first connects.\n\n\
        Nothing is written when prefs.js or user.js sets an account pref in a form this program cannot read, or when \
        user.js (which Thunderbird applies at every start) sets the account list.\n\n\
        Exit codes: 0 added or already there, 1 not changed (Thunderbird running, no profile, several defaults, \
        prefs.js or user.js in the way), 2 bad arguments.")]
    Add(AddArgs),
    /// List the Thunderbird profiles on this computer; `*` marks a default.
    List {
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub account: AccountArgs,
    /// The profile folder to change (default: Thunderbird's default profile).
    #[arg(long, value_name = "DIR")]
    pub profile: Option<PathBuf>,
    /// Print one JSON object (the outcome, or the diagnosis) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: ThunderbirdCommand) -> u8 {
    match command {
        ThunderbirdCommand::Add(args) => add(args),
        ThunderbirdCommand::List { json } => list(json),
    }
}

fn add(args: AddArgs) -> u8 {
    let account = match args.account.account() {
        Ok(account) => account,
        Err(d) if args.json => {
            print_json(&d);
            return EXIT_USAGE;
        }
        Err(d) => return report(&d, EXIT_USAGE),
    };
    let result =
        thunderbird_profile::resolve_profile(args.profile.as_deref()).and_then(|dir| thunderbird_profile::add_account(&dir, &account));
    match (result, args.json) {
        (Ok(outcome), true) => {
            print_json(&outcome);
            EXIT_OK
        }
        (Ok(AddOutcome::Added { profile, account_key, backup, warnings, .. }), false) => {
            println!("Added {} to the Thunderbird profile {profile} ({account_key}).", account.address.address);
            if let Some(backup) = backup {
                println!("The previous prefs.js is saved as {backup}.");
            }
            println!("Start Thunderbird: it asks for your app-specific password when it first connects.");
            for warning in &warnings {
                report(warning, EXIT_OK);
            }
            EXIT_OK
        }
        (Ok(AddOutcome::AlreadyPresent { profile, server_key }), false) => {
            println!("The Thunderbird profile {profile} already has {} ({server_key}); nothing was changed.", account.address.address);
            EXIT_OK
        }
        (Err(d), true) => {
            print_json(&d);
            EXIT_FAILED
        }
        (Err(d), false) => report(&d, EXIT_FAILED),
    }
}

fn list(json: bool) -> u8 {
    match thunderbird_profile::list_profiles() {
        Ok(profiles) if json => {
            println!("{}", serde_json::to_string(&profiles).expect("serialisable"));
            EXIT_OK
        }
        Ok(profiles) if profiles.is_empty() => {
            println!("No Thunderbird profiles were found.");
            EXIT_OK
        }
        Ok(profiles) => {
            for p in profiles {
                println!("{} {}  {}", if p.is_default { "*" } else { " " }, p.name, p.path);
            }
            EXIT_OK
        }
        Err(d) => report(&d, EXIT_FAILED),
    }
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serialisable"));
}
