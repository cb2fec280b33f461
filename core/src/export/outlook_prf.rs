//! Classic Outlook for Windows: a PRF profile file for `outlook.exe /importprf FILE`, in the seven-section layout
//! the Office Customization Tool (OCT) writes, with the IMAP account in section 5 and the mapping sections 6 and 7
//! as OCT emits them ("DO NOT MODIFY": they map each key to its MAPI property).
//!
//! Syntax: a Windows INI file, read by the Windows profile-string API. That API knows no escapes; it trims blanks
//! and drops one pair of matching quotes around a value. So a value that would lose something that way is wrapped
//! in one more pair of double quotes (`ini_value`), and the file is UTF-16LE with a byte-order mark, which the API
//! reads as Unicode (an 8-bit file would be read in the computer's ANSI code page, which cannot hold most names).

use ini::{EscapePolicy, Ini, LineSeparator, WriteOption};

use super::{file_stem, render_failed, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::Security;

pub struct OutlookPrf;

impl Exporter for OutlookPrf {
    fn format(&self) -> ExportFormat {
        ExportFormat::OutlookPrf
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}.prf", file_stem(account))
    }

    fn render(&self, account: &Account, _options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let imap = &account.provider.imap;
        let smtp = &account.provider.smtp;
        let mut prf = Ini::new();
        // Section 1: add to the default profile if there is one (Append), else create "Outlook"; no "Backup of" copy.
        prf.with_section(Some("General"))
            .set("Custom", "1")
            .set("ProfileName", "Outlook")
            .set("DefaultProfile", "Yes")
            .set("OverwriteProfile", "Append")
            .set("ModifyDefaultProfileIfPresent", "TRUE")
            .set("BackupProfile", "No");
        // Section 2: no MAPI services; an IMAP account brings its own data file.
        prf.entry(Some("Service List".to_owned())).or_insert_with(Default::default);
        // Section 3.
        prf.with_section(Some("Internet Account List")).set("Account1", "IMAP_I_Mail");
        // Section 5: the account. IMAP with TLS from the first byte; SMTP with its own login (SMTPAuthMethod 1,
        // since the SMTP username differs from the IMAP one) and SMTPSecureConnection 2 = STARTTLS.
        let display_name = account.display_name.as_deref().unwrap_or(&account.address.address);
        prf.with_section(Some("Account1"))
            .set("UniqueService", "No")
            .set("AccountName", ini_value(&account.address.address))
            .set("DisplayName", ini_value(display_name))
            .set("EmailAddress", ini_value(&account.address.address))
            .set("IMAPServer", ini_value(&imap.host))
            .set("IMAPUserName", ini_value(&account.imap_username()))
            .set("IMAPUseSPA", "0")
            .set("IMAPPort", imap.port.to_string())
            .set("IMAPUseSSL", if imap.security == Security::Tls { "1" } else { "0" })
            .set("SMTPServer", ini_value(&smtp.host))
            .set("SMTPUseAuth", "1")
            .set("SMTPAuthMethod", "1")
            .set("SMTPUserName", ini_value(&account.smtp_username()))
            .set("SMTPUseSPA", "0")
            .set("SMTPPort", smtp.port.to_string())
            .set(
                "SMTPSecureConnection",
                match smtp.security {
                    Security::Tls => "1",
                    Security::Starttls => "2",
                },
            );
        for (section, mappings) in SECTION_6.iter().chain(SECTION_7) {
            let props = prf.entry(Some((*section).to_owned())).or_insert_with(Default::default);
            for (key, value) in *mappings {
                // `append`, not `insert`: OCT's IMAP block repeats some keys (its old HTTP-mail part).
                props.append(*key, *value);
            }
        }

        let mut text = String::from(
            "; Outlook profile for iCloud Mail, made by iCloud Mail Setup. Import it with: outlook.exe /importprf <this file>\r\n\
             ; Outlook asks for the app-specific password when it first connects; this file holds no password.\r\n\r\n",
        );
        let mut body = Vec::new();
        let options = WriteOption { escape_policy: EscapePolicy::Nothing, line_separator: LineSeparator::CRLF, kv_separator: "=" };
        prf.write_to_opt(&mut body, options).map_err(|e| render_failed(self.format(), account, &e))?;
        text.push_str(&String::from_utf8(body).map_err(|e| render_failed(self.format(), account, &e))?);
        Ok(utf16le_with_bom(&text))
    }
}

