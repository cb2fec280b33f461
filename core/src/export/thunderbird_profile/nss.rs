//! Thunderbird's own NSS, loaded at run time from Thunderbird's installation: the library that encrypts the
//! profile's saved passwords (logins.json) with the profile's key (key4.db). Only Thunderbird's own copy is used:
//! an older NSS (Debian's system one) cannot load beside it ("version `NSSUTIL_3.94' not found") and may not read
//! the key4.db a newer one wrote.
//!
//! Thunderbird's libraries find each other by file name, not through a library path of their own (its libnss3.so
//! has no RUNPATH). Setting a library path inside a running process changes nothing, so the libraries it depends on
//! are loaded first, each by its absolute path, and libnss3 after them finds them already loaded:
//!
//! | OS | loaded first | then |
//! |---|---|---|
//! | Linux | `libnssutil3.so`, `libmozsqlite3.so`, `libsoftokn3.so` (those present) | `libnss3.so` |
//! | Windows | `mozglue.dll` | `nss3.dll` (its other DLLs come from its own folder) |
//! | macOS | `libmozglue.dylib` | `libnss3.dylib` (in `Thunderbird.app/Contents/MacOS`) |
//!
//! On Linux with glibc each is opened with `RTLD_DEEPBIND`, so that Thunderbird's libraries use each other before
//! anything the process already has (the app links the system's SQLite through WebKitGTK; softokn must use
//! Thunderbird's). This runs in a short helper process (`nss_helper`), never inside the window's process.
//!
//! Only Linux (Debian's Thunderbird in /usr/lib/thunderbird) is exercised by the tests here; the Windows and macOS
//! folders and file names are configured from Mozilla's packaging and not yet run.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::logins::{KeyStore, Nss, NssError};

/// The NSS library's file name on this OS.
pub const LIBRARY: &str = if cfg!(windows) {
    "nss3.dll"
} else if cfg!(target_os = "macos") {
    "libnss3.dylib"
} else {
    "libnss3.so"
};

/// The libraries loaded before `LIBRARY`, by absolute path, when the folder has them.
const PRELOAD: &[&str] = if cfg!(windows) {
    &["mozglue.dll"]
} else if cfg!(target_os = "macos") {
    &["libmozglue.dylib"]
} else {
    &["libnssutil3.so", "libmozsqlite3.so", "libsoftokn3.so"]
};

/// Thunderbird's program file, to recognise an installation that uses the system's NSS (some distributions build it
/// that way; then the system's NSS is Thunderbird's own).
const PROGRAM: &str = if cfg!(windows) { "thunderbird.exe" } else { "thunderbird" };

/// Folders that may hold a Thunderbird installation, the likeliest for `profile` first (a Flatpak or Snap profile
/// goes with that package's own Thunderbird).
pub fn installation_dirs(profile: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut dirs: Vec<PathBuf> = Vec::new();
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"] {
            if let Some(base) = std::env::var_os(var) {
                dirs.push(PathBuf::from(base).join("Mozilla Thunderbird"));
            }
        }
    } else if cfg!(target_os = "macos") {
        dirs.push(PathBuf::from("/Applications/Thunderbird.app/Contents/MacOS"));
        if let Some(home) = &home {
            dirs.push(home.join("Applications/Thunderbird.app/Contents/MacOS"));
        }
    } else {
        let shown = profile.to_string_lossy();
        let flatpak = [
            PathBuf::from("/var/lib/flatpak/app/org.mozilla.Thunderbird/current/active/files/lib/thunderbird"),
            home.as_ref()
                .map(|h| h.join(".local/share/flatpak/app/org.mozilla.Thunderbird/current/active/files/lib/thunderbird"))
                .unwrap_or_default(),
        ];
        let snap = [PathBuf::from("/snap/thunderbird/current/usr/lib/thunderbird")];
        let packaged = [
            PathBuf::from("/usr/lib/thunderbird"),
            PathBuf::from("/usr/lib64/thunderbird"),
            PathBuf::from("/usr/local/lib/thunderbird"),
            PathBuf::from("/opt/thunderbird"),
        ];
        if shown.contains("/.var/app/org.mozilla.Thunderbird/") {
            dirs.extend(flatpak.iter().cloned());
        } else if shown.contains("/snap/thunderbird/") {
            dirs.extend(snap.iter().cloned());
        }
        dirs.extend(packaged);
        dirs.extend(flatpak);
        dirs.extend(snap);
        dirs.retain(|d| !d.as_os_str().is_empty());
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let new = !seen.contains(d);
        seen.push(d.clone());
        new
    });
    dirs
}

