//! The iCloud Mail preset as data: which servers, which security, which login forms in which order.
//! Nothing downstream invents a host, a port or a username rule; it reads them from here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::host::{self, HostProblem};

/// The three domains Apple hands out for iCloud Mail.
pub const ICLOUD_DOMAINS: [&str; 3] = ["icloud.com", "me.com", "mac.com"];

/// Where to make an app-specific password (Apple Support article 102654).
pub const APP_SPECIFIC_PASSWORD_URL: &str = "https://account.apple.com/account/manage";

/// How a connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (IMAP 993, SMTP 465).
    Tls,
    /// A plain greeting, then STARTTLS before anything else (SMTP 587). Never optional here.
    Starttls,
}

impl Security {
    pub fn label(self) -> &'static str {
        match self {
            Security::Tls => "SSL/TLS",
            Security::Starttls => "STARTTLS",
        }
    }
}

/// A server: host, port and how it is secured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    pub fn new(host: &str, port: u16, security: Security) -> Self {
        Endpoint { host: host.to_owned(), port, security }
    }

    /// Parses `HOST:PORT` (`[::1]:993` for IPv6) as given on the command line or to the window, with `security`.
    /// The host must pass the one host rule (`host::check_host`) and comes back in the form to write into files
    /// (ASCII, lower case); the port is 1–65535. The error names the problem, for a usage error.
    pub fn parse_override(text: &str, security: Security) -> Result<Endpoint, String> {
        let text = text.trim();
        let shown = text.escape_debug().to_string();
        let bad = |why: &dyn std::fmt::Display| format!("'{shown}': {why}");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, rest) = rest.split_once(']').ok_or_else(|| bad(&"missing ']' after the IPv6 address"))?;
            let port = rest.strip_prefix(':').ok_or_else(|| bad(&"expected [IPv6]:PORT"))?;
            (host::check_ipv6(host).map_err(|e| bad(&e))?, port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or_else(|| bad(&"expected HOST:PORT"))?;
            if host.contains(':') {
                return Err(bad(&HostProblem::Ipv6NeedsBrackets));
            }
            (host::check_host(host).map_err(|e| bad(&e))?, port)
        };
        let port = parse_port(port).map_err(|why| bad(&why))?;
        Ok(Endpoint { host, port, security })
    }

    /// Checks an endpoint however it was made (an account deserialised, a library caller's own `Endpoint`), so
    /// that no exporter writes a host the command line would have refused.
    pub fn check(&self) -> Result<(), Diagnosis> {
        let problem = match host::check_host(&self.host) {
            Err(problem) => Some(problem.to_string()),
            Ok(_) if !self.host.is_ascii() => Some(HostProblem::NotAscii.to_string()),
            Ok(_) if self.port == 0 => Some("port 0 cannot be used".to_owned()),
            Ok(_) => None,
        };
        match problem {
            None => Ok(()),
            Some(why) => {
                let facts = Facts { host: Some(self.host.escape_debug().to_string()), port: Some(self.port), ..Facts::default() };
                Err(Diagnosis::new(DiagnosisKind::ServerInvalid, facts, Some(why)))
            }
        }
    }
}

/// A port: decimal digits only, 1–65535.
fn parse_port(text: &str) -> Result<u16, String> {
    let not_a_port = || format!("'{}' is not a port number (1 to 65535)", text.escape_debug());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_port());
    }
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be used".to_owned()),
        Ok(port) => Ok(port),
        Err(_) => Err(not_a_port()),
    }
}

/// Which form of the login a server is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LoginForm {
    /// The part before the `@` of the primary iCloud address (`johnsmith`).
    NamePart,
    /// The whole primary iCloud address (`johnsmith@icloud.com`).
    FullAddress,
}

