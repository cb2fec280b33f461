//! `icloud-mail-setup thunderbird …`: add the account to a Thunderbird profile, list the profiles.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use icloud_mail_core::export::thunderbird_profile::{self, AddOutcome};
use icloud_mail_core::Facts;

use super::args::{print_json, AccountArgs, NameArg, Output, ServerArgs};
use super::verified::VerifiedArg;
use super::{EXIT_FAILED, EXIT_OK};

#[derive(Debug, Subcommand)]
pub enum ThunderbirdCommand {
    /// Add the account to a Thunderbird profile (quit Thunderbird first). Adding it twice changes nothing.
    #[command(after_help = "Without --profile, the profile Thunderbird opens by default is used. prefs.js is backed up \
        first (prefs.js.bak-<time>) and written atomically; its existing lines stay as they are. Thunderbird asks for the \
        app-specific password when it first connects.\n\n\
        Nothing is written when prefs.js or user.js sets an account pref in a form this program cannot read, or when \
        user.js (which Thunderbird applies at every start) sets the account list.\n\n\
        With --verified REPORT.json (saved from probe --json) the account gets exactly what that connection test \
        signed in with: its servers (SMTP's fallback port when the first was blocked), the username that worked for \
        each protocol and the folders the server listed, as the identity's Sent, Drafts and Archives folders, the \
        server's Trash and the Junk target. A report for another address or login is refused (exit 2), as is one in \
        which a side did not pass (exit 1); --imap, --smtp and --smtp-fallback cannot be combined with it (exit 2).\n\n\
        Exit codes: 0 added or already there, 1 not changed (Thunderbird running, no profile, several defaults, \
        prefs.js or user.js in the way), 2 bad arguments.")]
    Add(Box<AddArgs>),
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
    #[command(flatten)]
    pub name: NameArg,
    #[command(flatten)]
    pub servers: ServerArgs,
    #[command(flatten)]
    pub verified: VerifiedArg,
    /// The profile folder to change (default: Thunderbird's default profile).
    #[arg(long, value_name = "DIR")]
    pub profile: Option<PathBuf>,
    /// Print one JSON object (the outcome, or the diagnosis) instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ThunderbirdCommand {
    pub(super) fn json(&self) -> bool {
        match self {
            ThunderbirdCommand::Add(args) => args.json,
            ThunderbirdCommand::List { json } => *json,
        }
    }
}

pub fn run(command: ThunderbirdCommand, out: Output) -> u8 {
    match command {
        ThunderbirdCommand::Add(args) => add(*args, out),
        ThunderbirdCommand::List { .. } => list(out),
    }
}

fn add(args: AddArgs, out: Output) -> u8 {
    let account = match super::verified::account(&args.account, args.name.name.clone(), &args.servers, &args.verified, &out) {
        Ok(account) => account,
        Err(code) => return code,
    };
    let result =
        thunderbird_profile::resolve_profile(args.profile.as_deref()).and_then(|dir| thunderbird_profile::add_account(&dir, &account));
    let about = |path: &str| Facts { path: Some(path.to_owned()), address: Some(account.address.address.clone()), ..Facts::default() };
    match result {
        Ok(outcome) if out.json => {
            print_json(&outcome);
            EXIT_OK
        }
        Ok(AddOutcome::Added { profile, backup, warnings, .. }) => {
            println!("{}", out.words("cli.thunderbird_added", &about(&profile)));
            if let Some(backup) = backup {
                println!("{}", out.words("cli.thunderbird_backup", &about(&backup)));
            }
            println!("{}", out.text("cli.thunderbird_will_ask"));
            for warning in &warnings {
                out.report(warning, EXIT_OK);
            }
            EXIT_OK
        }
        Ok(AddOutcome::AlreadyPresent { profile, .. }) => {
            println!("{}", out.words("cli.thunderbird_present", &about(&profile)));
            EXIT_OK
        }
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}

fn list(out: Output) -> u8 {
    match thunderbird_profile::list_profiles() {
        Ok(profiles) if out.json => {
            print_json(&profiles);
            EXIT_OK
        }
        Ok(profiles) if profiles.is_empty() => {
            println!("{}", out.text("cli.thunderbird_none"));
            EXIT_OK
        }
        Ok(profiles) => {
            for p in profiles {
                println!("{} {}  {}", if p.is_default { "*" } else { " " }, p.name, p.path);
            }
            EXIT_OK
        }
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}
