//! The Thunderbird profile editor: finds profiles (`profiles.ini`), picks the default one as Thunderbird does,
//! refuses while Thunderbird has the profile open, and adds the account to `prefs.js` after a backup, by an atomic
//! write that keeps every existing line byte for byte. Adding the same account twice changes nothing. It refuses,
//! writing nothing, when prefs.js or user.js sets a pref it reads in a form it does not understand, and when
//! user.js (which overrides prefs.js at every start) sets an account list the new account would have to join.

use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;

pub mod dav;
pub mod lock;
pub mod logins;
pub mod nss;
pub mod nss_helper;
pub mod prefs;
mod roots;

pub use dav::{DavAdded, DavAddedItem};
pub use roots::{profile_roots, roots_for, Os};

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
        /// Things the person should know although the account was added (user.js sets account prefs).
        warnings: Vec<Diagnosis>,
        /// The calendars and address books of the account (`account.dav`), each added or found there already.
        dav: DavAdded,
    },
    /// The profile already has this account (same server, login and port): its settings were not changed. Calendars
    /// and address books it lacked were added all the same (then with a backup of prefs.js).
    AlreadyPresent {
        profile: String,
        server_key: String,
        /// The calendars and address books of the account (`account.dav`), each added or found there already.
        dav: DavAdded,
        /// The copy of prefs.js made first, when calendars or address books were added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        backup: Option<String>,
    },
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

/// How long an add waits for the profile's lock (another add finishing) before it counts as Thunderbird's.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The profile's lock, held until dropped (`lock::hold`), or `thunderbird_running` when Thunderbird (or another add
/// that does not finish within `LOCK_WAIT`) holds it.
pub(super) fn hold_profile(profile: &Path) -> Result<lock::ProfileLock, Diagnosis> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match lock::hold(profile) {
            Ok(Some(held)) => return Ok(held),
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(50)),
            Ok(None) => return Err(Diagnosis::new(DiagnosisKind::ThunderbirdRunning, facts_path(profile), None)),
            // A lock that cannot be taken refuses too (a change now could be lost when Thunderbird exits), reported
            // as what it is rather than as a running Thunderbird the person cannot find.
            Err(e) => {
                let detail = format!("the profile lock could not be tested (taken): {e}");
                return Err(Diagnosis::new(DiagnosisKind::ThunderbirdLockUnreadable, facts_path(profile), Some(detail)));
            }
        }
    }
}

