//! `--verified REPORT.json` for `export` and `thunderbird add`: the outcome of a connection test becomes the
//! account's settings. The file is what `probe --json` printed; only its flat, word-free fields are read (kinds,
//! hosts, ports, security, usernames, folders, the address and login tested), never its translated sentences.
//! The account is then `verified::account_from_report`, so the file written holds exactly the servers, usernames and
//! folders the test signed in with.

use std::path::{Path, PathBuf};

use clap::Args;
use icloud_mail_core::account::{AddressBook, Calendar, Folders};
use icloud_mail_core::probe::{DavReport, ProbeReport, SideReport};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Diagnosis, DiagnosisKind, Facts};
use serde::Deserialize;

use super::args::{AccountArgs, NameArg, Output, ServerArgs};
use super::{EXIT_FAILED, EXIT_USAGE};

/// The settings of a connection test that passed.
#[derive(Debug, Clone, Default, Args)]
pub struct VerifiedArg {
    /// Use the servers, usernames and folders of a connection test that passed: a file saved from
    /// `probe --json` for the same --address (and --login) and for this account's servers: iCloud's, or the ones
    /// --imap, --smtp, --smtp-fallback, --caldav and --carddav name.
    #[arg(long, value_name = "REPORT.json")]
    pub verified: Option<PathBuf>,
}

/// What `--help` says about `--verified`, for the subcommands that take it.
pub const HELP: &str = "With --verified REPORT.json (saved from probe --json) the file gets exactly what that connection test \
    signed in with: its servers (SMTP's fallback port when the first was blocked), the username that worked for \
    each protocol and the folders the server listed (sent, drafts, deleted, junk, archive), and, from probe --dav, \
    the calendars and address book found where that side passed (a DAV side that did not pass is left out and \
    refuses nothing). A report for another address or login is refused (exit 2), as is one that tested other \
    servers than this account's (iCloud's, or the ones --imap, --smtp, --smtp-fallback, --caldav and --carddav \
    name alongside; exit 2), one whose calendar or contact URLs are not https on the DAV service's own domain \
    (exit 2) and one in which a mail side did not pass (exit 1).";

/// The fields of `probe --json` that `--verified` needs.
#[derive(Debug, Deserialize)]
struct ReportFile {
    address: String,
    login: String,
    imap: SideFile,
    smtp: SideFile,
    /// `probe --dav`'s members, when the test had them.
    #[serde(default)]
    caldav: Option<DavFile>,
    #[serde(default)]
    carddav: Option<DavFile>,
}

/// The fields of a `caldav` / `carddav` member that `--verified` needs (never its words).
#[derive(Debug, Deserialize)]
struct DavFile {
    kind: DiagnosisKind,
    host: String,
    port: u16,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    home: Option<String>,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    calendars: Option<Vec<Calendar>>,
    #[serde(default)]
    addressbooks: Option<Vec<AddressBook>>,
}

