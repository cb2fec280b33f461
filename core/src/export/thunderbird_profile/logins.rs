//! The password into the profile's own login store, as Thunderbird itself would keep it: `logins.json`, each
//! username and password encrypted with the secret-decoder-ring key of the profile's `key4.db` (NSS's
//! `PK11SDR_Encrypt`, base64, `encType` 1), so that Thunderbird signs in without asking.
//!
//! Which login Thunderbird looks for (read in Thunderbird's source):
//! - IMAP: `MsgPasswordAuthModule::QueryPasswordFromManagerAndCache` (mailnews/base/src/MsgPasswordAuthModule.cpp)
//!   calls `FindLogins(origin, "", realm)` with origin = realm = `localStoreType + "://" + hostname` — `imap://`
//!   and the server's `hostname` pref, no port, no user — and takes the login whose username equals the server's
//!   `userName`.
//! - SMTP: `SmtpServer._getPasswordWithoutUI` (mailnews/compose/src/SmtpServer.sys.mjs) searches origin = realm =
//!   `_getServerURISpec()` = `smtp://` + hostname (an IPv6 address in brackets), no port, no user, and takes the
//!   login whose username equals the server's `username`.
//!
//! One login per server and username: an earlier one (ours, or Thunderbird's own from an older password) is
//! updated in place, as Thunderbird's `modifyLogin` would, and duplicates are removed. A new one has the fields
//! Thunderbird's `storage-json` `#addLogin` writes. Every other login and field in the file is kept as it was.
//!
//! Before anything changes, logins.json and key4.db are copied beside themselves (`<name>.bak-<unix time>`, owner
//! only). Together the two decrypt every saved login, and a copy stays unprotected if the person later sets a
//! primary password, so only one pair is kept: the key4.db copy only when NSS changed key4.db, and once the new
//! logins are written every older `logins.json.bak-*` and `key4.db.bak-*` of the profile is removed. Nothing is written while Thunderbird runs, or when the store is locked by a primary password.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::secret::Secret;

use super::AddOutcome;

/// One login Thunderbird will look up: its origin, its realm (for mail the origin itself) and username.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLogin {
    pub origin: String,
    pub username: String,
    /// The login's `httpRealm` when it is not the origin (a calendar's or address book's: the realm the DAV server
    /// names in its 401).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
}

impl ServerLogin {
    /// The login's `httpRealm`.
    pub fn realm(&self) -> &str {
        self.realm.as_deref().unwrap_or(&self.origin)
    }
}

/// The logins Thunderbird looks up for the account's IMAP and SMTP servers, as `add_account` writes them.
pub fn server_logins(account: &Account) -> Vec<ServerLogin> {
    let imap = &account.provider.imap.host;
    let smtp = &account.provider.smtp.host;
    let smtp_host = if smtp.contains(':') { format!("[{smtp}]") } else { smtp.clone() };
    vec![
        ServerLogin { origin: format!("imap://{imap}"), username: account.imap_username(), realm: None },
        ServerLogin { origin: format!("smtp://{smtp_host}"), username: account.smtp_username(), realm: None },
    ]
}

/// The logins Thunderbird looks up for the calendars and address books in `account.dav` (one per origin, realm
/// and username), as `add_account` adds them. Read in Thunderbird's source:
/// - A CalDAV calendar: `cal.auth.Prompt`'s `#getPasswordInfo` (calendar/base/modules/utils/calAuthUtils.sys.mjs)
///   searches `{origin: channel.URI.prePath, httpRealm: authInfo.realm}` and takes the login whose username is the
///   calendar's `username` pref. The realm is the server's, as sent: CalCalendarManager rewrites it (appending the
///   calendar's name) only when `calendar.network.multirealm` is set, which is off by default.
/// - A CardDAV address book: `CardDAVDirectory._makeRequest` and `NotificationCallbacks.promptAuth`
///   (mailnews/addrbook/modules/CardDAVDirectory.sys.mjs, CardDAVUtils.sys.mjs) search `{origin: prePath}` and take
///   the login whose username is `carddav.username`; the login Thunderbird saves itself has the server's realm, and
///   a login needs one (`httpRealm` or a form origin). Without a realm from the server, the origin stands in.
pub fn dav_logins(account: &Account) -> Vec<ServerLogin> {
    let mut out: Vec<ServerLogin> = Vec::new();
    let caldav = account.dav.caldav.iter().flat_map(|c| c.calendars.iter().map(move |cal| (&c.service, cal.url.as_str())));
    let carddav = account.dav.carddav.iter().flat_map(|c| c.addressbooks.iter().map(move |b| (&c.service, b.url.as_str())));
    for (service, url) in caldav.chain(carddav) {
        let Some(origin) = super::dav::pre_path(url) else { continue };
        let realm = service.realm.clone().unwrap_or_else(|| origin.clone());
        let login = ServerLogin { origin, username: service.username.clone(), realm: Some(realm) };
        if !out.contains(&login) {
            out.push(login);
        }
    }
    out
}

