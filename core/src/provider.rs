//! The iCloud Mail preset as data: which servers, which security, which login forms in which order.
//! Nothing downstream invents a host, a port or a username rule; it reads them from here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

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

    /// Parses `HOST:PORT` (`[::1]:993` for IPv6) as given on the command line, keeping the security of `default`.
    pub fn parse_override(text: &str, security: Security) -> Result<Endpoint, String> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, rest) = rest.split_once(']').ok_or_else(|| format!("'{text}': missing ']' after the IPv6 address"))?;
            let port = rest.strip_prefix(':').ok_or_else(|| format!("'{text}': expected HOST:PORT"))?;
            (host, port)
        } else {
            text.rsplit_once(':').ok_or_else(|| format!("'{text}': expected HOST:PORT"))?
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '@') {
            return Err(format!("'{text}': '{host}' is not a host name"));
        }
        let port: u16 = port.parse().map_err(|_| format!("'{text}': '{port}' is not a port number"))?;
        if port == 0 {
            return Err(format!("'{text}': port 0 cannot be used"));
        }
        Ok(Endpoint { host: host.to_owned(), port, security })
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
    }
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
}
