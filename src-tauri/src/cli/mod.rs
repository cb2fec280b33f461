//! The command line: argument parsing (clap), calls into the core, and printing. It never initialises the window
//! toolkit, so it runs without a display.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) mod export;
mod keychain;
mod probe;
mod thunderbird;

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
    #[command(flatten)]
    pub window: WindowOptions,
}

/// Options for the wizard window (no subcommand): the same server overrides and extra CA as `probe`, for people
/// behind unusual networks and for the end-to-end tests. TLS verification is never switched off.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WindowOptions {
    /// In the wizard: use this IMAP server (TLS from the first byte) instead of imap.mail.me.com:993.
    #[arg(long, value_name = "HOST:PORT", value_parser = probe::imap_endpoint)]
    pub imap: Option<icloud_mail_core::provider::Endpoint>,
    /// In the wizard: use this SMTP server (STARTTLS) instead of smtp.mail.me.com:587 (no fallback unless
    /// --smtp-fallback is given too).
    #[arg(long, value_name = "HOST:PORT", value_parser = probe::smtp_endpoint)]
    pub smtp: Option<icloud_mail_core::provider::Endpoint>,
    /// In the wizard: the SMTP server (TLS from the first byte) to try when the SMTP server cannot be reached.
    #[arg(long, value_name = "HOST:PORT", value_parser = probe::fallback_endpoint)]
    pub smtp_fallback: Option<icloud_mail_core::provider::Endpoint>,
    /// In the wizard: also trust the CA certificate(s) in this PEM file (and let exported terminal-client files
    /// trust it too).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// In the wizard: the folder "Save" puts exported files in (default: your Downloads folder).
    #[arg(long, value_name = "DIR")]
    pub export_dir: Option<std::path::PathBuf>,
}

/// What the process was asked to do.
pub enum Launch {
    Cli(Command),
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

/// Parses the process arguments. `--help`, `--version` and usage errors are printed and end the process here,
/// with exit code 0 or 2.
pub fn parse_args() -> Launch {
    let cli = Cli::parse();
    match cli.command {
        Some(command) => Launch::Cli(command),
        None => Launch::Window(cli.window),
    }
}

pub fn run(command: Command) -> ExitCode {
    let code = match command {
        Command::Probe(args) => probe::run(args),
        Command::Keychain(command) => keychain::run(command),
        Command::Export(args) => export::run(args),
        Command::Thunderbird(command) => thunderbird::run(command),
        Command::CheckAddress { address, json } => check_address(&address, json),
    };
    ExitCode::from(code)
}

fn check_address(input: &str, json: bool) -> u8 {
    let result = icloud_mail_core::Address::parse(input).and_then(|a| match a.problem() {
        Some(p) => Err(p),
        None => Ok(a),
    });
    let code = if result.is_ok() { EXIT_OK } else { EXIT_FAILED };
    match (result, json) {
        (Ok(a), true) => println!("{}", serde_json::to_string(&a).expect("serialisable")),
        (Err(d), true) => println!("{}", serde_json::to_string(&d).expect("serialisable")),
        (Ok(a), false) => {
            let kind = match a.kind {
                icloud_mail_core::DomainKind::Icloud => "an iCloud address",
                icloud_mail_core::DomainKind::Custom => "a custom domain (iCloud+ if its MX records point at iCloud)",
                icloud_mail_core::DomainKind::OtherProvider { .. } => "another provider's address",
            };
            println!("{}: {kind}", a.address);
        }
        (Err(d), false) => eprintln!("{}\n{}", d.message, d.hint),
    }
    code
}
