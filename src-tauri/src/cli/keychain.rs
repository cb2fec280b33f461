//! `icloud-mail-setup keychain set|status|delete|get`: the app-specific password in the operating system's keychain,
//! through the core's `keychain`. The password comes in on standard input only, never as an argument.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::{Args, Subcommand};
use icloud_mail_core::keychain::{IfSaved, Keychain, Saved, STORE_NAME};
use icloud_mail_core::{Account, Diagnosis, Facts};

use super::args::{print_json, read_password, AccountArgs, Output, ServerArgs};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

const NAMING: &str = "Entries are saved under the service name \"icloud-mail-setup\" and the account of the login \
    address (the primary iCloud address, lower case), the same on every system, so other programs can read them: \
    `secret-tool lookup service icloud-mail-setup username LOGIN` (Linux), \
    `security find-generic-password -s icloud-mail-setup -a LOGIN -w` (macOS); on Windows the Credential Manager \
    shows a generic credential named LOGIN.icloud-mail-setup.";

#[derive(Debug, Subcommand)]
#[command(after_help = NAMING)]
pub enum KeychainCommand {
    /// Save the app-specific password, read from standard input.
    #[command(after_help = "Exit codes: 0 saved, 1 not saved (one already saved and no --replace, keychain missing or \
        locked, …), 2 bad usage (bad address, nothing on standard input).\n\n\
        Example: printf '%s\\n' \"$PASSWORD\" | icloud-mail-setup keychain set --address jane@icloud.com --password-stdin")]
    Set {
        #[command(flatten)]
        who: AccountArgs,
        #[command(flatten)]
        wait: Wait,
        /// Read the password from standard input: one line from a pipe, or typed at a terminal without being shown
        /// (the only way to give it: arguments are visible to every user of the machine).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Overwrite a password already saved for this login. Without it an existing entry is kept and the command
        /// fails with keychain_entry_exists.
        #[arg(long)]
        replace: bool,
    },
    /// Say whether a password is saved for the login, without showing it.
    #[command(after_help = "Exit codes: 0 a password is saved, 1 none is saved or the keychain could not be asked, \
        2 bad usage.")]
    Status {
        #[command(flatten)]
        who: AccountArgs,
        #[command(flatten)]
        wait: Wait,
        /// Print one JSON object: {"exists", "store", "entry": {"service", "account"}}, or the diagnosis.
        #[arg(long)]
        json: bool,
    },
    /// Delete the saved password for the login.
    #[command(after_help = "Exit codes: 0 deleted, 1 none was saved or the keychain failed, 2 bad usage.")]
    Delete {
        #[command(flatten)]
        who: AccountArgs,
        #[command(flatten)]
        wait: Wait,
    },
    /// Print the saved password on standard output, for a mail client's password command.
    #[command(
        long_about = "Print the saved password on standard output, followed by a newline, so that a mail client can \
            run this as its password command on any system, for example NeoMutt \
            `set imap_pass = \"`icloud-mail-setup keychain get --address jane@icloud.com`\"`, msmtp \
            `passwordeval \"icloud-mail-setup keychain get --address jane@icloud.com\"`, mbsync `PassCmd`, aerc \
            `source-cred-cmd`.\n\nTo keep the password off the screen it is not printed to a terminal unless --force \
            is given.",
        after_help = "Exit codes: 0 printed, 1 none is saved or the keychain failed, 2 bad usage (including standard \
            output being a terminal without --force)."
    )]
    Get {
        #[command(flatten)]
        who: AccountArgs,
        #[command(flatten)]
        wait: Wait,
        /// Print the password even when standard output is a terminal.
        #[arg(long)]
        force: bool,
    },
}

impl KeychainCommand {
    pub(super) fn json(&self) -> bool {
        matches!(self, KeychainCommand::Status { json: true, .. })
    }
}

/// How long to wait for the keychain.
#[derive(Debug, Default, Args)]
pub struct Wait {
    /// Give up waiting for the keychain after this many seconds (default 60, time enough to answer an unlock
    /// prompt); it then fails with keychain_locked (its keyring is locked and the unlock prompt was not answered) or
    /// keychain_timeout.
    #[arg(long, value_name = "SECONDS", value_parser = super::probe::seconds)]
    timeout: Option<Duration>,
}

impl Wait {
    fn keychain(&self) -> Result<Keychain, Diagnosis> {
        let keychain = Keychain::native()?;
        Ok(match self.timeout {
            Some(deadline) => keychain.with_deadline(deadline),
            None => keychain,
        })
    }
}

pub fn run(command: KeychainCommand, out: Output) -> u8 {
    match command {
        KeychainCommand::Set { who, wait, password_stdin: _, replace } => set(&who, &wait, replace, out),
        KeychainCommand::Status { who, wait, .. } => status(&who, &wait, out),
        KeychainCommand::Delete { who, wait } => delete(&who, &wait, out),
        KeychainCommand::Get { who, wait, force } => {
            get(&who, &wait, force, std::io::stdout().is_terminal(), &mut std::io::stdout().lock(), out)
        }
    }
}

/// The account the entry belongs to (its keychain account is the login); no servers or name are involved.
fn account(who: &AccountArgs) -> Result<Account, Diagnosis> {
    who.account(None, &ServerArgs::default())
}

fn about(account: &Account) -> Facts {
    Facts { username: Some(account.login.address.clone()), store: Some(STORE_NAME.to_owned()), ..Facts::default() }
}