/// What to load: Thunderbird's own NSS in `dir`, or the system's NSS when Thunderbird was built against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NssLocation {
    Folder(PathBuf),
    /// A Thunderbird installation without its own NSS: its NSS is the system's (`libnss3.so` by name).
    System {
        thunderbird: PathBuf,
    },
}

/// Where Thunderbird's NSS is: in `named` when given (`--thunderbird-dir`), else the first installation folder
/// that has it.
pub fn locate(named: Option<&Path>, profile: &Path) -> Result<NssLocation, NssError> {
    if let Some(dir) = named {
        return if dir.join(LIBRARY).is_file() {
            Ok(NssLocation::Folder(dir.to_owned()))
        } else {
            Err(NssError::Unavailable { path: Some(dir.to_owned()), detail: format!("{} has no {LIBRARY}", dir.display()) })
        };
    }
    let candidates = installation_dirs(profile);
    if let Some(dir) = candidates.iter().find(|d| d.join(LIBRARY).is_file()) {
        return Ok(NssLocation::Folder(dir.clone()));
    }
    if cfg!(all(unix, not(target_os = "macos"))) {
        if let Some(dir) = candidates.iter().find(|d| d.join(PROGRAM).is_file()) {
            return Ok(NssLocation::System { thunderbird: dir.clone() });
        }
    }
    let list: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
    Err(NssError::Unavailable { path: None, detail: format!("no Thunderbird installation with {LIBRARY} in {}", list.join(", ")) })
}

// ---------------------------------------------------------------------------------------------------------------
// The C interface: only the few functions the login store needs, with the signatures of NSS's headers.

#[repr(C)]
struct SecItem {
    kind: c_int,
    data: *mut u8,
    len: c_uint,
}

impl SecItem {
    fn empty() -> SecItem {
        SecItem { kind: 0, data: std::ptr::null_mut(), len: 0 }
    }
}

type Slot = c_void;
const SEC_SUCCESS: c_int = 0;
const NSS_INIT_READONLY: u32 = 0x1;
/// Don't read or write the module database (pkcs11.txt): only the internal module, with the profile's key4.db.
const NSS_INIT_NOMODDB: u32 = 0x4;
/// Don't load the built-in root certificates module: no certificate is looked at.
const NSS_INIT_NOROOTINIT: u32 = 0x10;

struct Functions {
    initialize: unsafe extern "C" fn(*const c_char, *const c_char, *const c_char, *const c_char, u32) -> c_int,
    shutdown: unsafe extern "C" fn() -> c_int,
    internal_key_slot: unsafe extern "C" fn() -> *mut Slot,
    free_slot: unsafe extern "C" fn(*mut Slot),
    need_user_init: unsafe extern "C" fn(*mut Slot) -> c_int,
    need_login: unsafe extern "C" fn(*mut Slot) -> c_int,
    check_user_password: unsafe extern "C" fn(*mut Slot, *const c_char) -> c_int,
    init_pin: unsafe extern "C" fn(*mut Slot, *const c_char, *const c_char) -> c_int,
    sdr_encrypt: unsafe extern "C" fn(*mut SecItem, *mut SecItem, *mut SecItem, *mut c_void) -> c_int,
    sdr_decrypt: unsafe extern "C" fn(*mut SecItem, *mut SecItem, *mut c_void) -> c_int,
    zfree_item: unsafe extern "C" fn(*mut SecItem, c_int),
    get_error: unsafe extern "C" fn() -> c_int,
    error_name: Option<unsafe extern "C" fn(c_int) -> *const c_char>,
    version: Option<unsafe extern "C" fn() -> *const c_char>,
}

/// Thunderbird's NSS, loaded. The libraries stay loaded for the rest of the (helper) process: unloading NSS is
/// not something it supports well, and the process ends right after.
pub struct LoadedNss {
    functions: Functions,
    /// Where it was loaded from, for messages.
    pub from: String,
    _libraries: Vec<libloading::Library>,
}

