//! `icloud-mail-setup probe`: the connection test for admins and scripts. Parses the flags, reads the password from
//! standard input, runs the core probe on a small runtime of its own, and prints a readable report or one JSON
//! object. Exit codes: 0 both sides ok, 1 a server said no or could not be reached, 2 bad usage.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use icloud_mail_core::diagnosis::Diagnosis;
use icloud_mail_core::probe::{self, ProbeEvent, ProbeReport, ProbeRequest, SideReport, StepStatus, Timeouts};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Secret};

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
        JSON: one object with \"imap\" and \"smtp\" (each: kind, host, port, security, username, elapsed_ms, message, hint, \
        server_text, detail, attempts, …) and \"domain\" for custom domains. kind is one of ok, auth_rejected, \
        tls_certificate_expired, tls_certificate_wrong_host, tls_certificate_untrusted, tls_handshake_failed, \
        starttls_unavailable, connection_refused, timeout, dns_failure, server_closed, protocol_error.\n\n\
        Exit codes: 0 both sides ok, 1 a server said no or could not be reached, 2 bad usage."
)]
pub struct ProbeArgs {
    /// The email address to test: your iCloud address, or your address on an iCloud+ custom domain.
    #[arg(long, value_name = "ADDRESS")]
    address: String,

    /// The primary iCloud address that signs in (…@icloud.com, @me.com, @mac.com). Needed when --address is on a
    /// custom domain; the custom address stays the sender.
    #[arg(long, value_name = "ADDRESS")]
    login: Option<String>,

    /// Read the app-specific password from one line of standard input. Required: a password on the command line
    /// would be visible to other users and kept in shell history.
    #[arg(long, required = true)]
    password_stdin: bool,

    /// Use this IMAP server (TLS from the first byte) instead of imap.mail.me.com:993.
    #[arg(long, value_name = "HOST:PORT", value_parser = imap_endpoint)]
    imap: Option<Endpoint>,

    /// Use this SMTP server (STARTTLS) instead of smtp.mail.me.com:587. No fallback is tried unless
    /// --smtp-fallback is given too.
    #[arg(long, value_name = "HOST:PORT", value_parser = smtp_endpoint)]
    smtp: Option<Endpoint>,

    /// The SMTP server (TLS from the first byte) to try when the SMTP server cannot be reached; by default
    /// smtp.mail.me.com:465.
    #[arg(long, value_name = "HOST:PORT", value_parser = fallback_endpoint)]
    smtp_fallback: Option<Endpoint>,

    /// Also trust the CA certificate(s) in this PEM file (a company proxy, a test server). Verification is never
    /// switched off.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,

    /// Give up after this many seconds in all (default 9); each connection attempt gets at most 4 s.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    timeout: Option<Duration>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
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

pub(crate) fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(value > 0.0 && value <= 600.0) {
        return Err(format!("'{text}': use a number of seconds above 0 and at most 600"));
    }
    Ok(Duration::from_secs_f64(value))
}

