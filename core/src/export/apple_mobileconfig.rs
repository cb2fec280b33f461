//! Apple configuration profile (`.mobileconfig`, macOS and iOS) with one `com.apple.mail.managed` payload, written
//! with the `plist` crate. No password: the device asks once at install time and uses it for both servers
//! (`OutgoingPasswordSameAsIncomingPassword`). Identifiers are derived from the address, so installing a newer
//! profile for the same address replaces the old one; UUIDs are fresh for every file, as Apple asks.
//!
//! With `ExportOptions::with_dav` (off by default; `export --with-dav`) it also carries iCloud Calendars and
//! Contacts, a `com.apple.caldav.account` and a `com.apple.carddav.account` payload (keys as in Apple's
//! device-management schema): the service host, port 443 with SSL, the primary iCloud address, and the principal
//! URL a connection test found, when one did. A Mac or iPhone signed in to the same Apple Account syncs these
//! already (a second account would show each calendar twice), so they are for a device signed in to another Apple
//! Account; the payloads' descriptions say so. No password here either: the device asks for it.

use plist::{Dictionary, Value};

use super::{file_stem, render_failed, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::facts::Facts;
use crate::provider::{Endpoint, Security};

pub struct AppleMobileconfig;

/// The app's bundle identifier, the reverse-DNS root of every identifier in the profile.
pub const IDENTIFIER_ROOT: &str = "app.icloudmailsetup.wizard";

/// `app.icloudmailsetup.wizard.mail.<domain>.<name part>`: stable for an address, unique per address. The name part
/// keeps `a-z` and `0-9`; every other byte becomes `-` and two hex digits (so `-` itself is `-2d`), which keeps
/// the identifier within reverse-DNS characters and two different addresses apart.
pub fn profile_identifier(account: &Account) -> String {
    let mut local = String::new();
    for b in account.address.local_part.to_ascii_lowercase().bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            local.push(b as char);
        } else {
            local.push_str(&format!("-{b:02x}"));
        }
    }
    format!("{IDENTIFIER_ROOT}.mail.{}.{local}", account.address.domain)
}

/// The server keys of a CalDAV or CardDAV payload (`kind` is the keys' prefix, `CalDAV` or `CardDAV`).
fn dav_payload(kind: &str, endpoint: &Endpoint, username: &str, principal: Option<String>) -> Dictionary {
    let mut dav = Dictionary::new();
    dav.insert(format!("{kind}HostName"), endpoint.host.clone().into());
    dav.insert(format!("{kind}Port"), Value::Integer(endpoint.port.into()));
    dav.insert(format!("{kind}UseSSL"), Value::Boolean(endpoint.security == Security::Tls));
    dav.insert(format!("{kind}Username"), username.to_owned().into());
    if let Some(principal) = principal {
        dav.insert(format!("{kind}PrincipalURL"), principal.into());
    }
    dav
}

fn fresh_uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase()
}

impl Exporter for AppleMobileconfig {
    fn format(&self) -> ExportFormat {
        ExportFormat::AppleMobileconfig
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}.mobileconfig", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let imap = &account.provider.imap;
        let smtp = &account.provider.smtp;
        let address = &account.address.address;
        let identifier = profile_identifier(account);
        // System Settings (and an iPhone's Settings) show these words while the profile is installed and in the
        // account list afterwards: they are in the language the file was saved in.
        let words = |key: &str| options.lang.text(key, &Facts { address: Some(address.clone()), ..Facts::default() });

