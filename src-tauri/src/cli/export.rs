//! `icloud-mail-setup export`: writes one client profile or config file for an account. Also the account
//! arguments (`--address --name --login --imap --smtp`) that `thunderbird add` shares.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use icloud_mail_core::export::outlook_reg::is_absolute_windows_path;
use icloud_mail_core::export::{self, ExportFormat, ExportOptions, PasswordCommand, APP_PROGRAM};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Diagnosis};

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// Who the account is and, for tests or unusual networks, which servers to use.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// The email address to set up: an iCloud address, or an iCloud+ custom-domain address (then give --login).
    #[arg(long, value_name = "A")]
    pub address: String,
    /// Your name as shown in mail you send.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub name: Option<String>,
    /// The primary iCloud address that signs in (needed for a custom-domain address; default: the address).
    #[arg(long, value_name = "L")]
    pub login: Option<String>,
    /// Incoming server instead of imap.mail.me.com:993 (always TLS from the first byte).
    #[arg(long, value_name = "HOST:PORT", value_parser = |s: &str| Endpoint::parse_override(s, Security::Tls))]
    pub imap: Option<Endpoint>,
    /// Outgoing server instead of smtp.mail.me.com:587 (always STARTTLS).
    #[arg(long, value_name = "HOST:PORT", value_parser = |s: &str| Endpoint::parse_override(s, Security::Starttls))]
    pub smtp: Option<Endpoint>,
}

impl AccountArgs {
    /// The account, or the diagnosis of what is wrong with the arguments.
    pub fn account(&self) -> Result<Account, Diagnosis> {
        let address = Address::parse(&self.address)?;
        let login = self.login.as_deref().map(Address::parse).transpose()?;
        Ok(Account::new(address, login, self.name.clone())?.with_servers(self.imap.clone(), self.smtp.clone(), None))
    }
}

/// Where terminal clients get the password.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PasswordSource {
    /// `icloud-mail-setup keychain get --address LOGIN` (any OS).
    App,
    /// `secret-tool lookup service icloud-mail-setup username LOGIN` (Linux).
    SecretTool,
    /// `security find-generic-password -s icloud-mail-setup -a LOGIN -w` (macOS).
    Security,
}

fn format_parser() -> impl TypedValueParser<Value = ExportFormat> {
    let ids: Vec<&'static str> = ExportFormat::ALL.iter().map(|f| f.id()).collect();
    PossibleValuesParser::new(ids).map(|id| id.parse::<ExportFormat>().expect("clap offers only registered ids"))
}

#[derive(Debug, Args)]
#[command(after_help = "Formats:\n  thunderbird-autoconfig  config-v1.1.xml for autoconfig.<domain>/mail/\n  \
    outlook-prf             classic Outlook: outlook.exe /importprf FILE\n  \
    outlook-autodiscover    Outlook Autodiscover XML (experimental)\n  \
    outlook-reg             registry file pointing Outlook at that XML (experimental)\n  \
    apple-mobileconfig      Mail on macOS, iPhone, iPad: open the file to install\n  \
    neomutt, aerc, mbsync, msmtp   terminal clients; they read the password from the keychain\n  \
    settings-text, settings-html   the settings card for any other client\n\n\
    No file ever holds the password. Without --output the file gets the format's usual name in the current folder. \
    An existing file is replaced only with --force; files are written atomically and readable by you only.\n\n\
    Exit codes: 0 written, 1 not written (file exists, folder not writable), 2 bad arguments.")]
