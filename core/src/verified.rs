//! What a connection test proved becomes the account's settings. This module sits above both the account (which
//! knows nothing of tests) and the probe (which knows nothing of how an account is built): it takes a report that
//! passed and returns the account with the servers, usernames and folders the test signed in with, so that what
//! was tested is what every export and the Thunderbird profile get.

use crate::account::{Account, CalendarsFound, ContactsFound, DavFound, DavService, Folders};
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::probe::{DavReport, ProbeReport, SideReport};
use crate::provider::{Endpoint, LoginForm, Provider};

/// The account as the connection test found it: the servers each side signed in on (for SMTP the fallback
/// when the first port could not be reached; then no fallback is left), the username that worked first for
/// each protocol (the other form stays as the alternative), the folders the server listed, and `verified`.
///
/// Refused: a report in which a side did not pass (`report_not_passed`), one whose usernames are not this
/// account's (`report_other_account`), and servers or folder names the checks refuse.
pub fn account_from_report(mut account: Account, report: &ProbeReport) -> Result<Account, Diagnosis> {
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
    let imap_forms = forms_first(&account, &account.provider.imap_login_forms, &report.imap)?;
    let smtp_forms = forms_first(&account, &account.provider.smtp_login_forms, &report.smtp)?;
    let endpoint = |side: &SideReport| Endpoint { host: side.host.clone(), port: side.port, security: side.security };
    let (imap, smtp) = (endpoint(&report.imap), endpoint(&report.smtp));
    // The fallback stays an alternative only where it belongs to the server that was tested (iCloud's 465 beside
    // 587); after it was used, or for another server, there is none.
    let fallback = match account.provider.smtp_fallback.take() {
        Some(fallback) if report.smtp.unreachable_port.is_none() && fallback.host == smtp.host && fallback.port != smtp.port => {
            Some(fallback)
        }
        _ => None,
    };
    account.provider =
        Provider { imap, smtp, smtp_fallback: fallback, imap_login_forms: imap_forms, smtp_login_forms: smtp_forms, ..account.provider };
    account.provider.check()?;
    account.folders = report.imap.folders.clone().unwrap_or_else(Folders::unknown);
    account.folders.check()?;
    check_dav_urls(&account, report)?;
    account.dav = dav_found(&account, report);
    account.verified = true;
    Ok(account)
}

/// Refuses (`report_other_server`) a report whose passed DAV member names a principal, home or collection URL that
/// `probe::dav::acceptable_collection_url` would not have sent the password to: not `https`, or on a host outside
/// the service host's domain (`caldav.icloud.com` allows `p23-caldav.icloud.com`, any `*.icloud.com`; an IP address
/// only itself). The probe never reports such URLs, so only an edited or foreign report has them; the exported
/// clients would send the password there.
pub fn check_dav_urls(account: &Account, report: &ProbeReport) -> Result<(), Diagnosis> {
    for (r, expected) in [(&report.caldav, &account.provider.caldav), (&report.carddav, &account.provider.carddav)] {
        let Some(r) = r.as_ref().filter(|r| r.is_ok() && r.host == expected.host && r.port == expected.port) else { continue };
        let urls = r
            .principal
            .iter()
            .chain(&r.home)
            .chain(r.calendars.iter().flatten().map(|c| &c.url))
            .chain(r.addressbooks.iter().flatten().map(|b| &b.url));
        for url in urls {
            if !crate::probe::dav::acceptable_collection_url(&r.host, url) {
                let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| url.clone());
                let facts = Facts { host: Some(host), port: None, ..Facts::default() };
                return Err(Diagnosis::new(DiagnosisKind::ReportOtherServer, facts, Some(format!("{}: {url}", r.host))));
            }
        }
    }
    Ok(())
}

/// The calendars and contacts a report found, for the members that passed (a DAV failure never refuses the mail
/// settings; that service is then simply not carried). Only a service tested on this account's own DAV host (its
/// preset or override) with this account's login is carried, and of it only URLs `check_dav_urls` accepts (a
/// service with an unacceptable principal or home is not carried at all).
pub fn dav_found(account: &Account, report: &ProbeReport) -> DavFound {
    dav_found_in(account, report.caldav.as_ref(), report.carddav.as_ref())
}

