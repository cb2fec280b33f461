//! isync / mbsync (`mbsyncrc`): the IMAP account, a Maildir under `~/Mail/<account>/`, and a channel that syncs
//! every folder; the password from the keychain by `PassCmd`. Written for isync 1.4 (`Far`/`Near`, `SSLType`);
//! isync 1.5 still reads `SSLType` and suggests its new name `TLSType`.
//!
//! Quoting (`mbsync_arg`): isync's own config syntax, no crate writes it. isync splits arguments at blanks
//! outside double quotes, and a backslash makes the next character literal (isync's `get_arg`); so every value is
//! quoted and `\` and `"` inside are escaped.

use super::{account_name, file_stem, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::Security;

pub struct Mbsync;

/// The Maildir folder the file names (`~/Mail/<account>/`), under `home`.
pub fn maildir_in(home: &std::path::Path, account: &Account) -> std::path::PathBuf {
    home.join("Mail").join(account_name(account))
}

/// Creates the Maildir folder the file names (owner-only on Unix), so the first `mbsync` run works: mbsync creates
/// the mail folders inside it, but not the folder itself. An existing folder is fine.
pub fn create_maildir(home: &std::path::Path, account: &Account) -> Result<std::path::PathBuf, Diagnosis> {
    let folder = maildir_in(home, account);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&folder).map_err(|e| {
        let facts = crate::facts::Facts { path: Some(folder.display().to_string()), ..Default::default() };
        Diagnosis::new(crate::diagnosis::DiagnosisKind::WriteFailed, facts, Some(e.to_string()))
    })?;
    Ok(folder)
}

/// An isync argument whose value is exactly `value` (no line breaks).
pub fn mbsync_arg(value: &str) -> String {
    debug_assert!(!value.contains(['\n', '\r']));
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Exporter for Mbsync {
    fn format(&self) -> ExportFormat {
        ExportFormat::Mbsync
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}.mbsyncrc", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let imap = &account.provider.imap;
        let name = account_name(account);
        let maildir = format!("~/Mail/{name}/");
        let mut lines = vec![
            format!("# isync/mbsync settings for iCloud Mail ({}), made by iCloud Mail Setup.", account.address.address),
            "# The password is read from the keychain by PassCmd; this file holds none.".to_owned(),
            format!("# Before the first sync, create the mail folder: mkdir -p ~/Mail/{name}"),
            "# Then sync with: mbsync -c FILE -a".to_owned(),
            String::new(),
            format!("IMAPAccount {}", mbsync_arg(&name)),
            format!("Host {}", mbsync_arg(&imap.host)),
            format!("Port {}", imap.port),
            format!("User {}", mbsync_arg(&account.imap_username())),
            format!("PassCmd {}", mbsync_arg(&options.password_command.shell_command(&account.login.address))),
            format!("SSLType {}", if imap.security == Security::Tls { "IMAPS" } else { "STARTTLS" }),
            "AuthMechs LOGIN".to_owned(),
        ];
        lines.splice(2..2, options.password_command.comment_lines());
        if let Some(ca) = &options.ca_file {
            lines.push(format!("CertificateFile {}", mbsync_arg(ca)));
        }
        lines.extend([
            String::new(),
            format!("IMAPStore {}", mbsync_arg(&format!("{name}-remote"))),
            format!("Account {}", mbsync_arg(&name)),
            String::new(),
            format!("MaildirStore {}", mbsync_arg(&format!("{name}-local"))),
            format!("Path {}", mbsync_arg(&maildir)),
            format!("Inbox {}", mbsync_arg(&format!("{maildir}INBOX"))),
            "SubFolders Verbatim".to_owned(),
            String::new(),
            format!("Channel {}", mbsync_arg(&name)),
            format!("Far {}", mbsync_arg(&format!(":{name}-remote:"))),
            format!("Near {}", mbsync_arg(&format!(":{name}-local:"))),
            "Patterns *".to_owned(),
            "Create Near".to_owned(),
            "SyncState *".to_owned(),
        ]);
        let mut text = lines.join("\n");
        text.push('\n');
        Ok(text.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// isync's tokenizer (`get_arg` in isync's config.c), transcribed to check the quoting against it.
    fn isync_get_arg(line: &str) -> (String, &str) {
        let (mut out, mut escaped, mut quoted) = (String::new(), false, false);
        let line = line.trim_start();
        for (i, c) in line.char_indices() {
            if escaped && c >= ' ' {
                escaped = false;
                out.push(c);
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = !quoted;
            } else if !quoted && c.is_whitespace() {
                return (out, &line[i..]);
            } else {
                out.push(c);
            }
        }
        assert!(!escaped && !quoted, "unterminated: {line}");
        (out, "")
    }

    #[test]
    fn arguments_read_back_whole() {
        for value in ["plain", "with space", r#"q"uo\te"#, "'sh' \"both\" \\", "Ünï 💌 # ;"] {
            let quoted = mbsync_arg(value);
            let (read, rest) = isync_get_arg(&quoted);
            assert_eq!(read, value);
            assert_eq!(rest, "");
        }
    }
}
