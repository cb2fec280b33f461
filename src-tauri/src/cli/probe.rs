//! `icloud-mail-setup probe`: the connection test for admins and scripts. Parses the flags, reads the password from
//! standard input, runs the core probe on a small runtime of its own, and prints a readable report or one JSON
//! object. Exit codes: 0 both sides ok, 1 a server said no or could not be reached, 2 bad usage.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use icloud_mail_core::probe::send::{send_test, SendEvent, SendReport, SendRequest};
use icloud_mail_core::probe::{self, DavReport, DomainReport, ProbeEvent, ProbeReport, ProbeRequest, SideReport, StepStatus, Timeouts};
use icloud_mail_core::{Account, Lang};
use serde_json::{json, Value};

use super::args::{read_password, terminal_safe, AccountArgs, Output, ServerArgs};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Args)]
#[command(
    long_about = "Test incoming (IMAP) and outgoing (SMTP) mail with a real login over verified TLS.\n\n\
        Both directions are tested at the same time. IMAP signs in with the name part of the address first and, only \
        if the server refuses it, once with the full address; SMTP the other way round. SMTP on port 587 must offer \
        STARTTLS, or the password is not sent; when 587 cannot be reached at all, port 465 (TLS) is tried. \
        Certificates are always verified against this computer's trust store (plus --ca-file).",
    after_help = "Examples:\n  \
        printf '%s\\n' \"$APP_PASSWORD\" | icloud-mail-setup probe --address jane@icloud.com --password-stdin\n  \
        icloud-mail-setup probe --address jane@family.example --login jane.doe@icloud.com --password-stdin --json < pw.txt\n\n\
        JSON: one object with \"address\" and \"login\" (the account tested), \"imap\" and \"smtp\" (each: kind, host, port, \
        security, username, elapsed_ms, message, hint, server_text, detail, attempts, …; for imap also folders: \
        inbox, sent, drafts, trash, junk, archive, each a folder name or null, and delimiter) and \"domain\" for \
        custom domains, and with --send-test \"send\" (kind, elapsed_ms, message, hint, server_text, detail, command, \
        sent_ms, arrived_ms, removed_ms). Save it to a file and give it to export --verified or thunderbird add --verified: they then \
        write exactly the servers, usernames and folders this test signed in with. kind is one of ok, auth_rejected, \
        tls_certificate_expired, tls_certificate_wrong_host, tls_certificate_untrusted, tls_handshake_failed, \
        tls_verifier_unavailable (the certificate check itself could not be set up on this computer), \
        starttls_unavailable, connection_refused, timeout, dns_failure, server_closed, protocol_error; send's kind \
        also sender_rejected (the server refused this address as the sender: an iCloud+ custom-domain address or an \
        alias not yet set up in iCloud), message_refused (the sender was accepted but the server refused the message \
        itself, at RCPT TO, DATA or the end of DATA, named in command; its words in server_text), \
        message_not_received (sent, but not in the inbox in time) or message_left (it arrived, but more than one \
        message carries its token, so none was removed).\n\n\
        With --dav, calendars (CalDAV) and contacts (CardDAV) are tested at the same time as mail, with the same \
        password over verified TLS: from the service hosts caldav.icloud.com and contacts.icloud.com (or --caldav, \
        --carddav) to the principal, the home on the partition host (pNN-caldav.icloud.com) and the calendars for \
        events (task lists left out) and the address book in it. The JSON then has \"caldav\" and \"carddav\" \
        (each: kind, host, port, username, principal, home, realm (as the server's 401 named it), elapsed_ms, message, \
        hint, server_text, detail; caldav adds calendars [{name, url, color}], carddav addressbooks [{name, url}]); \
        their kind is ok, auth_rejected, a transport kind above, dav_refused (the server would not do calendar or \
        contact discovery), no_calendars_found or no_address_book_found. DAV never changes the exit code: it stays \
        the mail verdict's. Saved with the report, export --verified and thunderbird add --verified carry what was \
        found.\n\n\
        With --send-test, one message is sent to the address itself and removed from the inbox once it arrives; \
        nothing else in the mailbox is touched.\n\n\
        Exit codes: 0 both sides ok (and with --send-test the message came back), 1 a server said no or could not \
        be reached, 2 bad usage."
)]
pub struct ProbeArgs {
    #[command(flatten)]
    account: AccountArgs,

