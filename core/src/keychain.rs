//! The keychain: the app-specific password in the operating system's own persistent store (Apple Keychain, Windows
//! Credential Manager, the Secret Service on Linux and the BSDs) under one naming scheme, and what its failures mean.
//!
//! Every call blocks (D-Bus round trips, a permission or unlock prompt the person has to answer) and none of the
//! stores has a time limit of its own for a prompt: the Secret Service client waits a year for an unanswered unlock
//! prompt. So each call runs on a worker thread of its own and the caller waits at most the keychain's deadline
//! (`DEFAULT_DEADLINE`, or `with_deadline`), then gets `keychain_locked` (the default keyring is locked: the call is
//! waiting for its unlock prompt) or `keychain_timeout`. A worker that is still waiting is left to finish on its own;
//! what it does then is described at `Keychain::save`.
// `Diagnosis` is this crate's one error type (address.rs and account.rs return it too); it is made once per call,
// so its size costs nothing worth boxing for.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use keyring::credential::{CredentialBuilder, CredentialPersistence};
use keyring::Entry;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroize;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::secret::Secret;

/// The service name of every entry, on every platform. The account is the login: the primary iCloud address, in
/// lower case (`Account::login`), also for an iCloud+ custom-domain address that sends mail.
pub const SERVICE: &str = "icloud-mail-setup";

/// The longest password this keeps. Windows stores at most 2,560 bytes of UTF-16; 640 characters fit even when each
/// needs four bytes, so the limit is the same everywhere. An app-specific password has 19.
pub const MAX_PASSWORD_CHARS: usize = 640;

/// The store this build keeps passwords in, as people call it.
pub const STORE_NAME: &str = platform::STORE_NAME;

/// How long one keychain call may take, unlock prompt included. A call that needs no person answers in
/// milliseconds; this is the time a person needs to notice an unlock prompt (it may open behind the window), read it,
/// type a long keyring password and, after a typo, type it again. Longer, and a keychain that is stuck (a hung
/// daemon, a prompt nobody can see over ssh) would look like a frozen program.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// Where an entry lives. The same service and account on every platform, so that other programs find it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EntryName {
    pub service: String,
    /// The login address (the primary iCloud address).
    pub account: String,
}

impl EntryName {
    pub fn for_account(account: &Account) -> EntryName {
        EntryName { service: SERVICE.to_owned(), account: account.login.address.clone() }
    }

    /// The target name the Windows Credential Manager shows for the entry (keyring writes `<account>.<service>`).
    pub fn windows_target_name(&self) -> String {
        format!("{}.{}", self.account, self.service)
    }
}

/// Whether a password is saved, without revealing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeychainStatus {
    pub exists: bool,
    /// The store asked ("Secret Service", "macOS Keychain", "Windows Credential Manager").
    pub store: String,
    pub entry: EntryName,
}

/// What `save` does when a password is already saved for the login. The page asks the person first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IfSaved {
    /// Leave the saved one alone and fail with `keychain_entry_exists`.
    Refuse,
    /// Overwrite it.
    Replace,
}

/// What `save` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Saved {
    Created,
    Replaced,
}

/// The operating system's store, checked to be persistent. Cheap to make; each call opens its own connection, so a
/// store started or unlocked after a failure is found on the next try.
pub struct Keychain {
    builder: Arc<CredentialBuilder>,
    deadline: Duration,
    /// Calls reach the store one at a time, in the order they were made, also when an earlier caller stopped
    /// waiting. One queue per store (the native store's is process-wide).
    turns: Arc<Turns>,
    /// Whether the store's default keyring is locked, asked when a call did not answer in time.
    locked: fn(Duration) -> Option<bool>,
}

impl Keychain {
    /// The platform's own store. Fails with `keychain_unavailable` if this build's store would not keep the password
    /// past the end of the program (keyring's in-memory mock), so that nothing pretends to have saved it.
    pub fn native() -> Result<Keychain, Diagnosis> {
        static NATIVE_TURNS: OnceLock<Arc<Turns>> = OnceLock::new();
        Keychain::over(platform::native_builder(), NATIVE_TURNS.get_or_init(Arc::default).clone(), platform::default_keyring_locked)
    }

    fn over(builder: Box<CredentialBuilder>, turns: Arc<Turns>, locked: fn(Duration) -> Option<bool>) -> Result<Keychain, Diagnosis> {
        match builder.persistence() {
            CredentialPersistence::UntilDelete => Ok(Keychain { builder: Arc::from(builder), deadline: DEFAULT_DEADLINE, turns, locked }),
            _ => Err(Diagnosis::new(
                DiagnosisKind::KeychainUnavailable,
                Facts { store: Some(STORE_NAME.to_owned()), ..Facts::default() },
                Some("this build's credential store does not keep passwords on disk".to_owned()),
            )),
        }
    }

    /// The same store with another deadline for each call (the command line's `--timeout`). At least a millisecond.
    pub fn with_deadline(self, deadline: Duration) -> Keychain {
        Keychain { deadline: deadline.max(Duration::from_millis(1)), ..self }
    }

