//! No core dumps: a dump of this process would hold the tested password (the window keeps it for up to five
//! minutes), and one of the Thunderbird login helper also NSS's unlocked key for every saved Thunderbird login. A
//! crash in a foreign library (NSS, WebKitGTK) or the release build's abort on panic must not leave that on disk,
//! where systemd-coredump, apport or Windows Error Reporting keep dumps.
//!
//! `forbid()` runs first thing in `main` (the window, the command line and the helper are one program):
//! - Linux: `prctl(PR_SET_DUMPABLE, 0)` (no dump, not even through a `core_pattern` pipe such as systemd-coredump,
//!   and no `ptrace` attach by other processes of the same user) and `RLIMIT_CORE` 0, soft and hard.
//! - macOS and the other Unix systems: `RLIMIT_CORE` 0, soft and hard.
//! - Windows: the process's error mode keeps Windows Error Reporting's fault dialog away
//!   (`SEM_NOGPFAULTERRORBOX`), and `WerAddExcludedApplication` excludes this program from Windows Error Reporting
//!   for the current user, so WER neither collects nor keeps a dump of it.
//!
//! Children (the helper, a mail client started later) inherit the resource limit; the helper sets it again itself.

/// Forbids core dumps of this process, as described above. Best effort: a call the system refuses leaves the rest
/// in place, and the returned text says what failed (for a test or a log; nothing here prints).
pub fn forbid() -> Result<(), String> {
    platform::forbid()
}

#[cfg(unix)]
mod platform {
    pub fn forbid() -> Result<(), String> {
        let mut failed = Vec::new();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: prctl with PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            failed.push(format!("PR_SET_DUMPABLE: {}", std::io::Error::last_os_error()));
        }
        let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: setrlimit reads the struct we pass and nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
            failed.push(format!("RLIMIT_CORE: {}", std::io::Error::last_os_error()));
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }
}

#[cfg(windows)]
mod platform {
    use std::os::windows::ffi::OsStrExt;

    use windows_sys::Win32::System::Diagnostics::Debug::{GetErrorMode, SetErrorMode, SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX};
    use windows_sys::Win32::System::ErrorReporting::WerAddExcludedApplication;

    pub fn forbid() -> Result<(), String> {
        // SAFETY: GetErrorMode and SetErrorMode take and return flags; they touch no memory of ours.
        unsafe {
            SetErrorMode(GetErrorMode() | SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        }
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let wide: Vec<u16> = exe.as_os_str().encode_wide().chain(Some(0)).collect();
        // SAFETY: `wide` is a NUL-terminated UTF-16 path that outlives the call; FALSE = the current user only.
        let result = unsafe { WerAddExcludedApplication(wide.as_ptr(), 0) };
        if result < 0 {
            Err(format!("WerAddExcludedApplication: HRESULT {result:#x}"))
        } else {
            Ok(())
        }
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    pub fn forbid() -> Result<(), String> {
        Err("no way to forbid core dumps is known on this system".into())
    }
}
