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

/// The arguments that make classic Outlook import a profile file: `/importprf FILE`. The file is one argument; the
/// standard library quotes it for Windows' command line (spaces, quotes), so Outlook gets the path as it is.
pub fn outlook_import_args(prf: &Path) -> [&std::ffi::OsStr; 2] {
    [std::ffi::OsStr::new("/importprf"), prf.as_os_str()]
}

/// Starts classic Outlook (found under App Paths) importing the saved `.prf`: Outlook then asks the person to
/// confirm the new profile. Returns the started process; Outlook keeps running after the app is closed. Where
/// classic Outlook is not installed, the page shows the typed command (`outlook.exe /importprf "FILE"`) instead.
pub fn import_into_outlook(prf: &Path) -> Result<std::process::Child, Diagnosis> {
    let failed = |detail: String| {
        Diagnosis::new(
            DiagnosisKind::OutlookNotStarted,
            crate::Facts { path: Some(prf.display().to_string()), ..Default::default() },
            Some(detail),
        )
    };
    let outlook = platform::classic_outlook().ok_or_else(|| failed("classic Outlook is not registered under App Paths".to_owned()))?;
    std::process::Command::new(&outlook).args(outlook_import_args(prf)).spawn().map_err(|e| failed(format!("{}: {e}", outlook.display())))
}

/// Where classic Outlook's program is, as Windows' App Paths say (new Outlook does not register there).
pub fn classic_outlook() -> Option<PathBuf> {
    platform::classic_outlook()
}

#[cfg(windows)]
mod platform {
    use std::os::windows::ffi::OsStringExt;
    use std::path::PathBuf;

    use windows_sys::Win32::System::Registry::{RegGetValueW, HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ};

    /// Classic Outlook registers its program under App Paths when it is installed (new Outlook does not).
    pub fn classic_outlook_installed() -> bool {
        classic_outlook().is_some()
    }

    /// The default value of `App Paths\OUTLOOK.EXE` (the machine's, then the user's), environment variables
    /// expanded.
    pub fn classic_outlook() -> Option<PathBuf> {
        [HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER].into_iter().find_map(|root| default_value(root)).filter(|path| !path.as_os_str().is_empty())
    }

    fn default_value(root: HKEY) -> Option<PathBuf> {
        let key: Vec<u16> = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\App Paths\\OUTLOOK.EXE".encode_utf16().chain(Some(0)).collect();
        // A REG_SZ, or a REG_EXPAND_SZ expanded into one (asking for REG_EXPAND_SZ itself while expanding is an
        // invalid parameter).
        let flags = RRF_RT_REG_SZ;
        let mut size: u32 = 0;
        // SAFETY: `key` is NUL-terminated UTF-16; a null value name is the default value; with a null buffer the
        // call only stores the size it needs, in bytes, in `size`.
        let status =
            unsafe { RegGetValueW(root, key.as_ptr(), std::ptr::null(), flags, std::ptr::null_mut(), std::ptr::null_mut(), &mut size) };
        if status != 0 || size == 0 {
            return None;
        }
        let mut buffer = vec![0u16; (size as usize).div_ceil(2)];
        // SAFETY: `buffer` holds `size` bytes; the call writes at most that many and stores the length it wrote.
        let status = unsafe {
            RegGetValueW(root, key.as_ptr(), std::ptr::null(), flags, std::ptr::null_mut(), buffer.as_mut_ptr().cast(), &mut size)
        };
        if status != 0 {
            return None;
        }
        buffer.truncate((size as usize / 2).min(buffer.len()));
        while buffer.last() == Some(&0) {
            buffer.pop();
        }
        // App Paths values are sometimes written quoted.
        let text = std::ffi::OsString::from_wide(&buffer);
        let text = text.to_string_lossy();
        Some(PathBuf::from(text.trim().trim_matches('"')))
    }
}

#[cfg(not(windows))]
mod platform {
    /// Classic Outlook runs only on Windows.
    pub fn classic_outlook_installed() -> bool {
        false
    }

    pub fn classic_outlook() -> Option<std::path::PathBuf> {
        None
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

    /// Under Wine, scripts/test-windows.sh registers a stand-in outlook.exe (scripts/windows/outlook-standin.c) under
    /// App Paths that writes the arguments it was given, one per line, into the file ICLOUD_MAIL_SETUP_OUTLOOK_RECORD
    /// names. On Windows without it, and elsewhere, there is nothing to start.
    #[test]
    fn outlook_gets_the_saved_file_as_one_argument() {
        let Some(record) = std::env::var_os("ICLOUD_MAIL_SETUP_OUTLOOK_RECORD") else {
            if !cfg!(windows) {
                assert_eq!(classic_outlook(), None);
                let error = import_into_outlook(Path::new("profile.prf")).unwrap_err();
                assert_eq!(error.kind, DiagnosisKind::OutlookNotStarted);
                assert_eq!(error.facts.path.as_deref(), Some("profile.prf"));
            }
            return;
        };
        let outlook = classic_outlook().expect("the stand-in outlook.exe is registered under App Paths");
        assert!(outlook.ends_with("outlook.exe"), "{}", outlook.display());
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("Outlook für Jörg Ødegård & more");
        std::fs::create_dir(&folder).unwrap();
        let prf = folder.join("icloud mail ß.prf");
        std::fs::write(&prf, "[General]\r\n").unwrap();
        let status = import_into_outlook(&prf).unwrap().wait().unwrap();
        assert!(status.success(), "{status:?}");
        let lines: Vec<String> = std::fs::read_to_string(record).unwrap().lines().map(str::to_owned).collect();
        assert_eq!(lines[1..], ["/importprf".to_owned(), prf.display().to_string()], "{lines:?}");
        assert_eq!(outlook_import_args(&prf)[1], prf.as_os_str());
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