/// The boundary to NSS: open the profile's key store.
pub trait Nss {
    /// Opens `profile`'s key4.db: read-only (nothing may change), or read-write (key4.db is made when there is none,
    /// with the empty password Thunderbird gives it at its first start). `Err(PrimaryPassword)` when a primary
    /// password protects it.
    fn open(&self, profile: &Path, write: bool) -> Result<Box<dyn KeyStore + '_>, NssError>;
}

/// An open key store; closing it (drop) shuts NSS down.
pub trait KeyStore {
    /// `PK11SDR_Encrypt` with the default key (made when there is none yet).
    fn encrypt(&mut self, plain: &[u8]) -> Result<Vec<u8>, String>;
    /// `PK11SDR_Decrypt`.
    fn decrypt(&mut self, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, String>;
}

#[derive(Debug)]
pub enum NssError {
    /// No Thunderbird NSS was found, or it could not be loaded.
    Unavailable { path: Option<PathBuf>, detail: String },
    /// A primary password locks the key store.
    PrimaryPassword,
    /// NSS is there but could not open or use the profile's key4.db.
    Failed { detail: String },
}

impl NssError {
    pub fn diagnosis(self, profile: &Path) -> Diagnosis {
        match self {
            NssError::Unavailable { path, detail } => Diagnosis::new(
                DiagnosisKind::ThunderbirdNssUnavailable,
                Facts { path: path.map(|p| p.display().to_string()), ..Facts::default() },
                Some(detail),
            ),
            NssError::PrimaryPassword => Diagnosis::new(DiagnosisKind::ThunderbirdPrimaryPassword, facts_path(profile), None),
            NssError::Failed { detail } => {
                Diagnosis::new(DiagnosisKind::ThunderbirdLoginsUnreadable, facts_path(&profile.join("key4.db")), Some(detail))
            }
        }
    }
}

fn facts_path(path: &Path) -> Facts {
    Facts { path: Some(path.display().to_string()), ..Facts::default() }
}

/// What storing did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// False when the store already held exactly these logins: nothing was written.
    pub changed: bool,
    /// The copies of logins.json and key4.db made before the change.
    pub backups: Vec<String>,
}

/// `add_account`'s outcome and what became of the password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AddReport {
    #[serde(flatten)]
    #[ts(flatten)]
    pub outcome: AddOutcome,
    /// Whether Thunderbird's login store now holds the password (Thunderbird signs in without asking).
    pub password_stored: bool,
    /// Why not, when a password was given but could not be stored. Absent when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub password_reason: Option<Diagnosis>,
    /// The copies of logins.json and key4.db made before they were changed.
    #[serde(default)]
    pub password_backups: Vec<String>,
}

impl AddReport {
    pub fn new(outcome: AddOutcome, stored: Option<Result<Stored, Diagnosis>>) -> AddReport {
        match stored {
            None => AddReport { outcome, password_stored: false, password_reason: None, password_backups: Vec::new() },
            Some(Ok(s)) => AddReport { outcome, password_stored: true, password_reason: None, password_backups: s.backups },
            Some(Err(d)) => AddReport { outcome, password_stored: false, password_reason: Some(d), password_backups: Vec::new() },
        }
    }
}

fn unreadable(path: &Path, detail: String) -> Diagnosis {
    Diagnosis::new(DiagnosisKind::ThunderbirdLoginsUnreadable, facts_path(path), Some(detail))
}

/// logins.json as read: the whole document (every field kept) and its login list.
struct Document {
    root: Map<String, Value>,
}

impl Document {
    fn parse(path: &Path, bytes: Option<&[u8]>) -> Result<Document, Diagnosis> {
        let Some(bytes) = bytes else {
            let root = json!({"nextId": 1, "logins": [], "potentiallyVulnerablePasswords": [], "version": 3});
            let Value::Object(root) = root else { unreachable!("an object literal") };
            return Ok(Document { root });
        };
        let value: Value = serde_json::from_slice(bytes).map_err(|e| unreadable(path, e.to_string()))?;
        let Value::Object(root) = value else { return Err(unreadable(path, "not a JSON object".into())) };
        match root.get("logins") {
            None => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => {}
            Some(_) => return Err(unreadable(path, "\"logins\" is not a list of objects".into())),
        }
        match root.get("nextId") {
            None => {}
            Some(v) if v.is_u64() => {}
            Some(_) => return Err(unreadable(path, "\"nextId\" is not a number".into())),
        }
        Ok(Document { root })
    }

