//! Thunderbird's autoconfig file (`config-v1.1.xml`, clientConfig 1.1), for admins who host
//! `autoconfig.<domain>/mail/config-v1.1.xml`.
//!
//! Such a file is published for a whole domain, so it holds no person's login: only Thunderbird's placeholders,
//! which say "the name part of the address typed" (`%EMAILLOCALPART%`) and "the address typed"
//! (`%EMAILADDRESS%`). That is right for iCloud addresses that sign in as themselves; an account that signs in
//! with another login (an iCloud+ custom domain, an alias) would need one person's primary iCloud address in a
//! file for everyone, so it is refused (`autoconfig_personal_login`) and pointed at `thunderbird add` and the
//! settings card instead. The login form a connection test found to work picks the placeholder, and SMTP's
//! fallback (465, SSL/TLS) is listed as a second `outgoingServer`, which Thunderbird offers when the first fails.

use quick_xml::events::BytesText;
use quick_xml::Writer;

use super::xml::{self, text};
use super::{ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::provider::{Endpoint, LoginForm, Security, ICLOUD_DOMAINS};

pub struct ThunderbirdAutoconfig;

/// Thunderbird's own placeholders (AccountConfig.sys.mjs).
const EMAIL_LOCAL_PART: &str = "%EMAILLOCALPART%";
const EMAIL_ADDRESS: &str = "%EMAILADDRESS%";

impl Exporter for ThunderbirdAutoconfig {
    fn format(&self) -> ExportFormat {
        ExportFormat::ThunderbirdAutoconfig
    }


    fn file_name(&self, _account: &Account) -> String {
        "config-v1.1.xml".to_owned()
    }

    fn render(&self, account: &Account, _options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        if !(account.address.is_icloud() && account.login == account.address) {
            let facts = Facts {
                domain: Some(account.address.domain_unicode.clone()),
                address: Some(account.address.address.clone()),
                username: Some(account.login.address.clone()),
                ..Facts::default()
            };
            let why = "an autoconfig file serves a whole domain and cannot carry one person's login";
            return Err(Diagnosis::new(DiagnosisKind::AutoconfigPersonalLogin, facts, Some(why.into())));
        }
        let placeholder = |form: Option<&LoginForm>| match form {
            Some(LoginForm::FullAddress) => EMAIL_ADDRESS,
            _ => EMAIL_LOCAL_PART,
        };
        let imap_user = placeholder(account.provider.imap_login_forms.first());
        let smtp_user = placeholder(account.provider.smtp_login_forms.first());
        let mut outgoing = vec![&account.provider.smtp];
        outgoing.extend(account.provider.smtp_fallback.as_ref());

        xml::document(self.format(), account, "UTF-8", |w| {
        w.create_element("clientConfig").with_attribute(("version", "1.1")).write_inner_content(|w| {
            w.create_element("emailProvider").with_attribute(("id", account.address.domain.as_str())).write_inner_content(|w| {
                for domain in ICLOUD_DOMAINS {
                    text(w, "domain", domain)?;
                }
                text(w, "displayName", "iCloud Mail")?;
                text(w, "displayShortName", "iCloud")?;
                server(w, "incomingServer", "imap", &account.provider.imap, imap_user)?;
                for endpoint in &outgoing {
                    server(w, "outgoingServer", "smtp", endpoint, smtp_user)?;
                }
                w.create_element("documentation").with_attribute(("url", "https://support.apple.com/102525")).write_inner_content(|w| {
                    w.create_element("descr").with_attribute(("lang", "en")).write_text_content(BytesText::new(
                        "iCloud Mail server settings. Sign in with an app-specific password.",
                    ))?;
                    Ok(())
                })?;
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(())
        })
    }
}

fn server(w: &mut Writer<Vec<u8>>, element: &str, kind: &str, endpoint: &Endpoint, username: &str) -> std::io::Result<()> {
    w.create_element(element).with_attribute(("type", kind)).write_inner_content(|w| {
        text(w, "hostname", &endpoint.host)?;
        text(w, "port", &endpoint.port.to_string())?;
        text(w, "socketType", socket_type(endpoint.security))?;
        text(w, "username", username)?;
        text(w, "authentication", "password-cleartext")?;
        Ok(())
    })?;
    Ok(())
}

/// clientConfig's names: `SSL` is TLS from the first byte.
fn socket_type(security: Security) -> &'static str {
    match security {
        Security::Tls => "SSL",
        Security::Starttls => "STARTTLS",
    }
}
