//! The one value every later stage takes: who sends (address, display name), who logs in (the primary iCloud
//! address), where (endpoints) and into which folders. Nothing downstream re-derives a username, a port or a
//! folder name. It knows nothing of connection tests: `verified` (a module above both) turns a test that passed
//! into the account's settings, so that what was tested is what every export and the Thunderbird profile get.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::address::{Address, DomainKind};
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::provider::{self, Endpoint, LoginForm, Provider};
use crate::text_policy;

/// The account's folders by role, for the mail apps that have a setting for them. Names are as the server lists
/// them (decoded from IMAP's modified UTF-7, hierarchy delimiter included); a role is `None` where the server has
/// no such folder, so that no app is pointed at a folder that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Folders {
    pub inbox: Option<String>,
    pub sent: Option<String>,
    pub drafts: Option<String>,
    pub trash: Option<String>,
    pub junk: Option<String>,
    pub archive: Option<String>,
    /// The server's hierarchy delimiter (`/` on iCloud, `.` on many others), where known: Thunderbird names
    /// folders with `/` between levels whatever the server uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub delimiter: Option<String>,
}

impl Default for Folders {
    /// iCloud's own folders, for an account built without a connection test.
    fn default() -> Self {
        Folders {
            inbox: Some("INBOX".into()),
            sent: Some("Sent Messages".into()),
            drafts: Some("Drafts".into()),
            trash: Some("Deleted Messages".into()),
            junk: Some("Junk".into()),
            archive: Some("Archive".into()),
            delimiter: Some("/".into()),
        }
    }
}

impl Folders {
    /// The folders of a server whose list could not be read: only INBOX, which every IMAP server has.
    pub fn unknown() -> Self {
        Folders { inbox: Some("INBOX".into()), sent: None, drafts: None, trash: None, junk: None, archive: None, delimiter: None }
    }

    /// Each role with its name: `inbox`, `sent`, `drafts`, `trash`, `junk`, `archive` (the JSON keys).
    pub fn roles(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("inbox", self.inbox.as_deref()),
            ("sent", self.sent.as_deref()),
            ("drafts", self.drafts.as_deref()),
            ("trash", self.trash.as_deref()),
            ("junk", self.junk.as_deref()),
            ("archive", self.archive.as_deref()),
        ]
    }

    /// Every name passes the text policy (a line break in one would start a line of its own in a config file);
    /// the delimiter is one character.
    pub fn check(&self) -> Result<(), Diagnosis> {
        for (_, name) in self.roles() {
            if let Some(name) = name {
                text_policy::check(name, DiagnosisKind::FolderCharacterNotAllowed).map_err(|mut d| {
                    d.facts.path = Some(name.escape_debug().to_string());
                    d
                })?;
                if name.is_empty() {
                    let facts = Facts { path: Some(String::new()), ..Facts::default() };
                    return Err(Diagnosis::new(DiagnosisKind::FolderCharacterNotAllowed, facts, Some("an empty folder name".into())));
                }
            }
        }
        if let Some(delimiter) = &self.delimiter {
            if delimiter.chars().count() != 1 || text_policy::first_refused(delimiter).is_some() {
                let facts = Facts { path: Some(delimiter.escape_debug().to_string()), ..Facts::default() };
                return Err(Diagnosis::new(DiagnosisKind::FolderCharacterNotAllowed, facts, Some("not a hierarchy delimiter".into())));
            }
        }
        Ok(())
    }
}

/// One DAV service (CalDAV or CardDAV) as a connection test found it: the service host it started on, the
/// username that signed in, the principal and home it discovered (absolute `https://` URLs, the home usually on a
/// partition host such as `p23-caldav.icloud.com`) and the realm the server named in its 401, as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DavService {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub principal: String,
    pub home: String,
    /// The realm of the server's `WWW-Authenticate: Basic realm="…"` (iCloud: `MMCalDav`); None when it sent none.
    pub realm: Option<String>,
}

