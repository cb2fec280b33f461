//! Thunderbird's autoconfig file (`config-v1.1.xml`, clientConfig 1.1), for admins who host
//! `autoconfig.<domain>` and for custom domains, where Thunderbird's own lookup would guess the wrong login.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{render_failed, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::{Endpoint, Security, ICLOUD_DOMAINS};

pub struct ThunderbirdAutoconfig;

/// Thunderbird's own placeholders (AccountConfig.sys.mjs), used where they give the right login.
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
        // For an iCloud address that signs in as itself, the placeholders say the same as Thunderbird's ISPDB entry
        // and serve every address of the three domains; otherwise (custom domains, another login) the file names
        // the primary iCloud login explicitly, because Thunderbird's MX fallback would use the custom name part.
        let generic = account.address.is_icloud() && account.login == account.address;
        let domains: Vec<&str> = if generic { ICLOUD_DOMAINS.to_vec() } else { vec![account.address.domain.as_str()] };
        let (imap_user, smtp_user) =
            if generic { (EMAIL_LOCAL_PART.to_owned(), EMAIL_ADDRESS.to_owned()) } else { (account.imap_username(), account.smtp_username()) };
        let display_name = if generic { "iCloud Mail".to_owned() } else { format!("iCloud Mail ({})", account.address.domain_unicode) };

        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        let result: std::io::Result<()> = (|| {
            w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            w.create_element("clientConfig").with_attribute(("version", "1.1")).write_inner_content(|w| {
                w.create_element("emailProvider").with_attribute(("id", account.address.domain.as_str())).write_inner_content(|w| {
                    for domain in &domains {
                        w.create_element("domain").write_text_content(BytesText::new(domain))?;
                    }
                    w.create_element("displayName").write_text_content(BytesText::new(&display_name))?;
                    w.create_element("displayShortName").write_text_content(BytesText::new("iCloud"))?;
                    server(w, "incomingServer", "imap", &account.provider.imap, &imap_user)?;
                    server(w, "outgoingServer", "smtp", &account.provider.smtp, &smtp_user)?;
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
        })();
        result.map_err(|e| render_failed(self.format(), account, &e))?;
        let mut bytes = w.into_inner();
        bytes.push(b'\n');
        Ok(bytes)
    }
}

fn server(w: &mut Writer<Vec<u8>>, element: &str, kind: &str, endpoint: &Endpoint, username: &str) -> std::io::Result<()> {
    w.create_element(element).with_attribute(("type", kind)).write_inner_content(|w| {
        w.create_element("hostname").write_text_content(BytesText::new(&endpoint.host))?;
        w.create_element("port").write_text_content(BytesText::new(&endpoint.port.to_string()))?;
        w.create_element("socketType").write_text_content(BytesText::new(socket_type(endpoint.security)))?;
        w.create_element("username").write_text_content(BytesText::new(username))?;
        w.create_element("authentication").write_text_content(BytesText::new("password-cleartext"))?;
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
