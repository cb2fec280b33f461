//! Thunderbird for the suites: a throwaway profile that trusts the test CA (in its cert9.db), starts online on a
//! loopback-only machine, and has the password for the IMAP login in logins.json (Thunderbird would otherwise ask,
//! and nobody can answer headless). Thunderbird keeps its passwords in its own store, not in the system keychain,
//! so this stands for the person typing the password at Thunderbird's first prompt.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::processes::Service;
use crate::{assert_ok, run_with_stdin as run, wait_until};

/// `LD_LIBRARY_PATH` for Thunderbird's own NSS (Debian's system NSS is too old for its key4.db).
pub const THUNDERBIRD_LIBS: &str = "/usr/lib/thunderbird";

/// The prefs a headless Thunderbird in a test needs: online at once, no default-client question, no start page, no
/// update check.
pub const HEADLESS_PREFS: &str = "user_pref(\"offline.autoDetect\", false);\n\
     user_pref(\"offline.startup_state\", 2);\n\
     user_pref(\"network.manage-offline-status\", false);\n\
     user_pref(\"mail.shell.checkDefaultClient\", false);\n\
     user_pref(\"mailnews.start_page.enabled\", false);\n\
     user_pref(\"app.update.enabled\", false);\n";

/// Creates `profile` with the CA `ca` trusted, the prefs a headless loopback run needs, and the password for
/// `username` at `origin` (e.g. `imap://localhost`) in logins.json, encrypted with the profile's key.
pub fn prepare_profile(profile: &Path, ca: &Path, origin: &str, username: &str, password: &str) {
    std::fs::create_dir_all(profile).unwrap();
    let db = format!("sql:{}", profile.display());
    assert_ok(&run(certutil().args(["-N", "--empty-password", "-d", &db]), b""));
    trust_ca(profile, ca);
    std::fs::write(profile.join("prefs.js"), format!("// Mozilla User Preferences\n\n{HEADLESS_PREFS}")).unwrap();
    nss::seed_login(profile, origin, username, password);
}

/// Every live login in `profile`'s logins.json, decrypted with Thunderbird's own NSS and the profile's key4.db: its
/// origin, username and password, sorted. What Thunderbird's login manager would find, so a test can prove the
/// password itself arrived (not just that something was written).
pub fn stored_logins(profile: &Path) -> Vec<(String, String, String)> {
    nss::stored_logins(profile)
}

/// `certutil` (libnss3-tools) with Thunderbird's own NSS, which a profile's key4.db needs.
fn certutil() -> Command {
    let mut command = Command::new("certutil");
    command.env("LD_LIBRARY_PATH", THUNDERBIRD_LIBS);
    command
}

/// Trusts the CA `ca` for servers in the profile's cert9.db, as a person importing a CA in Thunderbird would.
pub fn trust_ca(profile: &Path, ca: &Path) {
    let db = format!("sql:{}", profile.display());
    assert_ok(&run(certutil().args(["-A", "-n", "icloud-mail-setup test CA", "-t", "C,,", "-d", &db, "-i"]).arg(ca), b""));
}

/// Debian's Thunderbird started headless on `profile`, writing to `log`; `command` is `thunderbird` as the caller's
/// session runs it (its HOME and D-Bus).
pub fn start_headless(mut command: Command, profile: &Path, log: &Path) -> Service {
    command.args(["--headless", "--no-remote", "--profile"]).arg(profile).env("MOZ_HEADLESS", "1");
    Service::start("thunderbird", &mut command, log).expect("start thunderbird (package thunderbird)")
}

