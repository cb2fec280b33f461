//! NeoMutt (`neomuttrc`): IMAP over TLS, SMTP with STARTTLS required, the password from the keychain by backtick
//! command substitution (run once when NeoMutt reads the file).
//!
//! Quoting (`neomutt_string`): NeoMutt has its own config syntax and no crate writes it. In a double-quoted
//! string NeoMutt treats `\` as an escape (`\n`, `\c`, octal…), expands `$VAR` and runs `` `command` ``; so those
//! four characters are escaped with a backslash, which makes each stand for itself. Control characters never get
//! here (`Account::new` refuses them in names; hosts and addresses cannot hold them).

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
        let mut set = |name: &str, value: String| lines.push(format!("set {name} = {value}"));
        if let Some(name) = &account.display_name {
            set("realname", neomutt_string(name));
        }
        set("from", neomutt_string(&account.address.address));
        set("folder", neomutt_string(&format!("{imap_scheme}://{}:{}/", url_host(&imap.host), imap.port)));
        set("spoolfile", neomutt_string("+INBOX"));
        set("record", neomutt_string("+Sent Messages"));
        set("postponed", neomutt_string("+Drafts"));
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
    fn special_characters_stand_for_themselves() {
        assert_eq!(neomutt_string("plain"), "\"plain\"");
        assert_eq!(neomutt_string(r#"a"b\c`d$e"#), r#""a\"b\\c\`d\$e""#);
        assert_eq!(neomutt_string("Müller #1 ^x"), "\"Müller #1 ^x\"");
    }
}