        let mut mail = Dictionary::new();
        mail.insert("EmailAccountDescription".into(), words("mobileconfig.account_name").into());
        if let Some(name) = &account.display_name {
            mail.insert("EmailAccountName".into(), name.clone().into());
        }
        mail.insert("EmailAccountType".into(), "EmailTypeIMAP".into());
        mail.insert("EmailAddress".into(), address.clone().into());
        mail.insert("IncomingMailServerAuthentication".into(), "EmailAuthPassword".into());
        mail.insert("IncomingMailServerHostName".into(), imap.host.clone().into());
        mail.insert("IncomingMailServerPortNumber".into(), Value::Integer(imap.port.into()));
        mail.insert("IncomingMailServerUseSSL".into(), Value::Boolean(imap.security == Security::Tls));
        mail.insert("IncomingMailServerUsername".into(), account.imap_username().into());
        mail.insert("OutgoingMailServerAuthentication".into(), "EmailAuthPassword".into());
        mail.insert("OutgoingMailServerHostName".into(), smtp.host.clone().into());
        mail.insert("OutgoingMailServerPortNumber".into(), Value::Integer(smtp.port.into()));
        // Apple's "Use SSL" on the submission port is STARTTLS, as Apple's own iCloud settings use it.
        mail.insert("OutgoingMailServerUseSSL".into(), Value::Boolean(true));
        mail.insert("OutgoingMailServerUsername".into(), account.smtp_username().into());
        mail.insert("OutgoingPasswordSameAsIncomingPassword".into(), Value::Boolean(true));
        mail.insert("PayloadDescription".into(), words("mobileconfig.mail_description").into());
        mail.insert("PayloadDisplayName".into(), "iCloud Mail".into());
        mail.insert("PayloadIdentifier".into(), format!("{identifier}.account").into());
        mail.insert("PayloadType".into(), "com.apple.mail.managed".into());
        mail.insert("PayloadUUID".into(), fresh_uuid().into());
        mail.insert("PayloadVersion".into(), Value::Integer(1.into()));

        let mut content = vec![Value::Dictionary(mail)];
        if options.with_dav {
            let caldav_principal = account.dav.caldav.as_ref().map(|f| f.service.principal.clone());
            let carddav_principal = account.dav.carddav.as_ref().map(|f| f.service.principal.clone());
            for (kind, endpoint, principal) in
                [("CalDAV", &account.provider.caldav, caldav_principal), ("CardDAV", &account.provider.carddav, carddav_principal)]
            {
                let id = kind.to_ascii_lowercase();
                let mut dav = dav_payload(kind, endpoint, &account.login.address, principal);
                dav.insert(format!("{kind}AccountDescription"), words(&format!("mobileconfig.{id}_name")).into());
                dav.insert("PayloadDescription".into(), words(&format!("mobileconfig.{id}_description")).into());
                dav.insert("PayloadDisplayName".into(), words(&format!("mobileconfig.{id}_name")).into());
                dav.insert("PayloadIdentifier".into(), format!("{identifier}.{id}").into());
                dav.insert("PayloadType".into(), format!("com.apple.{id}.account").into());
                dav.insert("PayloadUUID".into(), fresh_uuid().into());
                dav.insert("PayloadVersion".into(), Value::Integer(1.into()));
                content.push(Value::Dictionary(dav));
            }
        }

        let mut profile = Dictionary::new();
        profile.insert("PayloadContent".into(), Value::Array(content));
        profile.insert("PayloadDescription".into(), words("mobileconfig.profile_description").into());
        profile.insert("PayloadDisplayName".into(), words("mobileconfig.account_name").into());
        profile.insert("PayloadIdentifier".into(), identifier.into());
        profile.insert("PayloadType".into(), "Configuration".into());
        profile.insert("PayloadUUID".into(), fresh_uuid().into());
        profile.insert("PayloadVersion".into(), Value::Integer(1.into()));

        let mut bytes = Vec::new();
        plist::to_writer_xml(&mut bytes, &Value::Dictionary(profile)).map_err(|e| render_failed(self.format(), account, &e))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    fn identifier(address: &str, login: Option<&str>) -> String {
        let account = Account::new(Address::parse(address).unwrap(), login.map(|l| Address::parse(l).unwrap()), None).unwrap();
        profile_identifier(&account)
    }

    #[test]
    fn identifiers_are_stable_reverse_dns_and_keep_addresses_apart() {
        assert_eq!(identifier("jane.doe@icloud.com", None), "app.icloudmailsetup.wizard.mail.icloud.com.jane-2edoe");
        assert_eq!(identifier("jane.doe@icloud.com", None), identifier("Jane.Doe@iCloud.com", None));
        assert_ne!(identifier("a-b@icloud.com", None), identifier("a_b@icloud.com", None));
        assert_ne!(identifier("a.b@family.example", Some("x@icloud.com")), identifier("a@b.family.example", Some("x@icloud.com")));
        let id = identifier("o'neil+x@family.example", Some("x@icloud.com"));
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'), "{id}");
    }
}