/// A calendar that holds events (VEVENT), as the server lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Calendar {
    /// Its display name (the URL's last segment where the server gave none).
    pub name: String,
    /// Its absolute URL, ending in `/`.
    pub url: String,
    /// Its colour as `#RRGGBB` (Apple's `calendar-color`, alpha dropped), where the server gave one.
    pub color: Option<String>,
}

/// An address book, as the server lists it (iCloud has one, `card`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AddressBook {
    pub name: String,
    /// Its absolute URL, ending in `/`.
    pub url: String,
}

/// The calendars a connection test found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CalendarsFound {
    pub service: DavService,
    pub calendars: Vec<Calendar>,
}

/// The address books a connection test found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactsFound {
    pub service: DavService,
    pub addressbooks: Vec<AddressBook>,
}

/// Calendars and contacts as a connection test found them; each None where it was not tested or did not pass.
/// Exporters that need collections (Thunderbird) add only what is here; those that discover on their own
/// (vdirsyncer) fall back to the provider's service hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DavFound {
    pub caldav: Option<CalendarsFound>,
    pub carddav: Option<ContactsFound>,
}

/// The longest display name accepted; far beyond any real name, short enough for every client's config syntax.
pub const MAX_NAME_CHARS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Account {
    /// The sender identity (may be an iCloud+ custom-domain address).
    pub address: Address,
    /// The person's name as shown in sent mail, if given.
    pub display_name: Option<String>,
    /// The primary iCloud address that signs in (for iCloud addresses, the address itself).
    pub login: Address,
    pub provider: Provider,
    /// The folders by role: iCloud's names for an account built without a test, the server's after one.
    #[serde(default)]
    pub folders: Folders,
    /// True when servers, usernames and folders are those a connection test signed in with (`verified::account_from_report`).
    #[serde(default)]
    pub verified: bool,
    /// Calendars and contacts a connection test found (`verified::account_from_report`); empty otherwise.
    #[serde(default)]
    pub dav: DavFound,
}

impl Account {
    /// Builds an account from checked parts. A custom-domain address needs the primary iCloud login.
    pub fn new(address: Address, login: Option<Address>, display_name: Option<String>) -> Result<Account, Diagnosis> {
        if let Some(problem) = address.problem() {
            return Err(problem);
        }
        let login = match (login, &address.kind) {
            (Some(login), _) => login,
            (None, DomainKind::Icloud) => address.clone(),
            (None, _) => {
                let facts = Facts { domain: Some(address.domain_unicode.clone()), ..Facts::default() };
                return Err(Diagnosis::new(DiagnosisKind::LoginRequired, facts, None));
            }
        };
        if !login.is_icloud() {
            let facts = Facts { username: Some(login.address.clone()), ..Facts::default() };
            return Err(Diagnosis::new(DiagnosisKind::LoginNotIcloud, facts, None));
        }
        let display_name = display_name_from(display_name.as_deref())?;
        Ok(Account {
            address,
            display_name,
            login,
            provider: provider::icloud(),
            folders: Folders::default(),
            verified: false,
            dav: DavFound::default(),
        })
    }

    /// Replaces the preset's servers (testing, unusual networks). An explicit SMTP server drops the fallback
    /// unless one is given too.
    pub fn with_servers(mut self, imap: Option<Endpoint>, smtp: Option<Endpoint>, smtp_fallback: Option<Endpoint>) -> Self {
        if let Some(imap) = imap {
            self.provider.imap = imap;
        }
        if let Some(smtp) = smtp {
            self.provider.smtp = smtp;
            self.provider.smtp_fallback = None;
        }
        if let Some(fallback) = smtp_fallback {
            self.provider.smtp_fallback = Some(fallback);
        }
        self
    }

    /// Checks an account however it was made (deserialised, assembled by a library caller): every server passes
    /// the host rule, the addresses and the name the text policy. `Address::parse`, `Account::new` and
    /// `Endpoint::parse_override` already guarantee this; exporters call it so that what they write never depends
    /// on how the account was made.
    pub fn check(&self) -> Result<(), Diagnosis> {
        self.provider.check()?;
        for address in [&self.address.address, &self.login.address] {
            text_policy::check(address, DiagnosisKind::AddressCharacterNotAllowed)?;
        }
        if let Some(name) = &self.display_name {
            check_display_name(name.clone())?;
        }
        self.folders.check()
    }

