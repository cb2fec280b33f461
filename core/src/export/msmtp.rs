//! msmtp (`msmtprc`): SMTP submission with STARTTLS (or TLS from the first byte), the password from the keychain
//! by `passwordeval`.
//!
//! Quoting (`msmtp_arg`): msmtp's own config syntax, no crate writes it. msmtp takes the rest of the line as the
//! argument, trims blanks and removes one pair of enclosing double quotes; nothing inside is escaped (msmtp has
//! no escapes: `"a\"b"` reads as `a\"b`). So every value is enclosed in quotes, which keeps `#` and blanks, and may
//! hold any character but a line break. msmtp reads lines of at most 500 bytes; every value here is far shorter.

use super::{account_name, ExportFormat, ExportOptions, Exporter, file_stem};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::Security;

pub struct Msmtp;

/// An msmtp argument whose value is exactly `value` (no line breaks).
pub fn msmtp_arg(value: &str) -> String {
    debug_assert!(!value.contains(['\n', '\r']));
    format!("\"{value}\"")
}

impl Exporter for Msmtp {
    fn format(&self) -> ExportFormat {
        ExportFormat::Msmtp
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}.msmtprc", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let smtp = &account.provider.smtp;
        let name = account_name(account);
        let trust = options.ca_file.as_deref().unwrap_or("system");
        let lines = [
            format!("# msmtp settings for iCloud Mail ({}), made by iCloud Mail Setup.", account.address.address),
            "# The password is read from the keychain by passwordeval; this file holds none.".to_owned(),
            String::new(),
            format!("account {name}"),
            format!("host {}", msmtp_arg(&smtp.host)),
            format!("port {}", smtp.port),
            "tls on".to_owned(),
            format!("tls_starttls {}", if smtp.security == Security::Starttls { "on" } else { "off" }),
            format!("tls_trust_file {}", msmtp_arg(trust)),
            "auth on".to_owned(),
            format!("user {}", msmtp_arg(&account.smtp_username())),
            format!("passwordeval {}", msmtp_arg(&options.password_command.shell_command(&account.login.address))),
            format!("from {}", msmtp_arg(&account.address.address)),
            String::new(),
            format!("account default : {name}"),
        ];
        let mut lines = lines.to_vec();
        lines.splice(2..2, options.password_command.comment_lines());
        let mut text = lines.join("\n");
        text.push('\n');
        Ok(text.into_bytes())
    }
}