/// Everything that makes a mail provider, as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Provider {
    pub name: String,
    pub imap: Endpoint,
    pub smtp: Endpoint,
    /// Tried only when `smtp` cannot be reached at all (refused or no answer), never after a refusal of the login.
    pub smtp_fallback: Option<Endpoint>,
    /// Login forms for IMAP in the order they are tried; at most one retry, since Apple locks accounts that fail often.
    pub imap_login_forms: Vec<LoginForm>,
    pub smtp_login_forms: Vec<LoginForm>,
    /// Where calendars are found (CalDAV, HTTPS): the service host a discovery starts on, never the e-mail domain.
    /// It names the person's partition host (`pNN-caldav.icloud.com`), where the calendars are.
    #[serde(default = "icloud_caldav")]
    pub caldav: Endpoint,
    /// Where contacts are found (CardDAV, HTTPS), likewise.
    #[serde(default = "icloud_carddav")]
    pub carddav: Endpoint,
}

impl Provider {
    /// Every server of the provider passes the host and port rules.
    pub fn check(&self) -> Result<(), Diagnosis> {
        self.imap.check()?;
        self.smtp.check()?;
        if let Some(fallback) = &self.smtp_fallback {
            fallback.check()?;
        }
        self.caldav.check()?;
        self.carddav.check()
    }
}

/// The iCloud Mail preset (Apple Support 102525; Thunderbird's ISPDB entry for me.com).
pub fn icloud() -> Provider {
    Provider {
        name: "iCloud Mail".into(),
        imap: Endpoint::new("imap.mail.me.com", 993, Security::Tls),
        smtp: Endpoint::new("smtp.mail.me.com", 587, Security::Starttls),
        smtp_fallback: Some(Endpoint::new("smtp.mail.me.com", 465, Security::Tls)),
        imap_login_forms: vec![LoginForm::NamePart, LoginForm::FullAddress],
        smtp_login_forms: vec![LoginForm::FullAddress, LoginForm::NamePart],
        caldav: icloud_caldav(),
        carddav: icloud_carddav(),
    }
}

/// iCloud Calendars' service host (HTTPS on 443, HTTP Basic with the primary address and the app-specific password).
pub fn icloud_caldav() -> Endpoint {
    Endpoint::new("caldav.icloud.com", 443, Security::Tls)
}

/// iCloud Contacts' service host.
pub fn icloud_carddav() -> Endpoint {
    Endpoint::new("contacts.icloud.com", 443, Security::Tls)
}

/// True for the domains Apple hands out (`icloud.com`, `me.com`, `mac.com`); expects a lower-case ASCII domain.
pub fn is_icloud_domain(domain: &str) -> bool {
    ICLOUD_DOMAINS.contains(&domain)
}