    /// How long each call may take before it ends in `keychain_locked` or `keychain_timeout`.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether a password is saved for the account's login. Never reads it out where the store can avoid that (the
    /// Secret Service answers from the item's attributes; the macOS Keychain reads the item, which may ask the person).
    pub fn status(&self, account: &Account) -> Result<KeychainStatus, Diagnosis> {
        let entry = EntryName::for_account(account);
        let exists = self.bounded(&entry, Call::Other, exists)?;
        Ok(KeychainStatus { exists, store: STORE_NAME.to_owned(), entry })
    }

    /// Saves the password for the account's login. With `IfSaved::Refuse` an existing entry is kept and the result is
    /// `keychain_entry_exists`. The password is dropped (and wiped) as soon as the store has it, or the call failed.
    ///
    /// When the store does not answer within the deadline, the result is `keychain_locked` or `keychain_timeout` and
    /// the save is *unconfirmed*: the worker keeps waiting, and if the store answers later (the person types the
    /// unlock password after all) the password is saved without anyone being told then. That is never dangerous
    /// here: (1) calls reach the store one at a time in the order they were made, so a later save (a corrected
    /// password) cannot be overtaken and overwritten by the late one, and a later `status` or save sees the late
    /// result (a retried save with `IfSaved::Refuse` says `keychain_entry_exists`, so the person is asked before
    /// anything is replaced); (2) a process that exits takes the waiting worker with it, and the password with it.
    /// The detail of the verdict says that the save may still complete.
    pub fn save(&self, account: &Account, password: Secret, if_saved: IfSaved) -> Result<Saved, Diagnosis> {
        let entry = EntryName::for_account(account);
        let chars = password.expose().chars().count();
        if chars > MAX_PASSWORD_CHARS {
            return Err(too_long(&entry, format!("{chars} characters")));
        }
        self.bounded(&entry, Call::Save, move |builder, entry| {
            // Checked first rather than letting the store overwrite: only the person may decide to replace a password.
            let existed = exists(builder, entry)?;
            if existed && if_saved == IfSaved::Refuse {
                return Err(Diagnosis::new(DiagnosisKind::KeychainEntryExists, facts(entry), None));
            }
            let result = open(builder, entry)?.set_password(password.expose());
            drop(password);
            result.map_err(|e| diagnose(e, entry))?;
            Ok(if existed { Saved::Replaced } else { Saved::Created })
        })
    }

    /// Deletes the saved password; `keychain_no_entry` if there is none.
    pub fn delete(&self, account: &Account) -> Result<(), Diagnosis> {
        let entry = EntryName::for_account(account);
        self.bounded(&entry, Call::Other, |builder, entry| open(builder, entry)?.delete_credential().map_err(|e| diagnose(e, entry)))
    }

    /// Reads the saved password (for the command line's `keychain get`, a mail client's password command). A password
    /// that arrives after the deadline is wiped by the worker, never handed to anyone.
    pub fn get(&self, account: &Account) -> Result<Secret, Diagnosis> {
        let entry = EntryName::for_account(account);
        self.bounded(&entry, Call::Other, |builder, entry| {
            open(builder, entry)?.get_password().map(Secret::new).map_err(|e| diagnose(e, entry))
        })
    }

    /// Runs `call` on a worker thread, in its turn, and waits for it until the deadline. Past the deadline the worker
    /// is left to finish by itself; its result is then dropped (a `Secret` in it is wiped).
    fn bounded<T: Send + 'static>(
        &self,
        entry: &EntryName,
        what: Call,
        call: impl FnOnce(&CredentialBuilder, &EntryName) -> Result<T, Diagnosis> + Send + 'static,
    ) -> Result<T, Diagnosis> {
        let started = Instant::now();
        // The last part of the deadline is kept for asking whether the keyring is locked, should the call not answer.
        let lock_check = (self.deadline / 4).min(Duration::from_secs(1));
        let give_up = started + (self.deadline - lock_check);
        let (tx, rx) = mpsc::channel();
        let (builder, turns, for_worker) = (self.builder.clone(), self.turns.clone(), entry.clone());
        let ticket = turns.ticket();
        let spawned = std::thread::Builder::new().name("keychain".into()).spawn(move || {
            let _turn = turns.wait_for(ticket);
            let _ = tx.send(Progress::Asking);
            let _ = tx.send(Progress::Answered(call(&*builder, &for_worker)));
        });
        if let Err(e) = spawned {
            self.turns.skip(ticket);
            return Err(Diagnosis::new(
                DiagnosisKind::KeychainError,
                facts(entry),
                Some(format!("could not start a thread for the keychain: {e}")),
            ));
        }
        let mut asking = false;
        loop {
            match rx.recv_timeout(give_up.saturating_duration_since(Instant::now())) {
                Ok(Progress::Asking) => asking = true,
                Ok(Progress::Answered(result)) => return result,
                Err(RecvTimeoutError::Timeout) => return Err(self.no_answer(entry, what, asking, lock_check)),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Diagnosis::new(
                        DiagnosisKind::KeychainError,
                        facts(entry),
                        Some("the keychain call ended without an answer".to_owned()),
                    ))
                }
            }
        }
    }

    /// The verdict for a call that did not answer in time: `keychain_locked` when the store says its default keyring
    /// is locked (the call is waiting for the unlock prompt), else `keychain_timeout`.
    fn no_answer(&self, entry: &EntryName, what: Call, asking: bool, lock_check: Duration) -> Diagnosis {
        let seconds = self.deadline.as_secs_f64().ceil().max(1.0) as u32;
        let mut detail = if asking {
            format!("no answer from the {STORE_NAME} within {seconds} s")
        } else {
            format!("an earlier request to the {STORE_NAME} from this program was still waiting for an answer after {seconds} s")
        };
        let locked = (self.locked)(lock_check) == Some(true);
        if locked {
            detail.push_str("; its default keyring is locked, so it is most likely waiting for its unlock prompt to be answered");
        }
        if what == Call::Save {
            detail.push_str(
                "; the password was not confirmed as saved, and may still be saved if the keychain answers later: check \
                 the keychain before saving again",
            );
        }
        let kind = if locked { DiagnosisKind::KeychainLocked } else { DiagnosisKind::KeychainTimeout };
        Diagnosis::new(kind, Facts { seconds: Some(seconds), ..facts(entry) }, Some(detail))
    }
}

