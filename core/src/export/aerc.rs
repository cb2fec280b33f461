//! aerc (`accounts.conf`, one INI section per account, read by the Go `go-ini` library): IMAP and SMTP as URLs,
//! passwords from the keychain by `source-cred-cmd` / `outgoing-cred-cmd`.
//!
//! Quoting, per layer, each for a reason:
//! - URLs are built with the `url` crate, which percent-encodes the username (`@` → `%40`), as aerc requires.
//! - The sender is an RFC 5322 mailbox that aerc parses with Go's `net/mail`. A name of letters, digits and single
//!   spaces is written as it is; any other name as RFC 2047 encoded words (`=?UTF-8?B?…?=`, base64), which
//!   `net/mail` decodes and which can hold any text — quotes, `#`, `;`, backslashes, any script.
//! - go-ini cuts a plain value at `#` or `;` (comments), drops one pair of enclosing quotes and joins a line that
//!   ends in `\` with the next. A value that could meet any of these is enclosed in backticks, which go-ini reads
//!   verbatim up to the last backtick on the line (`go_ini_value`); no crate writes go-ini's dialect.
//!
//! Versions: Debian 12 ships aerc 0.14, which refuses to send over `smtp://` to a server offering STARTTLS unless
//! `smtp-starttls = yes` is set; aerc 0.15 and later always use STARTTLS for `smtp://`, ignore that setting and
//! show a notice that it is deprecated. So a STARTTLS server gets the line, and a comment saying it may go on
//! 0.15+. `copy-to` is a comma-separated list since aerc 0.20 (a `\,` in it is a comma of the name) and one name
//! before: a Sent folder whose name holds `,`, `\` or outer blanks cannot be written for both, so the file leaves
//! `copy-to` out and says so. `postpone` and `archive` are one name in every version.

use ini::{EscapePolicy, Ini, LineSeparator, WriteOption};