/// Mozilla's Apple Team ID: every library of Mozilla's Thunderbird.app is signed with it.
#[cfg(target_os = "macos")]
const MOZILLA_TEAM_ID_REQUIREMENT: &str = "anchor apple generic and certificate leaf[subject.OU] = \"43AQ936H96\"";

/// macOS: the library's code signature is valid and Mozilla's (Team ID `43AQ936H96`), checked before it is loaded.
/// The app's hardened runtime cannot do that check itself here: it loads Mozilla-signed code with library
/// validation off (`com.apple.security.cs.disable-library-validation`), and `~/Applications/Thunderbird.app` is
/// writable by the person's own processes.
#[cfg(target_os = "macos")]
fn signed_by_mozilla(path: &Path) -> Result<(), String> {
    use security_framework::os::macos::code_signing::{Flags, SecRequirement, SecStaticCode};
    let url = core_foundation::url::CFURL::from_path(path, false).ok_or_else(|| format!("{}: not a file path", path.display()))?;
    let code = SecStaticCode::from_path(&url, Flags::NONE).map_err(|e| format!("{}: no code signature: {e}", path.display()))?;
    let mozilla: SecRequirement = MOZILLA_TEAM_ID_REQUIREMENT.parse().map_err(|e| format!("the signature requirement: {e}"))?;
    code.check_validity(Flags::CHECK_ALL_ARCHITECTURES | Flags::STRICT_VALIDATE, &mozilla)
        .map_err(|e| format!("{} is not signed by Mozilla (Team ID 43AQ936H96): {e}", path.display()))
}

fn open_library(path: &Path) -> Result<libloading::Library, String> {
    #[cfg(target_os = "macos")]
    signed_by_mozilla(path)?;
    open_library_unchecked(path).map_err(|e| e.to_string())
}

fn open_library_unchecked(path: &Path) -> Result<libloading::Library, libloading::Error> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: loading a library runs its initialisers; these are Thunderbird's own NSS libraries, whose
        // initialisers only set up their own state.
        unsafe { libloading::os::unix::Library::open(Some(path), libc::RTLD_NOW | libc::RTLD_LOCAL | libc::RTLD_DEEPBIND).map(Into::into) }
    }
    #[cfg(windows)]
    {
        use libloading::os::windows::{Library, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR, LOAD_LIBRARY_SEARCH_SYSTEM32};
        // SAFETY: as above. The DLL's imports are looked for in its own folder and in System32 only: never in the
        // current folder, PATH or the application's folder, where someone else's DLL of the same name could be.
        unsafe { Library::load_with_flags(path, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32).map(Into::into) }
    }
    #[cfg(not(any(all(target_os = "linux", target_env = "gnu"), windows)))]
    {
        // SAFETY: as above.
        unsafe { libloading::Library::new(path) }
    }
}

impl LoadedNss {
    /// Loads NSS from `location`, its dependencies first.
    pub fn load(location: &NssLocation) -> Result<LoadedNss, NssError> {
        let mut libraries = Vec::new();
        let (main, from) = match location {
            NssLocation::Folder(dir) => {
                for name in PRELOAD {
                    let path = dir.join(name);
                    if path.is_file() {
                        let lib = open_library(&path).map_err(|detail| NssError::Unavailable { path: Some(dir.clone()), detail })?;
                        libraries.push(lib);
                    }
                }
                let path = dir.join(LIBRARY);
                let lib = open_library(&path).map_err(|detail| NssError::Unavailable { path: Some(dir.clone()), detail })?;
                (lib, dir.display().to_string())
            }
            NssLocation::System { thunderbird } => {
                // SAFETY: the system's NSS, which this Thunderbird itself uses.
                let lib = unsafe { libloading::Library::new(LIBRARY) }
                    .map_err(|e| NssError::Unavailable { path: Some(thunderbird.clone()), detail: e.to_string() })?;
                (lib, format!("{LIBRARY} (the system's, used by {})", thunderbird.display()))
            }
        };
        let unavailable = |e: libloading::Error| NssError::Unavailable { path: None, detail: format!("{from}: {e}") };
        // SAFETY: each symbol is given the C signature it has in NSS's public headers (nss.h, pk11pub.h, pk11sdr.h,
        // secitem.h, secerr.h/prerror.h); the function pointers are used only while `main` stays loaded (it is
        // kept in `_libraries`).
        let functions = unsafe {
            Functions {
                initialize: *main.get(b"NSS_Initialize\0").map_err(unavailable)?,
                shutdown: *main.get(b"NSS_Shutdown\0").map_err(unavailable)?,
                internal_key_slot: *main.get(b"PK11_GetInternalKeySlot\0").map_err(unavailable)?,
                free_slot: *main.get(b"PK11_FreeSlot\0").map_err(unavailable)?,
                need_user_init: *main.get(b"PK11_NeedUserInit\0").map_err(unavailable)?,
                need_login: *main.get(b"PK11_NeedLogin\0").map_err(unavailable)?,
                check_user_password: *main.get(b"PK11_CheckUserPassword\0").map_err(unavailable)?,
                init_pin: *main.get(b"PK11_InitPin\0").map_err(unavailable)?,
                sdr_encrypt: *main.get(b"PK11SDR_Encrypt\0").map_err(unavailable)?,
                sdr_decrypt: *main.get(b"PK11SDR_Decrypt\0").map_err(unavailable)?,
                zfree_item: *main.get(b"SECITEM_ZfreeItem\0").map_err(unavailable)?,
                get_error: *main.get(b"PORT_GetError\0").map_err(unavailable)?,
                error_name: main.get(b"PR_ErrorToName\0").ok().map(|s| *s),
                version: main.get(b"NSS_GetVersion\0").ok().map(|s| *s),
            }
        };
        libraries.push(main);
        Ok(LoadedNss { functions, from, _libraries: libraries })
    }

