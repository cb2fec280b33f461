//! The command line: argument parsing (clap), calls into the core, and printing. It never initialises the window
//! toolkit, so it runs without a display.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use icloud_mail_core::{DomainKind, Lang};

pub mod args;
pub(crate) mod export;
mod keychain;
mod probe;
mod thunderbird;
mod verified;

pub use args::{Output, ServerArgs};

/// Exit codes, a public interface.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "icloud-mail-setup",
    version,
    about = "Set up iCloud Mail in any desktop mail client.",
    long_about = "Set up iCloud Mail in any desktop mail client.\n\n\
        Without a subcommand this opens the setup wizard. With one, it runs as a command line for admins and \
        scripts and needs no display.",
    after_help = "Exit codes: 0 success, 1 the check or action failed (servers said no, keychain missing, …), 2 bad usage."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The language of messages and of the words inside saved files (the settings card): en or de. Default: the
    /// locale (LC_ALL, LC_MESSAGES, LANG), English when it names another language.
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<Lang>,
    #[command(flatten)]
    pub window: WindowOptions,
}

/// Options for the wizard window (no subcommand): the same server overrides and extra CA as the subcommands, for
/// people behind unusual networks and for the end-to-end tests. TLS verification is never switched off.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WindowOptions {
    #[command(flatten)]
    pub servers: ServerArgs,
    /// In the wizard: the folder "Save" puts exported files in (default: your Downloads folder).
    #[arg(long, value_name = "DIR")]
    pub export_dir: Option<std::path::PathBuf>,
    /// For tests: empty the clipboard this many seconds after "Copy password" (1–60) instead of 60. It can only
    /// shorten the time a password stays on the clipboard.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=60))]
    pub clipboard_clear_after: Option<u64>,
}

/// What the process was asked to do.
pub enum Launch {
    Cli(Command, Output),
    Window(WindowOptions),
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Test incoming (IMAP) and outgoing (SMTP) mail with a real login over verified TLS.
    Probe(probe::ProbeArgs),
    /// Save, check, delete or read the app-specific password in the operating system's keychain.
    #[command(subcommand)]
    Keychain(keychain::KeychainCommand),
    /// Write a ready-made profile or config file for a mail client.
    Export(export::ExportArgs),
    /// Add the account to a Thunderbird profile.
    #[command(subcommand)]
    Thunderbird(thunderbird::ThunderbirdCommand),
    /// Check an address the way the wizard does and say what kind it is.
    CheckAddress {
        /// The email address to check.
        address: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// Whether the person asked for JSON (then diagnoses are printed as JSON too).
    fn json(&self) -> bool {
        match self {
            Command::Probe(args) => args.json,
            Command::Keychain(command) => command.json(),
            Command::Export(_) => false,
            Command::Thunderbird(command) => command.json(),
            Command::CheckAddress { json, .. } => *json,
        }
    }
}

/// Parses the process arguments. `--help`, `--version` and usage errors are printed and end the process here,
/// with exit code 0 or 2.
pub fn parse_args() -> Launch {
    let cli = Cli::parse();
    let lang = cli.lang.unwrap_or_else(Lang::from_environment);
    match cli.command {
        Some(command) => {
            let out = Output { lang, json: command.json() };
            Launch::Cli(command, out)
        }
        None => Launch::Window(cli.window),
    }
}

pub fn run(command: Command, out: Output) -> ExitCode {
    let code = match command {
        Command::Probe(args) => probe::run(args, out),
        Command::Keychain(command) => keychain::run(command, out),
        Command::Export(args) => export::run(args, out),
        Command::Thunderbird(command) => thunderbird::run(command, out),
        Command::CheckAddress { address, .. } => check_address(&address, out),
    };
    ExitCode::from(code)
}

fn check_address(input: &str, out: Output) -> u8 {
    let result = icloud_mail_core::Address::parse(input).and_then(|a| match a.problem() {
        Some(p) => Err(p),
        None => Ok(a),
    });
    match result {
        Ok(a) if out.json => {
            args::print_json(&a);
            EXIT_OK
        }
        Ok(a) => {
            let key = match a.kind {
                DomainKind::Icloud => "cli.address_icloud",
                DomainKind::Custom => "cli.address_custom",
                DomainKind::OtherProvider { .. } => "cli.address_other",
            };
            println!("{}", out.words(key, &icloud_mail_core::Facts { address: Some(a.address.clone()), ..Default::default() }));
            EXIT_OK
        }
        Err(d) => out.report(&d, EXIT_FAILED),
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};
    use icloud_mail_core::export::thunderbird_profile::nss_helper::HELPER_SUBCOMMAND;

    use super::Cli;

    /// The login helper is a program of its own (issue 23, M2): the app itself no longer answers to the helper's
    /// argument, so it can never be made to load Thunderbird's NSS.
    #[test]
    fn the_app_is_not_the_login_helper() {
        assert!(Cli::try_parse_from(["icloud-mail-setup", HELPER_SUBCOMMAND]).is_err());
        let help = Cli::command().render_long_help().to_string();
        assert!(!help.contains(HELPER_SUBCOMMAND), "{help}");
    }

    #[test]
    fn the_password_flags_of_thunderbird_add_exclude_each_other_and_the_clipboard_time_is_bounded() {
        let add = ["icloud-mail-setup", "thunderbird", "add", "--address", "jane@icloud.com"];
        assert!(Cli::try_parse_from(add.iter().chain(&["--password-stdin"])).is_ok());
        assert!(Cli::try_parse_from(add.iter().chain(&["--password-from-keychain"])).is_ok());
        assert!(Cli::try_parse_from(add.iter().chain(&["--password-stdin", "--password-from-keychain"])).is_err());
        assert!(Cli::try_parse_from(["icloud-mail-setup", "--clipboard-clear-after", "5"]).is_ok());
        for bad in ["0", "61", "x"] {
            assert!(Cli::try_parse_from(["icloud-mail-setup", "--clipboard-clear-after", bad]).is_err(), "{bad}");
        }
    }
}