use super::{account_name, file_stem, render_failed, url_host, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::provider::{Endpoint, Security};

pub struct Aerc;

/// A go-ini value that reads back as exactly `value` (no line breaks).
pub fn go_ini_value(value: &str) -> String {
    let risky = value.contains(['#', ';', '`'])
        || value.starts_with(['"', '\'', ' '])
        || value.ends_with(['"', '\'', '\\', ' '])
        || value.starts_with("\"\"\"");
    if risky { format!("`{value}`") } else { value.to_owned() }
}

/// An RFC 5322 mailbox with `name` as display name, in a form Go's `net/mail` reads back exactly.
pub fn mailbox(name: Option<&str>, address: &str) -> String {
    match name {
        None => address.to_owned(),
        Some(name) if name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') && !name.contains("  ") => format!("{name} <{address}>"),
        Some(name) => format!("{} <{address}>", crate::encoded_words::encoded_words(name, " ")),
    }
}

/// The server as a URL; the `url` crate encodes the username. A host that passed `host::check_host` always makes a
/// URL; any other (an account not made through the checks) is a diagnosis, not a panic.
fn server_url(scheme: &str, endpoint: &Endpoint, username: &str) -> Result<String, Diagnosis> {
    let invalid = |why: String| {
        let facts = Facts { host: Some(endpoint.host.escape_debug().to_string()), port: Some(endpoint.port), ..Facts::default() };
        Diagnosis::new(DiagnosisKind::ServerInvalid, facts, Some(why))
    };
    let mut url = url::Url::parse(&format!("{scheme}://{}:{}", url_host(&endpoint.host), endpoint.port))
        .map_err(|e| invalid(format!("not usable in a URL: {e}")))?;
    url.set_username(username).map_err(|()| invalid("the URL takes no username".to_owned()))?;
    Ok(url.to_string())
}

impl Exporter for Aerc {
    fn format(&self) -> ExportFormat {
        ExportFormat::Aerc
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}.aerc-accounts.conf", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let imap = &account.provider.imap;
        let smtp = &account.provider.smtp;
        // aerc: imaps = TLS first, imap = STARTTLS; smtps = TLS first, smtp = STARTTLS (aerc ≥ 0.6); +plain = AUTH PLAIN.
        let source = server_url(if imap.security == Security::Tls { "imaps" } else { "imap" }, imap, &account.imap_username())?;
        let outgoing = server_url(if smtp.security == Security::Tls { "smtps+plain" } else { "smtp+plain" }, smtp, &account.smtp_username())?;
        let command = options.password_command.shell_command(&account.login.address);

        let mut conf = Ini::new();
        let mut section = conf.with_section(Some(account_name(account)));
        section
            .set("source", go_ini_value(&source))
            .set("source-cred-cmd", go_ini_value(&command))
            .set("outgoing", go_ini_value(&outgoing))
            .set("outgoing-cred-cmd", go_ini_value(&command));
        if smtp.security == Security::Starttls {
            section.set("smtp-starttls", "yes");
        }
        section.set("from", go_ini_value(&mailbox(account.display_name.as_deref(), &account.address.address)));
        let folders = &account.folders;
        let mut notes = Vec::new();
        match &folders.sent {
            Some(sent) if sent.contains([',', '\\']) || sent.trim() != sent => notes.push(format!(
                "# The Sent folder ({sent}) has a comma, a backslash or outer blanks in its name, which aerc 0.20+ and\n\
                 # older versions read differently: set copy-to by hand (on 0.20+ write \\, for a comma, \\\\ for a backslash).\n"
            )),
            Some(sent) => {
                section.set("copy-to", go_ini_value(sent));
            }
            None => {}
        }
        for (key, folder) in [("postpone", &folders.drafts), ("archive", &folders.archive)] {
            if let Some(name) = folder {
                section.set(key, go_ini_value(name));
            }
        }
        let mut text = format!(
            "# aerc account for iCloud Mail ({}), made by iCloud Mail Setup.\n\
             # The password is read from the keychain by the *-cred-cmd commands; this file holds none.\n",
            account.address.address
        );
        if smtp.security == Security::Starttls {
            text.push_str(
                "# smtp-starttls is for aerc 0.14 (Debian 12), which needs it to send over smtp://; aerc 0.15 and later\n\
                 # always use STARTTLS there and only note that the setting is deprecated: remove the line on those.\n",
            );
        }
        for note in notes {
            text.push_str(&note);
        }
        for line in options.password_command.comment_lines() {
            text.push_str(&line);
            text.push('\n');
        }
        if let Some(ca) = options.ca_file.as_deref().filter(|ca| !ca.chars().any(char::is_control)) {
            text.push_str(&format!(
                "# aerc trusts the system's certificates only; to trust the extra CA too, start it as:\n#   SSL_CERT_FILE={} aerc\n",
                super::sh_quote(ca)
            ));
        }
        let mut body = Vec::new();
        let options = WriteOption { escape_policy: EscapePolicy::Nothing, line_separator: LineSeparator::CR, kv_separator: " = " };
        conf.write_to_opt(&mut body, options).map_err(|e| render_failed(self.format(), account, &e))?;
        text.push_str(&String::from_utf8(body).map_err(|e| render_failed(self.format(), account, &e))?);
        Ok(text.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_ini_values_are_backticked_when_go_ini_would_change_them() {
        assert_eq!(go_ini_value("imaps://jane@imap.mail.me.com:993"), "imaps://jane@imap.mail.me.com:993");
        assert_eq!(go_ini_value("a # b"), "`a # b`");
        assert_eq!(go_ini_value("x;y"), "`x;y`");
        assert_eq!(go_ini_value("'quoted'"), "`'quoted'`");
        assert_eq!(go_ini_value("ends\\"), "`ends\\`");
    }

    #[test]
    fn names_become_mailboxes() {
        assert_eq!(mailbox(None, "a@b.example"), "a@b.example");
        assert_eq!(mailbox(Some("Jane Doe"), "a@b.example"), "Jane Doe <a@b.example>");
        assert_eq!(mailbox(Some("Jäne"), "a@b.example"), "=?UTF-8?B?SsOkbmU=?= <a@b.example>");
        let long = crate::encoded_words::encoded_words(&"é".repeat(100), " ");
        assert!(long.split(' ').all(|w| w.len() <= 75), "{long}");
    }
}