/// A value as the Windows profile-string API will read it back: wrapped in double quotes when the API would
/// otherwise trim its blanks or drop its own surrounding quotes (or, for other INI readers, a trailing `\`).
pub(crate) fn ini_value(value: &str) -> String {
    let first = value.chars().next();
    let last = value.chars().last();
    let loses_blanks = first.is_some_and(char::is_whitespace) || last.is_some_and(char::is_whitespace);
    // Not lost by Windows, but many INI readers join a line ending in `\` with the next: quoted, it cannot end so.
    let continues = last == Some('\\');
    let loses_quotes = value.chars().count() >= 2 && first == last && matches!(first, Some('"') | Some('\''));
    if loses_blanks || loses_quotes || continues { format!("\"{value}\"") } else { value.to_owned() }
}

/// What the profile-string API returns for a raw value: blanks trimmed, then one pair of matching quotes dropped.
/// The inverse of `ini_value`; tests and readers use it.
pub fn read_ini_value(raw: &str) -> String {
    let trimmed = raw.trim();
    let mut chars = trimmed.chars();
    match (chars.next(), trimmed.chars().last()) {
        (Some(a), Some(b)) if trimmed.chars().count() >= 2 && a == b && (a == '"' || a == '\'') => trimmed[1..trimmed.len() - 1].to_owned(),
        _ => trimmed.to_owned(),
    }
}

pub(crate) fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

type MappingSection = (&'static str, &'static [(&'static str, &'static str)]);

