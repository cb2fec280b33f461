//! What every subcommand shares: who the account is (`--address`, `--login`, `--name`), which servers to use
//! (`--imap`, `--smtp`, `--smtp-fallback`, `--caldav`, `--carddav`, `--ca-file`, also the window's flags), the one way a password is read
//! from standard input, and the one way a diagnosis is printed — in the language of `--lang` or the locale.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Diagnosis, Facts, Lang, Secret};

/// Whose account: the sender address and, for an iCloud+ custom domain, the primary iCloud login.
#[derive(Debug, Clone, Args)]
pub struct AccountArgs {
    /// The email address to set up: an iCloud address, or an iCloud+ custom-domain address (then give --login).
    #[arg(long, value_name = "ADDRESS")]
    pub address: String,
    /// The primary iCloud address that signs in (…@icloud.com, @me.com, @mac.com). Needed when --address is on a
    /// custom domain; the custom address stays the sender.
    #[arg(long, value_name = "LOGIN")]
    pub login: Option<String>,
}

/// The sender's name, for the formats that carry one.
#[derive(Debug, Clone, Default, Args)]
pub struct NameArg {
    /// Your name as people you write to will see it.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<String>,
}

/// Other servers and an extra CA, for unusual networks and tests. TLS verification is never switched off.
#[derive(Debug, Clone, Default, Args)]
pub struct ServerArgs {
    /// Use this IMAP server (TLS from the first byte) instead of imap.mail.me.com:993.
    #[arg(long, value_name = "HOST:PORT", value_parser = imap_endpoint)]
    pub imap: Option<Endpoint>,
    /// Use this SMTP server (STARTTLS) instead of smtp.mail.me.com:587. No fallback is tried unless
    /// --smtp-fallback is given too.
    #[arg(long, value_name = "HOST:PORT", value_parser = smtp_endpoint)]
    pub smtp: Option<Endpoint>,
    /// The SMTP server (TLS from the first byte) to try when the SMTP server cannot be reached; by default
    /// smtp.mail.me.com:465.
    #[arg(long, value_name = "HOST:PORT", value_parser = fallback_endpoint)]
    pub smtp_fallback: Option<Endpoint>,
    /// Find calendars from this CalDAV service host (HTTPS) instead of caldav.icloud.com:443 (probe --dav).
    #[arg(long, value_name = "HOST:PORT", value_parser = dav_endpoint)]
    pub caldav: Option<Endpoint>,
    /// Find contacts from this CardDAV service host (HTTPS) instead of contacts.icloud.com:443 (probe --dav).
    #[arg(long, value_name = "HOST:PORT", value_parser = dav_endpoint)]
    pub carddav: Option<Endpoint>,
    /// Also trust the CA certificate(s) in this PEM file (a company proxy, a test server); exported terminal-client
    /// files trust it too.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

pub(crate) fn imap_endpoint(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse_override(text, Security::Tls)
}

pub(crate) fn smtp_endpoint(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse_override(text, Security::Starttls)
}

pub(crate) fn fallback_endpoint(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse_override(text, Security::Tls)
}

pub(crate) fn dav_endpoint(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse_override(text, Security::Tls)
}

impl AccountArgs {
    /// The account with `name` and the servers of `servers`, or the diagnosis of what is wrong with the arguments.
    pub fn account(&self, name: Option<String>, servers: &ServerArgs) -> Result<Account, Diagnosis> {
        let address = Address::parse(&self.address)?;
        let login = self.login.as_deref().map(Address::parse).transpose()?;
        let mut account =
            Account::new(address, login, name)?.with_servers(servers.imap.clone(), servers.smtp.clone(), servers.smtp_fallback.clone());
        if let Some(caldav) = &servers.caldav {
            account.provider.caldav = caldav.clone();
        }
        if let Some(carddav) = &servers.carddav {
            account.provider.carddav = carddav.clone();
        }
        Ok(account)
    }
}

impl ServerArgs {
    /// The extra CA's PEM, checked to hold at least one certificate; a problem names the flag and the file.
    pub fn extra_ca_pem(&self) -> Result<Option<Vec<u8>>, String> {
        let Some(path) = &self.ca_file else { return Ok(None) };
        icloud_mail_core::probe::tls::read_ca_file(path).map(Some).map_err(|e| format!("--ca-file {e}"))
    }
}

/// The one way the password comes in: one line of standard input. At a terminal it is read without echo (so it
/// never shows on screen or in a terminal's scrollback); from a pipe, the first line.
pub fn read_password(out: &Output) -> Result<Secret, String> {
    let stdin = std::io::stdin();
    let read = if stdin.is_terminal() {
        eprint!("{} ", out.text("cli.password_prompt"));
        rpassword::read_password().map(Secret::new)
    } else {
        Secret::from_line(&mut stdin.lock())
    };
    match read {
        Ok(secret) if !secret.is_empty() => Ok(secret),
        Ok(_) => Err(out.text("cli.password_missing")),
        Err(e) => Err(format!("{} ({e})", out.text("cli.password_unreadable"))),
    }
}

/// How the command line speaks: the language, and whether a script wants JSON.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub lang: Lang,
    pub json: bool,
}

impl Output {
    /// A catalogue text in this output's language.
    pub fn text(&self, key: &str) -> String {
        self.lang.plain(key)
    }

    /// A catalogue text with facts.
    pub fn words(&self, key: &str, facts: &Facts) -> String {
        self.lang.text(key, facts)
    }

    /// A diagnosis as a flat JSON object: `kind`, `message`, `hint`, `detail` and the facts.
    pub fn diagnosis_json(&self, d: &Diagnosis) -> serde_json::Value {
        let mut v = serde_json::json!({
            "kind": d.kind,
            "message": d.message(self.lang),
            "hint": d.hint(self.lang),
            "detail": d.detail,
        });
        if let (Some(map), Ok(serde_json::Value::Object(facts))) = (v.as_object_mut(), serde_json::to_value(&*d.facts)) {
            for (k, value) in facts {
                map.entry(k).or_insert(value);
            }
        }
        v
    }

    /// Prints a diagnosis and returns `code`: JSON on standard output for scripts; otherwise what happened and what
    /// to do on standard error, then the kind (for scripts to match on) and the technical detail.
    pub fn report(&self, d: &Diagnosis, code: u8) -> u8 {
        if self.json {
            println!("{}", self.diagnosis_json(d));
        } else {
            eprintln!("{}\n{}", terminal_safe(&d.message(self.lang)), terminal_safe(&d.hint(self.lang)));
            match &d.detail {
                Some(detail) => eprintln!("({}: {})", d.kind.name(), terminal_safe(detail)),
                None => eprintln!("({})", d.kind.name()),
            }
        }
        code
    }

    /// Prints a usage problem (not a diagnosis: a flag's value) and returns the usage exit code.
    pub fn usage(&self, problem: &str) -> u8 {
        eprintln!("error: {}", terminal_safe(problem));
        super::EXIT_USAGE
    }
}

/// Text for a terminal: every control character but the line break written as a Rust escape (`\u{1b}`), so text
/// that came from a file or a server (a report handed over, a server's words) cannot move the cursor, retitle the
/// window or hide what is printed around it.
pub fn terminal_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' { c.escape_debug().to_string() } else { c.to_string() }).collect()
}

/// Prints one value as JSON on standard output.
pub fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: {e}"),
    }
}
