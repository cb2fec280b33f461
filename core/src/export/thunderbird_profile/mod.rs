//! The Thunderbird profile editor: finds profiles (`profiles.ini`), picks the default one as Thunderbird does,
//! refuses while Thunderbird has the profile open, and adds the account to `prefs.js` after a backup, by an atomic
//! write that keeps every existing line byte for byte. Adding the same account twice changes nothing.

use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind, Facts};

pub mod lock;
pub mod prefs;

/// A Thunderbird profile found on this computer, as the page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ThunderbirdProfile {
    /// The name Thunderbird shows (`default-release`).
    pub name: String,
    /// The profile folder.
    pub path: String,
    /// The profile Thunderbird opens by default for its installation.
    pub is_default: bool,
    /// The folder holding the `profiles.ini` it was listed in (one per installation kind: package, Flatpak, Snap).
    pub root: String,
}

/// What `add_account` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AddOutcome {
    Added {
        profile: String,
        account_key: String,
        server_key: String,
        identity_key: String,
        smtp_key: String,
        /// The copy of prefs.js made first (none when the profile had no prefs.js yet).
        #[ts(optional)]
        backup: Option<String>,
    },
    /// The profile already has this account (same server, login and port): nothing was written.
    AlreadyPresent { profile: String, server_key: String },
}

/// Folders that may hold a `profiles.ini`, for this OS: the package's own, then Flatpak's and Snap's on Linux.
pub fn profile_roots() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut roots = Vec::new();
    if cfg!(windows) {
        if let Some(appdata) = std::env::var_os("APPDATA") {
            roots.push(PathBuf::from(appdata).join("Thunderbird"));
        }
    } else if cfg!(target_os = "macos") {
        if let Some(home) = &home {
            roots.push(home.join("Library/Thunderbird"));
        }
    } else if let Some(home) = &home {
        roots.push(home.join(".thunderbird"));
        roots.push(home.join(".var/app/org.mozilla.Thunderbird/.thunderbird"));
        roots.push(home.join("snap/thunderbird/common/.thunderbird"));
    }
    roots
}

fn facts_path(path: &Path) -> Facts {
    Facts { path: Some(path.display().to_string()), ..Facts::default() }
}

/// One `profiles.ini`: its profiles, and the default as Thunderbird picks it there (the dedicated default of the
/// `[Install…]` sections, then `Default=1`, then the only profile).
struct ProfilesIni {
    root: PathBuf,
    profiles: Vec<(String, PathBuf)>,
    default: Result<Option<PathBuf>, Diagnosis>,
}

fn read_profiles_ini(root: &Path) -> Result<Option<ProfilesIni>, Diagnosis> {
    let file = root.join("profiles.ini");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Diagnosis::new(DiagnosisKind::ThunderbirdNotFound, facts_path(&file), Some(e.to_string()))),
    };
    // Thunderbird's INI has no escapes or quotes; Windows paths keep their backslashes.
    let options = ParseOption { enabled_quote: false, enabled_escape: false, ..ParseOption::default() };
    let ini = Ini::load_from_str_opt(&text, options)
        .map_err(|e| Diagnosis::new(DiagnosisKind::ThunderbirdNotFound, facts_path(&file), Some(e.to_string())))?;
    let resolve = |relative: bool, path: &str| if relative { root.join(path) } else { PathBuf::from(path) };

    let mut profiles = Vec::new();
    let mut flagged_default = None;
    let mut install_defaults: Vec<String> = Vec::new();
    for (section, props) in ini.iter() {
        let Some(section) = section else { continue };
        if section.starts_with("Install") {
            if let Some(default) = props.get("Default").filter(|d| !d.is_empty()) {
                if !install_defaults.iter().any(|d| d == default) {
                    install_defaults.push(default.to_owned());
                }
            }
        } else if section.starts_with("Profile") {
            let Some(path) = props.get("Path") else { continue };
            let relative = props.get("IsRelative").unwrap_or("1") == "1";
            let dir = resolve(relative, path);
            let name = props.get("Name").unwrap_or(path).to_owned();
            if props.get("Default") == Some("1") && flagged_default.is_none() {
                flagged_default = Some(dir.clone());
            }
            profiles.push((name, dir));
        }
    }
    let default = match install_defaults.as_slice() {
        [] => Ok(flagged_default.or_else(|| (profiles.len() == 1).then(|| profiles[0].1.clone()))),
        [one] => {
            // `Default=` in [Install…] is the profile's Path as written in its section (relative to the root when
            // that profile is relative).
            let matching =
                ini.iter().filter(|(s, _)| s.is_some_and(|s| s.starts_with("Profile"))).find(|(_, p)| p.get("Path") == Some(one));
            Ok(Some(match matching {
                Some((_, p)) => resolve(p.get("IsRelative").unwrap_or("1") == "1", one),
                None => root.join(one),
            }))
        }
        _ => Err(Diagnosis::new(DiagnosisKind::ThunderbirdProfileAmbiguous, facts_path(&file), Some(install_defaults.join(", ")))),
    };
    Ok(Some(ProfilesIni { root: root.to_owned(), profiles, default }))
}

/// Every profile in the given roots, the defaults marked.
pub fn list_profiles_in(roots: &[PathBuf]) -> Result<Vec<ThunderbirdProfile>, Diagnosis> {
    let mut out = Vec::new();
    for root in roots {
        let Some(ini) = read_profiles_ini(root)? else { continue };
        let default = ini.default.as_ref().ok().cloned().flatten();
        for (name, dir) in &ini.profiles {
            out.push(ThunderbirdProfile {
                name: name.clone(),
                path: dir.display().to_string(),
                is_default: default.as_ref() == Some(dir),
                root: ini.root.display().to_string(),
            });
        }
    }
    Ok(out)
}