/// A ticket queue: each call takes a ticket when it is made and its worker waits until that ticket is served (a
/// mutex alone would hand the store to waiting workers in any order).
#[derive(Default)]
struct Turns {
    state: Mutex<TurnState>,
    changed: Condvar,
}

#[derive(Default)]
struct TurnState {
    issued: u64,
    serving: u64,
    /// Tickets whose worker never started; passed over.
    skipped: BTreeSet<u64>,
}

impl Turns {
    fn lock(&self) -> MutexGuard<'_, TurnState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ticket(&self) -> u64 {
        let mut state = self.lock();
        state.issued += 1;
        state.issued - 1
    }

    /// Blocks until it is `ticket`'s turn; the turn passes on when the returned guard is dropped (also in a panic).
    fn wait_for(self: Arc<Self>, ticket: u64) -> Turn {
        let mut state = self.lock();
        while state.serving != ticket {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        drop(state);
        Turn(self)
    }

    fn skip(&self, ticket: u64) {
        let mut state = self.lock();
        if state.serving == ticket {
            self.advance(&mut state);
        } else {
            state.skipped.insert(ticket);
        }
    }

    fn advance(&self, state: &mut TurnState) {
        state.serving += 1;
        while state.skipped.remove(&state.serving) {
            state.serving += 1;
        }
        self.changed.notify_all();
    }
}

/// The store is this worker's until this is dropped.
struct Turn(Arc<Turns>);

impl Drop for Turn {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        self.0.advance(&mut state);
    }
}

/// What a worker tells the caller: it has its turn and is asking the store; the store's answer.
enum Progress<T> {
    Asking,
    Answered(Result<T, Diagnosis>),
}

/// Which call timed out, for its detail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Save,
    Other,
}

fn exists(builder: &CredentialBuilder, entry: &EntryName) -> Result<bool, Diagnosis> {
    match open(builder, entry)?.get_attributes() {
        Ok(_) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(diagnose(e, entry)),
    }
}

fn open(builder: &CredentialBuilder, entry: &EntryName) -> Result<Entry, Diagnosis> {
    // No target: the default collection (Secret Service), the login keychain (macOS), `<account>.<service>` (Windows).
    let credential = builder.build(None, &entry.service, &entry.account).map_err(|e| diagnose(e, entry))?;
    Ok(Entry::new_with_credential(credential))
}

fn facts(entry: &EntryName) -> Facts {
    Facts { username: Some(entry.account.clone()), store: Some(STORE_NAME.to_owned()), ..Facts::default() }
}

/// A too-long value is told in the product's own limit, the same on every platform, whatever unit the store counts in.
fn too_long(entry: &EntryName, detail: String) -> Diagnosis {
    let facts = Facts { limit: Some(MAX_PASSWORD_CHARS as u32), ..facts(entry) };
    Diagnosis::new(DiagnosisKind::KeychainValueTooLong, facts, Some(detail))
}

/// Turns a keyring error into a diagnosis. The detail is the store's own words; it never holds the secret (keyring's
/// `BadEncoding` carries the stored bytes, which are wiped here instead of shown).
fn diagnose(error: keyring::Error, entry: &EntryName) -> Diagnosis {
    let (kind, detail) = match error {
        keyring::Error::NoEntry => (DiagnosisKind::KeychainNoEntry, None),
        keyring::Error::TooLong(what, limit) => return too_long(entry, format!("the store allows at most {limit} for the {what}")),
        keyring::Error::NoStorageAccess(ref inner) | keyring::Error::PlatformFailure(ref inner) => {
            let words = match platform::explain(inner.as_ref()) {
                Some(explanation) => format!("{explanation} ({error})"),
                None => error.to_string(),
            };
            (platform::classify(inner.as_ref()), Some(words))
        }
        keyring::Error::BadEncoding(mut bytes) => {
            bytes.zeroize();
            (DiagnosisKind::KeychainError, Some("the saved password is not UTF-8 text".to_owned()))
        }
        keyring::Error::Ambiguous(ref items) => (
            DiagnosisKind::KeychainError,
            Some(format!(
                "{} entries match service {} and account {}; keep one and delete the others",
                items.len(),
                entry.service,
                entry.account
            )),
        ),
        other => (DiagnosisKind::KeychainError, Some(other.to_string())),
    };
    // Only a store call that got no reply within its own limit is a timeout here (the deadline's is `no_answer`).
    let seconds = (kind == DiagnosisKind::KeychainTimeout).then_some(STORE_CALL_SECONDS);
    Diagnosis::new(kind, Facts { seconds, ..facts(entry) }, detail)
}

