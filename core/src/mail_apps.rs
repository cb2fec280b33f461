//! Which mail app the person will use: what this computer has (for the save step's preselection) and the one
//! choice the app remembers between runs, in its own small settings file — the only file the app writes besides
//! what the person saves.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::export::{thunderbird_profile, ClientGroup};

/// One choice of the save step's question, in the order it is asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MailApp {
    pub group: ClientGroup,
    /// This computer has the app, as far as can be told (Thunderbird profiles; classic Outlook registered with
    /// Windows). The page adds Apple Mail on macOS itself.
    pub present: bool,
    /// The app asks for the password itself (`ClientGroup::asks_for_password`): the page offers "Copy password".
    pub asks_for_password: bool,
}

/// Every mail-app group of the export registry (`ClientGroup::ALL`), each marked when this computer has it.
pub fn mail_apps() -> Vec<MailApp> {
    let thunderbird = thunderbird_profile::list_profiles().is_ok_and(|p| !p.is_empty());
    let outlook = platform::classic_outlook_installed();
    mail_apps_with(thunderbird, outlook)
}

/// `mail_apps` with what was found given.
pub fn mail_apps_with(thunderbird: bool, outlook: bool) -> Vec<MailApp> {
    ClientGroup::ALL
        .iter()
        .map(|&group| MailApp {
            group,
            asks_for_password: group.asks_for_password(),
            present: match group {
                ClientGroup::Thunderbird => thunderbird,
                ClientGroup::Outlook => outlook,
                _ => false,
            },
        })
        .collect()
}

#[cfg(windows)]
mod platform {
    use windows_sys::Win32::System::Registry::{RegCloseKey, RegOpenKeyExW, HKEY, HKEY_LOCAL_MACHINE, KEY_READ};

    /// Classic Outlook registers its program under App Paths when it is installed (new Outlook does not).
    pub fn classic_outlook_installed() -> bool {
        let key: Vec<u16> = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\App Paths\\OUTLOOK.EXE".encode_utf16().chain(Some(0)).collect();
        let mut handle: HKEY = std::ptr::null_mut();
        // SAFETY: `key` is NUL-terminated UTF-16; `handle` receives an open key that is closed below.
        let status = unsafe { RegOpenKeyExW(HKEY_LOCAL_MACHINE, key.as_ptr(), 0, KEY_READ, &mut handle) };
        if status != 0 {
            return false;
        }
        // SAFETY: `handle` was opened above.
        unsafe { RegCloseKey(handle) };
        true
    }
}

#[cfg(not(windows))]
mod platform {
    /// Classic Outlook runs only on Windows.
    pub fn classic_outlook_installed() -> bool {
        false
    }
}

/// What the app remembers between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// The mail app chosen last on the save step.
    #[serde(default)]
    pub mail_app: Option<ClientGroup>,
}

/// Where the settings live: `<config dir>/icloud-mail-setup/settings.json` (`~/.config` on Linux, Application
/// Support on macOS, AppData\Roaming on Windows).
pub fn settings_path(config_dir: &Path) -> PathBuf {
    config_dir.join("icloud-mail-setup").join("settings.json")
}

/// The settings in `path`; none saved yet, or a file this version cannot read, is the defaults (a remembered
/// choice is a convenience, never a reason to fail).
pub fn load_settings(path: &Path) -> Settings {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// Writes the settings to `path` atomically (a crash leaves the old file or the new one), making its folder.
pub fn save_settings(path: &Path, settings: &Settings) -> Result<(), Diagnosis> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|e| {
            Diagnosis::new(
                DiagnosisKind::WriteFailed,
                crate::Facts { path: Some(folder.display().to_string()), ..Default::default() },
                Some(e.to_string()),
            )
        })?;
    }
    let mut json = serde_json::to_vec_pretty(settings).expect("settings serialize");
    json.push(b'\n');
    crate::export::write_atomic(path, &json, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_is_a_choice_in_the_save_steps_order() {
        let apps = mail_apps_with(true, false);
        let groups: Vec<ClientGroup> = apps.iter().map(|a| a.group).collect();
        assert_eq!(groups, ClientGroup::ALL);
        let present: Vec<ClientGroup> = apps.iter().filter(|a| a.present).map(|a| a.group).collect();
        assert_eq!(present, [ClientGroup::Thunderbird]);
        let present: Vec<ClientGroup> = mail_apps_with(false, true).into_iter().filter(|a| a.present).map(|a| a.group).collect();
        assert_eq!(present, [ClientGroup::Outlook]);
    }

    #[test]
    fn the_apps_that_ask_for_the_password_themselves_are_those_nothing_can_hand_it_to() {
        let asking: Vec<ClientGroup> = mail_apps_with(true, true).into_iter().filter(|a| a.asks_for_password).map(|a| a.group).collect();
        // Thunderbird gets it in its profile's store, terminal clients read the keychain, admins' files hold none.
        assert_eq!(asking, [ClientGroup::Outlook, ClientGroup::AppleMail, ClientGroup::OtherApp]);
        let json = serde_json::to_value(&mail_apps_with(false, false)[1]).unwrap();
        assert_eq!(json["asks_for_password"], true, "the page reads it from here: {json}");
    }

    #[test]
    fn the_choice_is_remembered_in_a_small_json_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = settings_path(dir.path());
        assert_eq!(load_settings(&path), Settings::default(), "nothing saved yet");
        save_settings(&path, &Settings { mail_app: Some(ClientGroup::AppleMail) }).unwrap();
        assert_eq!(load_settings(&path).mail_app, Some(ClientGroup::AppleMail));
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"mail_app": "apple_mail"}));
        save_settings(&path, &Settings { mail_app: Some(ClientGroup::Terminal) }).unwrap();
        assert_eq!(load_settings(&path).mail_app, Some(ClientGroup::Terminal), "a later choice replaces it");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["settings.json"], "no temporary file is left behind");
    }

    #[test]
    fn an_unreadable_settings_file_is_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = settings_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(load_settings(&path), Settings::default());
        std::fs::write(&path, r#"{"mail_app": "a-mail-app-of-the-future"}"#).unwrap();
        assert_eq!(load_settings(&path), Settings::default());
    }
}
