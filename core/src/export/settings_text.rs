//! The plain settings card as text: what to type into any mail client that imports no file (new Outlook, Outlook
//! for Mac, Evolution, KMail, phones). Also the data behind the HTML card (`settings_html`).

use super::{file_stem, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::provider::{Endpoint, Security};

pub struct SettingsText;

/// One server's settings, as a person types them.
pub(crate) struct ServerCard {
    pub title: &'static str,
    /// Short id for the HTML (`imap`, `smtp`).
    pub id: &'static str,
    pub host: String,
    pub port: String,
    pub security: &'static str,
    pub username: String,
    pub password: &'static str,
}

/// Everything on the card.
pub(crate) struct Card {
    pub address: String,
    pub name: Option<String>,
    /// The primary iCloud address that signs in, shown only when it differs from the sender address.
    pub login: Option<String>,
    pub servers: [ServerCard; 2],
}

pub(crate) const NEW_OUTLOOK_NOTE: &str = "New Outlook for Windows adds IMAP accounts by syncing them through Microsoft's cloud: \
     Microsoft's servers then sign in to iCloud with your app-specific password. Classic Outlook, Thunderbird and Apple Mail \
     connect directly.";
pub(crate) const PASSWORD_NOTE: &str = "Use an app-specific password from account.apple.com (Sign-In and Security → \
     App-Specific Passwords). Your Apple Account password will not work.";

fn security(endpoint: &Endpoint) -> &'static str {
    match endpoint.security {
        Security::Tls => "SSL/TLS",
        Security::Starttls => "STARTTLS",
    }
}

impl Card {
    pub fn of(account: &Account) -> Card {
        let imap = &account.provider.imap;
        let smtp = &account.provider.smtp;
        Card {
            address: account.address.address.clone(),
            name: account.display_name.clone(),
            login: (account.login != account.address).then(|| account.login.address.clone()),
            servers: [
                ServerCard {
                    title: "Incoming mail (IMAP)",
                    id: "imap",
                    host: imap.host.clone(),
                    port: imap.port.to_string(),
                    security: security(imap),
                    username: account.imap_username(),
                    password: "your app-specific password",
                },
                ServerCard {
                    title: "Outgoing mail (SMTP)",
                    id: "smtp",
                    host: smtp.host.clone(),
                    port: smtp.port.to_string(),
                    security: security(smtp),
                    username: account.smtp_username(),
                    password: "the same app-specific password",
                },
            ],
        }
    }
}

impl Exporter for SettingsText {
    fn format(&self) -> ExportFormat {
        ExportFormat::SettingsText
    }

    fn description(&self) -> &'static str {
        "The settings as plain text, for any other mail client"
    }

    fn file_name(&self, account: &Account) -> String {
        format!("{}-settings.txt", file_stem(account))
    }

    fn render(&self, account: &Account, _options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let card = Card::of(account);
        let mut out = format!("iCloud Mail settings for {}\n\n", card.address);
        out.push_str(&format!("Email address: {}\n", card.address));
        if let Some(name) = &card.name {
            out.push_str(&format!("Your name: {name}\n"));
        }
        if let Some(login) = &card.login {
            out.push_str(&format!("Sign in as: {login}\n"));
        }
        for server in &card.servers {
            out.push_str(&format!(
                "\n{}\n  Server: {}\n  Port: {}\n  Security: {}\n  Username: {}\n  Password: {}\n",
                server.title, server.host, server.port, server.security, server.username, server.password
            ));
        }
        out.push_str(&format!("\n{PASSWORD_NOTE}\n\n{NEW_OUTLOOK_NOTE}\n"));
        Ok(out.into_bytes())
    }
}
