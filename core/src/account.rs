//! The one value every later stage takes: who sends (address, display name), who logs in (the primary iCloud
//! address), where (endpoints) and into which folders. Nothing downstream re-derives a username, a port or a
//! folder name. After a connection test that passed, `with_verified` makes the test's outcome the account's
//! settings: what was tested is what every export and the Thunderbird profile get.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::address::{Address, DomainKind};
use crate::diagnosis::{Diagnosis, DiagnosisKind, Facts};
use crate::probe::{ProbeReport, SideReport};
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
    /// True when servers, usernames and folders are those a connection test signed in with (`with_verified`).
    #[serde(default)]
    pub verified: bool,
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
        Ok(Account { address, display_name, login, provider: provider::icloud(), folders: Folders::default(), verified: false })
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

    /// The account as the connection test found it: the servers each side signed in on (for SMTP the fallback
    /// when the first port could not be reached; then no fallback is left), the username that worked first for
    /// each protocol (the other form stays as the alternative), the folders the server listed, and `verified`.
    ///
    /// Refused: a report in which a side did not pass (`report_not_passed`), one whose usernames are not this
    /// account's (`report_other_account`), and servers or folder names the checks refuse.
    pub fn with_verified(mut self, report: &ProbeReport) -> Result<Account, Diagnosis> {
        for (side, side_report) in [("incoming (IMAP)", &report.imap), ("outgoing (SMTP)", &report.smtp)] {
            if !side_report.is_ok() {
                let facts = Facts {
                    host: Some(side_report.host.clone()),
                    port: Some(side_report.port),
                    username: side_report.username.clone(),
                    ..Facts::default()
                };
                let detail = format!("{side}: {}", side_report.kind().name());
                return Err(Diagnosis::new(DiagnosisKind::ReportNotPassed, facts, Some(detail)));
            }
        }
        let imap_forms = self.forms_first(&self.provider.imap_login_forms, &report.imap)?;
        let smtp_forms = self.forms_first(&self.provider.smtp_login_forms, &report.smtp)?;
        let endpoint = |side: &SideReport| Endpoint { host: side.host.clone(), port: side.port, security: side.security };
        let (imap, smtp) = (endpoint(&report.imap), endpoint(&report.smtp));
        // The fallback stays an alternative only where it belongs to the server that was tested (iCloud's 465 beside
        // 587); after it was used, or for another server, there is none.
        let fallback = match self.provider.smtp_fallback.take() {
            Some(fallback) if report.smtp.unreachable_port.is_none() && fallback.host == smtp.host && fallback.port != smtp.port => {
                Some(fallback)
            }
            _ => None,
        };
        self.provider =
            Provider { imap, smtp, smtp_fallback: fallback, imap_login_forms: imap_forms, smtp_login_forms: smtp_forms, ..self.provider };
        self.provider.check()?;
        self.folders = report.imap.folders.clone().unwrap_or_else(Folders::unknown);
        self.folders.check()?;
        self.verified = true;
        Ok(self)
    }

    /// `forms` reordered so that the form that signed in on `side` comes first.
    fn forms_first(&self, forms: &[LoginForm], side: &SideReport) -> Result<Vec<LoginForm>, Diagnosis> {
        let worked = side.username.as_deref().unwrap_or_default();
        let Some(form) = forms.iter().copied().find(|f| self.username(*f) == worked) else {
            let facts = Facts { username: Some(worked.to_owned()), address: Some(self.login.address.clone()), ..Facts::default() };
            return Err(Diagnosis::new(DiagnosisKind::ReportOtherAccount, facts, Some(format!("the test signed in as {worked:?}"))));
        };
        Ok(std::iter::once(form).chain(forms.iter().copied().filter(|f| *f != form)).collect())
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

    fn side(host: &str, port: u16, security: provider::Security, username: Option<&str>, kind: DiagnosisKind) -> SideReport {
        let facts = Facts { host: Some(host.into()), port: Some(port), username: username.map(str::to_owned), ..Facts::default() };
        SideReport {
            diagnosis: Diagnosis::new(kind, facts, None),
            host: host.into(),
            port,
            security,
            username: username.map(str::to_owned),
            elapsed_ms: 5,
            server_text: None,
            unreachable_port: None,
            attempts: Vec::new(),
            folders: None,
        }
    }

    /// A passed test of `account` against iCloud's servers, as `probe` reports it.
    fn passed(imap_user: &str, smtp_user: &str) -> ProbeReport {
        use provider::Security::*;
        let mut imap = side("imap.mail.me.com", 993, Tls, Some(imap_user), DiagnosisKind::Ok);
        imap.folders = Some(Folders {
            inbox: Some("INBOX".into()),
            sent: Some("Gesendet".into()),
            drafts: Some("Entwürfe".into()),
            trash: Some("Deleted Messages".into()),
            junk: None,
            archive: Some("Archiv".into()),
            delimiter: Some("/".into()),
        });
        ProbeReport { imap, smtp: side("smtp.mail.me.com", 587, Starttls, Some(smtp_user), DiagnosisKind::Ok), domain: None }
    }

    #[test]
    fn a_passed_test_becomes_the_accounts_settings() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        assert!(!account.verified);
        assert_eq!(account.folders, Folders::default());
        let verified = account.clone().with_verified(&passed("jane", "jane@icloud.com")).unwrap();
        assert!(verified.verified);
        assert_eq!(verified.imap_username(), "jane");
        assert_eq!(verified.smtp_username(), "jane@icloud.com");
        assert_eq!(verified.folders.sent.as_deref(), Some("Gesendet"));
        assert_eq!(verified.folders.junk, None, "no folder is invented");
        // 587 worked: 465 on the same host stays the alternative.
        assert_eq!(verified.provider.smtp.port, 587);
        assert_eq!(verified.provider.smtp_fallback.as_ref().map(|f| f.port), Some(465));
        assert_eq!(verified.provider.imap, account.provider.imap);
        assert!(verified.check().is_ok());
    }

    #[test]
    fn an_account_that_signs_in_only_with_its_full_address_gets_it_everywhere() {
        let account = Account::new(addr("fullonly@icloud.com"), None, None).unwrap();
        assert_eq!(account.imap_username(), "fullonly", "the preset's first guess");
        let verified = account.with_verified(&passed("fullonly@icloud.com", "fullonly")).unwrap();
        assert_eq!(verified.imap_username(), "fullonly@icloud.com");
        assert_eq!(verified.imap_usernames(), ["fullonly@icloud.com", "fullonly"], "the other form stays the alternative");
        assert_eq!(verified.smtp_username(), "fullonly");
        assert_eq!(verified.smtp_usernames(), ["fullonly", "fullonly@icloud.com"]);
    }

    #[test]
    fn the_fallback_that_signed_in_replaces_the_blocked_port() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let mut report = passed("jane", "jane@icloud.com");
        report.smtp = side("smtp.mail.me.com", 465, provider::Security::Tls, Some("jane@icloud.com"), DiagnosisKind::Ok);
        report.smtp.unreachable_port = Some(587);
        let verified = account.with_verified(&report).unwrap();
        assert_eq!(verified.provider.smtp, Endpoint::new("smtp.mail.me.com", 465, provider::Security::Tls));
        assert_eq!(verified.provider.smtp_fallback, None, "no fallback is left");
    }

    #[test]
    fn servers_come_from_the_report_and_a_fallback_of_another_server_is_dropped() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let mut report = passed("jane", "jane@icloud.com");
        report.imap.host = "localhost".into();
        report.imap.port = 10993;
        report.smtp = side("localhost", 10587, provider::Security::Starttls, Some("jane@icloud.com"), DiagnosisKind::Ok);
        report.imap.folders = None;
        let verified = account.with_verified(&report).unwrap();
        assert_eq!(verified.provider.imap, Endpoint::new("localhost", 10993, provider::Security::Tls));
        assert_eq!(verified.provider.smtp, Endpoint::new("localhost", 10587, provider::Security::Starttls));
        assert_eq!(verified.provider.smtp_fallback, None, "smtp.mail.me.com:465 is no fallback for another server");
        assert_eq!(verified.folders, Folders::unknown(), "a list that was not read leaves only INBOX");
    }

    #[test]
    fn a_report_with_a_side_that_did_not_pass_is_refused() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let mut report = passed("jane", "jane@icloud.com");
        report.smtp = side("smtp.mail.me.com", 587, provider::Security::Starttls, Some("jane"), DiagnosisKind::AuthRejected);
        let d = account.clone().with_verified(&report).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::ReportNotPassed);
        assert_eq!(d.facts.host.as_deref(), Some("smtp.mail.me.com"));
        assert!(d.detail.as_deref().unwrap().contains("auth_rejected"), "{d:?}");
        assert!(d.message(crate::Lang::En).contains("did not pass"));
        let mut report = passed("jane", "jane@icloud.com");
        report.imap = side("imap.mail.me.com", 993, provider::Security::Tls, None, DiagnosisKind::Timeout);
        assert_eq!(account.with_verified(&report).unwrap_err().kind, DiagnosisKind::ReportNotPassed);
    }

    #[test]
    fn a_report_of_another_account_or_with_unusable_values_is_refused() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let d = account.clone().with_verified(&passed("john", "jane@icloud.com")).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::ReportOtherAccount);
        assert_eq!((d.facts.username.as_deref(), d.facts.address.as_deref()), (Some("john"), Some("jane@icloud.com")));
        let mut report = passed("jane", "jane@icloud.com");
        report.imap.host = "a|b".into();
        assert_eq!(account.clone().with_verified(&report).unwrap_err().kind, DiagnosisKind::ServerInvalid);
        let mut report = passed("jane", "jane@icloud.com");
        report.imap.folders.as_mut().unwrap().sent = Some("Sent\nset record=/tmp/x".into());
        let d = account.clone().with_verified(&report).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::FolderCharacterNotAllowed);
        assert_eq!(d.facts.character.as_deref(), Some("U+000A LINE FEED"));
        // An account whose folders were changed after the fact is refused by every exporter's check too.
        let mut account = account;
        account.folders.trash = Some("Trash\u{202e}".into());
        assert_eq!(account.check().unwrap_err().kind, DiagnosisKind::FolderCharacterNotAllowed);
    }
}
