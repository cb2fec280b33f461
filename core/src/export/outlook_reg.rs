//! A Windows registry file (experimental) that makes Outlook 2016 and later read the local Autodiscover XML
//! (`outlook_autodiscover`) for the address's domain. Written with `regashii` (Regedit 5 syntax, values escaped or
//! hex-encoded by it) as UTF-16LE with a byte-order mark and CRLF lines, as Regedit writes them.
//!
//! Three values under `HKEY_CURRENT_USER\…\Outlook\AutoDiscover`:
//! - `<domain>`: where the XML is, a `REG_EXPAND_SZ` (`hex(2):` in .reg syntax, UTF-16LE) so that the default
//!   `%LOCALAPPDATA%\iCloud Mail Setup\autodiscover-<domain>.xml` becomes the folder of whichever Windows user runs
//!   Outlook. Only that user can write there. A shared folder (`C:\ProgramData`, where every user may create
//!   folders) would let another user of the PC create it first and serve Outlook their own XML: other servers,
//!   which then receive the password.
//! - `PreferLocalXML` = 1 and `ExcludeExplicitO365Endpoint` = 1: these apply to every account in this user's
//!   Outlook, not only this one; the file's comments say so, and how to undo them.

use regashii::{Key, Registry, Value, ValueName};

use super::outlook_autodiscover::autodiscover_file_name;
use super::outlook_prf::utf16le_with_bom;
use super::{ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

pub struct OutlookReg;

pub const AUTODISCOVER_KEY: &str = r"HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover";

/// The folder of the XML when the caller does not say: the user's own local application data, expanded by
/// Windows when Outlook reads the value.
pub const DEFAULT_XML_FOLDER: &str = r"%LOCALAPPDATA%\iCloud Mail Setup";

/// Where the XML is expected when the caller does not say, unexpanded (`%LOCALAPPDATA%\…`).
pub fn default_xml_path(account: &Account) -> String {
    format!(r"{DEFAULT_XML_FOLDER}\{}", autodiscover_file_name(account))
}

/// True for a path Windows reads the same from any folder: `C:\…`, `\\server\share\…`, or one that starts with an
/// environment variable (`%LOCALAPPDATA%\…`, expanded since the value is a `REG_EXPAND_SZ`).
pub fn is_absolute_windows_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && matches!(bytes[2], b'\\' | b'/');
    let unc = path.starts_with(r"\\");
    let variable = path.strip_prefix('%').and_then(|rest| rest.split_once('%')).is_some_and(|(name, _)| !name.is_empty());
    drive || unc || variable
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
        let domain = &account.address.domain;
        let (xml_path, where_note) = match &options.autodiscover_xml_path {
            Some(path) => (path.clone(), "; The path was chosen when this file was made; it should be a folder only you can write to.\n".to_owned()),
            None => (
                default_xml_path(account),
                format!(
                    "; The path is in a folder of your own Windows account, which other users of this computer cannot\n\
                     ; write to (an expandable string: %LOCALAPPDATA% stands for your own local application data):\n\
                     ;   {}\n",
                    default_xml_path(account)
                ),
            ),
        };
        // The path goes only into the value, which regashii writes as UTF-16LE hex (`hex(2):`).
        let key = Key::new()
            .with(ValueName::named("PreferLocalXML"), Value::Dword(1))
            .with(ValueName::named("ExcludeExplicitO365Endpoint"), Value::Dword(1))
            .with(ValueName::named(domain.clone()), Value::ExpandSz(xml_path));
        let registry = Registry::new(regashii::Format::Regedit5).with(AUTODISCOVER_KEY, key);
        let serialized = registry.serialize();
        // Regedit skips lines starting with ';': a note for the person who opens the file before importing it.
        let (header, rest) = serialized.split_once('\n').unwrap_or((&serialized, ""));
        let text = format!(
            "{header}\n\n\
             ; iCloud Mail Setup (experimental): Outlook reads the Autodiscover settings for {domain} from the file\n\
             ; named in the value \"{domain}\" below (written as hex(2), the .reg form of an expandable string).\n\
             ; Copy the autodiscover XML there before importing this file. This file holds no password.\n\
             {where_note}\
             ;\n\
             ; Two of the values apply to every account in your Outlook, not only to {domain}:\n\
             ;   PreferLocalXML=1               Outlook tries a local Autodiscover XML file first, for every address.\n\
             ;   ExcludeExplicitO365Endpoint=1  Outlook no longer asks Microsoft 365 first, for every address;\n\
             ;                                  Microsoft 365 accounts are still found by the usual Autodiscover steps.\n\
             ; To undo them, delete these two values (or set them to 0) in the key below.\n{rest}",
        );
        Ok(utf16le_with_bom(&text.replace('\n', "\r\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    fn registry_values(bytes: &[u8]) -> (String, Vec<(String, Value)>) {
        assert_eq!(&bytes[..2], [0xFF, 0xFE], "UTF-16LE byte-order mark");
        let units: Vec<u16> = bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let text = String::from_utf16(&units).unwrap();
        let registry = Registry::deserialize(&text).unwrap();
        let keys: Vec<&str> = registry.keys().keys().map(|k| k.raw()).collect();
        assert_eq!(keys, [AUTODISCOVER_KEY]);
        let values = registry.keys().values().next().unwrap().values().iter().map(|(n, v)| (n.raw().to_owned(), v.clone())).collect();
        (text, values)
    }

    #[test]
    fn the_xml_path_is_an_expandable_string_in_the_users_own_folder() {
        let account = Account::new(Address::parse("jane@family.example").unwrap(), Some(Address::parse("jane.doe@icloud.com").unwrap()), None).unwrap();
        let bytes = OutlookReg.render(&account, &ExportOptions::default()).unwrap();
        let (text, values) = registry_values(&bytes);
        let expected = r"%LOCALAPPDATA%\iCloud Mail Setup\autodiscover-family.example.xml";
        assert!(values.contains(&("family.example".to_owned(), Value::ExpandSz(expected.to_owned()))), "{values:?}");
        // REG_EXPAND_SZ is type 2: `hex(2):` followed by the UTF-16LE bytes of the path and a terminating NUL.
        let hex: String = expected.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).map(|b| format!("{b:02x}")).collect();
        let value_line = text.split("\"family.example\"=").nth(1).unwrap();
        assert!(value_line.starts_with("hex(2):"), "{text}");
        let written: String = value_line.split("\r\n\r\n").next().unwrap().trim_start_matches("hex(2):").chars().filter(char::is_ascii_hexdigit).collect();
        assert_eq!(written, hex);
        assert!(!text.contains("ProgramData"), "{text}");
    }

    #[test]
    fn the_comments_say_what_the_two_values_do_for_every_account() {
        let account = Account::new(Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let (text, values) = registry_values(&OutlookReg.render(&account, &ExportOptions::default()).unwrap());
        assert!(values.contains(&("PreferLocalXML".to_owned(), Value::Dword(1))));
        assert!(values.contains(&("ExcludeExplicitO365Endpoint".to_owned(), Value::Dword(1))));
        let comments: Vec<&str> = text.lines().filter(|l| l.starts_with(';')).collect();
        let joined = comments.join("\n");
        assert!(joined.contains("every account in your Outlook"), "{joined}");
        assert!(comments.iter().any(|l| l.contains("PreferLocalXML=1")), "{joined}");
        assert!(comments.iter().any(|l| l.contains("ExcludeExplicitO365Endpoint=1")), "{joined}");
        assert!(joined.contains("To undo them"), "{joined}");
    }

    #[test]
    fn absolute_windows_paths_are_recognised() {
        for path in [r"C:\Users\jane\a.xml", "d:/x.xml", r"\\server\share\a.xml", r"%LOCALAPPDATA%\x.xml", r"%USERPROFILE%\x.xml"] {
            assert!(is_absolute_windows_path(path), "{path}");
        }
        for path in ["a.xml", r"folder\a.xml", r"\a.xml", "C:a.xml", "%%a.xml", "%LOCALAPPDATA", ""] {
            assert!(!is_absolute_windows_path(path), "{path}");
        }
    }
}