/// `dav_found` for DAV verdicts that came apart from the mail report (`probe::probe_mail_first`'s second half): the
/// window adds them to the held verified account when they arrive.
pub fn dav_found_in(account: &Account, caldav: Option<&DavReport>, carddav: Option<&DavReport>) -> DavFound {
    let acceptable = |r: &DavReport, url: &str| crate::probe::dav::acceptable_collection_url(&r.host, url);
    let service = |r: &DavReport, expected: &crate::provider::Endpoint| -> Option<DavService> {
        if !r.is_ok() || r.host != expected.host || r.port != expected.port {
            return None;
        }
        if !r.principal.iter().chain(&r.home).all(|u| acceptable(r, u)) {
            return None;
        }
        let username = r.username.clone()?;
        if username != account.login.address {
            return None;
        }
        Some(DavService {
            host: r.host.clone(),
            port: r.port,
            username,
            principal: r.principal.clone()?,
            home: r.home.clone()?,
            realm: r.realm.clone(),
        })
    };
    DavFound {
        caldav: caldav.and_then(|r| {
            let calendars = r.calendars.iter().flatten().filter(|c| acceptable(r, &c.url)).cloned().collect();
            Some(CalendarsFound { service: service(r, &account.provider.caldav)?, calendars })
        }),
        carddav: carddav.and_then(|r| {
            Some(ContactsFound {
                service: service(r, &account.provider.carddav)?,
                addressbooks: r.addressbooks.iter().flatten().filter(|b| acceptable(r, &b.url)).cloned().collect(),
            })
        }),
    }
}

