//! The keychain: the app-specific password in the operating system's own persistent store (Apple Keychain, Windows
//! Credential Manager, the Secret Service on Linux and the BSDs) under one naming scheme, and what its failures mean.
//! Every call blocks (D-Bus round trips, a permission prompt the person has to answer): the window runs them on a
//! blocking thread, the command line calls them directly.
// `Diagnosis` is this crate's one error type (address.rs and account.rs return it too); it is made once per call,
// so its size costs nothing worth boxing for.

use keyring::credential::{CredentialBuilder, CredentialPersistence};
use keyring::Entry;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroize;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind, Facts};
use crate::secret::Secret;

/// The service name of every entry, on every platform. The account is the login: the primary iCloud address, in
/// lower case (`Account::login`), also for an iCloud+ custom-domain address that sends mail.
pub const SERVICE: &str = "icloud-mail-setup";

/// The longest password this keeps. Windows stores at most 2,560 bytes of UTF-16; 640 characters fit even when each
/// needs four bytes, so the limit is the same everywhere. An app-specific password has 19.
pub const MAX_PASSWORD_CHARS: usize = 640;

/// The store this build keeps passwords in, as people call it.
pub const STORE_NAME: &str = platform::STORE_NAME;

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
    builder: Box<CredentialBuilder>,
}

impl Keychain {
    /// The platform's own store. Fails with `keychain_unavailable` if this build's store would not keep the password
    /// past the end of the program (keyring's in-memory mock), so that nothing pretends to have saved it.
    pub fn native() -> Result<Keychain, Diagnosis> {
        Keychain::over(platform::native_builder())
    }

    fn over(builder: Box<CredentialBuilder>) -> Result<Keychain, Diagnosis> {
        match builder.persistence() {
            CredentialPersistence::UntilDelete => Ok(Keychain { builder }),
            _ => Err(Diagnosis::new(
                DiagnosisKind::KeychainUnavailable,
                Facts { store: Some(STORE_NAME.to_owned()), ..Facts::default() },
                Some("this build's credential store does not keep passwords on disk".to_owned()),
            )),
        }
    }

    /// Whether a password is saved for the account's login. Never reads it out where the store can avoid that (the
    /// Secret Service answers from the item's attributes; the macOS Keychain reads the item, which may ask the person).
    pub fn status(&self, account: &Account) -> Result<KeychainStatus, Diagnosis> {
        let entry = EntryName::for_account(account);
        let exists = self.exists(&entry)?;
        Ok(KeychainStatus { exists, store: STORE_NAME.to_owned(), entry })
    }

    /// Saves the password for the account's login. With `IfSaved::Refuse` an existing entry is kept and the result is
    /// `keychain_entry_exists`. The password is dropped (and wiped) before this returns, whatever happened.
    pub fn save(&self, account: &Account, password: Secret, if_saved: IfSaved) -> Result<Saved, Diagnosis> {
        let entry = EntryName::for_account(account);
        let chars = password.expose().chars().count();
        if chars > MAX_PASSWORD_CHARS {
            return Err(too_long(&entry, format!("{chars} characters")));
        }
        // Checked first rather than letting the store overwrite: only the person may decide to replace a password.
        let existed = self.exists(&entry)?;
        if existed && if_saved == IfSaved::Refuse {
            return Err(Diagnosis::new(DiagnosisKind::KeychainEntryExists, facts(&entry), None));
        }
        let result = self.entry(&entry)?.set_password(password.expose());
        drop(password);
        result.map_err(|e| diagnose(e, &entry))?;
        Ok(if existed { Saved::Replaced } else { Saved::Created })
    }

    /// Deletes the saved password; `keychain_no_entry` if there is none.
    pub fn delete(&self, account: &Account) -> Result<(), Diagnosis> {
        let entry = EntryName::for_account(account);
        self.entry(&entry)?.delete_credential().map_err(|e| diagnose(e, &entry))
    }

    /// Reads the saved password (for the command line's `keychain get`, a mail client's password command).
    pub fn get(&self, account: &Account) -> Result<Secret, Diagnosis> {
        let entry = EntryName::for_account(account);
        self.entry(&entry)?.get_password().map(Secret::new).map_err(|e| diagnose(e, &entry))
    }

    fn exists(&self, entry: &EntryName) -> Result<bool, Diagnosis> {
        match self.entry(entry)?.get_attributes() {
            Ok(_) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(diagnose(e, entry)),
        }
    }

    fn entry(&self, entry: &EntryName) -> Result<Entry, Diagnosis> {
        // No target: the default collection (Secret Service), the login keychain (macOS), `<account>.<service>` (Windows).
        let credential = self.builder.build(None, &entry.service, &entry.account).map_err(|e| diagnose(e, entry))?;
        Ok(Entry::new_with_credential(credential))
    }
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
    Diagnosis::new(kind, facts(entry), detail)
}

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
}

#[cfg(target_os = "macos")]
mod platform {
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
}

#[cfg(target_os = "windows")]
mod platform {
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
}

#[cfg(test)]
mod tests {
    use crate::Lang;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

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
        let refused = Keychain::over(keyring::mock::default_credential_builder()).err().expect("the mock store must be refused");
        assert_eq!(refused.kind, DiagnosisKind::KeychainUnavailable);
        assert!(refused.message(Lang::En).contains(STORE_NAME), "{}", refused.message(Lang::En));
    }

    /// A store that keeps entries in a shared map and claims to persist them: enough to test the save rules.
    type Entries = HashMap<(String, String), Vec<u8>>;

    #[derive(Default, Clone)]
    struct MapStore(Arc<Mutex<Entries>>);

    struct MapCredential {
        store: MapStore,
        key: (String, String),
    }

    impl CredentialApi for MapCredential {
        fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
            self.store.0.lock().unwrap().insert(self.key.clone(), secret.to_vec());
            Ok(())
        }
        fn get_secret(&self) -> keyring::Result<Vec<u8>> {
            self.store.0.lock().unwrap().get(&self.key).cloned().ok_or(keyring::Error::NoEntry)
        }
        fn delete_credential(&self) -> keyring::Result<()> {
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
        (Keychain::over(Box::new(store.clone())).unwrap(), store)
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
        assert_eq!(dbus_error_kind("org.freedesktop.DBus.Error.NoReply"), DiagnosisKind::KeychainError);

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
}
