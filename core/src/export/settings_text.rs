//! The plain settings card as text: what to type into any mail client that imports no file (new Outlook, Outlook
//! for Mac, Evolution, KMail, phones). Also the data behind the HTML card (`settings_html`).

use super::{file_stem, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;
use crate::facts::Facts;
use crate::lang::Lang;
use crate::provider::{Endpoint, LoginForm, Security};

pub struct SettingsText;

/// One server's settings, as a person types them.
pub(crate) struct ServerCard {
    pub title: String,
    /// Short id for the HTML (`imap`, `smtp`, `caldav`, `carddav`).
    pub id: &'static str,
    pub host: String,
    pub port: String,
    pub security: &'static str,
    pub username: String,
    pub password: String,
    /// Calendars and contacts only: where a connection test found the person's collections (the home, on a
    /// partition host), when one did. None for mail servers.
    pub home: Option<String>,
}

/// The card's words, from the catalogue (`card.*`) in the language of the window or command line that saves it.
pub(crate) struct Labels {
    pub lang: &'static str,
    pub title: String,
    pub title_for: String,
    pub intro: String,
    pub account: String,
    pub email: String,
    pub name: String,
    pub login: String,
    pub server: String,
    pub port: String,
    pub security: String,
    pub username: String,
    pub password: String,
    pub password_note: String,
    pub new_outlook_note: String,
    pub folders: String,
    pub folders_note: String,
    pub alternatives: String,
    pub dav_home: String,
    pub dav_note: String,
}

/// One folder role on the card: its label, the folder's name, or the words for "none on the server".
pub(crate) struct FolderCard {
    /// Short id for the HTML (`sent`, `drafts`, …).
    pub id: &'static str,
    pub label: String,
    pub name: Option<String>,
    pub none: String,
}

/// Everything on the card.
pub(crate) struct Card {
    pub address: String,
    pub name: Option<String>,
    /// The primary iCloud address that signs in, shown only when it differs from the sender address.
    pub login: Option<String>,
    pub servers: [ServerCard; 2],
    /// Calendars (CalDAV) and contacts (CardDAV), with the same login and password.
    pub dav: [ServerCard; 2],
    /// Sent, drafts, deleted, junk, archive: where the mail app should put them.
    pub folders: Vec<FolderCard>,
    /// What to try when something does not work: the other form of the username, the other SMTP port.
    pub alternatives: Vec<String>,
    /// Set when the settings are those a connection test signed in with.
    pub verified: Option<String>,
    pub labels: Labels,
}

fn security(endpoint: &Endpoint) -> &'static str {
    match endpoint.security {
        Security::Tls => "SSL/TLS",
        Security::Starttls => "STARTTLS",
    }
}