    pub fn username(&self, form: LoginForm) -> String {
        match form {
            LoginForm::NamePart => self.login.local_part.clone(),
            LoginForm::FullAddress => self.login.address.clone(),
        }
    }

    /// IMAP usernames in the order to try them (name part, then the full address).
    pub fn imap_usernames(&self) -> Vec<String> {
        self.provider.imap_login_forms.iter().map(|f| self.username(*f)).collect()
    }

    /// SMTP usernames in the order to try them (full address, then the name part).
    pub fn smtp_usernames(&self) -> Vec<String> {
        self.provider.smtp_login_forms.iter().map(|f| self.username(*f)).collect()
    }

    /// The username to write into client profiles for IMAP: the first form tried.
    pub fn imap_username(&self) -> String {
        self.username(self.provider.imap_login_forms[0])
    }

    pub fn smtp_username(&self) -> String {
        self.username(self.provider.smtp_login_forms[0])
    }
}

/// Names may hold any printable text in any script (quotes, `<`, `&`, accents, emoji); the text policy
/// (`text_policy`) refuses controls such as line breaks, noncharacters, bidi controls and line separators, since
/// no person means them and several config formats cannot carry them.
/// A display name as typed: surrounding blanks dropped, nothing (None) when blank, refused when too long or holding
/// a character no mail app can carry safely. The one check for the wizard's field and every entry point.
pub fn display_name_from(typed: Option<&str>) -> Result<Option<String>, Diagnosis> {
    match typed.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => check_display_name(name.to_owned()).map(Some),
        None => Ok(None),
    }
}