pub struct ExportArgs {
    #[command(flatten)]
    pub account: AccountArgs,
    /// The client format (see below).
    #[arg(long, value_name = "F", value_parser = format_parser())]
    pub format: ExportFormat,
    /// The file to write, or `-` for standard output.
    #[arg(long, value_name = "PATH|-")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// A PEM file with an extra certificate authority for terminal clients (msmtp, mbsync, neomutt), e.g. a
    /// company CA or a test server's.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// How terminal clients read the password from the keychain.
    #[arg(long, value_enum, default_value = "app")]
    pub password_command: PasswordSource,
    /// outlook-reg only: where the Autodiscover XML will be on the Windows computer, in a folder only that user can
    /// write to (default: %LOCALAPPDATA%\iCloud Mail Setup\autodiscover-<domain>.xml).
    #[arg(long, value_name = "WINDOWS_PATH")]
    pub autodiscover_path: Option<String>,
}

/// Prints a diagnosis for a person and returns `code`.
pub fn report(diagnosis: &Diagnosis, code: u8) -> u8 {
    eprintln!("{}\n{}", diagnosis.message, diagnosis.hint);
    if let Some(detail) = &diagnosis.detail {
        eprintln!("({detail})");
    }
    code
}

fn usage(message: &str) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

/// The program terminal clients should call: the bare name when PATH finds this very program (it then survives
/// upgrades and moves), otherwise this program's full path (an app bundle, a build folder).
pub(crate) fn app_program() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else { return APP_PROGRAM.to_owned() };
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(APP_PROGRAM)).find(|candidate| candidate.is_file()));
    match on_path.and_then(|p| std::fs::canonicalize(p).ok()) {
        Some(found) if found == me => APP_PROGRAM.to_owned(),
        _ => me.display().to_string(),
    }
}

fn checked_text(flag: &str, path: &Path) -> Result<String, String> {
    let text = path.to_str().ok_or_else(|| format!("{flag} {}: the path is not valid Unicode", path.display()))?;
    if text.chars().any(char::is_control) {
        return Err(format!("{flag}: the path contains a control character"));
    }
    Ok(text.to_owned())
}

fn options(args: &ExportArgs) -> Result<ExportOptions, String> {
    let ca_file = match &args.ca_file {
        // Clients run from other folders: the path must be absolute, and should exist now.
        Some(path) => {
            let absolute = std::fs::canonicalize(path).map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            Some(checked_text("--ca-file", &absolute)?)
        }
        None => None,
    };
    let autodiscover_xml_path = match &args.autodiscover_path {
        Some(path) => {
            let text = checked_text("--autodiscover-path", Path::new(path))?;
            if !is_absolute_windows_path(&text) {
                return Err(format!(
                    "--autodiscover-path {text}: give an absolute Windows path (C:\\…) or one that starts with %LOCALAPPDATA%"
                ));
            }
            Some(text)
        }
        None => None,
    };
    let password_command = match args.password_command {
        PasswordSource::App => PasswordCommand::App { program: app_program() },
        PasswordSource::SecretTool => PasswordCommand::SecretTool,
        PasswordSource::Security => PasswordCommand::Security,
    };
    Ok(ExportOptions { ca_file, password_command, autodiscover_xml_path })
}

pub fn run(args: ExportArgs) -> u8 {
    let account = match args.account.account() {
        Ok(account) => account,
        Err(d) => return report(&d, EXIT_USAGE),
    };
    let options = match options(&args) {
        Ok(options) => options,
        Err(message) => return usage(&message),
    };
    let file = match export::export(&account, args.format, &options) {
        Ok(file) => file,
        Err(d) => return report(&d, EXIT_FAILED),
    };
    let exporter = args.format.exporter();
    match args.output.as_deref() {
        Some(path) if path == Path::new("-") => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&file.bytes).and_then(|_| out.flush()) {
                eprintln!("error: standard output: {e}");
                return EXIT_FAILED;
            }
        }
        target => {
            let path = target.map(Path::to_owned).unwrap_or_else(|| PathBuf::from(&file.file_name));
            if let Err(d) = export::write_atomic(&path, &file.bytes, args.force) {
                return report(&d, EXIT_FAILED);
            }
            let note = if exporter.experimental() { " (experimental)" } else { "" };
            eprintln!("Wrote {}{note}: {}", path.display(), exporter.description());
        }
    }
    EXIT_OK
}
