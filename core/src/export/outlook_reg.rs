//! A Windows registry file (experimental) that makes Outlook 2016 and later prefer the local Autodiscover XML
//! (`outlook_autodiscover`) for the address's domain: `PreferLocalXML`, the domain → file path value, and
//! `ExcludeExplicitO365Endpoint` so Outlook does not ask Microsoft 365 first. Written with `regashii` (Regedit 5
//! syntax, strings escaped by it) as UTF-16LE with a byte-order mark and CRLF lines, as Regedit writes them.

use regashii::{Key, Registry, Value, ValueName};

use super::outlook_autodiscover::autodiscover_file_name;
use super::outlook_prf::utf16le_with_bom;
use super::{ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

pub struct OutlookReg;

pub const AUTODISCOVER_KEY: &str = r"HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover";

/// Where the XML is expected when the caller does not say: a folder every user may create files in.
pub fn default_xml_path(account: &Account) -> String {
    format!(r"C:\ProgramData\iCloud Mail Setup\{}", autodiscover_file_name(account))
}

impl Exporter for OutlookReg {
    fn format(&self) -> ExportFormat {
        ExportFormat::OutlookReg
    }


    fn experimental(&self) -> bool {
        true
    }

    fn file_name(&self, account: &Account) -> String {
        format!("autodiscover-{}.reg", account.address.domain)
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let xml_path = options.autodiscover_xml_path.clone().unwrap_or_else(|| default_xml_path(account));
        // The path goes only into the value, which regashii escapes (or writes as hex when it cannot be quoted).
        let key = Key::new()
            .with(ValueName::named("PreferLocalXML"), Value::Dword(1))
            .with(ValueName::named("ExcludeExplicitO365Endpoint"), Value::Dword(1))
            .with(ValueName::named(account.address.domain.clone()), Value::Sz(xml_path.clone()));
        let registry = Registry::new(regashii::Format::Regedit5).with(AUTODISCOVER_KEY, key);
        let serialized = registry.serialize();
        // Regedit skips lines starting with ';': a note for the person who opens the file before importing it.
        let (header, rest) = serialized.split_once('\n').unwrap_or((&serialized, ""));
        let text = format!(
            "{header}\n\n; iCloud Mail Setup (experimental): Outlook reads the Autodiscover settings for {domain} from the\n\
             ; file named below. Copy the autodiscover XML there before importing this file. It holds no password.\n{rest}",
            domain = account.address.domain,
        );
        Ok(utf16le_with_bom(&text.replace('\n', "\r\n")))
    }
}