pub fn run(args: ProbeArgs) -> u8 {
    let request = match build_request(&args) {
        Ok(request) => request,
        Err(problem) => {
            eprintln!("{problem}");
            return EXIT_USAGE;
        }
    };
    let secret = match Secret::from_line(&mut std::io::stdin().lock()) {
        Ok(secret) if !secret.is_empty() => secret,
        Ok(_) => {
            eprintln!("No password on standard input: give the app-specific password as one line.");
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("The password could not be read from standard input: {e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Could not start: {e}");
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
    drop(secret);

    if args.json {
        println!("{}", serde_json::to_string(&report).expect("the report serialises"));
    } else {
        print!("{}", readable(&report));
    }
    if report.is_ok() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// Everything but the password, checked before anything is read from standard input.
fn build_request(args: &ProbeArgs) -> Result<ProbeRequest, String> {
    let words = |d: Diagnosis| format!("{}\n{}", d.message, d.hint);
    let address = Address::parse(&args.address).map_err(words)?;
    let login = args.login.as_deref().map(Address::parse).transpose().map_err(words)?;
    let account =
        Account::new(address, login, None).map_err(words)?.with_servers(args.imap.clone(), args.smtp.clone(), args.smtp_fallback.clone());
    let mut request = ProbeRequest::new(account);
    if let Some(path) = &args.ca_file {
        request.extra_ca_pem = Some(probe::tls::read_ca_file(path).map_err(|e| format!("--ca-file {e}"))?);
    }
    if let Some(timeout) = args.timeout {
        request.timeouts = Timeouts::with_overall(timeout);
    }
    Ok(request)
}

/// The text report: one block per side, words first, the server's own words and the tries after.
fn readable(report: &ProbeReport) -> String {
    let mut out = String::new();
    if let Some(domain) = &report.domain {
        out.push_str(&format!("Domain  {}: {}\n  {}\n", domain.domain, domain.kind.name(), domain.message));
        if !domain.is_icloud_plus() {
            out.push_str(&format!("  What to do: {}\n", domain.hint));
        }
        if let Some(detail) = &domain.detail {
            out.push_str(&format!("  Detail: {detail}\n"));
        }
        out.push('\n');
    }
    side(&mut out, "Incoming mail (IMAP)", &report.imap);
    out.push('\n');
    side(&mut out, "Outgoing mail (SMTP)", &report.smtp);
    out
}

fn side(out: &mut String, title: &str, report: &SideReport) {
    let user = report.username.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
    out.push_str(&format!(
        "{title}  {}:{} ({}){user}: {} in {} ms\n  {}\n",
        report.host,
        report.port,
        report.security.label(),
        report.kind.name(),
        report.elapsed_ms,
        report.message
    ));
    if !report.is_ok() {
        out.push_str(&format!("  What to do: {}\n", report.hint));
    }
    if let Some(note) = &report.note {
        out.push_str(&format!("  Note: {note}\n"));
    }
    if let Some(text) = &report.server_text {
        out.push_str(&format!("  The server said: {text}\n"));
    }
    if !report.is_ok() {
        if let Some(detail) = &report.detail {
            out.push_str(&format!("  Detail: {detail}\n"));
        }
    }
    if report.attempts.len() > 1 {
        let tries: Vec<String> = report
            .attempts
            .iter()
            .map(|a| {
                let who = a.username.as_deref().map(|u| format!("{u} on ")).unwrap_or_default();
                format!("{who}{}:{} ({})", a.host, a.port, a.kind.name())
            })
            .collect();
        out.push_str(&format!("  Tried: {}\n", tries.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

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
        assert_eq!(args.imap, Some(Endpoint::new("h", 1, Security::Tls)));
        assert_eq!(args.smtp, Some(Endpoint::new("h", 2, Security::Starttls)));
        assert_eq!(args.smtp_fallback, Some(Endpoint::new("::1", 3, Security::Tls)));
        let request = build_request(&args).unwrap();
        assert_eq!(request.account.provider.smtp_fallback, Some(Endpoint::new("::1", 3, Security::Tls)));
    }

    #[test]
    fn timeouts_are_checked() {
        assert_eq!(seconds("2.5").unwrap(), Duration::from_millis(2500));
        for bad in ["0", "-1", "abc", "601", "NaN"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        let args = parse(&["--address", "a@icloud.com", "--password-stdin", "--timeout", "3"]).unwrap();
        let request = build_request(&args).unwrap();
        assert_eq!(request.timeouts.overall, Duration::from_secs(3));
        assert!(request.timeouts.connect <= Duration::from_millis(1350));
    }

    #[test]
    fn custom_domains_need_the_primary_login() {
        let args = parse(&["--address", "jane@family.example", "--password-stdin"]).unwrap();
        assert!(build_request(&args).unwrap_err().contains("primary iCloud address"));
        let args = parse(&["--address", "jane@family.example", "--login", "jane.doe@icloud.com", "--password-stdin"]).unwrap();
        let request = build_request(&args).unwrap();
        assert_eq!(request.account.imap_username(), "jane.doe");
    }
}
