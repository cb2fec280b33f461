//! The one diagnosis model: a fixed vocabulary of kinds, the facts behind them, and their English words.
//! The words live in the message catalogue (`ui/src/i18n/<lang>.json`), shared with the page, so the command
//! line and the window say the same thing; the page renders the same kind and facts in the person's language.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Everything that can go right or wrong, as one vocabulary. The names are a public interface: the command line's
/// JSON, the page and admins' scripts all use them as written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisKind {
    // --- one side of a connection test ---
    Ok,
    AuthRejected,
    TlsCertificateExpired,
    TlsCertificateWrongHost,
    TlsCertificateUntrusted,
    TlsHandshakeFailed,
    StarttlsUnavailable,
    ConnectionRefused,
    Timeout,
    DnsFailure,
    ServerClosed,
    ProtocolError,
    /// The person left the step or pressed Cancel.
    Cancelled,
    /// The tested password is no longer held (saved already, forgotten, or waited too long).
    PasswordNeeded,
    // --- the address a person typed ---
    AddressEmpty,
    AddressMissingAt,
    AddressTooLong,
    AddressInvalidNamePart,
    AddressInvalidDomain,
    AddressNotIcloud,
    LoginRequired,
    LoginNotIcloud,
    NameInvalid,
    /// A custom domain whose MX records do not point at iCloud Mail.
    DomainNotIcloud,
    // --- the keychain ---
    KeychainUnavailable,
    KeychainLocked,
    KeychainAccessDenied,
    KeychainNoSession,
    KeychainValueTooLong,
    KeychainEntryExists,
    KeychainNoEntry,
    /// The keychain did not answer within the deadline (and its keyring is not known to be waiting for an unlock).
    KeychainTimeout,
    KeychainError,
    // --- exports and the Thunderbird profile ---
    ThunderbirdNotFound,
    ThunderbirdProfileNotFound,
    ThunderbirdProfileAmbiguous,
    ThunderbirdRunning,
    OutputExists,
    WriteFailed,
}

impl DiagnosisKind {
    pub const ALL: &'static [DiagnosisKind] = &[
        DiagnosisKind::Ok,
        DiagnosisKind::AuthRejected,
        DiagnosisKind::TlsCertificateExpired,
        DiagnosisKind::TlsCertificateWrongHost,
        DiagnosisKind::TlsCertificateUntrusted,
        DiagnosisKind::TlsHandshakeFailed,
        DiagnosisKind::StarttlsUnavailable,
        DiagnosisKind::ConnectionRefused,
        DiagnosisKind::Timeout,
        DiagnosisKind::DnsFailure,
        DiagnosisKind::ServerClosed,
        DiagnosisKind::ProtocolError,
        DiagnosisKind::Cancelled,
        DiagnosisKind::PasswordNeeded,
        DiagnosisKind::AddressEmpty,
        DiagnosisKind::AddressMissingAt,
        DiagnosisKind::AddressTooLong,
        DiagnosisKind::AddressInvalidNamePart,
        DiagnosisKind::AddressInvalidDomain,
        DiagnosisKind::AddressNotIcloud,
        DiagnosisKind::LoginRequired,
        DiagnosisKind::LoginNotIcloud,
        DiagnosisKind::NameInvalid,
        DiagnosisKind::DomainNotIcloud,
        DiagnosisKind::KeychainUnavailable,
        DiagnosisKind::KeychainLocked,
        DiagnosisKind::KeychainAccessDenied,
        DiagnosisKind::KeychainNoSession,
        DiagnosisKind::KeychainValueTooLong,
        DiagnosisKind::KeychainEntryExists,
        DiagnosisKind::KeychainNoEntry,
        DiagnosisKind::KeychainTimeout,
        DiagnosisKind::KeychainError,
        DiagnosisKind::ThunderbirdNotFound,
        DiagnosisKind::ThunderbirdProfileNotFound,
        DiagnosisKind::ThunderbirdProfileAmbiguous,
        DiagnosisKind::ThunderbirdRunning,
        DiagnosisKind::OutputExists,
        DiagnosisKind::WriteFailed,
    ];

    /// The snake_case name, as in JSON and in the catalogue keys.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => unreachable!("a unit enum serialises to a string"),
        }
    }
}

/// The facts a message is built from. Only facts that are known are filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Facts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub limit: Option<u32>,
    /// A file or folder (an output file, a Thunderbird profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path: Option<String>,
    /// Which keychain or store ("Secret Service", "macOS Keychain", "Windows Credential Manager").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub store: Option<String>,
    /// A time limit that ran out, in whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seconds: Option<u32>,
}