/// How long the Secret Service client waits for the reply to one D-Bus call (dbus-secret-service 4 gives each
/// call's proxy 2 s) before it reports `NoReply`: the limit a `keychain_timeout` from the store itself names.
const STORE_CALL_SECONDS: u32 = 2;

/// What a D-Bus or Secret Service error name means for a person. Pure, so it is tested on every platform.
pub fn dbus_error_kind(name: &str) -> DiagnosisKind {
    match name {
        // Nobody owns org.freedesktop.secrets and nothing could be started for it.
        "org.freedesktop.DBus.Error.ServiceUnknown" | "org.freedesktop.DBus.Error.NameHasNoOwner" => DiagnosisKind::KeychainUnavailable,
        n if n.starts_with("org.freedesktop.DBus.Error.Spawn.") => DiagnosisKind::KeychainUnavailable,
        // libdbus could not find or reach a session bus (no address, a dead socket, no X11 to autolaunch one).
        "org.freedesktop.DBus.Error.NoServer"
        | "org.freedesktop.DBus.Error.FileNotFound"
        | "org.freedesktop.DBus.Error.BadAddress"
        | "org.freedesktop.DBus.Error.NotSupported"
        | "org.freedesktop.DBus.Error.NoNetwork"
        | "org.freedesktop.DBus.Error.AuthFailed"
        | "org.freedesktop.DBus.Error.Disconnected" => DiagnosisKind::KeychainNoSession,
        "org.freedesktop.Secret.Error.IsLocked" => DiagnosisKind::KeychainLocked,
        // The service took the call but did not answer in time (a hung daemon).
        "org.freedesktop.DBus.Error.NoReply" | "org.freedesktop.DBus.Error.Timeout" | "org.freedesktop.DBus.Error.TimedOut" => {
            DiagnosisKind::KeychainTimeout
        }
        "org.freedesktop.DBus.Error.AccessDenied" => DiagnosisKind::KeychainAccessDenied,
        _ => DiagnosisKind::KeychainError,
    }
}

/// What a macOS Security framework status code means for a person.
pub fn os_status_kind(code: i32) -> DiagnosisKind {
    match code {
        // errSecInteractionNotAllowed, errSecInteractionRequired: locked, and no way to ask (ssh, a background job).
        -25308 | -25315 => DiagnosisKind::KeychainLocked,
        // errSecUserCanceled, errSecAuthFailed: the person refused the prompt or typed the wrong keychain password.
        -128 | -25293 => DiagnosisKind::KeychainAccessDenied,
        // errSecReadOnly: the keychain does not allow writing.
        -25292 => DiagnosisKind::KeychainAccessDenied,
        // errSecNotAvailable, errSecNoSuchKeychain, errSecInvalidKeychain: no usable default keychain.
        -25291 | -25294 | -25295 => DiagnosisKind::KeychainUnavailable,
        _ => DiagnosisKind::KeychainError,
    }
}

/// What a Windows (Win32) error code from the Credential Manager means for a person.
pub fn win32_error_kind(code: u32) -> DiagnosisKind {
    match code {
        // ERROR_NO_SUCH_LOGON_SESSION: a service or remote session with no user logon to keep credentials for.
        1312 => DiagnosisKind::KeychainNoSession,
        // ERROR_ACCESS_DENIED
        5 => DiagnosisKind::KeychainAccessDenied,
        // ERROR_NOT_FOUND
        1168 => DiagnosisKind::KeychainNoEntry,
        _ => DiagnosisKind::KeychainError,
    }
}

// One native store per target, named by its keyring module: without the store feature for the target that module does
// not exist and the build fails here, instead of keyring quietly handing out its in-memory mock.
#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "macos", target_os = "windows")))]
compile_error!("iCloud Mail Setup knows no persistent keychain for this target (keyring would fall back to its mock store).");

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
mod platform {
    use std::time::Duration;

    use super::{dbus_error_kind, CredentialBuilder, DiagnosisKind};

    pub const STORE_NAME: &str = "Secret Service";

    pub fn native_builder() -> Box<CredentialBuilder> {
        keyring::secret_service::default_credential_builder()
    }