    /// NSS's last error, by name where NSPR knows it (`SEC_ERROR_BAD_DATABASE (-8174)`).
    fn last_error(&self) -> String {
        // SAFETY: PORT_GetError reads a thread-local error code.
        let code = unsafe { (self.functions.get_error)() };
        // SAFETY: PR_ErrorToName returns a static NUL-terminated name, or null.
        let name = self.functions.error_name.map(|f| unsafe { f(code) }).filter(|p| !p.is_null());
        match name {
            // SAFETY: non-null and NUL-terminated (above).
            Some(name) => format!("{} ({code})", unsafe { CStr::from_ptr(name) }.to_string_lossy()),
            None => format!("NSS error {code}"),
        }
    }

    /// NSS's version (`3.117`), for details.
    pub fn version(&self) -> String {
        // SAFETY: NSS_GetVersion returns a static NUL-terminated string.
        let v = self.functions.version.map(|f| unsafe { f() }).filter(|p| !p.is_null());
        // SAFETY: non-null and NUL-terminated (above).
        v.map(|v| unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned()).unwrap_or_else(|| "unknown".into())
    }
}

impl Nss for LoadedNss {
    fn open(&self, profile: &Path, write: bool) -> Result<Box<dyn KeyStore + '_>, NssError> {
        let failed = |detail: String| NssError::Failed { detail };
        let dir = CString::new(format!("sql:{}", profile.display())).map_err(|e| failed(e.to_string()))?;
        let empty = c"";
        let flags = NSS_INIT_NOMODDB | NSS_INIT_NOROOTINIT | if write { 0 } else { NSS_INIT_READONLY };
        let f = &self.functions;
        // SAFETY: NUL-terminated strings that outlive the call; NSS copies what it keeps.
        if unsafe { (f.initialize)(dir.as_ptr(), empty.as_ptr(), empty.as_ptr(), c"secmod.db".as_ptr(), flags) } != SEC_SUCCESS {
            return Err(failed(format!(
                "NSS_Initialize({}): {} (NSS {} from {})",
                dir.to_string_lossy(),
                self.last_error(),
                self.version(),
                self.from
            )));
        }
        // From here on, dropping the store shuts NSS down again.
        // SAFETY: NSS is initialised; the slot reference is freed when the store is dropped.
        let slot = unsafe { (f.internal_key_slot)() };
        let store = Session { nss: self, slot };
        if slot.is_null() {
            return Err(failed(format!("no internal key slot: {}", self.last_error())));
        }
        // SAFETY: a live slot reference.
        if unsafe { (f.need_user_init)(slot) } != 0 {
            // A key4.db with no password set yet (NSS just created it): set the empty one, as Thunderbird does at
            // its first start, so that the secret-decoder-ring key can be made.
            // SAFETY: a live slot; null SO password, empty user password.
            if write && unsafe { (f.init_pin)(slot, std::ptr::null(), empty.as_ptr()) } != SEC_SUCCESS {
                return Err(failed(format!("PK11_InitPin: {}", self.last_error())));
            }
        // SAFETY: a live slot; an empty password is tried only to tell "no primary password" from one.
        } else if unsafe { (f.need_login)(slot) } != 0 && unsafe { (f.check_user_password)(slot, empty.as_ptr()) } != SEC_SUCCESS {
            return Err(NssError::PrimaryPassword);
        }
        Ok(Box::new(store))
    }
}