/// `forms` reordered so that the form that signed in on `side` comes first.
fn forms_first(account: &Account, forms: &[LoginForm], side: &SideReport) -> Result<Vec<LoginForm>, Diagnosis> {
    let worked = side.username.as_deref().unwrap_or_default();
    let Some(form) = forms.iter().copied().find(|f| account.username(*f) == worked) else {
        let facts = Facts { username: Some(worked.to_owned()), address: Some(account.login.address.clone()), ..Facts::default() };
        return Err(Diagnosis::new(DiagnosisKind::ReportOtherAccount, facts, Some(format!("the test signed in as {worked:?}"))));
    };
    Ok(std::iter::once(form).chain(forms.iter().copied().filter(|f| *f != form)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{AddressBook, Calendar};
    use crate::address::Address;
    use crate::provider;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
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
        ProbeReport {
            imap,
            smtp: side("smtp.mail.me.com", 587, Starttls, Some(smtp_user), DiagnosisKind::Ok),
            domain: None,
            caldav: None,
            carddav: None,
        }
    }

    fn dav(host: &str, kind: DiagnosisKind, username: &str, home: &str) -> DavReport {
        let facts = Facts { host: Some(host.into()), port: Some(443), ..Facts::default() };
        DavReport {
            diagnosis: Diagnosis::new(kind, facts, None),
            host: host.into(),
            port: 443,
            username: Some(username.into()),
            principal: Some(format!("https://{host}/12345678/principal/")),
            home: Some(home.into()),
            realm: Some("MMCalDav".into()),
            elapsed_ms: 7,
            server_text: None,
            calendars: None,
            addressbooks: None,
            requests: 4,
            redirects: Vec::new(),
        }
    }

    fn with_dav(home: &str) -> ProbeReport {
        let mut report = passed("jane", "jane@icloud.com");
        let mut caldav = dav("caldav.icloud.com", DiagnosisKind::Ok, "jane@icloud.com", home);
        caldav.calendars = Some(vec![Calendar { name: "Home".into(), url: format!("{home}home/"), color: Some("#FF2968".into()) }]);
        let mut carddav =
            dav("contacts.icloud.com", DiagnosisKind::Ok, "jane@icloud.com", "https://p23-contacts.icloud.com:443/12345678/carddavhome/");
        carddav.addressbooks =
            Some(vec![AddressBook { name: "card".into(), url: "https://p23-contacts.icloud.com/12345678/carddavhome/card/".into() }]);
        report.caldav = Some(caldav);
        report.carddav = Some(carddav);
        report
    }

    #[test]
    fn what_dav_found_is_carried_into_the_account() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let home = "https://p23-caldav.icloud.com:443/12345678/calendars/";
        let verified = account_from_report(account, &with_dav(home)).unwrap();
        let caldav = verified.dav.caldav.expect("calendars carried");
        assert_eq!(caldav.service.home, home);
        assert_eq!(caldav.service.realm.as_deref(), Some("MMCalDav"));
        assert_eq!(caldav.service.username, "jane@icloud.com");
        assert_eq!(caldav.calendars[0].url, format!("{home}home/"));
        assert_eq!(verified.dav.carddav.expect("contacts carried").addressbooks[0].name, "card");
    }

    #[test]
    fn a_dav_side_that_failed_is_not_carried_and_does_not_refuse_the_mail_settings() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let mut report = with_dav("https://p23-caldav.icloud.com/12345678/calendars/");
        report.caldav.as_mut().unwrap().diagnosis.kind = DiagnosisKind::NoCalendarsFound;
        let verified = account_from_report(account, &report).unwrap();
        assert!(verified.dav.caldav.is_none());
        assert!(verified.dav.carddav.is_some());
    }

    #[test]
    fn dav_urls_outside_the_service_domain_or_not_https_are_refused() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        for home in ["https://p23-caldav.evil.example/12345678/calendars/", "http://p23-caldav.icloud.com/12345678/calendars/"] {
            let refused = account_from_report(account.clone(), &with_dav(home)).unwrap_err();
            assert_eq!(refused.kind, DiagnosisKind::ReportOtherServer, "{home}");
            assert!(dav_found(&account, &with_dav(home)).caldav.is_none(), "{home}");
        }
        let mut report = with_dav("https://p23-caldav.icloud.com/12345678/calendars/");
        report.caldav.as_mut().unwrap().calendars.as_mut().unwrap()[0].url = "https://attacker.example/cal/".into();
        assert_eq!(account_from_report(account.clone(), &report).unwrap_err().facts.host.as_deref(), Some("attacker.example"));
        assert!(dav_found(&account, &report).caldav.unwrap().calendars.is_empty());
    }

    #[test]
    fn a_passed_test_becomes_the_accounts_settings() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        assert!(!account.verified);
        assert_eq!(account.folders, Folders::default());
        let verified = account_from_report(account.clone(), &passed("jane", "jane@icloud.com")).unwrap();
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
        let verified = account_from_report(account, &passed("fullonly@icloud.com", "fullonly")).unwrap();
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
        let verified = account_from_report(account, &report).unwrap();
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
        let verified = account_from_report(account, &report).unwrap();
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
        let d = account_from_report(account.clone(), &report).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::ReportNotPassed);
        assert_eq!(d.facts.host.as_deref(), Some("smtp.mail.me.com"));
        assert!(d.detail.as_deref().unwrap().contains("auth_rejected"), "{d:?}");
        assert!(d.message(crate::Lang::En).contains("did not pass"));
        let mut report = passed("jane", "jane@icloud.com");
        report.imap = side("imap.mail.me.com", 993, provider::Security::Tls, None, DiagnosisKind::Timeout);
        assert_eq!(account_from_report(account, &report).unwrap_err().kind, DiagnosisKind::ReportNotPassed);
    }

    #[test]
    fn a_report_of_another_account_or_with_unusable_values_is_refused() {
        let account = Account::new(addr("jane@icloud.com"), None, None).unwrap();
        let d = account_from_report(account.clone(), &passed("john", "jane@icloud.com")).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::ReportOtherAccount);
        assert_eq!((d.facts.username.as_deref(), d.facts.address.as_deref()), (Some("john"), Some("jane@icloud.com")));
        let mut report = passed("jane", "jane@icloud.com");
        report.imap.host = "a|b".into();
        assert_eq!(account_from_report(account.clone(), &report).unwrap_err().kind, DiagnosisKind::ServerInvalid);
        let mut report = passed("jane", "jane@icloud.com");
        report.imap.folders.as_mut().unwrap().sent = Some("Sent\nset record=/tmp/x".into());
        let d = account_from_report(account.clone(), &report).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::FolderCharacterNotAllowed);
        assert_eq!(d.facts.character.as_deref(), Some("U+000A LINE FEED"));
        // An account whose folders were changed after the fact is refused by every exporter's check too.
        let mut account = account;
        account.folders.trash = Some("Trash\u{202e}".into());
        assert_eq!(account.check().unwrap_err().kind, DiagnosisKind::FolderCharacterNotAllowed);
    }
}