impl Facts {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            "host" => self.host.clone(),
            "port" => self.port.map(|p| p.to_string()),
            "username" => self.username.clone(),
            "domain" => self.domain.clone(),
            "provider" => self.provider.clone(),
            "limit" => self.limit.map(|l| l.to_string()),
            "path" => self.path.clone(),
            "store" => self.store.clone(),
            "seconds" => self.seconds.map(|s| s.to_string()),
            _ => None,
        }
    }
}

/// A verdict a person can act on: what happened, what to do, and the technical detail for those who want it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    /// Plain-language English: what happened.
    pub message: String,
    /// Plain-language English: what to do about it.
    pub hint: String,
    /// Technical detail (the server's own words, an error chain); never shown first.
    pub detail: Option<String>,
    /// Boxed: keeps `Result<_, Diagnosis>` small on the happy path.
    pub facts: Box<Facts>,
}

impl Diagnosis {
    pub fn new(kind: DiagnosisKind, facts: Facts, detail: Option<String>) -> Self {
        let (message, hint) = english(kind, &facts);
        Diagnosis { kind, message, hint, detail, facts: Box::new(facts) }
    }

    pub fn of(kind: DiagnosisKind) -> Self {
        Self::new(kind, Facts::default(), None)
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.message, self.hint)
    }
}

impl std::error::Error for Diagnosis {}

/// The English catalogue, the same file the page uses.
const ENGLISH_CATALOGUE: &str = include_str!("../../ui/src/i18n/en.json");

fn english_catalogue() -> &'static HashMap<String, String> {
    static CATALOGUE: OnceLock<HashMap<String, String>> = OnceLock::new();
    CATALOGUE.get_or_init(|| serde_json::from_str(ENGLISH_CATALOGUE).expect("ui/src/i18n/en.json is a flat JSON object of strings"))
}

/// The English message and hint for a kind, with `{fact}` placeholders filled in.
pub fn english(kind: DiagnosisKind, facts: &Facts) -> (String, String) {
    let catalogue = english_catalogue();
    let text = |part: &str| {
        let key = format!("diagnosis.{}.{part}", kind.name());
        let template = catalogue.get(&key).map(String::as_str).unwrap_or(&key);
        fill(template, facts)
    };
    (text("message"), text("hint"))
}

/// The English text of any catalogue key (not only diagnoses), with `{fact}` placeholders filled in.
pub fn english_text(key: &str, facts: &Facts) -> String {
    fill(english_catalogue().get(key).map(String::as_str).unwrap_or(key), facts)
}

/// Replaces `{name}` with the fact of that name; an unknown fact reads as "the server" style fallbacks in the
/// catalogue itself, so here it is left visible rather than silently dropped.
pub fn fill(template: &str, facts: &Facts) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match facts.get(name) {
                    Some(value) => out.push_str(&value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(lang: &str) -> HashMap<String, String> {
        let path = format!("{}/../ui/src/i18n/{lang}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn every_kind_has_words_in_every_language() {
        for lang in ["en", "de"] {
            let cat = catalogue(lang);
            for kind in DiagnosisKind::ALL {
                for part in ["message", "hint"] {
                    let key = format!("diagnosis.{}.{part}", kind.name());
                    let text = cat.get(&key).unwrap_or_else(|| panic!("{lang}.json lacks {key}"));
                    assert!(!text.trim().is_empty(), "{lang}.json has an empty {key}");
                }
            }
        }
    }

    #[test]
    fn all_lists_every_kind_once() {
        let names: std::collections::HashSet<_> = DiagnosisKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), DiagnosisKind::ALL.len());
        // The TypeScript union is generated from the enum; every member must be in ALL.
        let ts = <DiagnosisKind as TS>::decl(&ts_rs::Config::new());
        assert_eq!(ts.matches('"').count() / 2, DiagnosisKind::ALL.len(), "DiagnosisKind::ALL is missing a variant: {ts}");
    }

    #[test]
    fn placeholders_are_filled_from_facts() {
        let facts = Facts { host: Some("imap.mail.me.com".into()), port: Some(993), ..Facts::default() };
        assert_eq!(fill("{host}:{port} said {nothing}", &facts), "imap.mail.me.com:993 said {nothing}");
        assert_eq!(fill("unclosed {host", &facts), "unclosed {host");
    }

    #[test]
    fn serialises_as_a_tagged_object() {
        let d = Diagnosis::new(
            DiagnosisKind::AuthRejected,
            Facts { username: Some("jane".into()), ..Facts::default() },
            Some("NO [AUTHENTICATIONFAILED]".into()),
        );
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["kind"], "auth_rejected");
        assert!(v["message"].as_str().unwrap().contains("jane"), "{v}");
        assert!(v["hint"].as_str().unwrap().contains("app-specific password"), "{v}");
        assert_eq!(v["detail"], "NO [AUTHENTICATIONFAILED]");
        let back: Diagnosis = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }
}