fn set(who: &AccountArgs, wait: &Wait, replace: bool, out: Output) -> u8 {
    let account = match account(who) {
        Ok(account) => account,
        Err(d) => return out.report(&d, EXIT_USAGE),
    };
    let password = match read_password(&out) {
        Ok(password) => password,
        Err(problem) => return out.usage(&problem),
    };
    if !password.looks_app_specific() {
        eprintln!("{}", out.text("cli.password_not_app_specific"));
    }
    let if_saved = if replace { IfSaved::Replace } else { IfSaved::Refuse };
    // `save` takes the password and drops it as soon as the store has it.
    match wait.keychain().and_then(|k| k.save(&account, password, if_saved)) {
        Ok(saved) => {
            let key = match saved {
                Saved::Created => "cli.keychain_saved",
                Saved::Replaced => "cli.keychain_replaced",
            };
            println!("{}", out.words(key, &about(&account)));
            EXIT_OK
        }
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}

fn status(who: &AccountArgs, wait: &Wait, out: Output) -> u8 {
    let account = match account(who) {
        Ok(account) => account,
        Err(d) => return out.report(&d, EXIT_USAGE),
    };
    match wait.keychain().and_then(|k| k.status(&account)) {
        Ok(status) => {
            if out.json {
                print_json(&status);
            } else {
                let key = if status.exists { "cli.keychain_status_saved" } else { "cli.keychain_status_none" };
                let facts = Facts { store: Some(status.store.clone()), ..about(&account) };
                println!("{}", out.words(key, &facts));
            }
            if status.exists {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}

fn delete(who: &AccountArgs, wait: &Wait, out: Output) -> u8 {
    let account = match account(who) {
        Ok(account) => account,
        Err(d) => return out.report(&d, EXIT_USAGE),
    };
    match wait.keychain().and_then(|k| k.delete(&account)) {
        Ok(()) => {
            println!("{}", out.words("cli.keychain_deleted", &about(&account)));
            EXIT_OK
        }
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}

/// `stdout_is_terminal` is passed in so the refusal can be tested without a terminal. It is checked before the
/// keychain is touched, so a refused call shows no permission prompt either.
fn get(who: &AccountArgs, wait: &Wait, force: bool, stdout_is_terminal: bool, sink: &mut dyn Write, out: Output) -> u8 {
    if stdout_is_terminal && !force {
        return out.usage(&out.text("cli.keychain_get_terminal"));
    }
    let account = match account(who) {
        Ok(account) => account,
        Err(d) => return out.report(&d, EXIT_USAGE),
    };
    match wait.keychain().and_then(|k| k.get(&account)) {
        Ok(password) => match sink.write_all(password.expose().as_bytes()).and_then(|()| sink.write_all(b"\n")).and_then(|()| sink.flush())
        {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("{} ({e})", out.text("cli.keychain_get_write_failed"));
                EXIT_FAILED
            }
        },
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use icloud_mail_core::keychain::EntryName;
    use icloud_mail_core::Lang;

    use super::*;
    use crate::cli::{Cli, Command};

    const OUT: Output = Output { lang: Lang::En, json: false };

    fn parse(args: &[&str]) -> Result<KeychainCommand, clap::Error> {
        let mut argv = vec!["icloud-mail-setup", "keychain"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Keychain(command)) => Ok(command),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_command_line_is_as_documented() {
        let set = parse(&["set", "--address", "jane@family.example", "--login", "jane@icloud.com", "--password-stdin", "--replace"]);
        assert!(matches!(set, Ok(KeychainCommand::Set { replace: true, .. })), "{set:?}");
        // The password can only come from standard input.
        let no_stdin = parse(&["set", "--address", "jane@icloud.com"]).unwrap_err();
        assert_eq!(no_stdin.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(parse(&["set", "--address", "jane@icloud.com", "--password", "x"]).is_err());
        assert!(matches!(parse(&["status", "--address", "jane@icloud.com", "--json"]), Ok(KeychainCommand::Status { json: true, .. })));
        assert!(matches!(parse(&["delete", "--address", "jane@icloud.com", "--login", "j@me.com"]), Ok(KeychainCommand::Delete { .. })));
        assert!(matches!(parse(&["get", "--address", "jane@icloud.com", "--force"]), Ok(KeychainCommand::Get { force: true, .. })));
        assert!(parse(&["get"]).is_err());
        let status = parse(&["status", "--address", "jane@icloud.com", "--timeout", "2.5"]);
        assert!(
            matches!(status, Ok(KeychainCommand::Status { wait: Wait { timeout: Some(t) }, .. }) if t == Duration::from_millis(2500)),
            "{status:?}"
        );
        assert!(parse(&["delete", "--address", "jane@icloud.com", "--timeout", "0"]).is_err());
    }

    #[test]
    fn get_refuses_a_terminal_without_force_and_before_asking_the_keychain() {
        let who = AccountArgs { address: "jane@icloud.com".into(), login: None };
        let mut sink = Vec::new();
        assert_eq!(get(&who, &Wait::default(), false, true, &mut sink, OUT), EXIT_USAGE);
        assert!(sink.is_empty());
    }

    #[test]
    fn a_custom_domain_needs_its_icloud_login() {
        let who = AccountArgs { address: "jane@family.example".into(), login: None };
        assert_eq!(account(&who).unwrap_err().kind, icloud_mail_core::DiagnosisKind::LoginRequired);
        let who = AccountArgs { address: "jane@family.example".into(), login: Some("JaneDoe@iCloud.com".into()) };
        assert_eq!(EntryName::for_account(&account(&who).unwrap()).account, "janedoe@icloud.com");
        // An address that is usage trouble is refused before the keychain is asked.
        let mut sink = Vec::new();
        let gmail = AccountArgs { address: "jane@gmail.com".into(), login: None };
        assert_eq!(get(&gmail, &Wait::default(), false, false, &mut sink, OUT), EXIT_USAGE);
        assert!(sink.is_empty());
    }
}
