//! `icloud-mail-setup thunderbird …`: add the account to a Thunderbird profile, list the profiles.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use icloud_mail_core::export::thunderbird_profile::{self, nss_helper, AddOutcome};
use icloud_mail_core::keychain::Keychain;
use icloud_mail_core::Facts;

use super::args::{print_json, read_password, terminal_safe, Output};
use super::verified::SetupArgs;
use super::{EXIT_FAILED, EXIT_OK};

#[derive(Debug, Subcommand)]
pub enum ThunderbirdCommand {
    /// Add the account to a Thunderbird profile (quit Thunderbird first). Adding it twice changes nothing.
    #[command(after_help = "Without --profile, the profile Thunderbird opens by default is used. prefs.js is backed up \
        first (prefs.js.bak-<time>) and written atomically; its existing lines stay as they are.\n\n\
        The password: with --password-stdin or --password-from-keychain it is also stored in the profile's own \
        password store (logins.json, encrypted with the profile's key4.db by Thunderbird's own NSS library), so \
        Thunderbird signs in without asking; logins.json and key4.db are backed up first (<name>.bak-<time>), one \
        login per server and username is kept, and it is never written anywhere in clear. Without either flag the \
        password store is not touched and Thunderbird asks for the app-specific password when it first connects. \
        When a primary password protects Thunderbird's saved passwords, or Thunderbird's NSS cannot be loaded, the \
        account is added all the same and the output says why the password was not stored.\n\n\
        Nothing is written when prefs.js or user.js sets an account pref in a form this program cannot read, or when \
        user.js (which Thunderbird applies at every start) sets the account list.\n\n\
        With --verified REPORT.json (saved from probe --json) the account gets exactly what that connection test \
        signed in with: its servers (SMTP's fallback port when the first was blocked), the username that worked for \
        each protocol and the folders the server listed, as the identity's Sent, Drafts and Archives folders, the \
        server's Trash and the Junk target. A report for another address or login is refused (exit 2), as is one that \
        tested other servers than this account's (iCloud's, or the ones --imap, --smtp and --smtp-fallback name \
        alongside; exit 2) and one in which a side did not pass (exit 1).\n\n\
        --with-dav (with --verified) also adds the calendars and address books that connection test found (the \
        report's caldav and carddav members, saved from probe --dav --json): each calendar (CalDAV, offline support \
        on) and the address book (CardDAV), once per URL, also to a profile that has the mail account already; with a \
        password, their logins go into the same password store (origin and realm as the server named them). A report \
        without calendars or contacts that passed adds the mail account alone and says so. Without --with-dav no \
        calendar or address book is added.\n\n\
        JSON output: the outcome (\"added\" or \"already_present\" with the keys written, and \"dav\": the \
        \"calendars\" and \"addressbooks\", each with \"name\", \"url\" and \"added\": false when the profile \
        had it already), \"password_stored\": true|false, \"password_reason\" (a diagnosis, when a password was given but not stored) and \
        \"password_backups\".\n\n\
        Exit codes: 0 added or already there (and the password stored, when one was given), 1 not changed \
        (Thunderbird running, no profile, several defaults, prefs.js or user.js in the way, no password in the \
        keychain) or the password given could not be stored (the account is added all the same), 2 bad arguments.")]
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
    pub setup: SetupArgs,
    /// The profile folder to change (default: Thunderbird's default profile).
    #[arg(long, value_name = "DIR")]
    pub profile: Option<PathBuf>,
    /// Also store the app-specific password in Thunderbird, read from standard input: one line from a pipe, or
    /// typed at a terminal without being shown.
    #[arg(long, conflicts_with = "password_from_keychain")]
    pub password_stdin: bool,
    /// Also store the app-specific password in Thunderbird, read from the keychain (saved with `keychain set`).
    #[arg(long)]
    pub password_from_keychain: bool,
    /// The Thunderbird installation whose NSS library encrypts the password (default: Thunderbird's usual
    /// folders, such as /usr/lib/thunderbird, C:\Program Files\Mozilla Thunderbird,
    /// /Applications/Thunderbird.app/Contents/MacOS).
    #[arg(long, value_name = "DIR")]
    pub thunderbird_dir: Option<PathBuf>,
    /// Also add the iCloud calendars and address book the connection test found (needs --verified with a report
    /// from `probe --dav --json`).
    #[arg(long, requires = "verified")]
    pub with_dav: bool,
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
    let mut account = match args.setup.account(&out) {
        Ok(account) => account,
        Err(code) => return code,
    };
    // The core adds whatever calendars and address books the account carries: only with --with-dav.
    if !args.with_dav {
        account.dav = Default::default();
    }
    // The password first: a missing one changes nothing.
    let password = if args.password_stdin {
        match read_password(&out) {
            Ok(secret) => Some(secret),
            Err(problem) => return out.usage(&problem),
        }
    } else if args.password_from_keychain {
        match Keychain::native().and_then(|k| k.get(&account)) {
            Ok(secret) => Some(secret),
            Err(d) => return out.report(&d, EXIT_FAILED),
        }
    } else {
        None
    };
    let result = thunderbird_profile::resolve_profile(args.profile.as_deref()).and_then(|dir| {
        nss_helper::add_with_password(&dir, &account, password.as_ref(), args.thunderbird_dir.as_deref(), nss_helper::helper_program())
    });
    let about = |path: &str| Facts { path: Some(path.to_owned()), address: Some(account.address.address.clone()), ..Facts::default() };
    let report = match result {
        Ok(report) => report,
        Err(d) => return out.report(&d, EXIT_FAILED),
    };
    let code = if password.is_some() && !report.password_stored { EXIT_FAILED } else { EXIT_OK };
    if out.json {
        // The reason is printed as every diagnosis is with --json: kind, message, hint, detail and its facts.
        let mut json = serde_json::to_value(&report).unwrap_or_default();
        if let (Some(reason), Some(map)) = (&report.password_reason, json.as_object_mut()) {
            map.insert("password_reason".into(), out.diagnosis_json(reason));
        }
        print_json(&json);
        return code;
    }
    let dav = match &report.outcome {
        AddOutcome::Added { dav, .. } | AddOutcome::AlreadyPresent { dav, .. } => dav,
    };
    match &report.outcome {
        AddOutcome::Added { profile, backup, warnings, .. } => {
            println!("{}", out.words("cli.thunderbird_added", &about(profile)));
            if let Some(backup) = backup {
                println!("{}", out.words("cli.thunderbird_backup", &about(backup)));
            }
            for warning in warnings {
                out.report(warning, EXIT_OK);
            }
        }
        AddOutcome::AlreadyPresent { profile, backup, .. } => {
            // With a password to store or a calendar to add, something may still change: only the settings are left
            // as they were.
            let changes = password.is_some() || backup.is_some();
            let key = if changes { "cli.thunderbird_present_settings" } else { "cli.thunderbird_present" };
            println!("{}", out.words(key, &about(profile)));
            if let Some(backup) = backup {
                println!("{}", out.words("cli.thunderbird_backup", &about(backup)));
            }
        }
    }
    let items = dav.calendars.iter().map(|i| (i, "calendar")).chain(dav.addressbooks.iter().map(|i| (i, "addressbook")));
    for (item, what) in items {
        let state = if item.added { "added" } else { "present" };
        let shown = format!("{} <{}>", item.name, item.url);
        println!("{}", terminal_safe(&out.words(&format!("cli.thunderbird_{what}_{state}"), &about(&shown))));
    }
    if args.with_dav && dav.calendars.is_empty() && dav.addressbooks.is_empty() {
        println!("{}", out.text("cli.thunderbird_dav_none"));
    }
    for backup in &report.password_backups {
        println!("{}", out.words("cli.thunderbird_logins_backup", &about(backup)));
    }
    if report.password_stored {
        println!("{}", out.words("cli.thunderbird_password_stored", &about("")));
    } else {
        if let Some(reason) = &report.password_reason {
            out.report(reason, code);
        }
        println!("{}", out.text("cli.thunderbird_will_ask"));
        if password.is_none() {
            println!("{}", out.text("cli.thunderbird_password_how"));
        }
    }
    code
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