impl DavFile {
    fn report(self) -> DavReport {
        let facts = Facts { host: Some(self.host.clone()), port: Some(self.port), username: self.username.clone(), ..Facts::default() };
        DavReport {
            diagnosis: Diagnosis::new(self.kind, facts, self.detail),
            host: self.host,
            port: self.port,
            username: self.username,
            principal: self.principal,
            home: self.home,
            realm: self.realm,
            elapsed_ms: 0,
            server_text: None,
            calendars: self.calendars,
            addressbooks: self.addressbooks,
            requests: 0,
            redirects: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct SideFile {
    kind: DiagnosisKind,
    host: String,
    port: u16,
    security: Security,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    unreachable_port: Option<u16>,
    #[serde(default)]
    folders: Option<Folders>,
    #[serde(default)]
    delimiter: Option<String>,
}

impl SideFile {
    fn report(self) -> SideReport {
        let facts = Facts { host: Some(self.host.clone()), port: Some(self.port), username: self.username.clone(), ..Facts::default() };
        let folders = self.folders.map(|folders| Folders { delimiter: self.delimiter, ..folders });
        SideReport {
            diagnosis: Diagnosis::new(self.kind, facts, self.detail),
            host: self.host,
            port: self.port,
            security: self.security,
            username: self.username,
            elapsed_ms: 0,
            server_text: None,
            unreachable_port: self.unreachable_port,
            attempts: Vec::new(),
            folders,
        }
    }
}

/// `address (login)`, or the address alone when it signs in as itself.
fn who(address: &str, login: &str) -> String {
    if address == login {
        address.to_owned()
    } else {
        format!("{address} ({login})")
    }
}

/// The account the arguments describe: with `--verified`, the one the report's test signed in with. A refusal is
/// printed and its exit code returned.
/// Who a file or profile is made for: the account, the sender's name, and the servers — or, instead of servers, a
/// report of a passed connection test (`--verified`). Shared by `export` and `thunderbird add`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub account: AccountArgs,
    #[command(flatten)]
    pub name: NameArg,
    #[command(flatten)]
    pub servers: ServerArgs,
    #[command(flatten)]
    pub verified: VerifiedArg,
}

impl SetupArgs {
    /// The account, or the exit code after the problem was printed.
    pub fn account(&self, out: &Output) -> Result<Account, u8> {
        account(&self.account, self.name.name.clone(), &self.servers, &self.verified, out)
    }
}

pub fn account(
    account: &AccountArgs,
    name: Option<String>,
    servers: &ServerArgs,
    verified: &VerifiedArg,
    out: &Output,
) -> Result<Account, u8> {
    let base = account.account(name, servers).map_err(|d| out.report(&d, EXIT_USAGE))?;
    let Some(path) = &verified.verified else { return Ok(base) };
    let file = read(path).map_err(|problem| out.usage(&problem))?;
    let same = |text: &str, known: &Address| Address::parse(text).is_ok_and(|parsed| parsed.address == known.address);
    if !same(&file.address, &base.address) || !same(&file.login, &base.login) {
        let facts = Facts {
            username: Some(who(&file.address, &file.login)),
            address: Some(who(&base.address.address, &base.login.address)),
            path: Some(path.display().to_string()),
            ..Facts::default()
        };
        let d = Diagnosis::new(DiagnosisKind::ReportOtherAccount, facts, Some(format!("--verified {}", path.display())));
        return Err(out.report(&d, EXIT_USAGE));
    }
    // A report someone else hands over must not point the files at their server: it may name only the servers
    // this account would use anyway.
    if let Some(other) = other_server(&file, &base) {
        let facts = Facts { host: Some(other.0), port: Some(other.1), path: Some(path.display().to_string()), ..Facts::default() };
        let d = Diagnosis::new(DiagnosisKind::ReportOtherServer, facts, Some(format!("--verified {}", path.display())));
        return Err(out.report(&d, EXIT_USAGE));
    }
    let report = ProbeReport {
        imap: file.imap.report(),
        smtp: file.smtp.report(),
        domain: None,
        caldav: file.caldav.map(DavFile::report),
        carddav: file.carddav.map(DavFile::report),
    };
    icloud_mail_core::verified::account_from_report(base, &report).map_err(|d| {
        let code = if d.kind == DiagnosisKind::ReportNotPassed { EXIT_FAILED } else { EXIT_USAGE };
        out.report(&d, code)
    })
}

/// The first server of the report (host, port) that is not one of the account's: IMAP must be its IMAP server,
/// SMTP its SMTP server or the fallback, each with the same security.
fn other_server(file: &ReportFile, account: &Account) -> Option<(String, u16)> {
    let provider = &account.provider;
    let same = |side: &SideFile, endpoint: &Endpoint| {
        side.host.eq_ignore_ascii_case(&endpoint.host) && side.port == endpoint.port && side.security == endpoint.security
    };
    let imap_ok = same(&file.imap, &provider.imap);
    let smtp_ok = same(&file.smtp, &provider.smtp) || provider.smtp_fallback.as_ref().is_some_and(|f| same(&file.smtp, f));
    match (imap_ok, smtp_ok) {
        (false, _) => return Some((file.imap.host.clone(), file.imap.port)),
        (_, false) => return Some((file.smtp.host.clone(), file.smtp.port)),
        _ => {}
    }
    // A DAV member, whatever its verdict, must be about this account's service host (iCloud's, or --caldav/--carddav).
    [(&file.caldav, &provider.caldav), (&file.carddav, &provider.carddav)].into_iter().find_map(|(member, endpoint)| {
        member
            .as_ref()
            .filter(|m| !(m.host.eq_ignore_ascii_case(&endpoint.host) && m.port == endpoint.port))
            .map(|m| (m.host.clone(), m.port))
    })
}

fn read(path: &Path) -> Result<ReportFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--verified {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("--verified {}: not a report saved from probe --json ({e})", path.display()))
}
