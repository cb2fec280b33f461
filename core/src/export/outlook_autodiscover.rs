//! Outlook's Autodiscover "POX" response for an IMAP + SMTP account (experimental: current Outlook builds are
//! Exchange-centric and may ignore it). Used together with `outlook_reg`, which points Outlook at this file.

use quick_xml::Writer;

use super::xml::{self, text};
use super::{ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::{Endpoint, Security};

pub struct OutlookAutodiscover;

pub(crate) const RESPONSE_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
pub(crate) const OUTLOOK_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The file name, also the default the `.reg` file points at: one file per domain, as Outlook looks it up.
pub(crate) fn autodiscover_file_name(account: &Account) -> String {
    format!("autodiscover-{}.xml", account.address.domain)
}

impl Exporter for OutlookAutodiscover {
    fn format(&self) -> ExportFormat {
        ExportFormat::OutlookAutodiscover
    }


    fn experimental(&self) -> bool {
        true
    }

    fn file_name(&self, account: &Account) -> String {
        autodiscover_file_name(account)
    }

    fn render(&self, account: &Account, _options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        xml::document(self.format(), account, "utf-8", |w| {
        w.create_element("Autodiscover").with_attribute(("xmlns", RESPONSE_SCHEMA)).write_inner_content(|w| {
            w.create_element("Response").with_attribute(("xmlns", OUTLOOK_SCHEMA)).write_inner_content(|w| {
                w.create_element("User").write_inner_content(|w| {
                    if let Some(name) = &account.display_name {
                        text(w, "DisplayName", name)?;
                    }
                    text(w, "AutoDiscoverSMTPAddress", &account.address.address)?;
                    Ok(())
                })?;
                w.create_element("Account").write_inner_content(|w| {
                    text(w, "AccountType", "email")?;
                    text(w, "Action", "settings")?;
                    protocol(w, "IMAP", &account.provider.imap, &account.imap_username())?;
                    protocol(w, "SMTP", &account.provider.smtp, &account.smtp_username())?;
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


fn protocol(w: &mut Writer<Vec<u8>>, kind: &str, endpoint: &Endpoint, login: &str) -> std::io::Result<()> {
    w.create_element("Protocol").write_inner_content(|w| {
        text(w, "Type", kind)?;
        text(w, "Server", &endpoint.host)?;
        text(w, "Port", &endpoint.port.to_string())?;
        text(w, "LoginName", login)?;
        text(w, "DomainRequired", "off")?;
        text(w, "SPA", "off")?;
        // `SSL` means TLS from the first byte; STARTTLS is `Encryption` TLS (Outlook 2010 and later), with SSL off
        // so that older readers do not try TLS-first on the submission port.
        match endpoint.security {
            Security::Tls => {
                text(w, "SSL", "on")?;
                text(w, "Encryption", "SSL")?;
            }
            Security::Starttls => {
                text(w, "SSL", "off")?;
                text(w, "Encryption", "TLS")?;
            }
        }
        text(w, "AuthRequired", "on")?;
        if kind == "SMTP" {
            text(w, "UsePOPAuth", "off")?;
            text(w, "SMTPLast", "off")?;
        }
        Ok(())
    })?;
    Ok(())
}