/// The profiles on this computer, for the wizard's list.
pub fn list_profiles() -> Result<Vec<ThunderbirdProfile>, Diagnosis> {
    list_profiles_in(&profile_roots())
}

/// The one default profile among the given roots. Several installations (say the package and the Flatpak) that
/// each have their own default make the choice ambiguous: the caller must name one.
pub fn default_profile_in(roots: &[PathBuf]) -> Result<PathBuf, Diagnosis> {
    let mut found_ini = false;
    let mut defaults = Vec::new();
    for root in roots {
        let Some(ini) = read_profiles_ini(root)? else { continue };
        found_ini = true;
        if let Some(default) = ini.default? {
            defaults.push(default);
        }
    }
    match defaults.as_slice() {
        [one] => Ok(one.clone()),
        [] if !found_ini => Err(Diagnosis::of(DiagnosisKind::ThunderbirdNotFound)),
        [] => Err(Diagnosis::new(
            DiagnosisKind::ThunderbirdProfileAmbiguous,
            Facts::default(),
            Some("no profile is marked as the default".into()),
        )),
        many => {
            let list: Vec<String> = many.iter().map(|p| p.display().to_string()).collect();
            Err(Diagnosis::new(DiagnosisKind::ThunderbirdProfileAmbiguous, Facts::default(), Some(list.join(", "))))
        }
    }
}

/// The profile to change: the one the caller names, or the default one.
pub fn resolve_profile(named: Option<&Path>) -> Result<PathBuf, Diagnosis> {
    match named {
        Some(dir) if dir.is_dir() => Ok(dir.to_owned()),
        Some(dir) => Err(Diagnosis::new(DiagnosisKind::ThunderbirdProfileNotFound, facts_path(dir), None)),
        None => default_profile_in(&profile_roots()),
    }
}

fn refuse_if_running(profile: &Path) -> Result<(), Diagnosis> {
    match lock::profile_in_use(profile) {
        Ok(false) => Ok(()),
        Ok(true) => Err(Diagnosis::new(DiagnosisKind::ThunderbirdRunning, facts_path(profile), None)),
        // A lock that cannot be tested is treated as held: a change now could be lost when Thunderbird exits.
        Err(e) => Err(Diagnosis::new(
            DiagnosisKind::ThunderbirdRunning,
            facts_path(profile),
            Some(format!("the profile lock could not be tested: {e}")),
        )),
    }
}

/// Adds the account to the profile's prefs.js. Refused while Thunderbird runs (it rewrites prefs.js on exit and
/// would drop the change); a no-op when the account is already there.
pub fn add_account(profile: &Path, account: &Account) -> Result<AddOutcome, Diagnosis> {
    account.check()?;
    if !profile.is_dir() {
        return Err(Diagnosis::new(DiagnosisKind::ThunderbirdProfileNotFound, facts_path(profile), None));
    }
    refuse_if_running(profile)?;
    let prefs_path = profile.join("prefs.js");
    let write_failed = |e: &dyn std::fmt::Display| Diagnosis::new(DiagnosisKind::WriteFailed, facts_path(&prefs_path), Some(e.to_string()));
    let original = match std::fs::read(&prefs_path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(write_failed(&e)),
    };
    let text = original.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let prefs = prefs::parse(&text);
    let profile_shown = profile.display().to_string();
    if let Some(server_key) = prefs::existing_server(&prefs, account) {
        return Ok(AddOutcome::AlreadyPresent { profile: profile_shown, server_key });
    }
    let keys = prefs::new_keys(&prefs, account);
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };

    // The new file is the old one byte for byte, then the new lines.
    let mut bytes = original.clone().unwrap_or_else(|| format!("// Mozilla User Preferences{newline}{newline}").into_bytes());
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.extend_from_slice(newline.as_bytes());
    }
    bytes.extend_from_slice(format!("// Added by iCloud Mail Setup: {}{newline}", keys.account).as_bytes());
    for line in prefs::account_lines(&prefs, account, &keys) {
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(newline.as_bytes());
    }

    let backup = match &original {
        Some(original) => Some(write_backup(profile, original).map_err(|e| write_failed(&e))?),
        None => None,
    };
    // Thunderbird may have started while we read: ask again right before the file is replaced.
    refuse_if_running(profile)?;
    replace_atomically(&prefs_path, &bytes).map_err(|e| write_failed(&e))?;
    Ok(AddOutcome::Added {
        profile: profile_shown,
        account_key: keys.account,
        server_key: keys.server,
        identity_key: keys.identity,
        smtp_key: keys.smtp,
        backup: backup.map(|p| p.display().to_string()),
    })
}

/// `prefs.js.bak-<seconds since 1970>` (with `-2`, `-3`… if that exists), never overwriting an earlier backup.
fn write_backup(profile: &Path, original: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    for attempt in 1.. {
        let name = if attempt == 1 { format!("prefs.js.bak-{stamp}") } else { format!("prefs.js.bak-{stamp}-{attempt}") };
        let path = profile.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                file.write_all(original)?;
                file.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// A temporary file beside the target, synced, given the target's permissions, then renamed over it.
fn replace_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".prefs.js.").tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