    /// Read the app-specific password from standard input: one line from a pipe, or typed at a terminal without
    /// being shown. Required: a password on the command line would be visible to other users and kept in shell
    /// history.
    #[arg(long, required = true)]
    password_stdin: bool,

    #[command(flatten)]
    servers: ServerArgs,

    /// Give up after this many seconds in all (default 9); each connection attempt gets at most 4 s.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    timeout: Option<Duration>,

    /// After both sides pass, prove sending: send one short message from the address to itself over the tested
    /// SMTP server, wait for it in the inbox over IMAP (found by its own X-iCloud-Mail-Setup-Test header) and
    /// remove exactly that message again. Without this flag nothing is ever sent.
    #[arg(long)]
    send_test: bool,

    /// With --send-test: how many seconds to wait for the message to arrive (default 30).
    #[arg(long, value_name = "SECONDS", value_parser = seconds, requires = "send_test")]
    send_timeout: Option<Duration>,

    /// Also test calendars and contacts (CalDAV and CardDAV) with the same password, at the same time as mail.
    /// What is found is reported beside mail; it never changes the exit code.
    #[arg(long)]
    dav: bool,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

pub(crate) fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(value > 0.0 && value <= 600.0) {
        return Err(format!("'{text}': use a number of seconds above 0 and at most 600"));
    }
    Ok(Duration::from_secs_f64(value))
}