    pub fn classify(error: &(dyn std::error::Error + Send + Sync + 'static)) -> DiagnosisKind {
        use dbus_secret_service::Error;
        match error.downcast_ref::<Error>() {
            // A locked collection or item whose unlock prompt was dismissed or could not be shown.
            Some(Error::Locked | Error::Prompt) => DiagnosisKind::KeychainLocked,
            // No default collection to put the item in, or no provider at all.
            Some(Error::NoResult | Error::Unavailable) => DiagnosisKind::KeychainUnavailable,
            Some(Error::Dbus(e)) => dbus_error_kind(e.name().unwrap_or_default()),
            _ => DiagnosisKind::KeychainError,
        }
    }

    /// Words for the one case whose store message says too little.
    pub fn explain(error: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<&'static str> {
        match error.downcast_ref::<dbus_secret_service::Error>() {
            Some(dbus_secret_service::Error::NoResult) => Some(
                "the Secret Service is running but has no default keyring: create one in Passwords and Keys and make it \
                 the default, or log in to a desktop session",
            ),
            _ => None,
        }
    }

    /// Whether the default keyring is locked, asked on a connection of its own while a call is stuck; None when the
    /// Secret Service does not say so within `budget` (it is hung too, or there is no default keyring). The question
    /// runs on a thread of its own because connecting to the bus has libdbus's own, long, limit.
    pub fn default_keyring_locked(budget: Duration) -> Option<bool> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("keychain-lock-check".into())
            .spawn(move || {
                let _ = tx.send(ask_default_keyring_locked(budget));
            })
            .ok()?;
        rx.recv_timeout(budget).ok().flatten()
    }

