//! The facts a sentence is made from (host, port, username, path, …): what the core knows of a verdict, with no
//! words. Below both the diagnosis model, which carries them, and the catalogue (`i18n`), which fills them into a
//! sentence.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The facts a message is built from. Only facts that are known are filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Facts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub domain: Option<String>,
    /// An email address (the sender's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub limit: Option<u32>,
    /// A file or folder (an output file, a Thunderbird profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path: Option<String>,
    /// Which keychain or store ("Secret Service", "macOS Keychain", "Windows Credential Manager").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub store: Option<String>,
    /// A time limit that ran out, in whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seconds: Option<u32>,
    /// A Thunderbird preference (`mail.accountmanager.accounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub pref: Option<String>,
    /// A refused character: its code point and, where known, its Unicode name (`U+202E RIGHT-TO-LEFT OVERRIDE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub character: Option<String>,
    /// Where in the text (1-based, counted in characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub position: Option<u32>,
    /// The protocol command a server's refusal answered (`MAIL FROM`, `RCPT TO`, `DATA`, `end of DATA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub command: Option<String>,
}

impl Facts {
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "host" => self.host.clone(),
            "port" => self.port.map(|p| p.to_string()),
            "username" => self.username.clone(),
            "domain" => self.domain.clone(),
            "address" => self.address.clone(),
            "provider" => self.provider.clone(),
            "limit" => self.limit.map(|l| l.to_string()),
            "path" => self.path.clone(),
            "store" => self.store.clone(),
            "seconds" => self.seconds.map(|s| s.to_string()),
            "pref" => self.pref.clone(),
            "character" => self.character.clone(),
            "position" => self.position.map(|p| p.to_string()),
            "command" => self.command.clone(),
            _ => None,
        }
    }
}
