//! Whether Thunderbird is using a profile, by testing its lock the way Thunderbird takes it
//! (`toolkit/profile/nsProfileLock.cpp`). The lock files stay behind after Thunderbird exits (it keeps them for
//! crash detection), so only the lock itself says anything, never the file's existence.

use std::path::Path;

/// True while a Thunderbird (or anything else holding its lock) has the profile open.
pub fn profile_in_use(profile: &Path) -> std::io::Result<bool> {
    imp::profile_in_use(profile)
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    pub fn profile_in_use(profile: &Path) -> std::io::Result<bool> {
        // `.parentlock` on Linux and macOS; macOS builds before the rename used `parent.lock`.
        for name in [".parentlock", "parent.lock"] {
            match File::open(profile.join(name)) {
                Ok(file) => {
                    if write_lock_held(&file)? {
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(symlink_owner_alive(profile))
    }

    /// Asks the kernel whether a write lock on the whole file would conflict with a lock someone holds.
    fn write_lock_held(file: &File) -> std::io::Result<bool> {
        // SAFETY: a zeroed `flock` is a valid value of this plain C struct; fcntl reads and writes only it.
        let mut probe: libc::flock = unsafe { std::mem::zeroed() };
        probe.l_type = libc::F_WRLCK as _;
        probe.l_whence = libc::SEEK_SET as _;
        probe.l_start = 0;
        probe.l_len = 0;
        // Linux: ask with an open-file-description lock. Those conflict with the classic lock Thunderbird holds
        // even inside the same process, so the answer does not depend on who asks. Elsewhere: the classic query.
        #[cfg(target_os = "linux")]
        let command = libc::F_OFD_GETLK;
        #[cfg(not(target_os = "linux"))]
        let command = libc::F_GETLK;
        // SAFETY: fcntl on a file descriptor we own, with a pointer to a live, initialised flock.
        let result = unsafe { libc::fcntl(file.as_raw_fd(), command, &mut probe) };
        if result == -1 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(i32::from(probe.l_type) != libc::F_UNLCK)
    }

    /// Linux Thunderbird also keeps a `lock` symlink whose target is `<ip>:+<pid>` (or `<ip>:<pid>`); it counts as
    /// held while that process lives, as Thunderbird itself judges it. Elsewhere there is no such link.
    fn symlink_owner_alive(profile: &Path) -> bool {
        let Ok(target) = std::fs::read_link(profile.join("lock")) else { return false };
        let target = target.to_string_lossy();
        let Some(pid) = target.rsplit_once(':').and_then(|(_, pid)| pid.trim_start_matches('+').parse::<libc::pid_t>().ok()) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: kill with signal 0 only checks whether the process exists; it sends nothing.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        alive || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
}

#[cfg(windows)]
mod imp {
    use std::os::windows::fs::OpenOptionsExt;
    use std::path::Path;

    /// ERROR_SHARING_VIOLATION: another process has the file open without sharing, as Thunderbird does.
    const SHARING_VIOLATION: i32 = 32;

    pub fn profile_in_use(profile: &Path) -> std::io::Result<bool> {
        match std::fs::OpenOptions::new().read(true).share_mode(0).open(profile.join("parent.lock")) {
            Ok(_) => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) if e.raw_os_error() == Some(SHARING_VIOLATION) => Ok(true),
            Err(e) => Err(e),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// Takes the lock exactly as Thunderbird does: a classic fcntl write lock on the whole `.parentlock`.
    fn lock_like_thunderbird(path: &Path) -> std::fs::File {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).unwrap();
        // SAFETY: as in `write_lock_held`.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as _;
        lock.l_whence = libc::SEEK_SET as _;
        // SAFETY: fcntl on our own descriptor with a live flock.
        assert_eq!(unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) }, 0);
        file
    }

    #[test]
    fn a_left_over_lock_file_is_not_a_running_thunderbird() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!profile_in_use(dir.path()).unwrap());
        std::fs::write(dir.path().join(".parentlock"), b"").unwrap();
        assert!(!profile_in_use(dir.path()).unwrap());
    }

    #[test]
    fn the_fcntl_lock_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_like_thunderbird(&dir.path().join(".parentlock"));
        assert!(profile_in_use(dir.path()).unwrap());
        drop(held);
        assert!(!profile_in_use(dir.path()).unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_symlink_counts_while_its_process_lives() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(format!("127.0.1.1:+{}", std::process::id()), dir.path().join("lock")).unwrap();
        assert!(profile_in_use(dir.path()).unwrap());
        std::fs::remove_file(dir.path().join("lock")).unwrap();
        // A pid far above pid_max: no such process.
        std::os::unix::fs::symlink("127.0.1.1:+2147483646", dir.path().join("lock")).unwrap();
        assert!(!profile_in_use(dir.path()).unwrap());
    }
}
