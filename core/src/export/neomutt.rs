//! NeoMutt (`neomuttrc`): IMAP over TLS, SMTP with STARTTLS required, the password from the keychain by backtick
//! command substitution (run once when NeoMutt reads the file).
//!
//! Quoting (`neomutt_string`): NeoMutt has its own config syntax and no crate writes it. In a double-quoted
//! string NeoMutt treats `\` as an escape (`\n`, `\c`, octal…), expands `$VAR` and runs `` `command` ``; so those
//! four characters are escaped with a backslash, which makes each stand for itself. Control characters never get
//! here (`Account::new` refuses them in names; hosts and addresses cannot hold them).
//!
//! Folders (`neomutt_mailbox`): NeoMutt reads `+Name` as `$folder` followed by the name and parses the result as an
//! IMAP URL, whose path it percent-decodes and which its URL pattern refuses when it holds `"`, `#`, `?`, `\`, `^`
//! and the like. So every byte of a folder name but letters, digits, blanks and `._-~/` and the server's
//! delimiter is written percent-encoded; NeoMutt decodes it back and sends the name to the server in modified
//! UTF-7 itself.

use super::{file_stem, url_host, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::Security;

pub struct Neomutt;

/// A NeoMutt double-quoted string whose value is exactly `value`.
pub fn neomutt_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A folder of the account's IMAP server, relative to `$folder`: `+` and the name, percent-encoded where NeoMutt's
/// URL parsing would change it.
pub fn neomutt_mailbox(name: &str, delimiter: Option<&str>) -> String {
    let delimiter = delimiter.and_then(|d| d.bytes().next()).filter(u8::is_ascii_punctuation);
    let mut out = String::from("+");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b" ._-~/".contains(&b) || Some(b) == delimiter && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A NeoMutt string whose value is the output of the shell command `command` (which holds no backtick).
fn neomutt_command_output(command: &str) -> String {
    debug_assert!(!command.contains('`'));
    format!("\"`{command}`\"")
}

impl Exporter for Neomutt {
    fn format(&self) -> ExportFormat {
        ExportFormat::Neomutt
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}.neomuttrc", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let imap = &account.provider.imap;
        let smtp = &account.provider.smtp;
        let password = neomutt_command_output(&options.password_command.shell_command(&account.login.address));
        let imap_scheme = if imap.security == Security::Tls { "imaps" } else { "imap" };
        let smtp_scheme = if smtp.security == Security::Tls { "smtps" } else { "smtp" };
        let mut lines = vec![
            format!("# NeoMutt settings for iCloud Mail ({}), made by iCloud Mail Setup.", account.address.address),
            "# The password is read from the keychain by the command below; this file holds none.".to_owned(),
        ];
        lines.extend(options.password_command.comment_lines());
        let mut set = |name: &str, value: String| lines.push(format!("set {name} = {value}"));
        if let Some(name) = &account.display_name {
            set("realname", neomutt_string(name));
        }
        set("from", neomutt_string(&account.address.address));
        set("folder", neomutt_string(&format!("{imap_scheme}://{}:{}/", url_host(&imap.host), imap.port)));
        let folders = &account.folders;
        let mailbox = |name: &str| neomutt_string(&neomutt_mailbox(name, folders.delimiter.as_deref()));
        set("spoolfile", mailbox(folders.inbox.as_deref().unwrap_or("INBOX")));
        // A role the server has no folder for is left to NeoMutt's own default.
        for (variable, folder) in [("record", &folders.sent), ("postponed", &folders.drafts), ("trash", &folders.trash)] {
            if let Some(name) = folder {
                set(variable, mailbox(name));
            }
        }
        set("imap_user", neomutt_string(&account.imap_username()));
        set("imap_pass", password.clone());
        set("smtp_url", neomutt_string(&format!("{smtp_scheme}://{}:{}/", url_host(&smtp.host), smtp.port)));
        set("smtp_user", neomutt_string(&account.smtp_username()));
        set("smtp_pass", password);
        // STARTTLS where the server offers it, and never a connection without TLS.
        set("ssl_starttls", "yes".to_owned());
        set("ssl_force_tls", "yes".to_owned());
        if let Some(ca) = &options.ca_file {
            set("ssl_ca_certificates_file", neomutt_string(ca));
        }
        let mut text = lines.join("\n");
        text.push('\n');
        Ok(text.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_survive_neomutts_url_parsing() {
        assert_eq!(neomutt_mailbox("Sent Messages", Some("/")), "+Sent Messages");
        assert_eq!(neomutt_mailbox("INBOX.Sent", Some(".")), "+INBOX.Sent");
        assert_eq!(neomutt_mailbox("Work/2024", Some("/")), "+Work/2024");
        assert_eq!(neomutt_mailbox(r#"a"b#c?d%e\f^g'h"#, Some("/")), "+a%22b%23c%3Fd%25e%5Cf%5Eg%27h");
        assert_eq!(neomutt_mailbox("Entwürfe", None), "+Entw%C3%BCrfe");
        assert_eq!(neomutt_mailbox("100%", Some("%")), "+100%25", "a % is always encoded");
        // Inside NeoMutt's double-quoted string, nothing of it needs escaping but what neomutt_string escapes.
        assert_eq!(neomutt_string(&neomutt_mailbox("$HOME `id`", Some("/"))), r#""+%24HOME %60id%60""#);
    }

    #[test]
    fn special_characters_stand_for_themselves() {
        assert_eq!(neomutt_string("plain"), "\"plain\"");
        assert_eq!(neomutt_string(r#"a"b\c`d$e"#), r#""a\"b\\c\`d\$e""#);
        assert_eq!(neomutt_string("Müller #1 ^x"), "\"Müller #1 ^x\"");
    }
}
