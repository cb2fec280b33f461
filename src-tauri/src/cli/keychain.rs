//! `icloud-mail-setup keychain set|status|delete|get`: the app-specific password in the operating system's keychain,
//! through the core's `keychain`. The password comes in on standard input only, never as an argument.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::{Args, Subcommand};
use icloud_mail_core::keychain::{EntryName, IfSaved, Keychain, Saved, STORE_NAME};
use icloud_mail_core::{Account, Address, Diagnosis, Secret};

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
        who: Who,
        #[command(flatten)]
        wait: Wait,
        /// Read the password from the first line of standard input (the only way to give it: arguments are visible
        /// to every user of the machine).
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
        who: Who,
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
        who: Who,
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
        who: Who,
        #[command(flatten)]
        wait: Wait,
        /// Print the password even when standard output is a terminal.
        #[arg(long)]
        force: bool,
    },
}

/// Whose password: the entry's account is the login, which for an iCloud address is the address itself.
#[derive(Debug, Args)]
pub struct Who {
    /// The email address the account sends from: an iCloud address, or an iCloud+ custom-domain address together
    /// with --login.
    #[arg(long, value_name = "ADDRESS")]
    address: String,
    /// The primary iCloud address that signs in, needed when --address is a custom-domain address. The entry is
    /// saved and looked up under this login.
    #[arg(long, value_name = "LOGIN")]
    login: Option<String>,
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

pub fn run(command: KeychainCommand) -> u8 {
    match command {
        KeychainCommand::Set { who, wait, password_stdin: _, replace } => set(&who, &wait, replace),
        KeychainCommand::Status { who, wait, json } => status(&who, &wait, json),
        KeychainCommand::Delete { who, wait } => delete(&who, &wait),
        KeychainCommand::Get { who, wait, force } => {
            get(&who, &wait, force, std::io::stdout().is_terminal(), &mut std::io::stdout().lock())
        }
    }
}

fn set(who: &Who, wait: &Wait, replace: bool) -> u8 {
    let account = match who.account() {
        Ok(account) => account,
        Err(d) => return report(&d, EXIT_USAGE),
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Reading the password from standard input (typing shows it; piping it in does not).");
    }
    let password = match Secret::from_line(&mut stdin.lock()) {
        Ok(password) if !password.is_empty() => password,
        Ok(_) => {
            eprintln!("No password was read from standard input: give it on the first line.");
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("Could not read the password from standard input: {e}");
            return EXIT_USAGE;
        }
    };
    if !password.looks_app_specific() {
        eprintln!("Note: this does not look like an app-specific password (xxxx-xxxx-xxxx-xxxx); saving it anyway.");
    }
    let if_saved = if replace { IfSaved::Replace } else { IfSaved::Refuse };
    // `save` takes the password and drops it as soon as the store has it.
    match wait.keychain().and_then(|k| k.save(&account, password, if_saved)) {
        Ok(saved) => {
            let verb = match saved {
                Saved::Created => "Saved",
                Saved::Replaced => "Replaced",
            };
            println!(
                "{verb} the password for {} in the {STORE_NAME} ({}).",
                account.login.address,
                entry_words(&EntryName::for_account(&account))
            );
            EXIT_OK
        }
        Err(d) => report(&d, EXIT_FAILED),
    }
}

fn status(who: &Who, wait: &Wait, json: bool) -> u8 {
    let answer = who
        .account()
        .map_err(|d| (d, EXIT_USAGE))
        .and_then(|account| wait.keychain().and_then(|k| k.status(&account)).map(|s| (account, s)).map_err(|d| (d, EXIT_FAILED)));
    match (answer, json) {
        (Ok((_, status)), true) => {
            println!("{}", serde_json::to_string(&status).expect("a status serialises"));
            if status.exists {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        (Ok((account, status)), false) if status.exists => {
            println!("A password for {} is saved in the {} ({}).", account.login.address, status.store, entry_words(&status.entry));
            EXIT_OK
        }
        (Ok((account, status)), false) => {
            println!("No password for {} is saved in the {}.", account.login.address, status.store);
            EXIT_FAILED
        }
        (Err((d, code)), true) => {
            println!("{}", serde_json::to_string(&d).expect("a diagnosis serialises"));
            code
        }
        (Err((d, code)), false) => report(&d, code),
    }
}

fn delete(who: &Who, wait: &Wait) -> u8 {
    let account = match who.account() {
        Ok(account) => account,
        Err(d) => return report(&d, EXIT_USAGE),
    };
    match wait.keychain().and_then(|k| k.delete(&account)) {
        Ok(()) => {
            println!("Deleted the password for {} from the {STORE_NAME}.", account.login.address);
            EXIT_OK
        }
        Err(d) => report(&d, EXIT_FAILED),
    }
}

/// `stdout_is_terminal` is passed in so the refusal can be tested without a terminal. It is checked before the
/// keychain is touched, so a refused call shows no permission prompt either.
fn get(who: &Who, wait: &Wait, force: bool, stdout_is_terminal: bool, out: &mut dyn Write) -> u8 {
    if stdout_is_terminal && !force {
        eprintln!(
            "Not printing the password to a terminal. This command is meant for a mail client's password command; \
             add --force to show it here anyway."
        );
        return EXIT_USAGE;
    }
    let account = match who.account() {
        Ok(account) => account,
        Err(d) => return report(&d, EXIT_USAGE),
    };
    match wait.keychain().and_then(|k| k.get(&account)) {
        Ok(password) => match out.write_all(password.expose().as_bytes()).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()) {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("Could not write the password to standard output: {e}");
                EXIT_FAILED
            }
        },
        Err(d) => report(&d, EXIT_FAILED),
    }
}

impl Who {
    fn account(&self) -> Result<Account, Diagnosis> {
        let address = Address::parse(&self.address)?;
        let login = self.login.as_deref().map(Address::parse).transpose()?;
        Account::new(address, login, None)
    }
}

fn entry_words(entry: &EntryName) -> String {
    format!("service {}, account {}", entry.service, entry.account)
}

/// Prints a diagnosis on standard error and returns `code`: what happened and what to do, then its kind (for
/// scripts to match on) and the store's own words.
fn report(d: &Diagnosis, code: u8) -> u8 {
    eprintln!("{}\n{}", d.message, d.hint);
    match &d.detail {
        Some(detail) => eprintln!("({}: {detail})", d.kind.name()),
        None => eprintln!("({})", d.kind.name()),
    }
    code
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

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
        let who = Who { address: "jane@icloud.com".into(), login: None };
        let mut out = Vec::new();
        assert_eq!(get(&who, &Wait::default(), false, true, &mut out), EXIT_USAGE);
        assert!(out.is_empty());
    }

    #[test]
    fn a_custom_domain_needs_its_icloud_login() {
        let who = Who { address: "jane@family.example".into(), login: None };
        assert_eq!(who.account().unwrap_err().kind, icloud_mail_core::DiagnosisKind::LoginRequired);
        let who = Who { address: "jane@family.example".into(), login: Some("JaneDoe@iCloud.com".into()) };
        assert_eq!(EntryName::for_account(&who.account().unwrap()).account, "janedoe@icloud.com");
        // An address that is usage trouble is refused before the keychain is asked.
        let mut out = Vec::new();
        assert_eq!(get(&Who { address: "jane@gmail.com".into(), login: None }, &Wait::default(), false, false, &mut out), EXIT_USAGE);
        assert!(out.is_empty());
    }
}
