//! Whether Thunderbird is using a profile, by testing its lock the way Thunderbird takes it
//! (`toolkit/profile/nsProfileLock.cpp`). The lock files stay behind after Thunderbird exits (it keeps them for
//! crash detection), so only the lock itself says anything, never the file's existence.

use std::path::Path;

/// True while a Thunderbird (or anything else holding its lock) has the profile open.
pub fn profile_in_use(profile: &Path) -> std::io::Result<bool> {
    imp::profile_in_use(profile)
}

/// The profile's lock, held as Thunderbird holds it, until dropped. A lock file this add created is removed again,
/// so a profile Thunderbird never opened is left as it was (Thunderbird's own stays, as Thunderbird leaves it).
pub struct ProfileLock {
    file: Option<std::fs::File>,
    created: Option<std::path::PathBuf>,
}

impl Drop for ProfileLock {
    fn drop(&mut self) {
        // Closed first: Windows does not delete a file that is open without delete sharing.
        drop(self.file.take());
        if let Some(path) = self.created.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Opens the lock file `path` for reading and writing, creating it if needed: the file and whether it was created.
fn open_lock_file(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<(std::fs::File, bool)> {
    options.read(true).write(true);
    match options.clone().create_new(true).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => options.open(path).map(|file| (file, false)),
        Err(e) => Err(e),
    }
}

/// Takes the profile's lock as Thunderbird takes it, for as long as an add reads and writes the profile: a
/// Thunderbird started meanwhile finds the profile in use and does not open it, and a second add cannot take it.
/// `None` when someone holds it (a running Thunderbird, another add), or Linux Thunderbird's `lock` symlink names a
/// live process. On Linux the lock is an open-file-description lock, which conflicts with Thunderbird's classic
/// one and with another add's even in the same process.
pub fn hold(profile: &Path) -> std::io::Result<Option<ProfileLock>> {
    imp::hold(profile).map(|held| held.map(|(file, created)| ProfileLock { file: Some(file), created }))
}

/// Takes the profile's lock the way Thunderbird does on this system, until the file is dropped. For tests (here and
/// in the suites that stand in for a running Thunderbird); the product itself never locks a profile.
#[doc(hidden)]
pub fn lock_like_thunderbird(profile: &Path) -> std::io::Result<std::fs::File> {
    imp::lock_like_thunderbird(profile)
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

    pub fn hold(profile: &Path) -> std::io::Result<Option<(File, Option<std::path::PathBuf>)>> {
        if symlink_owner_alive(profile) {
            return Ok(None);
        }
        let path = profile.join(".parentlock");
        let (file, created) = super::open_lock_file(&path, &mut std::fs::OpenOptions::new())?;
        // SAFETY: as in `write_lock_held`.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as _;
        lock.l_whence = libc::SEEK_SET as _;
        #[cfg(target_os = "linux")]
        let command = libc::F_OFD_SETLK;
        #[cfg(not(target_os = "linux"))]
        let command = libc::F_SETLK;
        // SAFETY: fcntl on a descriptor we own, with a pointer to a live, initialised flock.
        if unsafe { libc::fcntl(file.as_raw_fd(), command, &lock) } == -1 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EACCES) => {
                    if created {
                        let _ = std::fs::remove_file(&path);
                    }
                    Ok(None)
                }
                _ => Err(e),
            };
        }
        Ok(Some((file, created.then_some(path))))
    }

    /// A classic fcntl write lock on the whole `.parentlock` (`nsProfileLock::LockWithFcntl`).
    pub fn lock_like_thunderbird(profile: &Path) -> std::io::Result<File> {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(profile.join(".parentlock"))?;
        // SAFETY: as in `write_lock_held`.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as _;
        lock.l_whence = libc::SEEK_SET as _;
        // SAFETY: fcntl on a descriptor we own, with a pointer to a live, initialised flock.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(file)
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
        // F_UNLCK is a c_int on Linux and a c_short (the type of l_type) on macOS.
        Ok(probe.l_type != libc::F_UNLCK as libc::c_short)
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

    pub fn hold(profile: &Path) -> std::io::Result<Option<(std::fs::File, Option<std::path::PathBuf>)>> {
        let path = profile.join("parent.lock");
        match super::open_lock_file(&path, std::fs::OpenOptions::new().share_mode(0)) {
            Ok((file, created)) => Ok(Some((file, created.then_some(path)))),
            Err(e) if e.raw_os_error() == Some(SHARING_VIOLATION) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `parent.lock` opened for reading and writing, shared with nobody, deleted when closed (`nsProfileLock::Lock`).
    pub fn lock_like_thunderbird(profile: &Path) -> std::io::Result<std::fs::File> {
        /// FILE_FLAG_DELETE_ON_CLOSE
        const DELETE_ON_CLOSE: u32 = 0x0400_0000;
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .share_mode(0)
            .custom_flags(DELETE_ON_CLOSE)
            .open(profile.join("parent.lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    /// Set for the child process that holds the lock, to the profile folder.
    const HOLD: &str = "ICLOUD_MAIL_SETUP_TEST_HOLD_THUNDERBIRD_LOCK";

    /// Thunderbird holds the lock from another process, and on macOS a classic fcntl lock held by the asking process
    /// itself is invisible to it: so this test binary runs `holds_the_lock_for_its_parent` in a child, which takes the
    /// lock as Thunderbird does and keeps it until its standard input closes.
    fn hold_in_another_process(profile: &Path) -> Child {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "export::thunderbird_profile::lock::tests::holds_the_lock_for_its_parent"])
            .args(["--ignored", "--nocapture", "--test-threads=1"])
            .env(HOLD, profile)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut said = String::new();
        for line in BufReader::new(child.stdout.as_mut().unwrap()).lines() {
            let line = line.unwrap();
            said.push_str(&line);
            said.push('\n');
            if line.contains("thunderbird lock held") {
                return child;
            }
        }
        panic!("the child process did not take the lock: {said} {:?}", child.wait());
    }

    /// Ends the holder (its standard input closes) and waits until it has exited.
    fn release(mut holder: Child) {
        drop(holder.stdin.take());
        assert!(holder.wait().unwrap().success());
    }

    #[test]
    #[ignore = "the lock holder of the other tests, run by them in a child process"]
    fn holds_the_lock_for_its_parent() {
        let Some(profile) = std::env::var_os(HOLD) else { return };
        let _held = lock_like_thunderbird(Path::new(&profile)).unwrap();
        println!("thunderbird lock held");
        let _ = std::io::stdin().read_line(&mut String::new());
    }

    #[test]
    fn a_left_over_lock_file_is_not_a_running_thunderbird() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!profile_in_use(dir.path()).unwrap());
        std::fs::write(dir.path().join(".parentlock"), b"").unwrap();
        std::fs::write(dir.path().join("parent.lock"), b"").unwrap();
        assert!(!profile_in_use(dir.path()).unwrap());
    }

    #[test]
    fn a_lock_held_by_another_process_is_seen_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let holder = hold_in_another_process(dir.path());
        assert!(profile_in_use(dir.path()).unwrap());
        release(holder);
        assert!(!profile_in_use(dir.path()).unwrap());
    }

    /// Linux: an open-file-description query sees a lock this very process holds, so the answer does not depend on
    /// who asks (the test suites hold it in-process).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_lock_held_by_this_process_is_seen_on_linux() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_like_thunderbird(dir.path()).unwrap();
        assert!(profile_in_use(dir.path()).unwrap());
        drop(held);
        assert!(!profile_in_use(dir.path()).unwrap());
    }

    #[test]
    fn a_held_lock_keeps_thunderbird_and_a_second_add_out_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = hold(dir.path()).unwrap().expect("a free profile");
        assert!(hold(dir.path()).unwrap().is_none(), "a second add, even in this process, cannot take it");
        if cfg!(target_os = "linux") {
            // As Thunderbird asks: its own lock attempt fails while ours is held.
            assert!(lock_like_thunderbird(dir.path()).is_err());
        }
        drop(held);
        assert!(hold(dir.path()).unwrap().is_some());
        let thunderbird = hold_in_another_process(dir.path());
        assert!(hold(dir.path()).unwrap().is_none(), "Thunderbird's lock keeps an add out");
        release(thunderbird);
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