fn check_display_name(name: String) -> Result<String, Diagnosis> {
    if name.chars().count() > MAX_NAME_CHARS {
        let facts = Facts { limit: Some(MAX_NAME_CHARS as u32), ..Facts::default() };
        return Err(Diagnosis::new(DiagnosisKind::NameInvalid, facts, Some(format!("longer than {MAX_NAME_CHARS} characters"))));
    }
    text_policy::check(&name, DiagnosisKind::NameCharacterNotAllowed)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn icloud_address_logs_in_as_itself() {
        let a = Account::new(addr("JohnSmith@icloud.com"), None, Some(" John Smith ".into())).unwrap();
        assert_eq!(a.imap_usernames(), ["johnsmith", "johnsmith@icloud.com"]);
        assert_eq!(a.smtp_usernames(), ["johnsmith@icloud.com", "johnsmith"]);
        assert_eq!(a.display_name.as_deref(), Some("John Smith"));
    }

    #[test]
    fn custom_domain_needs_the_primary_login() {
        let err = Account::new(addr("jane@family.example"), None, None).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::LoginRequired);
        assert!(err.message(crate::Lang::En).contains("family.example"));
        let a = Account::new(addr("jane@family.example"), Some(addr("jane.doe@icloud.com")), None).unwrap();
        assert_eq!(a.address.address, "jane@family.example");
        assert_eq!(a.imap_username(), "jane.doe");
        assert_eq!(a.smtp_username(), "jane.doe@icloud.com");
        let err = Account::new(addr("jane@family.example"), Some(addr("jane@family.example")), None).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::LoginNotIcloud);
    }

    #[test]
    fn other_providers_are_refused() {
        assert_eq!(Account::new(addr("x@gmail.com"), None, None).unwrap_err().kind, DiagnosisKind::AddressNotIcloud);
    }

    #[test]
    fn names_keep_printable_text_and_refuse_control_characters() {
        let hostile = "Jane \"JD\" O'Brien <&> \\ Müller 💌".to_owned();
        let a = Account::new(addr("jane@icloud.com"), None, Some(hostile.clone())).unwrap();
        assert_eq!(a.display_name, Some(hostile));
        let err = Account::new(addr("jane@icloud.com"), None, Some("Jane\nBcc: x".into())).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::NameCharacterNotAllowed);
        let long = "x".repeat(MAX_NAME_CHARS);
        assert!(Account::new(addr("jane@icloud.com"), None, Some(long)).is_ok());
        let err = Account::new(addr("jane@icloud.com"), None, Some("x".repeat(MAX_NAME_CHARS + 1))).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::NameInvalid);
    }

    #[test]
    fn names_in_any_script_pass() {
        for name in
            ["José Müller", "山田太郎", "Jane \"JD\" O'Brien", "<Jane> & Co", "Ζωή Παπαδοπούλου", "محمد", "שרה", "Zoë 💌", "a\u{a0}b"]
        {
            let a = Account::new(addr("jane@icloud.com"), None, Some(name.into())).unwrap();
            assert_eq!(a.display_name.as_deref(), Some(name));
        }
    }

    #[test]
    fn names_refuse_each_class_of_character_and_say_which_and_where() {
        for (name, character, position) in [
            // C0 controls and DEL.
            ("Jane\u{0}", "U+0000 NULL", 5),
            ("Ja\tne", "U+0009 CHARACTER TABULATION", 3),
            ("Jane\rDoe", "U+000D CARRIAGE RETURN", 5),
            ("Jane\u{1b}[31m", "U+001B ESCAPE", 5),
            ("Jane\u{7f}", "U+007F DELETE", 5),
            // C1 controls.
            ("Jane\u{85}Doe", "U+0085 NEXT LINE", 5),
            ("J\u{9b}ane", "U+009B", 2),
            // Noncharacters: they make the XML and plist formats invalid.
            ("Jane\u{fffe}", "U+FFFE", 5),
            ("Jane\u{ffff}", "U+FFFF", 5),
            ("山田\u{fdd0}", "U+FDD0", 3),
            ("Jane\u{1fffe}", "U+1FFFE", 5),
            ("Jane\u{10ffff}", "U+10FFFF", 5),
            // Bidi controls: the name would display as something else.
            ("Jane\u{202e}eoD", "U+202E RIGHT-TO-LEFT OVERRIDE", 5),
            ("\u{200f}Jane", "U+200F RIGHT-TO-LEFT MARK", 1),
            ("Jane\u{2066}x", "U+2066 LEFT-TO-RIGHT ISOLATE", 5),
            ("محمد\u{061c}", "U+061C ARABIC LETTER MARK", 5),
            // Line and paragraph separators.
            ("Jane\u{2028}Doe", "U+2028 LINE SEPARATOR", 5),
            ("Jane\u{2029}Doe", "U+2029 PARAGRAPH SEPARATOR", 5),
        ] {
            let err = Account::new(addr("jane@icloud.com"), None, Some(name.into())).expect_err(name);
            assert_eq!(err.kind, DiagnosisKind::NameCharacterNotAllowed, "{name:?}");
            assert_eq!(err.facts.character.as_deref(), Some(character), "{name:?}");
            assert_eq!(err.facts.position, Some(position), "{name:?}");
        }
        // Surrounding blanks (line breaks included) are forgiven, as elsewhere; positions count in what is kept.
        let a = Account::new(addr("jane@icloud.com"), None, Some("\n Jane \u{2028}".into())).unwrap();
        assert_eq!(a.display_name.as_deref(), Some("Jane"));
        let err = Account::new(addr("jane@icloud.com"), None, Some("  Ja\u{202e}ne".into())).unwrap_err();
        assert_eq!(err.facts.position, Some(3));
    }

    #[test]
    fn explicit_smtp_drops_the_fallback() {
        let a = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let smtp = Endpoint::parse_override("127.0.0.1:1587", provider::Security::Starttls).unwrap();
        let b = a.clone().with_servers(None, Some(smtp.clone()), None);
        assert_eq!(b.provider.smtp, smtp);
        assert_eq!(b.provider.smtp_fallback, None);
        assert_eq!(a.provider.smtp_fallback.unwrap().port, 465);
    }
}