impl Card {
    pub fn of(account: &Account, lang: Lang) -> Card {
        let imap = &account.provider.imap;
        let smtp = &account.provider.smtp;
        let address = account.address.address.clone();
        let about = Facts { address: Some(address.clone()), ..Facts::default() };
        let word = |key: &str| lang.plain(&format!("card.{key}"));
        let folder = |id: &'static str, name: &Option<String>| FolderCard {
            id,
            label: word(&format!("folder_{id}")),
            name: name.clone(),
            none: word("folder_none"),
        };
        let f = &account.folders;
        let folders = vec![
            folder("sent", &f.sent),
            folder("drafts", &f.drafts),
            folder("trash", &f.trash),
            folder("junk", &f.junk),
            folder("archive", &f.archive),
        ];
        // The second login form of each side is what the connection test tries after a refusal (Apple: IMAP with
        // the full address when the name part is refused); the fallback is SMTP's other port (465, SSL/TLS).
        let mut alternatives = Vec::new();
        let second = |forms: &[LoginForm]| forms.get(1).map(|form| account.username(*form));
        for (key, username) in
            [("alt_imap_username", second(&account.provider.imap_login_forms)), ("alt_smtp_username", second(&account.provider.smtp_login_forms))]
        {
            if let Some(username) = username {
                alternatives.push(lang.text(&format!("card.{key}"), &Facts { username: Some(username), ..Facts::default() }));
            }
        }
        if let Some(fallback) = account.provider.smtp_fallback.as_ref().filter(|f| f.security == Security::Tls) {
            let facts = Facts { host: Some(fallback.host.clone()), port: Some(fallback.port), ..Facts::default() };
            alternatives.push(lang.text("card.alt_smtp_port", &facts));
        }
        let dav = |id: &'static str, title: &str, endpoint: &Endpoint, home: Option<&String>| ServerCard {
            title: word(title),
            id,
            host: endpoint.host.clone(),
            port: endpoint.port.to_string(),
            security: security(endpoint),
            username: account.login.address.clone(),
            password: word("password_outgoing"),
            home: home.cloned(),
        };
        Card {
            dav: [
                dav("caldav", "calendars", &account.provider.caldav, account.dav.caldav.as_ref().map(|f| &f.service.home)),
                dav("carddav", "contacts", &account.provider.carddav, account.dav.carddav.as_ref().map(|f| &f.service.home)),
            ],
            folders,
            alternatives,
            verified: account.verified.then(|| word("verified")),
            servers: [
                ServerCard {
                    title: word("incoming"),
                    id: "imap",
                    host: imap.host.clone(),
                    port: imap.port.to_string(),
                    security: security(imap),
                    username: account.imap_username(),
                    password: word("password_incoming"),
                    home: None,
                },
                ServerCard {
                    title: word("outgoing"),
                    id: "smtp",
                    host: smtp.host.clone(),
                    port: smtp.port.to_string(),
                    security: security(smtp),
                    username: account.smtp_username(),
                    password: word("password_outgoing"),
                    home: None,
                },
            ],
            labels: Labels {
                lang: lang.code(),
                title: word("title"),
                title_for: lang.text("card.title_for", &about),
                intro: word("intro"),
                account: word("account"),
                email: word("email"),
                name: word("name"),
                login: word("login"),
                server: word("server"),
                port: word("port"),
                security: word("security"),
                username: word("username"),
                password: word("password"),
                password_note: word("password_note"),
                new_outlook_note: word("new_outlook_note"),
                folders: word("folders"),
                folders_note: word("folders_note"),
                alternatives: word("alternatives"),
                dav_home: word("dav_home"),
                dav_note: word("dav_note"),
            },
            name: account.display_name.clone(),
            login: (account.login != account.address).then(|| account.login.address.clone()),
            address,
        }
    }
}

impl Exporter for SettingsText {
    fn format(&self) -> ExportFormat {
        ExportFormat::SettingsText
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}-settings.txt", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let card = Card::of(account, options.lang);
        let l = &card.labels;
        let mut out = format!("{}\n\n", l.title_for);
        out.push_str(&format!("{}: {}\n", l.email, card.address));
        if let Some(name) = &card.name {
            out.push_str(&format!("{}: {name}\n", l.name));
        }
        if let Some(login) = &card.login {
            out.push_str(&format!("{}: {login}\n", l.login));
        }
        let block = |server: &ServerCard| {
            let mut text = format!(
                "\n{}\n  {}: {}\n  {}: {}\n  {}: {}\n  {}: {}\n  {}: {}\n",
                server.title,
                l.server,
                server.host,
                l.port,
                server.port,
                l.security,
                server.security,
                l.username,
                server.username,
                l.password,
                server.password
            );
            if let Some(home) = &server.home {
                text.push_str(&format!("  {}: {home}\n", l.dav_home));
            }
            text
        };
        for server in card.servers.iter().chain(&card.dav) {
            out.push_str(&block(server));
        }
        out.push_str(&format!("  ({})\n", l.dav_note));
        out.push_str(&format!("\n{}\n", l.folders));
        for folder in &card.folders {
            out.push_str(&format!("  {}: {}\n", folder.label, folder.name.as_deref().unwrap_or(&folder.none)));
        }
        out.push_str(&format!("  ({})\n", l.folders_note));
        if !card.alternatives.is_empty() {
            out.push_str(&format!("\n{}\n", l.alternatives));
            for alternative in &card.alternatives {
                out.push_str(&format!("  - {alternative}\n"));
            }
        }
        out.push_str(&format!("\n{}\n\n{}\n", l.password_note, l.new_outlook_note));
        if let Some(verified) = &card.verified {
            out.push_str(&format!("\n{verified}\n"));
        }
        Ok(out.into_bytes())
    }
}