/// Section 6 - Mapping for profile properties (OCT output).
const SECTION_6: &[MappingSection] = &[
    (
        "Microsoft Exchange Server",
        &[
            ("ServiceName", "MSEMS"),
            ("MDBGUID", "5494A1C0297F101BA58708002B2A2517"),
            ("MailboxName", "PT_STRING8,0x6607"),
            ("HomeServer", "PT_STRING8,0x6608"),
            ("OfflineAddressBookPath", "PT_STRING8,0x660E"),
            ("OfflineFolderPathAndFilename", "PT_STRING8,0x6610"),
        ],
    ),
    (
        "Exchange Global Section",
        &[
            ("SectionGUID", "13dbb0c8aa05101a9bb000aa002fc45a"),
            ("MailboxName", "PT_STRING8,0x6607"),
            ("HomeServer", "PT_STRING8,0x6608"),
            ("ConfigFlags", "PT_LONG,0x6601"),
            ("RPCoverHTTPflags", "PT_LONG,0x6623"),
            ("RPCProxyServer", "PT_UNICODE,0x6622"),
            ("RPCProxyPrincipalName", "PT_UNICODE,0x6625"),
            ("RPCProxyAuthScheme", "PT_LONG,0x6627"),
            ("AccountName", "PT_UNICODE,0x6620"),
        ],
    ),
    (
        "Microsoft Mail",
        &[
            ("ServiceName", "MSFS"),
            ("ServerPath", "PT_STRING8,0x6600"),
            ("Mailbox", "PT_STRING8,0x6601"),
            ("Password", "PT_STRING8,0x67f0"),
            ("RememberPassword", "PT_BOOLEAN,0x6606"),
            ("ConnectionType", "PT_LONG,0x6603"),
            ("UseSessionLog", "PT_BOOLEAN,0x6604"),
            ("SessionLogPath", "PT_STRING8,0x6605"),
            ("EnableUpload", "PT_BOOLEAN,0x6620"),
            ("EnableDownload", "PT_BOOLEAN,0x6621"),
            ("UploadMask", "PT_LONG,0x6622"),
            ("NetBiosNotification", "PT_BOOLEAN,0x6623"),
            ("NewMailPollInterval", "PT_STRING8,0x6624"),
            ("DisplayGalOnly", "PT_BOOLEAN,0x6625"),
            ("UseHeadersOnLAN", "PT_BOOLEAN,0x6630"),
            ("UseLocalAdressBookOnLAN", "PT_BOOLEAN,0x6631"),
            ("UseExternalToHelpDeliverOnLAN", "PT_BOOLEAN,0x6632"),
            ("UseHeadersOnRAS", "PT_BOOLEAN,0x6640"),
            ("UseLocalAdressBookOnRAS", "PT_BOOLEAN,0x6641"),
            ("UseExternalToHelpDeliverOnRAS", "PT_BOOLEAN,0x6639"),
            ("ConnectOnStartup", "PT_BOOLEAN,0x6642"),
            ("DisconnectAfterRetrieveHeaders", "PT_BOOLEAN,0x6643"),
            ("DisconnectAfterRetrieveMail", "PT_BOOLEAN,0x6644"),
            ("DisconnectOnExit", "PT_BOOLEAN,0x6645"),
            ("DefaultDialupConnectionName", "PT_STRING8,0x6646"),
            ("DialupRetryCount", "PT_STRING8,0x6648"),
            ("DialupRetryDelay", "PT_STRING8,0x6649"),
        ],
    ),
    (
        "Personal Folders",
        &[
            ("ServiceName", "MSPST MS"),
            ("Name", "PT_STRING8,0x3001"),
            ("PathAndFilenameToPersonalFolders", "PT_STRING8,0x6700"),
            ("RememberPassword", "PT_BOOLEAN,0x6701"),
            ("EncryptionType", "PT_LONG,0x6702"),
            ("Password", "PT_STRING8,0x6703"),
        ],
    ),
    (
        "Unicode Personal Folders",
        &[
            ("ServiceName", "MSUPST MS"),
            ("Name", "PT_UNICODE,0x3001"),
            ("PathAndFilenameToPersonalFolders", "PT_STRING8,0x6700"),
            ("RememberPassword", "PT_BOOLEAN,0x6701"),
            ("EncryptionType", "PT_LONG,0x6702"),
            ("Password", "PT_STRING8,0x6703"),
        ],
    ),
    ("Outlook Address Book", &[("ServiceName", "CONTAB")]),
    (
        "LDAP Directory",
        &[
            ("ServiceName", "EMABLT"),
            ("ServerName", "PT_STRING8,0x6600"),
            ("UserName", "PT_STRING8,0x6602"),
            ("UseSSL", "PT_BOOLEAN,0x6613"),
            ("UseSPA", "PT_BOOLEAN,0x6615"),
            ("EnableBrowsing", "PT_BOOLEAN,0x6622"),
            ("DisplayName", "PT_STRING8,0x3001"),
            ("ConnectionPort", "PT_STRING8,0x6601"),
            ("SearchTimeout", "PT_STRING8,0x6607"),
            ("MaxEntriesReturned", "PT_STRING8,0x6608"),
            ("SearchBase", "PT_STRING8,0x6603"),
            ("CheckNames", "PT_STRING8,0x6624"),
            ("DefaultSearch", "PT_LONG,0x6623"),
        ],
    ),
    (
        "Microsoft Outlook Client",
        &[
            ("SectionGUID", "0a0d020000000000c000000000000046"),
            ("FormDirectoryPage", "PT_STRING8,0x0270"),
            ("WebServicesLocation", "PT_STRING8,0x0271"),
            ("ComposeWithWebServices", "PT_BOOLEAN,0x0272"),
            ("PromptWhenUsingWebServices", "PT_BOOLEAN,0x0273"),
            ("OpenWithWebServices", "PT_BOOLEAN,0x0274"),
            ("CachedExchangeMode", "PT_LONG,0x041f"),
            ("CachedExchangeSlowDetect", "PT_BOOLEAN,0x0420"),
        ],
    ),
    (
        "Personal Address Book",
        &[
            ("ServiceName", "MSPST AB"),
            ("NameOfPAB", "PT_STRING8,0x001e3001"),
            ("PathAndFilename", "PT_STRING8,0x001e6600"),
            ("ShowNamesBy", "PT_LONG,0x00036601"),
        ],
    ),
];