/// Waits until `done` while Thunderbird keeps running; fails with its log when it exits first.
pub fn wait_while_running(running: &mut Service, log: &Path, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    wait_until(what, timeout, || {
        assert!(running.is_running(), "Thunderbird exited early:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        done()
    });
}

/// The value of `user_pref(name, …)` in a prefs.js text, as JSON (prefs.js values are JSON literals).
pub fn pref(prefs_js: &str, name: &str) -> Option<serde_json::Value> {
    let prefix = format!("user_pref({}, ", serde_json::Value::from(name));
    let line = prefs_js.lines().find(|l| l.starts_with(&prefix))?;
    serde_json::from_str(line[prefix.len()..].strip_suffix(");")?).ok()
}

/// Thunderbird's password store, written with Thunderbird's own NSS: `PK11SDR_Encrypt` with the profile's key4.db,
/// as Thunderbird's login manager does. Loaded at run time (dlopen) so nothing links against it at build time.
mod nss {
    use std::ffi::{c_char, c_int, c_uint, c_void, CString};
    use std::path::Path;

    #[repr(C)]
    struct SecItem {
        kind: c_int,
        data: *mut u8,
        len: c_uint,
    }

    type NssInit = unsafe extern "C" fn(*const c_char) -> c_int;
    type NssShutdown = unsafe extern "C" fn() -> c_int;
    type SdrEncrypt = unsafe extern "C" fn(*mut SecItem, *mut SecItem, *mut SecItem, *mut c_void) -> c_int;
    type FreeItem = unsafe extern "C" fn(*mut SecItem, c_int);
    type SdrDecrypt = unsafe extern "C" fn(*mut SecItem, *mut SecItem, *mut c_void) -> c_int;

    fn symbol<T>(lib: *mut c_void, name: &str) -> T {
        let name = CString::new(name).unwrap();
        // SAFETY: dlsym on a handle from dlopen; the caller names the C signature the symbol has in NSS's headers.
        let ptr = unsafe { libc::dlsym(lib, name.as_ptr()) };
        assert!(!ptr.is_null(), "NSS lacks {name:?}");
        // SAFETY: T is a function pointer type of the same size as the symbol's address.
        unsafe { std::mem::transmute_copy(&ptr) }
    }

    fn encrypt(sdr: SdrEncrypt, free: FreeItem, plain: &str) -> String {
        use base64::Engine;
        let mut key_id = SecItem { kind: 0, data: std::ptr::null_mut(), len: 0 };
        let mut data = SecItem { kind: 0, data: plain.as_ptr() as *mut u8, len: plain.len() as c_uint };
        let mut out = SecItem { kind: 0, data: std::ptr::null_mut(), len: 0 };
        // SAFETY: the items live across the call; NSS allocates `out`, freed below with SECITEM_FreeItem.
        let rv = unsafe { sdr(&mut key_id, &mut data, &mut out, std::ptr::null_mut()) };
        assert_eq!(rv, 0, "PK11SDR_Encrypt failed");
        // SAFETY: NSS filled `out` with `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(out.data, out.len as usize) }.to_vec();
        // SAFETY: frees the data NSS allocated; `0` keeps the item struct itself (it is ours, on the stack).
        unsafe { free(&mut out, 0) };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Thunderbird's libnss3, loaded. It has no RUNPATH: its own libnssutil3 and SQLite go in first, so that the
    /// loader reuses them (by soname) instead of Debian's older system copies.
    fn load() -> *mut c_void {
        let mut lib = std::ptr::null_mut();
        for name in ["libnssutil3.so", "libmozsqlite3.so", "libnss3.so"] {
            let path = CString::new(format!("{}/{name}", super::THUNDERBIRD_LIBS)).unwrap();
            // SAFETY: dlopen of a library file by path; the handle stays open for the rest of the test process.
            lib = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            // SAFETY: dlerror returns a NUL-terminated message or null.
            let why = unsafe { libc::dlerror() };
            let why = if why.is_null() { String::new() } else { unsafe { std::ffi::CStr::from_ptr(why) }.to_string_lossy().into_owned() };
            assert!(!lib.is_null(), "cannot load {path:?} (package thunderbird): {why}");
        }
        lib
    }

    fn decrypt(sdr: SdrDecrypt, free: FreeItem, encoded: &str) -> String {
        use base64::Engine;
        let mut cipher = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64 in logins.json");
        let mut data = SecItem { kind: 0, data: cipher.as_mut_ptr(), len: cipher.len() as c_uint };
        let mut out = SecItem { kind: 0, data: std::ptr::null_mut(), len: 0 };
        // SAFETY: the items live across the call; NSS allocates `out`, freed below with SECITEM_FreeItem.
        let rv = unsafe { sdr(&mut data, &mut out, std::ptr::null_mut()) };
        assert_eq!(rv, 0, "PK11SDR_Decrypt failed: not encrypted with this profile's key");
        // SAFETY: NSS filled `out` with `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(out.data, out.len as usize) }.to_vec();
        // SAFETY: frees the data NSS allocated; `0` keeps the item struct itself (it is ours, on the stack).
        unsafe { free(&mut out, 0) };
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// See `super::stored_logins`.
    pub fn stored_logins(profile: &Path) -> Vec<(String, String, String)> {
        let text = std::fs::read(profile.join("logins.json")).expect("logins.json");
        let json: serde_json::Value = serde_json::from_slice(&text).expect("logins.json is JSON");
        let field = |login: &serde_json::Value, key: &str| login[key].as_str().unwrap_or_default().to_owned();
        let mut found: Vec<(String, String, String)> = with_nss(profile, "NSS_Init", |lib, free| {
            let sdr: SdrDecrypt = symbol(lib, "PK11SDR_Decrypt");
            json["logins"]
                .as_array()
                .expect("a list of logins")
                .iter()
                .filter(|login| login["deleted"] != serde_json::Value::Bool(true))
                .map(|login| {
                    let user = decrypt(sdr, free, &field(login, "encryptedUsername"));
                    let pass = decrypt(sdr, free, &field(login, "encryptedPassword"));
                    (field(login, "hostname"), user, pass)
                })
                .collect()
        });
        found.sort();
        found
    }

    /// Runs `work` with Thunderbird's NSS open on `profile`'s key4.db (`init`: `NSS_Init`, read-only, or
    /// `NSS_InitReadWrite`), and shuts NSS down after it.
    fn with_nss<T>(profile: &Path, init: &str, work: impl FnOnce(*mut c_void, FreeItem) -> T) -> T {
        let lib = load();
        let start: NssInit = symbol(lib, init);
        let shutdown: NssShutdown = symbol(lib, "NSS_Shutdown");
        let free: FreeItem = symbol(lib, "SECITEM_FreeItem");
        let dir = CString::new(format!("sql:{}", profile.display())).unwrap();
        // SAFETY: both init functions take a NUL-terminated config directory.
        assert_eq!(unsafe { start(dir.as_ptr()) }, 0, "{init} failed for {dir:?}");
        let result = work(lib, free);
        // SAFETY: balanced with the init above; nothing NSS allocated is still in use.
        unsafe { shutdown() };
        result
    }

    /// Writes logins.json with one login for `origin` (e.g. `imap://localhost`).
    pub fn seed_login(profile: &Path, origin: &str, username: &str, password: &str) {
        let (user, pass) = with_nss(profile, "NSS_InitReadWrite", |lib, free| {
            let sdr: SdrEncrypt = symbol(lib, "PK11SDR_Encrypt");
            (encrypt(sdr, free, username), encrypt(sdr, free, password))
        });
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let logins = serde_json::json!({
            "nextId": 2,
            "logins": [{
                "id": 1, "hostname": origin, "httpRealm": origin, "formSubmitURL": null,
                "usernameField": "", "passwordField": "",
                "encryptedUsername": user, "encryptedPassword": pass,
                "guid": "{8f6e3f7a-2a3c-4c4e-9a55-0f3f0d1c2b11}", "encType": 1,
                "timeCreated": now, "timeLastUsed": now, "timePasswordChanged": now, "timesUsed": 1
            }],
            "potentiallyVulnerablePasswords": [], "dismissedBreachAlertsByLoginGUID": {}, "version": 3
        });
        std::fs::write(profile.join("logins.json"), logins.to_string()).unwrap();
    }
}