    fn logins(&self) -> &[Value] {
        self.root.get("logins").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    }

    /// Indexes of the live logins with this origin and realm and no form: those Thunderbird would find.
    fn candidates(&self, origin: &str, realm: &str) -> Vec<usize> {
        let s = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
        self.logins()
            .iter()
            .enumerate()
            .filter(|(_, item)| {
                item.get("deleted") != Some(&Value::Bool(true))
                    && s(item, "hostname").as_deref() == Some(origin)
                    && s(item, "httpRealm").as_deref() == Some(realm)
                    && item.get("formSubmitURL").is_none_or(Value::is_null)
            })
            .map(|(i, _)| i)
            .collect()
    }
}

fn decode(item: &Value, key: &str) -> Option<Vec<u8>> {
    item.get(key).and_then(Value::as_str).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
}

/// For each wanted login, the existing logins that are it (same origin, realm and username), decrypted with the
/// store; and whether the first of them already holds `password` and is the only one.
fn matches(doc: &Document, wanted: &[ServerLogin], password: &Secret, store: Option<&mut (dyn KeyStore + '_)>) -> Vec<(Vec<usize>, bool)> {
    let Some(store) = store else { return wanted.iter().map(|_| (Vec::new(), false)).collect() };
    wanted
        .iter()
        .map(|login| {
            let found: Vec<usize> = doc
                .candidates(&login.origin, login.realm())
                .into_iter()
                .filter(|&i| {
                    let user = decode(&doc.logins()[i], "encryptedUsername").and_then(|c| store.decrypt(&c).ok());
                    user.is_some_and(|u| u.as_slice() == login.username.as_bytes())
                })
                .collect();
            let same = found.len() == 1
                && decode(&doc.logins()[found[0]], "encryptedPassword")
                    .and_then(|c| store.decrypt(&c).ok())
                    .is_some_and(|p| p.as_slice() == password.expose().as_bytes());
            (found, same)
        })
        .collect()
}

/// Stores `password` for each of `wanted` in `profile`'s login store through `nss`. Refused while Thunderbird runs
/// (or when its lock cannot be tested) and when a primary password locks the store; logins.json that cannot be read
/// safely is left alone. Nothing is written when the store already holds exactly these logins. In steps: read
/// logins.json, look (read-only) for what is there, back both files up, encrypt, merge, write.
pub fn store_logins(profile: &Path, wanted: &[ServerLogin], password: &Secret, nss: &dyn Nss, now_ms: u64) -> Result<Stored, Diagnosis> {
    if !profile.is_dir() {
        return Err(Diagnosis::new(DiagnosisKind::ThunderbirdProfileNotFound, facts_path(profile), None));
    }
    // Held until logins.json is written: Thunderbird, which rewrites it from memory when it saves a login, cannot
    // start in between, nor can another add.
    let _lock = super::hold_profile(profile)?;
    let logins_path = profile.join("logins.json");
    // A logins.json that is a symbolic link stays one: its target is what is read and replaced.
    let logins_target = super::resolve_link(&logins_path).map_err(|e| write_failed(&logins_path, &e))?;
    let key_path = profile.join("key4.db");
    let mut doc = read_logins(&logins_path)?;
    let found = look(profile, &key_path, &doc, wanted, password, nss)?;
    if found.iter().all(|(_, same)| *same) {
        return Ok(Stored { changed: false, backups: Vec::new() });
    }
    let mut backups = Backups::of(&[&logins_path, &key_path])?;
    let encrypted = encrypt_all(profile, &key_path, wanted, password, nss, &mut backups)?;
    merge(&mut doc, wanted, &found, encrypted, now_ms);
    let bytes = serde_json::to_vec(&Value::Object(doc.root)).map_err(|e| write_failed(&logins_path, &e))?;
    crate::export::replace_keeping_permissions(&logins_target, &bytes).map_err(|e| write_failed(&logins_path, &e))?;
    let backups = backups.keep();
    remove_older_backups(profile, &backups);
    Ok(Stored { changed: true, backups })
}

/// Whether `path` names a backup of the profile file `name` (`<name>.bak-…`).
fn is_backup_of(path: &Path, name: &str) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&format!("{name}.bak-")))
}