    fn ask_default_keyring_locked(timeout: Duration) -> Option<bool> {
        use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
        const SECRETS: &str = "org.freedesktop.secrets";
        let connection = dbus::blocking::Connection::new_session().ok()?;
        let service = connection.with_proxy(SECRETS, "/org/freedesktop/secrets", timeout);
        let (path,): (dbus::Path<'static>,) = service.method_call("org.freedesktop.Secret.Service", "ReadAlias", ("default",)).ok()?;
        if &*path == "/" {
            return None;
        }
        connection.with_proxy(SECRETS, path, timeout).get("org.freedesktop.Secret.Collection", "Locked").ok()
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use std::time::Duration;

    use super::{os_status_kind, CredentialBuilder, DiagnosisKind};

    pub const STORE_NAME: &str = "macOS Keychain";

    pub fn native_builder() -> Box<CredentialBuilder> {
        keyring::macos::default_credential_builder()
    }

    pub fn classify(error: &(dyn std::error::Error + Send + Sync + 'static)) -> DiagnosisKind {
        match error.downcast_ref::<security_framework::base::Error>() {
            Some(e) => os_status_kind(e.code()),
            None => DiagnosisKind::KeychainError,
        }
    }

    pub fn explain(_error: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<&'static str> {
        None
    }

    /// Not asked here: a call that does not answer in time is `keychain_timeout`.
    pub fn default_keyring_locked(_budget: Duration) -> Option<bool> {
        None
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use std::time::Duration;

    use super::{win32_error_kind, CredentialBuilder, DiagnosisKind};

    pub const STORE_NAME: &str = "Windows Credential Manager";

    pub fn native_builder() -> Box<CredentialBuilder> {
        keyring::windows::default_credential_builder()
    }

    pub fn classify(error: &(dyn std::error::Error + Send + Sync + 'static)) -> DiagnosisKind {
        match error.downcast_ref::<keyring::windows::Error>() {
            Some(e) => win32_error_kind(e.0),
            None => DiagnosisKind::KeychainError,
        }
    }

    pub fn explain(_error: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<&'static str> {
        None
    }

    /// Not asked here: a call that does not answer in time is `keychain_timeout`.
    pub fn default_keyring_locked(_budget: Duration) -> Option<bool> {
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::Lang;
    use std::collections::HashMap;
    use std::sync::{Arc, Condvar, Mutex};

    use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};

    use super::*;
    use crate::address::Address;

    fn account(address: &str, login: Option<&str>) -> Account {
        Account::new(Address::parse(address).unwrap(), login.map(|l| Address::parse(l).unwrap()), None).unwrap()
    }

    #[test]
    fn the_entry_is_named_by_service_and_login() {
        let icloud = EntryName::for_account(&account(" Jane.Doe@iCloud.com ", None));
        assert_eq!(icloud, EntryName { service: "icloud-mail-setup".into(), account: "jane.doe@icloud.com".into() });
        // A custom-domain address saves under the primary iCloud login that signs in, not under the sender address.
        let custom = EntryName::for_account(&account("Jane@Family.Example", Some("JaneDoe@me.com")));
        assert_eq!(custom.account, "janedoe@me.com");
        assert_eq!(custom.windows_target_name(), "janedoe@me.com.icloud-mail-setup");
    }

    #[test]
    fn this_build_stores_passwords_persistently() {
        // The store named in `platform` and keyring's own default for this target both outlive the process.
        assert!(matches!(platform::native_builder().persistence(), CredentialPersistence::UntilDelete));
        assert!(matches!(keyring::default::default_credential_builder().persistence(), CredentialPersistence::UntilDelete));
        assert!(Keychain::native().is_ok());
    }

    #[test]
    fn a_store_that_forgets_is_refused() {
        let refused = Keychain::over(keyring::mock::default_credential_builder(), Arc::default(), |_| None)
            .err()
            .expect("the mock store must be refused");
        assert_eq!(refused.kind, DiagnosisKind::KeychainUnavailable);
        assert!(refused.message(Lang::En).contains(STORE_NAME), "{}", refused.message(Lang::En));
    }

    /// A store that keeps entries in a shared map and claims to persist them: enough to test the save rules.
    type Entries = HashMap<(String, String), Vec<u8>>;

    /// A store that keeps entries in a shared map and may hold calls back until the test lets them through (a prompt
    /// nobody answers yet).
    #[derive(Default, Clone)]
    struct MapStore(Arc<Mutex<Entries>>, Arc<Gate>);

    #[derive(Default)]
    struct Gate {
        waits: Mutex<Waits>,
        changed: Condvar,
    }

    /// Which calls the gate holds back.
    #[derive(Default)]
    enum Waits {
        #[default]
        Nobody,
        Everyone,
        /// Only saving this secret.
        SavesOf(Vec<u8>),
    }

    impl Gate {
        fn set(&self, waits: Waits) {
            *self.waits.lock().unwrap() = waits;
            self.changed.notify_all();
        }

        fn pass(&self, saving: Option<&[u8]>) {
            let mut waits = self.waits.lock().unwrap();
            while match &*waits {
                Waits::Nobody => false,
                Waits::Everyone => true,
                Waits::SavesOf(held) => saving == Some(held.as_slice()),
            } {
                waits = self.changed.wait(waits).unwrap();
            }
        }
    }

    struct MapCredential {
        store: MapStore,
        key: (String, String),
    }

    impl CredentialApi for MapCredential {
        fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
            self.store.1.pass(Some(secret));
            self.store.0.lock().unwrap().insert(self.key.clone(), secret.to_vec());
            Ok(())
        }
        fn get_secret(&self) -> keyring::Result<Vec<u8>> {
            self.store.1.pass(None);
            self.store.0.lock().unwrap().get(&self.key).cloned().ok_or(keyring::Error::NoEntry)
        }
        fn delete_credential(&self) -> keyring::Result<()> {
            self.store.1.pass(None);
            self.store.0.lock().unwrap().remove(&self.key).map(|_| ()).ok_or(keyring::Error::NoEntry)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
        fn debug_fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "MapCredential({:?})", self.key)
        }
    }

    impl CredentialBuilderApi for MapStore {
        fn build(&self, _target: Option<&str>, service: &str, user: &str) -> keyring::Result<Box<Credential>> {
            Ok(Box::new(MapCredential { store: self.clone(), key: (service.to_owned(), user.to_owned()) }))
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    fn map_keychain() -> (Keychain, MapStore) {
        let store = MapStore::default();
        (Keychain::over(Box::new(store.clone()), Arc::default(), |_| None).unwrap(), store)
    }

    fn same_store(keychain: &Keychain) -> Keychain {
        Keychain { builder: keychain.builder.clone(), deadline: keychain.deadline, turns: keychain.turns.clone(), locked: keychain.locked }
    }

    #[test]
    fn a_store_that_never_answers_gets_a_verdict_by_the_deadline() {
        let (keychain, store) = map_keychain();
        let keychain = keychain.with_deadline(Duration::from_millis(400));
        let jane = account("jane@icloud.com", None);
        store.1.set(Waits::Everyone);

        let started = Instant::now();
        let status = keychain.status(&jane).unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(400 + 300), "took {:?}", started.elapsed());
        assert_eq!(status.kind, DiagnosisKind::KeychainTimeout, "{status:?}");
        assert_eq!(status.facts.seconds, Some(1));
        assert_eq!(status.facts.username.as_deref(), Some("jane@icloud.com"));
        // The next call waits behind the one still stuck, and says so.
        let started = Instant::now();
        let get = keychain.get(&jane).unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(400 + 300), "took {:?}", started.elapsed());
        assert_eq!(get.kind, DiagnosisKind::KeychainTimeout);
        assert!(get.detail.as_deref().unwrap_or_default().contains("an earlier request"), "{get:?}");

        // A store whose default keyring is locked is waiting for its unlock prompt: that is what the person is told.
        let locked = Keychain { locked: |_| Some(true), ..same_store(&keychain) };
        let save = locked.save(&jane, Secret::new("aaaa-bbbb-cccc-dddd".into()), IfSaved::Refuse).unwrap_err();
        assert_eq!(save.kind, DiagnosisKind::KeychainLocked, "{save:?}");
        assert!(save.detail.as_deref().unwrap_or_default().contains("may still be saved"), "{save:?}");

        // The calls left waiting finish once the store answers; nothing was saved by the status and get.
        store.1.set(Waits::Nobody);
        let answered = keychain.with_deadline(Duration::from_secs(10)).status(&jane).unwrap();
        assert!(answered.exists, "the save left waiting went through once the store answered");
    }

    #[test]
    fn a_late_save_is_never_overtaken_by_a_later_one() {
        let (keychain, store) = map_keychain();
        let jane = account("jane@icloud.com", None);
        // The first save waits for an unlock prompt the person has not answered yet.
        store.1.set(Waits::SavesOf(b"old-password".to_vec()));
        let first = keychain.with_deadline(Duration::from_millis(200));
        let late = first.save(&jane, Secret::new("old-password".into()), IfSaved::Replace).unwrap_err();
        assert_eq!(late.kind, DiagnosisKind::KeychainTimeout, "{late:?}");

        // The person saves a corrected password; meanwhile the prompt is answered and the first save completes.
        let second = same_store(&first).with_deadline(Duration::from_secs(10));
        let account = jane.clone();
        let later = std::thread::spawn(move || second.save(&account, Secret::new("new-password".into()), IfSaved::Replace));
        std::thread::sleep(Duration::from_millis(200));
        store.1.set(Waits::Nobody);
        // The later save went second: it replaced the late one, and the newer password is what is kept.
        assert_eq!(later.join().unwrap().unwrap(), Saved::Replaced);
        assert_eq!(first.with_deadline(Duration::from_secs(10)).get(&jane).unwrap().expose(), "new-password");
    }

    #[test]
    fn saving_replaces_only_when_asked() {
        let (keychain, store) = map_keychain();
        let jane = account("jane@icloud.com", None);
        assert!(!keychain.status(&jane).unwrap().exists);
        assert_eq!(keychain.save(&jane, Secret::new("aaaa-bbbb-cccc-dddd".into()), IfSaved::Refuse).unwrap(), Saved::Created);
        assert!(keychain.status(&jane).unwrap().exists);

        let refused = keychain.save(&jane, Secret::new("eeee-ffff-gggg-hhhh".into()), IfSaved::Refuse).unwrap_err();
        assert_eq!(refused.kind, DiagnosisKind::KeychainEntryExists);
        assert!(refused.message(Lang::En).contains("jane@icloud.com"), "{}", refused.message(Lang::En));
        assert_eq!(keychain.get(&jane).unwrap().expose(), "aaaa-bbbb-cccc-dddd");

        assert_eq!(keychain.save(&jane, Secret::new("eeee-ffff-gggg-hhhh".into()), IfSaved::Replace).unwrap(), Saved::Replaced);
        assert_eq!(keychain.get(&jane).unwrap().expose(), "eeee-ffff-gggg-hhhh");
        let key = ("icloud-mail-setup".to_owned(), "jane@icloud.com".to_owned());
        assert_eq!(store.0.lock().unwrap().keys().cloned().collect::<Vec<_>>(), [key]);

        keychain.delete(&jane).unwrap();
        assert!(!keychain.status(&jane).unwrap().exists);
        assert_eq!(keychain.delete(&jane).unwrap_err().kind, DiagnosisKind::KeychainNoEntry);
        assert_eq!(keychain.get(&jane).unwrap_err().kind, DiagnosisKind::KeychainNoEntry);
    }

    #[test]
    fn a_too_long_password_is_refused_before_the_store_sees_it() {
        let (keychain, store) = map_keychain();
        let jane = account("jane@icloud.com", None);
        let refused = keychain.save(&jane, Secret::new("x".repeat(MAX_PASSWORD_CHARS + 1)), IfSaved::Replace).unwrap_err();
        assert_eq!(refused.kind, DiagnosisKind::KeychainValueTooLong);
        assert!(refused.hint(Lang::En).contains(&MAX_PASSWORD_CHARS.to_string()), "{}", refused.hint(Lang::En));
        assert!(store.0.lock().unwrap().is_empty());
        // Exactly at the limit, in four-byte characters, is still accepted.
        keychain.save(&jane, Secret::new("🔑".repeat(MAX_PASSWORD_CHARS)), IfSaved::Replace).unwrap();
    }

    fn entry() -> EntryName {
        EntryName { service: SERVICE.into(), account: "jane@icloud.com".into() }
    }

    #[test]
    fn keyring_errors_get_their_own_kinds() {
        let kind = |e: keyring::Error| diagnose(e, &entry()).kind;
        assert_eq!(kind(keyring::Error::NoEntry), DiagnosisKind::KeychainNoEntry);
        assert_eq!(kind(keyring::Error::TooLong("secret".into(), 2560)), DiagnosisKind::KeychainValueTooLong);
        assert_eq!(kind(keyring::Error::Invalid("user".into(), "empty".into())), DiagnosisKind::KeychainError);
        assert_eq!(kind(keyring::Error::Ambiguous(vec![])), DiagnosisKind::KeychainError);
        let unknown: Box<dyn std::error::Error + Send + Sync> = "something else".into();
        assert_eq!(kind(keyring::Error::PlatformFailure(unknown)), DiagnosisKind::KeychainError);
    }

    #[test]
    fn a_badly_encoded_secret_never_reaches_the_detail() {
        let d = diagnose(keyring::Error::BadEncoding(b"hunter2\xff".to_vec()), &entry());
        assert_eq!(d.kind, DiagnosisKind::KeychainError);
        assert!(!format!("{d:?}").contains("hunter2"), "{d:?}");
    }

    #[test]
    fn store_answers_map_to_kinds() {
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.ServiceUnknown"), DiagnosisKind::KeychainUnavailable);
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.Spawn.ChildExited"), DiagnosisKind::KeychainUnavailable);
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.NoServer"), DiagnosisKind::KeychainNoSession);
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.NotSupported"), DiagnosisKind::KeychainNoSession);
        assert_eq!(dbus_error_kind("org.freedesktop.Secret.Error.IsLocked"), DiagnosisKind::KeychainLocked);
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.AccessDenied"), DiagnosisKind::KeychainAccessDenied);
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.NoReply"), DiagnosisKind::KeychainTimeout);
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.UnknownMethod"), DiagnosisKind::KeychainError);

        assert_eq!(os_status_kind(-25308), DiagnosisKind::KeychainLocked);
        assert_eq!(os_status_kind(-128), DiagnosisKind::KeychainAccessDenied);
        assert_eq!(os_status_kind(-25293), DiagnosisKind::KeychainAccessDenied);
        assert_eq!(os_status_kind(-25291), DiagnosisKind::KeychainUnavailable);
        assert_eq!(os_status_kind(-34018), DiagnosisKind::KeychainError);

        assert_eq!(win32_error_kind(1312), DiagnosisKind::KeychainNoSession);
        assert_eq!(win32_error_kind(5), DiagnosisKind::KeychainAccessDenied);
        assert_eq!(win32_error_kind(1783), DiagnosisKind::KeychainError);
    }

    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    #[test]
    fn secret_service_failures_are_told_apart() {
        use dbus_secret_service::Error as SsError;
        let kind = |inner: SsError, no_access: bool| {
            let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(inner);
            let error = if no_access { keyring::Error::NoStorageAccess(boxed) } else { keyring::Error::PlatformFailure(boxed) };
            diagnose(error, &entry())
        };
        let dbus = |name: &str| SsError::Dbus(dbus::Error::new_custom(name, "said the bus"));

        let locked = kind(SsError::Prompt, true);
        assert_eq!(locked.kind, DiagnosisKind::KeychainLocked);
        assert_eq!(locked.message(Lang::En), "The Secret Service is locked.");
        assert_eq!(kind(SsError::Locked, true).kind, DiagnosisKind::KeychainLocked);
        assert_eq!(kind(dbus("org.freedesktop.Secret.Error.IsLocked"), false).kind, DiagnosisKind::KeychainLocked);

        let no_service = kind(dbus("org.freedesktop.DBus.Error.ServiceUnknown"), false);
        assert_eq!(no_service.kind, DiagnosisKind::KeychainUnavailable);
        assert!(no_service.hint(Lang::En).contains("gnome-keyring"), "{}", no_service.hint(Lang::En));
        assert!(no_service.detail.as_deref().unwrap_or_default().contains("said the bus"), "{no_service:?}");

        assert_eq!(kind(dbus("org.freedesktop.DBus.Error.FileNotFound"), false).kind, DiagnosisKind::KeychainNoSession);
        let no_default = kind(SsError::NoResult, true);
        assert_eq!(no_default.kind, DiagnosisKind::KeychainUnavailable);
        assert!(no_default.detail.unwrap().starts_with("the Secret Service is running but has no default keyring"));
        assert_eq!(kind(SsError::Parse, false).kind, DiagnosisKind::KeychainError);
    }

    /// The native store's own errors, as keyring hands them over, reach their kinds through `platform::classify`
    /// (which downcasts to the store's error type: a version mismatch between keyring's and ours would miss here).
    #[cfg(target_os = "macos")]
    #[test]
    fn security_framework_statuses_are_told_apart() {
        use security_framework::base::Error as OsStatus;
        let kind = |code: i32, no_access: bool| {
            let inner: Box<dyn std::error::Error + Send + Sync> = Box::new(OsStatus::from_code(code));
            let error = if no_access { keyring::Error::NoStorageAccess(inner) } else { keyring::Error::PlatformFailure(inner) };
            diagnose(error, &entry())
        };
        assert_eq!(kind(-25308, false).kind, DiagnosisKind::KeychainLocked);
        assert_eq!(kind(-128, false).kind, DiagnosisKind::KeychainAccessDenied);
        let no_keychain = kind(-25294, true);
        assert_eq!(no_keychain.kind, DiagnosisKind::KeychainUnavailable);
        assert_eq!(no_keychain.facts.store.as_deref(), Some("macOS Keychain"));
        assert_eq!(kind(-34018, false).kind, DiagnosisKind::KeychainError);
    }

    #[cfg(target_os = "windows")]
    #[test]
    fn credential_manager_codes_are_told_apart() {
        let kind = |code: u32| {
            let inner: Box<dyn std::error::Error + Send + Sync> = Box::new(keyring::windows::Error(code));
            diagnose(keyring::Error::PlatformFailure(inner), &entry())
        };
        let no_session = kind(1312);
        assert_eq!(no_session.kind, DiagnosisKind::KeychainNoSession);
        assert_eq!(no_session.facts.store.as_deref(), Some("Windows Credential Manager"));
        assert_eq!(kind(5).kind, DiagnosisKind::KeychainAccessDenied);
        assert_eq!(kind(1783).kind, DiagnosisKind::KeychainError);
    }
}