/// Section 7 - Mapping for internet account properties (OCT output; property ids as in Microsoft's
/// account-management API: 0x0100 PROP_INET_SERVER, 0x0105 PROP_INET_SSL, 0x020A PROP_SMTP_SECURE_CONNECTION, …).
const SECTION_7: &[MappingSection] = &[
    (
        "I_Mail",
        &[
            ("AccountType", "POP3"),
            ("AccountName", "PT_UNICODE,0x0002"),
            ("DisplayName", "PT_UNICODE,0x000B"),
            ("EmailAddress", "PT_UNICODE,0x000C"),
            ("POP3Server", "PT_UNICODE,0x0100"),
            ("POP3UserName", "PT_UNICODE,0x0101"),
            ("POP3UseSPA", "PT_LONG,0x0108"),
            ("Organization", "PT_UNICODE,0x0107"),
            ("ReplyEmailAddress", "PT_UNICODE,0x0103"),
            ("POP3Port", "PT_LONG,0x0104"),
            ("POP3UseSSL", "PT_LONG,0x0105"),
            ("SMTPServer", "PT_UNICODE,0x0200"),
            ("SMTPUseAuth", "PT_LONG,0x0203"),
            ("SMTPAuthMethod", "PT_LONG,0x0208"),
            ("SMTPUserName", "PT_UNICODE,0x0204"),
            ("SMTPUseSPA", "PT_LONG,0x0207"),
            ("ConnectionType", "PT_LONG,0x000F"),
            ("ConnectionOID", "PT_UNICODE,0x0010"),
            ("SMTPPort", "PT_LONG,0x0201"),
            ("SMTPSecureConnection", "PT_LONG,0x020A"),
            ("ServerTimeOut", "PT_LONG,0x0209"),
            ("LeaveOnServer", "PT_LONG,0x1000"),
        ],
    ),
    (
        "IMAP_I_Mail",
        &[
            ("AccountType", "IMAP"),
            ("AccountName", "PT_UNICODE,0x0002"),
            ("DisplayName", "PT_UNICODE,0x000B"),
            ("EmailAddress", "PT_UNICODE,0x000C"),
            ("IMAPServer", "PT_UNICODE,0x0100"),
            ("IMAPUserName", "PT_UNICODE,0x0101"),
            ("IMAPUseSPA", "PT_LONG,0x0108"),
            ("Organization", "PT_UNICODE,0x0107"),
            ("ReplyEmailAddress", "PT_UNICODE,0x0103"),
            ("IMAPPort", "PT_LONG,0x0104"),
            ("IMAPUseSSL", "PT_LONG,0x0105"),
            ("SMTPServer", "PT_UNICODE,0x0200"),
            ("SMTPUseAuth", "PT_LONG,0x0203"),
            ("SMTPAuthMethod", "PT_LONG,0x0208"),
            ("SMTPUserName", "PT_UNICODE,0x0204"),
            ("SMTPUseSPA", "PT_LONG,0x0207"),
            ("ConnectionType", "PT_LONG,0x000F"),
            ("ConnectionOID", "PT_UNICODE,0x0010"),
            ("SMTPPort", "PT_LONG,0x0201"),
            ("SMTPSecureConnection", "PT_LONG,0x020A"),
            ("ServerTimeOut", "PT_LONG,0x0209"),
            ("CheckNewImap", "PT_LONG,0x1100"),
            ("RootFolder", "PT_UNICODE,0x1101"),
            ("Account", "PT_UNICODE,0x0002"),
            ("HttpServer", "PT_UNICODE,0x0100"),
            ("UserName", "PT_UNICODE,0x0101"),
            ("Organization", "PT_UNICODE,0x0107"),
            ("UseSPA", "PT_LONG,0x0108"),
            ("TimeOut", "PT_LONG,0x0209"),
            ("Reply", "PT_UNICODE,0x0103"),
            ("EmailAddress", "PT_UNICODE,0x000C"),
            ("FullName", "PT_UNICODE,0x000B"),
            ("Connection Type", "PT_LONG,0x000F"),
            ("ConnectOID", "PT_UNICODE,0x0010"),
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_the_windows_profile_api() {
        for value in ["Jane Doe", "\"JD\"", "'x'", "\"", "'", "\"half", "a \"b\" c", " lead", "trail ", "Ünïcødé 💌", ""] {
            assert_eq!(read_ini_value(&ini_value(value)), value, "{value:?}");
        }
        assert_eq!(ini_value("Jane Doe"), "Jane Doe");
        assert_eq!(ini_value("\"JD\""), "\"\"JD\"\"");
    }
}
