//! The one diagnosis model: a fixed vocabulary of kinds and the facts behind them. It carries no sentences: the
//! words live in the message catalogue (`locales/<lang>.json`, see `i18n`), and whoever shows a diagnosis
//! renders `kind` + `facts` in the person's language — the page in the window's, the command line in `--lang`'s.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::facts::Facts;
use crate::lang::Lang;

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
    /// The certificate check could not be set up on this computer (the system's verifier failed to start); no
    /// verdict on the server, and nothing was sent.
    TlsVerifierUnavailable,
    StarttlsUnavailable,
    ConnectionRefused,
    Timeout,
    DnsFailure,
    ServerClosed,
    ProtocolError,
    /// The person left the step or pressed Cancel.
    Cancelled,
    // --- calendars and contacts (CalDAV, CardDAV) ---
    /// The server answered over HTTPS but would not do calendar or contact discovery: WebDAV refused (403, 404,
    /// 405, 501), no principal or home in its answer, or an answer that is not DAV. The facts name the host and
    /// the step (`command`); the detail is the status line.
    DavRefused,
    /// The account signed in, but its calendar home holds no calendar for events (only task lists, an inbox or
    /// nothing at all).
    NoCalendarsFound,
    /// The account signed in, but its address-book home holds no address book.
    NoAddressBookFound,
    // --- the send test (a message to oneself) ---
    /// The server refused this address as the sender (an address the account does not own): a refusal of MAIL
    /// FROM, or a policy refusal (5.7.x) that names the address.
    SenderRejected,
    /// The server accepted the sender but refused the message permanently at RCPT TO, DATA or the end of DATA (its
    /// size, its recipient, its content); the facts name the command, the server's words are the detail.
    MessageRefused,
    /// The message was sent but did not arrive in the inbox within the time allowed.
    MessageNotReceived,
    /// The message was sent and arrived, but more than one message carries its token: none was removed.
    MessageLeft,
    /// The tested password is no longer held (saved already, forgotten, or waited too long).
    PasswordNeeded,
    // --- the address a person typed ---
    AddressEmpty,
    AddressMissingAt,
    AddressTooLong,
    AddressInvalidNamePart,
    AddressInvalidDomain,
    /// A character the text policy refuses (a control, a noncharacter, a bidi control, a line separator).
    AddressCharacterNotAllowed,
    AddressNotIcloud,
    LoginRequired,
    LoginNotIcloud,
    NameInvalid,
    /// A character the text policy refuses in the display name.
    NameCharacterNotAllowed,
    /// A server (host and port) that is not a host name, an IPv4 address or an IPv6 address with a usable port.
    ServerInvalid,
    /// A custom domain whose MX records do not point at iCloud Mail.
    DomainNotIcloud,
    /// A folder name (from a server or a saved report) holds a character the text policy refuses.
    FolderCharacterNotAllowed,
    // --- a connection test's outcome used as the account's settings ---
    /// The connection test did not pass on both sides, so its settings are not used.
    ReportNotPassed,
    /// The connection test was for another account than the one being set up.
    ReportOtherAccount,
    /// The connection test named another server than the account's own (its preset or the ones given).
    ReportOtherServer,
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
    /// Whether Thunderbird has the profile open could not be told (its lock could not be tested): nothing written.
    ThunderbirdLockUnreadable,
    /// prefs.js or user.js sets a pref the profile editor reads in a form it does not understand: nothing written.
    ThunderbirdPrefsUnreadable,
    /// The profile's user.js sets an account list at every start, which would hide the new account: nothing written.
    ThunderbirdUserJsOverrides,
    /// A warning beside an added account: the profile's user.js sets account prefs at every start.
    ThunderbirdUserJsAccountPrefs,
    /// The account was added, but the profile's saved passwords are locked by a primary password: the password
    /// was not stored in Thunderbird.
    ThunderbirdPrimaryPassword,
    /// The account was added, but Thunderbird's own NSS (the library that encrypts its saved passwords) could not
    /// be found or loaded: the password was not stored in Thunderbird.
    ThunderbirdNssUnavailable,
    /// The account was added, but the profile's logins.json or key4.db could not be read safely: the password was
    /// not stored in Thunderbird and neither file was changed.
    ThunderbirdLoginsUnreadable,
    /// The clipboard could not be opened or written.
    ClipboardUnavailable,
    /// Classic Outlook could not be started to import the saved profile file (`path`); the typed command remains.
    OutlookNotStarted,
    /// The autoconfig file is published for a whole domain; for this account it would carry one person's login.
    AutoconfigPersonalLogin,
    /// Thunderbird for Android's QR code carries only ASCII addresses, and this one is not.
    QrCodeAddressNotAscii,
    /// The QR code's payload is longer than any QR code holds (a very long name).
    QrCodeTooLarge,
    OutputExists,
    WriteFailed,
    // --- the app itself ---
    /// A bug: work the app ran in the background ended without an answer (it panicked). Never a person's fault.
    InternalError,
}