pub fn run(args: ProbeArgs, out: Output) -> u8 {
    let request = match build_request(&args) {
        Ok(request) => request,
        Err(Problem::Account(d)) => return out.report(&d, EXIT_USAGE),
        Err(Problem::Flag(problem)) => return out.usage(&problem),
    };
    let secret = match read_password(&out) {
        Ok(secret) => secret,
        Err(problem) => return out.usage(&problem),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILED;
        }
    };
    // Progress goes to a terminal only; scripts get the report alone.
    let show_progress = !args.json && std::io::stderr().is_terminal();
    let on_event = move |event: ProbeEvent| {
        if show_progress && event.status != StepStatus::Started {
            let _ = writeln!(std::io::stderr(), "  {:?} {:?} {:?} ({} ms)", event.side, event.step, event.status, event.elapsed_ms);
        }
    };
    let report = runtime.block_on(probe::probe(&request, &secret, &on_event));
    // The send test only after both sides passed, with exactly the settings they proved.
    let sent = match (args.send_test, icloud_mail_core::verified::account_from_report(request.account.clone(), &report)) {
        (true, Ok(verified)) => {
            let mut send = SendRequest::new(verified, out.lang);
            send.extra_ca_pem = request.extra_ca_pem.clone();
            if let Some(arrival) = args.send_timeout {
                send.timeouts.arrival = arrival;
            }
            let on_step = move |event: SendEvent| {
                if show_progress {
                    let _ = writeln!(std::io::stderr(), "  send {:?} {:?} ({} ms)", event.step, event.status, event.elapsed_ms);
                }
            };
            Some(runtime.block_on(send_test(&send, &secret, &on_step)))
        }
        _ => None,
    };
    drop(secret);

    if args.json {
        let mut json = report_json(&report, &request.account, out.lang);
        if let Some(sent) = &sent {
            json["send"] = send_json(sent, out.lang);
        }
        println!("{json}");
    } else {
        print!("{}", readable(&report, &out));
        if let Some(sent) = &sent {
            print!("{}", readable_send(sent, &out));
        }
    }
    if report.is_ok() && sent.as_ref().is_none_or(SendReport::is_ok) {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

enum Problem {
    /// The address or login (a diagnosis, in words).
    Account(icloud_mail_core::Diagnosis),
    /// A flag's value.
    Flag(String),
}

/// Everything but the password, checked before anything is read from standard input.
fn build_request(args: &ProbeArgs) -> Result<ProbeRequest, Problem> {
    let account = args.account.account(None, &args.servers).map_err(Problem::Account)?;
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = args.servers.extra_ca_pem().map_err(Problem::Flag)?;
    if let Some(timeout) = args.timeout {
        request.timeouts = Timeouts::with_overall(timeout);
    }
    request.dav = args.dav;
    Ok(request)
}

/// The report as the documented flat JSON (a public interface: admins script it, and `export --verified` and
/// `thunderbird add --verified` read it back): `address` and `login` (the account tested); per side `kind`, `host`,
/// `port`, `security`, `username`, `elapsed_ms`, `message`, `hint`, `server_text`, `detail`, `unreachable_port`,
/// `note`, `attempts`; for IMAP also `folders` (the six roles, each a folder name or null; null as a whole when the
/// list was not read) and `delimiter`; `domain` for a custom domain. The words are in `lang`.
pub fn report_json(report: &ProbeReport, account: &Account, lang: Lang) -> Value {
    let mut imap = side_json(&report.imap, lang);
    imap["folders"] = match &report.imap.folders {
        Some(folders) => Value::Object(folders.roles().into_iter().map(|(role, name)| (role.to_owned(), json!(name))).collect()),
        None => Value::Null,
    };
    imap["delimiter"] = json!(report.imap.folders.as_ref().and_then(|f| f.delimiter.as_deref()));
    let mut v = json!({
        "address": account.address.address,
        "login": account.login.address,
        "imap": imap,
        "smtp": side_json(&report.smtp, lang),
    });
    if let Some(domain) = &report.domain {
        v["domain"] = domain_json(domain, lang);
    }
    if let Some(caldav) = &report.caldav {
        let mut member = dav_json(caldav, lang);
        member["calendars"] =
            json!(caldav.calendars.iter().flatten().map(|c| json!({"name": c.name, "url": c.url, "color": c.color})).collect::<Vec<_>>());
        v["caldav"] = member;
    }
    if let Some(carddav) = &report.carddav {
        let mut member = dav_json(carddav, lang);
        member["addressbooks"] =
            json!(carddav.addressbooks.iter().flatten().map(|b| json!({"name": b.name, "url": b.url})).collect::<Vec<_>>());
        v["carddav"] = member;
    }
    v
}

/// One DAV service as the `caldav` / `carddav` member (a public interface, named in issue #25): `kind`, `host`,
/// `port`, `username`, `principal`, `home`, `realm`, `elapsed_ms`, `message`, `hint`, `server_text`, `detail`.
fn dav_json(r: &DavReport, lang: Lang) -> Value {
    json!({
        "kind": r.kind(),
        "host": r.host,
        "port": r.port,
        "username": r.username,
        "principal": r.principal,
        "home": r.home,
        "realm": r.realm,
        "elapsed_ms": r.elapsed_ms,
        "message": r.diagnosis.message(lang),
        "hint": r.diagnosis.hint(lang),
        "server_text": r.server_text,
        "detail": r.diagnosis.detail,
    })
}

fn side_json(r: &SideReport, lang: Lang) -> Value {
    json!({
        "kind": r.kind(),
        "host": r.host,
        "port": r.port,
        "security": r.security,
        "username": r.username,
        "elapsed_ms": r.elapsed_ms,
        "message": r.diagnosis.message(lang),
        "hint": r.diagnosis.hint(lang),
        "server_text": r.server_text,
        "detail": r.diagnosis.detail,
        "unreachable_port": r.unreachable_port,
        "note": r.note(lang),
        "attempts": r.attempts,
    })
}

/// The send test as the `send` member: `kind`, `elapsed_ms`, `message`, `hint`, `server_text`, `detail`, `command`
/// (the SMTP command a refusal answered, else null), and the times of its steps (`sent_ms`, `arrived_ms`,
/// `removed_ms`, each null when the step was not reached).
pub fn send_json(r: &SendReport, lang: Lang) -> Value {
    json!({
        "kind": r.kind(),
        "elapsed_ms": r.elapsed_ms,
        "message": r.diagnosis.message(lang),
        "hint": r.diagnosis.hint(lang),
        "server_text": r.server_text,
        "detail": r.diagnosis.detail,
        "command": r.diagnosis.facts.command,
        "sent_ms": r.sent_ms,
        "arrived_ms": r.arrived_ms,
        "removed_ms": r.removed_ms,
    })
}

fn readable_send(r: &SendReport, out: &Output) -> String {
    let lang = out.lang;
    let mut text =
        format!("\n{}  {} ({} ms)\n  {}\n", out.text("cli.probe_send"), r.kind().name(), r.elapsed_ms, r.diagnosis.message(lang));
    if !r.is_ok() {
        text.push_str(&format!("  {} {}\n", out.text("cli.what_to_do"), r.diagnosis.hint(lang)));
    }
    if let Some(server) = &r.server_text {
        text.push_str(&format!("  {} {server}\n", out.text("cli.server_said")));
    }
    if !r.is_ok() {
        if let Some(detail) = &r.diagnosis.detail {
            text.push_str(&format!("  {} {detail}\n", out.text("cli.detail")));
        }
    }
    text
}

fn domain_json(d: &DomainReport, lang: Lang) -> Value {
    json!({
        "kind": d.kind(),
        "domain": d.domain,
        "exchanges": d.exchanges,
        "elapsed_ms": d.elapsed_ms,
        "message": d.message(lang),
        "hint": d.hint(lang),
        "detail": d.diagnosis.detail,
    })
}

/// The text report: one block per side, words first, the server's own words and the tries after.
fn readable(report: &ProbeReport, out: &Output) -> String {
    let lang = out.lang;
    let label = |key: &str| out.text(key);
    let mut text = String::new();
    if let Some(domain) = &report.domain {
        text.push_str(&format!("{}  {}: {}\n  {}\n", label("cli.probe_domain"), domain.domain, domain.kind().name(), domain.message(lang)));
        if !domain.is_icloud_plus() {
            text.push_str(&format!("  {} {}\n", label("cli.what_to_do"), domain.hint(lang)));
        }
        if let Some(detail) = &domain.diagnosis.detail {
            text.push_str(&format!("  {} {detail}\n", label("cli.detail")));
        }
        text.push('\n');
    }
    side(&mut text, &label("cli.probe_imap"), &report.imap, out);
    text.push('\n');
    side(&mut text, &label("cli.probe_smtp"), &report.smtp, out);
    for (key, dav) in [("cli.probe_caldav", &report.caldav), ("cli.probe_carddav", &report.carddav)] {
        if let Some(dav) = dav {
            text.push('\n');
            dav_block(&mut text, &label(key), dav, out);
        }
    }
    text
}

/// One DAV service: the verdict in words, then where discovery got to and what it found.
fn dav_block(text: &mut String, title: &str, report: &DavReport, out: &Output) {
    let lang = out.lang;
    let user = report.username.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
    text.push_str(&format!(
        "{title}  {}:{}{user}: {} ({} ms)\n  {}\n",
        report.host,
        report.port,
        report.kind().name(),
        report.elapsed_ms,
        report.diagnosis.message(lang)
    ));
    if !report.is_ok() {
        text.push_str(&format!("  {} {}\n", out.text("cli.what_to_do"), report.diagnosis.hint(lang)));
    }
    for (key, value) in [("cli.dav_principal", &report.principal), ("cli.dav_home", &report.home), ("cli.dav_realm", &report.realm)] {
        if let Some(value) = value {
            text.push_str(&format!("  {} {}\n", out.text(key), terminal_safe(value)));
        }
    }
    let found: Vec<String> = report
        .calendars
        .iter()
        .flatten()
        .map(|c| format!("{}{} <{}>", c.name, c.color.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), c.url))
        .chain(report.addressbooks.iter().flatten().map(|b| format!("{} <{}>", b.name, b.url)))
        .collect();
    for line in found {
        text.push_str(&format!("  {} {}\n", out.text("cli.dav_found"), terminal_safe(&line)));
    }
    if let Some(server) = &report.server_text {
        text.push_str(&format!("  {} {}\n", out.text("cli.server_said"), terminal_safe(server)));
    }
    if !report.is_ok() {
        if let Some(detail) = &report.diagnosis.detail {
            text.push_str(&format!("  {} {}\n", out.text("cli.detail"), terminal_safe(detail)));
        }
    }
}