/// True when an MX exchange belongs to iCloud Mail (`mx01.mail.icloud.com.`), as iCloud+ custom domains publish.
pub fn is_icloud_mx(exchange: &str) -> bool {
    let host = exchange.trim().trim_end_matches('.').to_ascii_lowercase();
    host.ends_with(".mail.icloud.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_matches_apple() {
        let p = icloud();
        assert_eq!(p.imap, Endpoint::new("imap.mail.me.com", 993, Security::Tls));
        assert_eq!(p.smtp, Endpoint::new("smtp.mail.me.com", 587, Security::Starttls));
        assert_eq!(p.smtp_fallback, Some(Endpoint::new("smtp.mail.me.com", 465, Security::Tls)));
        assert_eq!(p.imap_login_forms, [LoginForm::NamePart, LoginForm::FullAddress]);
        assert_eq!(p.smtp_login_forms, [LoginForm::FullAddress, LoginForm::NamePart]);
    }

    #[test]
    fn icloud_mx_is_recognised() {
        assert!(is_icloud_mx("mx01.mail.icloud.com."));
        assert!(is_icloud_mx("MX02.MAIL.ICLOUD.COM"));
        assert!(!is_icloud_mx("mail.icloud.com.evil.example"));
        assert!(!is_icloud_mx("aspmx.l.google.com."));
        assert!(!is_icloud_mx("mail.icloud.com"));
    }

    #[test]
    fn endpoint_overrides_parse() {
        assert_eq!(Endpoint::parse_override("127.0.0.1:1993", Security::Tls).unwrap(), Endpoint::new("127.0.0.1", 1993, Security::Tls));
        assert_eq!(Endpoint::parse_override("[::1]:587", Security::Starttls).unwrap(), Endpoint::new("::1", 587, Security::Starttls));
        assert!(Endpoint::parse_override("localhost", Security::Tls).is_err());
        assert!(Endpoint::parse_override("localhost:99999", Security::Tls).is_err());
        assert!(Endpoint::parse_override("localhost:0", Security::Tls).is_err());
        assert!(Endpoint::parse_override(":25", Security::Tls).is_err());
        assert!(Endpoint::parse_override("evil host:25", Security::Tls).is_err());
    }

    #[test]
    fn overrides_come_back_in_the_form_to_write() {
        let parse = |text: &str| Endpoint::parse_override(text, Security::Tls).map(|e| (e.host, e.port));
        assert_eq!(parse(" IMAP.Example.COM.:993 "), Ok(("imap.example.com".into(), 993)));
        assert_eq!(parse("bücher.example:993"), Ok(("xn--bcher-kva.example".into(), 993)));
        assert_eq!(parse("[FE80:0::1]:65535"), Ok(("fe80::1".into(), 65535)));
        assert_eq!(parse("localhost:1"), Ok(("localhost".into(), 1)));
    }

    #[test]
    fn hostile_overrides_are_refused_with_the_reason() {
        for (text, reason) in [
            ("a|b:993", "'|' (U+007C) at character 2"),
            ("a b:993", "' ' (U+0020) at character 2"),
            ("a\nb:993", "U+000A LINE FEED at character 2"),
            ("-x:993", "starts or ends with a hyphen"),
            ("a..b:993", "empty label"),
            ("256.1.1.1:993", "must be an IPv4 address"),
            ("1.2.3:993", "must be an IPv4 address"),
            ("[fe80::1%eth0]:993", "zone ids"),
            ("[127.0.0.1]:993", "not an IPv6 address"),
            ("[::1]993", "expected [IPv6]:PORT"),
            ("[::1:993", "missing ']'"),
            ("fe80::1:993", "in brackets"),
            ("host:0", "port 0"),
            ("host:65536", "not a port number"),
            ("host:+993", "not a port number"),
            ("host:", "not a port number"),
            ("host", "expected HOST:PORT"),
            (":993", "empty"),
        ] {
            let err = Endpoint::parse_override(text, Security::Tls).expect_err(text);
            assert!(err.contains(reason), "{text:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
        let label = "a".repeat(64);
        let err = Endpoint::parse_override(&format!("{label}.example:993"), Security::Tls).unwrap_err();
        assert!(err.contains("64 characters long"), "{err}");
    }

    #[test]
    fn endpoints_made_elsewhere_are_checked_too() {
        assert!(icloud().check().is_ok());
        let mut provider = icloud();
        provider.smtp_fallback = Some(Endpoint::new("a|b", 465, Security::Tls));
        let d = provider.check().unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::ServerInvalid);
        assert_eq!(d.facts.host.as_deref(), Some("a|b"));
        assert_eq!(d.facts.port, Some(465));
        assert!(d.detail.unwrap().contains("'|'"));
        for endpoint in [Endpoint::new("imap.example", 0, Security::Tls), Endpoint::new("bücher.example", 993, Security::Tls)] {
            assert_eq!(endpoint.check().unwrap_err().kind, DiagnosisKind::ServerInvalid, "{endpoint:?}");
        }
        let d = Endpoint::new("a\nb", 993, Security::Tls).check().unwrap_err();
        assert_eq!(d.facts.host.as_deref(), Some("a\\nb"), "shown escaped, on one line");
    }
}