impl DiagnosisKind {
    pub const ALL: &'static [DiagnosisKind] = &[
        DiagnosisKind::Ok,
        DiagnosisKind::AuthRejected,
        DiagnosisKind::TlsCertificateExpired,
        DiagnosisKind::TlsCertificateWrongHost,
        DiagnosisKind::TlsCertificateUntrusted,
        DiagnosisKind::TlsHandshakeFailed,
        DiagnosisKind::TlsVerifierUnavailable,
        DiagnosisKind::StarttlsUnavailable,
        DiagnosisKind::ConnectionRefused,
        DiagnosisKind::Timeout,
        DiagnosisKind::DnsFailure,
        DiagnosisKind::ServerClosed,
        DiagnosisKind::ProtocolError,
        DiagnosisKind::Cancelled,
        DiagnosisKind::DavRefused,
        DiagnosisKind::NoCalendarsFound,
        DiagnosisKind::NoAddressBookFound,
        DiagnosisKind::SenderRejected,
        DiagnosisKind::MessageRefused,
        DiagnosisKind::MessageNotReceived,
        DiagnosisKind::MessageLeft,
        DiagnosisKind::PasswordNeeded,
        DiagnosisKind::AddressEmpty,
        DiagnosisKind::AddressMissingAt,
        DiagnosisKind::AddressTooLong,
        DiagnosisKind::AddressInvalidNamePart,
        DiagnosisKind::AddressInvalidDomain,
        DiagnosisKind::AddressCharacterNotAllowed,
        DiagnosisKind::AddressNotIcloud,
        DiagnosisKind::LoginRequired,
        DiagnosisKind::LoginNotIcloud,
        DiagnosisKind::NameInvalid,
        DiagnosisKind::NameCharacterNotAllowed,
        DiagnosisKind::ServerInvalid,
        DiagnosisKind::DomainNotIcloud,
        DiagnosisKind::FolderCharacterNotAllowed,
        DiagnosisKind::ReportNotPassed,
        DiagnosisKind::ReportOtherAccount,
        DiagnosisKind::ReportOtherServer,
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
        DiagnosisKind::ThunderbirdLockUnreadable,
        DiagnosisKind::ThunderbirdPrefsUnreadable,
        DiagnosisKind::ThunderbirdUserJsOverrides,
        DiagnosisKind::ThunderbirdUserJsAccountPrefs,
        DiagnosisKind::ThunderbirdPrimaryPassword,
        DiagnosisKind::ThunderbirdNssUnavailable,
        DiagnosisKind::ThunderbirdLoginsUnreadable,
        DiagnosisKind::ClipboardUnavailable,
        DiagnosisKind::OutlookNotStarted,
        DiagnosisKind::AutoconfigPersonalLogin,
        DiagnosisKind::QrCodeAddressNotAscii,
        DiagnosisKind::QrCodeTooLarge,
        DiagnosisKind::OutputExists,
        DiagnosisKind::WriteFailed,
        DiagnosisKind::InternalError,
    ];

    /// The snake_case name, as in JSON and in the catalogue keys.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => unreachable!("a unit enum serialises to a string"),
        }
    }
}

/// A verdict a person can act on: what happened (`kind`), the facts its words are made from, and the technical
/// detail for those who want it. The words themselves are rendered from the catalogue where they are shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    /// Technical detail (the server's own words, an error chain); never shown first, never translated.
    pub detail: Option<String>,
    /// Boxed: keeps `Result<_, Diagnosis>` small on the happy path.
    pub facts: Box<Facts>,
}

impl Diagnosis {
    pub fn new(kind: DiagnosisKind, facts: Facts, detail: Option<String>) -> Self {
        Diagnosis { kind, detail, facts: Box::new(facts) }
    }

    pub fn of(kind: DiagnosisKind) -> Self {
        Self::new(kind, Facts::default(), None)
    }

    /// What happened, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        lang.text(&format!("diagnosis.{}.message", self.kind.name()), &self.facts)
    }

    /// What to do about it, in `lang`.
    pub fn hint(&self, lang: Lang) -> String {
        lang.text(&format!("diagnosis.{}.hint", self.kind.name()), &self.facts)
    }
}

/// English words, for error chains and logs; people are shown `message(lang)` and `hint(lang)`.
impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.message(Lang::En), self.hint(Lang::En))
    }
}

impl std::error::Error for Diagnosis {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_words_in_every_language() {
        for lang in Lang::ALL {
            for kind in DiagnosisKind::ALL {
                for part in ["message", "hint"] {
                    let key = format!("diagnosis.{}.{part}", kind.name());
                    assert!(lang.has(&key), "{}.json lacks {key}", lang.code());
                    assert!(!lang.plain(&key).trim().is_empty(), "{}.json has an empty {key}", lang.code());
                }
            }
        }
    }

    /// The kinds are a public interface admins script against: each is in the command line's reference.
    #[test]
    fn every_kind_is_documented() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/command-line.md")).unwrap();
        let missing: Vec<String> =
            DiagnosisKind::ALL.iter().map(|k| k.name()).filter(|name| !doc.contains(&format!("| `{name}` |"))).collect();
        assert!(missing.is_empty(), "docs/command-line.md's table of kinds lacks {missing:?}");
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
    fn serialises_as_a_tagged_object() {
        let d = Diagnosis::new(
            DiagnosisKind::AuthRejected,
            Facts { username: Some("jane".into()), ..Facts::default() },
            Some("NO [AUTHENTICATIONFAILED]".into()),
        );
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["kind"], "auth_rejected");
        assert_eq!(v["facts"]["username"], "jane");
        assert_eq!(v["detail"], "NO [AUTHENTICATIONFAILED]");
        // No sentence crosses IPC: the page renders kind + facts in its own language.
        assert!(v.get("message").is_none() && v.get("hint").is_none(), "{v}");
        assert!(d.message(Lang::En).contains("jane"));
        assert!(d.hint(Lang::En).contains("app-specific password"));
        assert!(d.message(Lang::De).contains("jane"));
        assert_ne!(d.hint(Lang::De), d.hint(Lang::En));
        let back: Diagnosis = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }
}