fn side(text: &mut String, title: &str, report: &SideReport, out: &Output) {
    let lang = out.lang;
    let user = report.username.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
    text.push_str(&format!(
        "{title}  {}:{} ({}){user}: {} ({} ms)\n  {}\n",
        report.host,
        report.port,
        report.security.label(),
        report.kind().name(),
        report.elapsed_ms,
        report.diagnosis.message(lang)
    ));
    if !report.is_ok() {
        text.push_str(&format!("  {} {}\n", out.text("cli.what_to_do"), report.diagnosis.hint(lang)));
    }
    if let Some(note) = report.note(lang) {
        text.push_str(&format!("  {} {note}\n", out.text("cli.note")));
    }
    if let Some(server) = &report.server_text {
        text.push_str(&format!("  {} {server}\n", out.text("cli.server_said")));
    }
    if !report.is_ok() {
        if let Some(detail) = &report.diagnosis.detail {
            text.push_str(&format!("  {} {detail}\n", out.text("cli.detail")));
        }
    }
    if report.attempts.len() > 1 {
        let tries: Vec<String> = report
            .attempts
            .iter()
            .map(|a| {
                let who = a.username.as_deref().map(|u| format!("{u} @ ")).unwrap_or_default();
                format!("{who}{}:{} ({})", a.host, a.port, a.kind.name())
            })
            .collect();
        text.push_str(&format!("  {} {}\n", out.text("cli.tried"), tries.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use icloud_mail_core::provider::{Endpoint, Security};

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<ProbeArgs, clap::Error> {
        let mut full = vec!["icloud-mail-setup", "probe"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full)?.command {
            Some(Command::Probe(args)) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_password_never_comes_from_the_command_line() {
        let err = parse(&["--address", "jane@icloud.com"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(parse(&["--address", "jane@icloud.com", "--password", "x"]).is_err());
    }

    #[test]
    fn overrides_keep_their_security() {
        let args =
            parse(&["--address", "a@icloud.com", "--password-stdin", "--imap", "h:1", "--smtp", "h:2", "--smtp-fallback", "[::1]:3"])
                .unwrap();
        assert_eq!(args.servers.imap, Some(Endpoint::new("h", 1, Security::Tls)));
        assert_eq!(args.servers.smtp, Some(Endpoint::new("h", 2, Security::Starttls)));
        assert_eq!(args.servers.smtp_fallback, Some(Endpoint::new("::1", 3, Security::Tls)));
        let request = build_request(&args).ok().unwrap();
        assert_eq!(request.account.provider.smtp_fallback, Some(Endpoint::new("::1", 3, Security::Tls)));
    }

    #[test]
    fn timeouts_are_checked() {
        assert_eq!(seconds("2.5").unwrap(), Duration::from_millis(2500));
        for bad in ["0", "-1", "abc", "601", "NaN"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        let args = parse(&["--address", "a@icloud.com", "--password-stdin", "--timeout", "3"]).unwrap();
        let request = build_request(&args).ok().unwrap();
        assert_eq!(request.timeouts.overall, Duration::from_secs(3));
        assert!(request.timeouts.connect <= Duration::from_millis(1350));
    }

    #[test]
    fn custom_domains_need_the_primary_login() {
        let args = parse(&["--address", "jane@family.example", "--password-stdin"]).unwrap();
        match build_request(&args) {
            Err(Problem::Account(d)) => assert_eq!(d.kind, icloud_mail_core::DiagnosisKind::LoginRequired),
            _ => panic!("a custom domain without --login must be refused"),
        }
        let args = parse(&["--address", "jane@family.example", "--login", "jane.doe@icloud.com", "--password-stdin"]).unwrap();
        let request = build_request(&args).ok().unwrap();
        assert_eq!(request.account.imap_username(), "jane.doe");
    }
}