/// Removes every backup of logins.json and key4.db in `profile` but `keep` (this run's). Best effort: one that
/// cannot be removed stays, and the next run tries again.
fn remove_older_backups(profile: &Path, keep: &[String]) {
    let Ok(entries) = std::fs::read_dir(profile) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = is_backup_of(&path, "logins.json") || is_backup_of(&path, "key4.db");
        if ours && !keep.contains(&path.display().to_string()) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// logins.json as it is (a new, empty document when there is none).
fn read_logins(logins_path: &Path) -> Result<Document, Diagnosis> {
    let original = match std::fs::read(logins_path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(unreadable(logins_path, e.to_string())),
    };
    Document::parse(logins_path, original.as_deref())
}

/// What is there already, looked at without changing anything (and so a primary password found before any change).
fn look(
    profile: &Path,
    key_path: &Path,
    doc: &Document,
    wanted: &[ServerLogin],
    password: &Secret,
    nss: &dyn Nss,
) -> Result<Vec<(Vec<usize>, bool)>, Diagnosis> {
    if !key_path.exists() {
        return Ok(matches(doc, wanted, password, None));
    }
    let mut store = nss.open(profile, false).map_err(|e| e.diagnosis(profile))?;
    Ok(matches(doc, wanted, password, Some(store.as_mut())))
}

/// The copies of logins.json and key4.db made before a change. Dropped, they are removed again — a change that did
/// not happen needs no backup — unless `keep` was called (the change was written) or `keep_on_drop` (key4.db may
/// have changed on the way).
struct Backups {
    paths: Vec<PathBuf>,
    keep: bool,
}

impl Backups {
    /// Copies each of `paths` that exists beside itself (`<name>.bak-<unix time>`, owner only).
    fn of(paths: &[&Path]) -> Result<Backups, Diagnosis> {
        let mut backups = Backups { paths: Vec::new(), keep: false };
        for path in paths.iter().filter(|p| p.exists()) {
            backups.paths.push(backup(path).map_err(|e| write_failed(path, &e))?);
        }
        Ok(backups)
    }

    fn keep_on_drop(&mut self) {
        self.keep = true;
    }

    /// Removes the copy of the profile file `name` now: the file is as it was, so the copy holds nothing more.
    fn forget(&mut self, name: &str) {
        let (gone, kept): (Vec<PathBuf>, Vec<PathBuf>) = self.paths.drain(..).partition(|p| is_backup_of(p, name));
        for path in gone {
            let _ = std::fs::remove_file(path);
        }
        self.paths = kept;
    }

    /// The change was written: the backups stay, and here is where.
    fn keep(mut self) -> Vec<String> {
        self.keep = true;
        self.paths.iter().map(|p| p.display().to_string()).collect()
    }
}

impl Drop for Backups {
    fn drop(&mut self) {
        if !self.keep {
            for path in &self.paths {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// The username and password of each wanted login, encrypted with the profile's key (key4.db is made when there is
/// none). Once key4.db may have changed, its backup is kept whatever happens next.
fn encrypt_all(
    profile: &Path,
    key_path: &Path,
    wanted: &[ServerLogin],
    password: &Secret,
    nss: &dyn Nss,
    backups: &mut Backups,
) -> Result<Vec<(String, String)>, Diagnosis> {
    let key4_before = std::fs::read(key_path).ok();
    let mut store = nss.open(profile, true).map_err(|e| e.diagnosis(profile))?;
    let mut out = Vec::new();
    for login in wanted {
        match (store.encrypt(login.username.as_bytes()), store.encrypt(password.expose().as_bytes())) {
            (Ok(u), Ok(p)) => out.push((b64(&u), b64(&p))),
            (Err(e), _) | (_, Err(e)) => {
                drop(store);
                if std::fs::read(key_path).ok() != key4_before {
                    backups.keep_on_drop();
                }
                return Err(unreadable(key_path, e));
            }
        }
    }
    // key4.db as it was is still key4.db: its copy holds nothing the profile does not.
    drop(store);
    if std::fs::read(key_path).ok() == key4_before {
        backups.forget("key4.db");
    }
    backups.keep_on_drop();
    Ok(out)
}

/// Updates in place the first login that is each wanted one, drops its duplicates, and adds the missing ones with
/// the fields Thunderbird's `#addLogin` writes.
fn merge(doc: &mut Document, wanted: &[ServerLogin], found: &[(Vec<usize>, bool)], encrypted: Vec<(String, String)>, now_ms: u64) {
    let mut remove: Vec<usize> = Vec::new();
    let mut next_id = doc.root.get("nextId").and_then(Value::as_u64).unwrap_or(1);
    let max_id = doc.logins().iter().filter_map(|l| l.get("id").and_then(Value::as_u64)).max().unwrap_or(0);
    next_id = next_id.max(max_id + 1);
    let mut added = Vec::new();
    let items = doc.root.entry("logins").or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = items else { unreachable!("checked in parse") };
    for ((login, (found, _)), (user, pass)) in wanted.iter().zip(found).zip(encrypted) {
        match found.split_first() {
            Some((&first, rest)) => {
                let Some(item) = items[first].as_object_mut() else { unreachable!("parse checked every login is an object") };
                item.insert("encryptedUsername".into(), user.into());
                item.insert("encryptedPassword".into(), pass.into());
                item.insert("encType".into(), 1.into());
                item.insert("timePasswordChanged".into(), now_ms.into());
                if let Some(n) = item.get("syncCounter").and_then(Value::as_u64) {
                    item.insert("syncCounter".into(), (n + 1).into());
                }
                remove.extend_from_slice(rest);
            }
            None => {
                added.push(json!({
                    "id": next_id,
                    "hostname": login.origin,
                    "httpRealm": login.realm(),
                    "formSubmitURL": null,
                    "usernameField": "",
                    "passwordField": "",
                    "encryptedUsername": user,
                    "encryptedPassword": pass,
                    "guid": format!("{{{}}}", uuid::Uuid::new_v4()),
                    "encType": 1,
                    "timeCreated": now_ms,
                    "timeLastUsed": now_ms,
                    "timePasswordChanged": now_ms,
                    "timesUsed": 1,
                    "syncCounter": 1,
                    "everSynced": false,
                    "encryptedUnknownFields": null,
                }));
                next_id += 1;
            }
        }
    }
    remove.sort_unstable();
    for i in remove.into_iter().rev() {
        items.remove(i);
    }
    items.extend(added);
    doc.root.insert("nextId".into(), next_id.into());
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn write_failed(path: &Path, e: &dyn std::fmt::Display) -> Diagnosis {
    Diagnosis::new(DiagnosisKind::WriteFailed, facts_path(path), Some(e.to_string()))
}

/// A backup copy of `path` beside it (`<name>.bak-<unix time>`, owner only), as prefs.js gets one.
fn backup(path: &Path) -> std::io::Result<PathBuf> {
    let bytes = std::fs::read(path)?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    super::write_backup(folder, &name, &bytes)
}

/// The milliseconds since 1970, as Thunderbird stamps logins.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A stand-in for NSS: "encrypts" by prefixing a key id, records how the store was opened, and can pretend a
    /// primary password is set or that NSS is missing.
    #[derive(Default)]
    struct FakeNss {
        key: &'static str,
        primary_password: bool,
        missing: bool,
        opened: RefCell<Vec<bool>>,
    }

    struct FakeStore<'a>(&'a FakeNss);

    impl Nss for FakeNss {
        fn open(&self, profile: &Path, write: bool) -> Result<Box<dyn KeyStore + '_>, NssError> {
            self.opened.borrow_mut().push(write);
            if self.missing {
                return Err(NssError::Unavailable { path: None, detail: "no libnss3.so".into() });
            }
            if self.primary_password {
                return Err(NssError::PrimaryPassword);
            }
            if write && !profile.join("key4.db").exists() {
                std::fs::write(profile.join("key4.db"), b"fresh key store").unwrap();
            }
            Ok(Box::new(FakeStore(self)))
        }
    }

    impl KeyStore for FakeStore<'_> {
        fn encrypt(&mut self, plain: &[u8]) -> Result<Vec<u8>, String> {
            Ok([self.0.key.as_bytes(), b":", &plain.iter().map(|b| b ^ 0x5a).collect::<Vec<u8>>()].concat())
        }
        fn decrypt(&mut self, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
            let prefix = format!("{}:", self.0.key);
            let body = cipher.strip_prefix(prefix.as_bytes()).ok_or("another key")?;
            Ok(Zeroizing::new(body.iter().map(|b| b ^ 0x5a).collect()))
        }
    }

    fn nss() -> FakeNss {
        FakeNss { key: "k1", ..FakeNss::default() }
    }

    fn account() -> Account {
        let address = crate::Address::parse("jane.doe@icloud.com").unwrap();
        Account::new(address, None, None).unwrap()
    }

    fn secret(s: &str) -> Secret {
        Secret::new(s.into())
    }

    fn logins(profile: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(profile.join("logins.json")).unwrap()).unwrap()
    }

    fn reveal(store: &FakeNss, item: &Value, key: &str) -> String {
        let cipher = decode(item, key).unwrap();
        String::from_utf8(FakeStore(store).decrypt(&cipher).unwrap().to_vec()).unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn a_logins_json_that_is_a_link_stays_one() {
        let dir = tempfile::tempdir().unwrap();
        let dotfiles = tempfile::tempdir().unwrap();
        let nss = nss();
        let wanted = server_logins(&account());
        store_logins(dir.path(), &wanted, &secret("old-password"), &nss, 1000).unwrap();
        let target = dotfiles.path().join("logins.json");
        std::fs::rename(dir.path().join("logins.json"), &target).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("logins.json")).unwrap();

        store_logins(dir.path(), &wanted, &secret("new-password"), &nss, 2000).unwrap();
        assert!(std::fs::symlink_metadata(dir.path().join("logins.json")).unwrap().file_type().is_symlink(), "still a link");
        let doc: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
        assert_eq!(reveal(&nss, &doc["logins"][0], "encryptedPassword"), "new-password", "the target was written");
    }

    #[test]
    fn origins_and_realms_are_the_ones_thunderbird_looks_up() {
        let wanted = server_logins(&account());
        assert_eq!(
            wanted,
            [
                ServerLogin { origin: "imap://imap.mail.me.com".into(), username: "jane.doe".into(), realm: None },
                ServerLogin { origin: "smtp://smtp.mail.me.com".into(), username: "jane.doe@icloud.com".into(), realm: None },
            ]
        );
        // An IPv6 SMTP server is bracketed (SmtpServer._getServerURISpec); IMAP appends the host as it is.
        let v6 = crate::provider::Endpoint::parse_override("[::1]:1587", crate::provider::Security::Starttls).unwrap();
        let imap = crate::provider::Endpoint::parse_override("[::1]:1993", crate::provider::Security::Tls).unwrap();
        let wanted = server_logins(&account().with_servers(Some(imap), Some(v6), None));
        assert_eq!(wanted[0].origin, "imap://::1");
        assert_eq!(wanted[1].origin, "smtp://[::1]");
    }

    #[test]
    fn dav_logins_have_the_collections_pre_path_and_the_servers_realm() {
        use crate::account::{AddressBook, Calendar, CalendarsFound, ContactsFound, DavService};
        let service = |realm: Option<&str>| DavService {
            host: "caldav.icloud.com".into(),
            port: 443,
            username: "jane.doe@icloud.com".into(),
            principal: "https://p23-caldav.icloud.com/1/principal/".into(),
            home: "https://p23-caldav.icloud.com/1/calendars/".into(),
            realm: realm.map(str::to_owned),
        };
        let mut account = account();
        let calendar =
            |path: &str| Calendar { name: path.into(), url: format!("https://p23-caldav.icloud.com:443/1/calendars/{path}/"), color: None };
        account.dav.caldav =
            Some(CalendarsFound { service: service(Some("MMCalDav")), calendars: vec![calendar("home"), calendar("work")] });
        account.dav.carddav = Some(ContactsFound {
            service: service(None),
            addressbooks: vec![AddressBook { name: "card".into(), url: "https://dav.localhost:8443/1/card/".into() }],
        });
        assert_eq!(
            dav_logins(&account),
            [
                ServerLogin {
                    origin: "https://p23-caldav.icloud.com".into(),
                    username: "jane.doe@icloud.com".into(),
                    realm: Some("MMCalDav".into())
                },
                ServerLogin {
                    origin: "https://dav.localhost:8443".into(),
                    username: "jane.doe@icloud.com".into(),
                    realm: Some("https://dav.localhost:8443".into())
                },
            ],
            "one login for both calendars on one host"
        );
        let dir = tempfile::tempdir().unwrap();
        let nss = nss();
        store_logins(dir.path(), &dav_logins(&account), &secret("pw"), &nss, 1).unwrap();
        let doc = logins(dir.path());
        assert_eq!(doc["logins"][0]["hostname"], "https://p23-caldav.icloud.com");
        assert_eq!(doc["logins"][0]["httpRealm"], "MMCalDav");
        assert!(!store_logins(dir.path(), &dav_logins(&account), &secret("pw"), &nss, 2).unwrap().changed, "found again by realm");
    }

    #[test]
    fn a_fresh_profile_gets_one_login_per_server_as_thunderbird_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let nss = nss();
        let stored = store_logins(dir.path(), &server_logins(&account()), &secret("abcd-efgh-ijkl-mnop"), &nss, 1_700_000_000_000).unwrap();
        assert!(stored.changed);
        assert!(stored.backups.is_empty(), "there was nothing to back up: {stored:?}");
        assert_eq!(*nss.opened.borrow(), [true], "no key4.db: nothing to look at first");
        let doc = logins(dir.path());
        assert_eq!(doc["version"], 3);
        assert_eq!(doc["nextId"], 3);
        let items = doc["logins"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        for (item, (origin, user)) in
            items.iter().zip([("imap://imap.mail.me.com", "jane.doe"), ("smtp://smtp.mail.me.com", "jane.doe@icloud.com")])
        {
            assert_eq!(item["hostname"], origin);
            assert_eq!(item["httpRealm"], origin);
            assert_eq!(item["formSubmitURL"], Value::Null);
            assert_eq!(item["usernameField"], "");
            assert_eq!(item["encType"], 1);
            assert_eq!(item["timeCreated"], 1_700_000_000_000u64);
            assert!(item["guid"].as_str().unwrap().starts_with('{'));
            assert_eq!(reveal(&nss, item, "encryptedUsername"), user);
            assert_eq!(reveal(&nss, item, "encryptedPassword"), "abcd-efgh-ijkl-mnop");
        }
        let text = std::fs::read_to_string(dir.path().join("logins.json")).unwrap();
        assert!(!text.contains("abcd-efgh-ijkl-mnop") && !text.contains("jane.doe"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("logins.json")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "logins.json is for its owner only");
        }
    }

    #[test]
    fn an_earlier_login_is_replaced_others_are_kept_and_the_login_store_is_backed_up_first() {
        let dir = tempfile::tempdir().unwrap();
        let nss = nss();
        let wanted = server_logins(&account());
        store_logins(dir.path(), &wanted, &secret("old-password"), &nss, 1000).unwrap();
        // Someone else's login and an unknown field Thunderbird may have written stay as they are.
        let mut doc = logins(dir.path());
        doc["logins"].as_array_mut().unwrap().push(json!({"id": 9, "hostname": "imap://imap.mail.me.com", "httpRealm": "imap://imap.mail.me.com",
            "formSubmitURL": null, "encryptedUsername": b64(&FakeStore(&nss).encrypt(b"john").unwrap()), "encryptedPassword": "x", "guid": "{other}"}));
        doc["sync"] = json!({"lastSync": 5});
        std::fs::write(dir.path().join("logins.json"), doc.to_string()).unwrap();
        let before_logins = std::fs::read(dir.path().join("logins.json")).unwrap();
        let before_key = std::fs::read(dir.path().join("key4.db")).unwrap();
        let guid = doc["logins"][0]["guid"].clone();

        let stored = store_logins(dir.path(), &wanted, &secret("new-password"), &nss, 2000).unwrap();
        assert!(stored.changed);
        assert_eq!(*nss.opened.borrow(), [true, false, true], "looked read-only first, then wrote");
        let doc = logins(dir.path());
        let items = doc["logins"].as_array().unwrap();
        assert_eq!(items.len(), 3, "one per server and username, John's kept: {doc}");
        assert_eq!(items[0]["guid"], guid, "updated in place");
        assert_eq!(items[0]["timeCreated"], 1000);
        assert_eq!(items[0]["timePasswordChanged"], 2000);
        assert_eq!(reveal(&nss, &items[0], "encryptedPassword"), "new-password");
        assert_eq!(reveal(&nss, &items[1], "encryptedPassword"), "new-password");
        assert_eq!(items[2]["guid"], "{other}");
        assert_eq!(doc["sync"]["lastSync"], 5);
        assert_eq!(doc["nextId"], 10);
        // The backup holds logins.json as it was; key4.db, which encrypting did not change, gets none.
        assert_eq!(stored.backups.len(), 1, "{stored:?}");
        let logins_backup = stored.backups.iter().find(|b| b.contains("logins.json.bak-")).unwrap();
        assert_eq!(std::fs::read(logins_backup).unwrap(), before_logins);
        assert_eq!(std::fs::read(dir.path().join("key4.db")).unwrap(), before_key);
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!names.iter().any(|n| n.starts_with("key4.db.bak-")), "{names:?}");

        // The same password again: nothing to do, nothing written, no backup.
        let again = store_logins(dir.path(), &wanted, &secret("new-password"), &nss, 3000).unwrap();
        assert_eq!(again, Stored { changed: false, backups: Vec::new() });
        assert_eq!(logins(dir.path())["logins"][0]["timePasswordChanged"], 2000);
    }

    #[test]
    fn duplicates_collapse_into_one() {
        let dir = tempfile::tempdir().unwrap();
        let nss = nss();
        let wanted = server_logins(&account());
        store_logins(dir.path(), &wanted, &secret("pw"), &nss, 1000).unwrap();
        let mut doc = logins(dir.path());
        let copy = doc["logins"][0].clone();
        doc["logins"].as_array_mut().unwrap().push(copy);
        std::fs::write(dir.path().join("logins.json"), doc.to_string()).unwrap();
        store_logins(dir.path(), &wanted, &secret("pw"), &nss, 2000).unwrap();
        assert_eq!(logins(dir.path())["logins"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_primary_password_or_missing_nss_changes_nothing() {
        for nss in [
            FakeNss { key: "k1", primary_password: true, ..FakeNss::default() },
            FakeNss { key: "k1", missing: true, ..FakeNss::default() },
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("key4.db"), b"locked").unwrap();
            std::fs::write(dir.path().join("logins.json"), b"{\"logins\":[],\"nextId\":1}").unwrap();
            let err = store_logins(dir.path(), &server_logins(&account()), &secret("pw"), &nss, 1).unwrap_err();
            let want = if nss.missing { DiagnosisKind::ThunderbirdNssUnavailable } else { DiagnosisKind::ThunderbirdPrimaryPassword };
            assert_eq!(err.kind, want);
            assert_eq!(*nss.opened.borrow(), [false], "never opened for writing");
            assert_eq!(names(dir.path()), ["key4.db", "logins.json"], "no backup, no temporary file");
            assert_eq!(std::fs::read(dir.path().join("logins.json")).unwrap(), b"{\"logins\":[],\"nextId\":1}");
        }
    }

    /// The profile's file names, sorted.
    fn names(profile: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(profile).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn backups_made_for_a_change_that_did_not_happen_are_removed_again() {
        // No key4.db yet, so nothing is opened before the backup of logins.json; then NSS cannot be loaded.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("logins.json"), b"{\"logins\":[],\"nextId\":1}").unwrap();
        let nss = FakeNss { key: "k1", missing: true, ..FakeNss::default() };
        let err = store_logins(dir.path(), &server_logins(&account()), &secret("pw"), &nss, 1).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ThunderbirdNssUnavailable);
        assert_eq!(*nss.opened.borrow(), [true], "opened for writing, after the backup");
        assert_eq!(names(dir.path()), ["logins.json"], "the backup went with the change that did not happen");
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_that_cannot_be_tested_is_said_to_be_that_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        // A lock file that cannot be opened (a link to itself), even by root.
        std::os::unix::fs::symlink(".parentlock", dir.path().join(".parentlock")).unwrap();
        let nss = nss();
        let err = store_logins(dir.path(), &server_logins(&account()), &secret("pw"), &nss, 1).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ThunderbirdLockUnreadable, "{err:?}");
        assert!(err.detail.unwrap_or_default().contains("could not be tested"));
        assert!(nss.opened.borrow().is_empty());
        assert_eq!(names(dir.path()), [".parentlock"]);
        let d = Diagnosis::new(DiagnosisKind::ThunderbirdLockUnreadable, facts_path(dir.path()), None);
        assert!(!d.message(crate::Lang::En).contains("running"), "{}", d.message(crate::Lang::En));
    }

    #[test]
    fn an_unreadable_logins_json_is_left_alone() {
        for bad in [&b"{not json"[..], b"[]", b"{\"logins\": 5}", b"{\"logins\": [], \"nextId\": \"x\"}"] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("logins.json"), bad).unwrap();
            let nss = nss();
            let err = store_logins(dir.path(), &server_logins(&account()), &secret("pw"), &nss, 1).unwrap_err();
            assert_eq!(err.kind, DiagnosisKind::ThunderbirdLoginsUnreadable);
            assert!(nss.opened.borrow().is_empty());
            assert_eq!(std::fs::read(dir.path().join("logins.json")).unwrap(), bad);
        }
    }

    #[test]
    fn logins_another_key_made_are_not_taken_for_ours() {
        let dir = tempfile::tempdir().unwrap();
        let wanted = server_logins(&account());
        store_logins(dir.path(), &wanted, &secret("pw"), &FakeNss { key: "old", ..FakeNss::default() }, 1).unwrap();
        store_logins(dir.path(), &wanted, &secret("pw"), &nss(), 2).unwrap();
        assert_eq!(logins(dir.path())["logins"].as_array().unwrap().len(), 4, "undecryptable logins are kept, ours added");
    }

    #[test]
    fn the_report_says_whether_the_password_was_stored() {
        let outcome =
            AddOutcome::AlreadyPresent { profile: "/p".into(), server_key: "server1".into(), dav: Default::default(), backup: None };
        let v = serde_json::to_value(AddReport::new(outcome.clone(), None)).unwrap();
        assert_eq!(v["outcome"], "already_present");
        assert_eq!(v["password_stored"], false);
        assert!(v.get("password_reason").is_none());
        let d = Diagnosis::of(DiagnosisKind::ThunderbirdPrimaryPassword);
        let v = serde_json::to_value(AddReport::new(outcome, Some(Err(d)))).unwrap();
        assert_eq!(v["password_stored"], false);
        assert_eq!(v["password_reason"]["kind"], "thunderbird_primary_password");
    }
}