/// Adds the account to the profile's prefs.js. Refused while Thunderbird runs (it rewrites prefs.js on exit and
/// would drop the change); a no-op when the account is already there. Refused too, before anything is written,
/// when prefs.js or user.js sets a pref the editor reads in a form it does not understand
/// (`thunderbird_prefs_unreadable`: extending a list it could not read would replace it, hiding every other
/// account), and when user.js sets a list the new account joins (`thunderbird_user_js_overrides`: user.js wins at
/// every start, so the account would vanish). Other account prefs in user.js only earn a warning: they cannot hide
/// the new account, whose keys are chosen free of user.js's too. A prefs.js that is a symbolic link stays one.
pub fn add_account(profile: &Path, account: &Account) -> Result<AddOutcome, Diagnosis> {
    account.check()?;
    if !profile.is_dir() {
        return Err(Diagnosis::new(DiagnosisKind::ThunderbirdProfileNotFound, facts_path(profile), None));
    }
    // Held until prefs.js is written: Thunderbird cannot start in between and rewrite it from memory on exit.
    let _lock = hold_profile(profile)?;
    let prefs_link = profile.join("prefs.js");
    let write_failed = |e: &dyn std::fmt::Display| Diagnosis::new(DiagnosisKind::WriteFailed, facts_path(&prefs_link), Some(e.to_string()));
    let prefs_path = resolve_link(&prefs_link).map_err(|e| write_failed(&e))?;
    let original = read_if_there(&prefs_path).map_err(|e| write_failed(&e))?;
    let user_js = profile.join("user.js");
    let user_original = read_if_there(&user_js)
        .map_err(|e| Diagnosis::new(DiagnosisKind::WriteFailed, facts_path(&user_js), Some(format!("user.js could not be read: {e}"))))?;
    let text = original.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let user_text = user_original.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    for (path, text) in [(&prefs_link, &text), (&user_js, &user_text)] {
        if let Some(unread) = prefs::not_understood(text) {
            let facts = Facts { pref: Some(unread.pref), ..facts_path(path) };
            return Err(Diagnosis::new(DiagnosisKind::ThunderbirdPrefsUnreadable, facts, Some(format!("line {}", unread.line))));
        }
    }
    // What Thunderbird sees at its next start: prefs.js, then user.js over it.
    let user_prefs = prefs::parse(&user_text);
    let mut prefs = prefs::parse(&text);
    prefs.extend(user_prefs.iter().map(|(name, value)| (name.clone(), value.clone())));
    let profile_shown = profile.display().to_string();
    let dav = dav::plan(&prefs, profile, account, dav::new_calendar_id)?;
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // The new file is the old one byte for byte, then the new lines.
    let mut bytes = original.clone().unwrap_or_else(|| format!("// Mozilla User Preferences{newline}{newline}").into_bytes());
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.extend_from_slice(newline.as_bytes());
    }
    let mut append = |comment: &str, lines: &[(String, serde_json::Value)]| {
        bytes.extend_from_slice(format!("// Added by iCloud Mail Setup: {comment}{newline}").as_bytes());
        for (name, value) in lines {
            bytes.extend_from_slice(prefs::line(name, value).as_bytes());
            bytes.extend_from_slice(newline.as_bytes());
        }
    };

    if let Some(server_key) = prefs::existing_server(&prefs, account) {
        if dav.prefs.is_empty() {
            return Ok(AddOutcome::AlreadyPresent { profile: profile_shown, server_key, dav: dav.added, backup: None });
        }
        append("calendars and address books", &dav.prefs);
        let backup = write_prefs(profile, &prefs_path, original.as_deref(), &bytes).map_err(|e| write_failed(&e))?;
        return Ok(AddOutcome::AlreadyPresent { profile: profile_shown, server_key, dav: dav.added, backup });
    }
    let keys = prefs::new_keys(&prefs, account);
    let new_prefs = prefs::account_prefs(&prefs, account, &keys);
    if let Some(list) = prefs::LISTS.into_iter().find(|list| user_prefs.contains_key(*list) && new_prefs.iter().any(|(n, _)| n == list)) {
        let facts = Facts { pref: Some(list.to_owned()), ..facts_path(&user_js) };
        return Err(Diagnosis::new(DiagnosisKind::ThunderbirdUserJsOverrides, facts, None));
    }
    let user_account_prefs = prefs::account_prefs_set(&user_prefs);
    let warnings = match user_account_prefs.first() {
        Some(first) => {
            let facts = Facts { pref: Some(first.clone()), ..facts_path(&user_js) };
            vec![Diagnosis::new(DiagnosisKind::ThunderbirdUserJsAccountPrefs, facts, Some(user_account_prefs.join(", ")))]
        }
        None => Vec::new(),
    };
    append(&keys.account, &new_prefs);
    if !dav.prefs.is_empty() {
        append("calendars and address books", &dav.prefs);
    }
    let backup = write_prefs(profile, &prefs_path, original.as_deref(), &bytes).map_err(|e| write_failed(&e))?;
    Ok(AddOutcome::Added {
        profile: profile_shown,
        account_key: keys.account,
        server_key: keys.server,
        identity_key: keys.identity,
        smtp_key: keys.smtp,
        backup,
        warnings,
        dav: dav.added,
    })
}

/// Backs up prefs.js as it was (when there was one) and replaces it with `bytes`; returns the backup's path.
fn write_prefs(profile: &Path, prefs_path: &Path, original: Option<&[u8]>, bytes: &[u8]) -> std::io::Result<Option<String>> {
    let backup = match original {
        Some(original) => Some(write_backup(profile, "prefs.js", original)?.display().to_string()),
        None => None,
    };
    crate::export::replace_keeping_permissions(prefs_path, bytes)?;
    Ok(backup)
}

/// The file to read and replace for `path`: itself, or, when it is a symbolic link (a dotfile manager's), the file
/// it points to, so that the link stays a link. A link to nothing is an error: there is no file to extend.
pub(super) fn resolve_link(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|e| {
            let target = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
            std::io::Error::new(e.kind(), format!("{} is a link to {target}, which cannot be opened: {e}", path.display()))
        }),
        _ => Ok(path.to_owned()),
    }
}

/// The file's bytes, or `None` when there is no such file.
fn read_if_there(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// `<name>.bak-<seconds since 1970>` in `profile` (with `-2`, `-3`… if that exists), holding `original`, never
/// overwriting an earlier backup; readable by its owner only on Unix (on Windows it inherits the profile folder's
/// per-user permissions). For prefs.js and the login store alike.
pub(super) fn write_backup(profile: &Path, name: &str, original: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    for attempt in 1.. {
        let file_name = if attempt == 1 { format!("{name}.bak-{stamp}") } else { format!("{name}.bak-{stamp}-{attempt}") };
        let path = profile.join(file_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // prefs.js names the person's accounts, logins.json their logins: the copy is for its owner only, whatever the
        // umask.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(original)?;
                file.sync_all()?;
                super::sync_folder(profile)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}
