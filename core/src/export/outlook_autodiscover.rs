//! Outlook's Autodiscover "POX" response for an IMAP + SMTP account (experimental: current Outlook builds are
//! Exchange-centric and may ignore it). Used together with `outlook_reg`, which points Outlook at this file.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{render_failed, ExportFormat, ExportOptions, Exporter};
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
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        let result: std::io::Result<()> = (|| {
            w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
            w.create_element("Autodiscover").with_attribute(("xmlns", RESPONSE_SCHEMA)).write_inner_content(|w| {
                w.create_element("Response").with_attribute(("xmlns", OUTLOOK_SCHEMA)).write_inner_content(|w| {
                    w.create_element("User").write_inner_content(|w| {
                        if let Some(name) = &account.display_name {
                            w.create_element("DisplayName").write_text_content(BytesText::new(name))?;
                        }
                        w.create_element("AutoDiscoverSMTPAddress").write_text_content(BytesText::new(&account.address.address))?;
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
        })();
        result.map_err(|e| render_failed(self.format(), account, &e))?;
        let mut bytes = w.into_inner();
        bytes.push(b'\n');
        Ok(bytes)
    }
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(value))?;
    Ok(())
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