/// An open key store: NSS initialised on one profile, and its key slot.
struct Session<'a> {
    nss: &'a LoadedNss,
    slot: *mut Slot,
}

impl KeyStore for Session<'_> {
    fn encrypt(&mut self, plain: &[u8]) -> Result<Vec<u8>, String> {
        let f = &self.nss.functions;
        let mut key_id = SecItem::empty(); // the default secret-decoder-ring key, made when there is none yet
        let mut data = SecItem { kind: 0, data: plain.as_ptr() as *mut u8, len: plain.len() as c_uint };
        let mut out = SecItem::empty();
        // SAFETY: the items live across the call and NSS only reads `data`; NSS allocates `out`, freed below.
        if unsafe { (f.sdr_encrypt)(&mut key_id, &mut data, &mut out, std::ptr::null_mut()) } != SEC_SUCCESS {
            return Err(format!("PK11SDR_Encrypt: {}", self.nss.last_error()));
        }
        // SAFETY: NSS filled `out` with `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(out.data, out.len as usize) }.to_vec();
        // SAFETY: frees (and zeroes) what NSS allocated; 0 keeps the item itself, which is ours.
        unsafe { (f.zfree_item)(&mut out, 0) };
        Ok(bytes)
    }

    fn decrypt(&mut self, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let f = &self.nss.functions;
        let mut data = SecItem { kind: 0, data: cipher.as_ptr() as *mut u8, len: cipher.len() as c_uint };
        let mut out = SecItem::empty();
        // SAFETY: as in `encrypt`.
        if unsafe { (f.sdr_decrypt)(&mut data, &mut out, std::ptr::null_mut()) } != SEC_SUCCESS {
            return Err(format!("PK11SDR_Decrypt: {}", self.nss.last_error()));
        }
        // SAFETY: NSS filled `out` with `len` bytes.
        let plain = Zeroizing::new(unsafe { std::slice::from_raw_parts(out.data, out.len as usize) }.to_vec());
        // SAFETY: zeroes and frees the plain text NSS allocated.
        unsafe { (f.zfree_item)(&mut out, 0) };
        Ok(plain)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let f = &self.nss.functions;
        // SAFETY: the slot reference taken in `open` (if any) is released before NSS is shut down; nothing else
        // NSS made is still held.
        unsafe {
            if !self.slot.is_null() {
                (f.free_slot)(self.slot);
            }
            (f.shutdown)();
        }
    }
}

/// Thunderbird's NSS for `profile`, found and loaded: `thunderbird_dir` when given, else the installation found.
pub fn load_for(profile: &Path, thunderbird_dir: Option<&Path>) -> Result<LoadedNss, NssError> {
    LoadedNss::load(&locate(thunderbird_dir, profile)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_folder_without_nss_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        match locate(Some(dir.path()), dir.path()) {
            Err(NssError::Unavailable { path, .. }) => assert_eq!(path.as_deref(), Some(dir.path())),
            other => panic!("{other:?}"),
        }
    }

    /// Flatpak exists on Linux (and the BSDs) only: elsewhere the test does not exist, rather than passing empty.
    #[test]
    #[cfg(all(unix, not(target_os = "macos")))]
    fn a_flatpak_profile_looks_at_the_flatpak_first() {
        let dirs = installation_dirs(Path::new("/home/jane/.var/app/org.mozilla.Thunderbird/.thunderbird/x.default"));
        assert!(dirs[0].to_string_lossy().contains("flatpak"), "{dirs:?}");
        let dirs = installation_dirs(Path::new("/home/jane/.thunderbird/x.default"));
        assert_eq!(dirs[0], PathBuf::from("/usr/lib/thunderbird"));
    }
}
