//! Child processes the harness starts (Dovecot, gnome-keyring, Xvfb, tauri-driver): each is stopped politely
//! (SIGTERM, then SIGKILL after a grace period) when its `Service` is dropped, and reaped, so no daemon outlives a
//! test and no zombie piles up (PID 1 on these machines does not reap orphans).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running child process that is stopped and reaped on drop.
pub struct Service {
    name: String,
    child: Option<Child>,
}

impl Service {
    /// Starts `command` with its output appended to `log` (a file path) so a failing test can show it.
    pub fn start(name: &str, command: &mut Command, log: &std::path::Path) -> std::io::Result<Service> {
        become_subreaper();
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let child = own_group(command).stdin(Stdio::null()).stdout(out).stderr(err).spawn()?;
        Ok(Service { name: name.to_owned(), child: Some(child) })
    }

    /// Wraps a child started by the caller (for example one whose stdout the caller reads); start it with
    /// `own_group(&mut command)` so what it leaves behind is reaped.
    pub fn adopt(name: &str, child: Child) -> Service {
        become_subreaper();
        Service { name: name.to_owned(), child: Some(child) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL; always reaps.
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(None) = child.try_wait() {
            // SAFETY: kill(2) on our own child's pid; the child has not been reaped yet, so the pid is still ours.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    reap_orphans();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
        }
        let _ = child.wait();
        reap_orphans();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Starts `command` in a process group of its own, so whatever it leaves behind is told apart from the programs a
/// test runs and waits for itself (see `reap_orphans`). Leaving our group also leaves the terminal's Ctrl-C, so the
/// child is told to stop (SIGTERM) when the thread that started it ends (a test's thread outlives its services:
/// they are dropped inside the test).
pub fn own_group(command: &mut Command) -> &mut Command {
    command.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and calls only prctl, which is
    // async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Makes this process the reaper of its orphaned descendants (daemons that double-fork), once.
pub fn become_subreaper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument and changes only this process.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    });
}

/// Reaps exited orphans that were re-parented to us (non-blocking): zombie children whose process group is not
/// ours. Programs a test runs itself (`Command::output()`) stay in our process group and are left to the `wait`
/// of whoever started them; reaping any child (`waitpid(-1)`) raced with that wait and failed it with ECHILD.
/// Services start in process groups of their own (`Service::start`), so whatever they leave behind is reaped.
pub fn reap_orphans() {
    // SAFETY: getpid/getpgrp take no arguments and only report.
    let (me, our_group) = unsafe { (libc::getpid() as u32, libc::getpgrp() as u32) };
    for pid in all_pids() {
        if proc_stat(pid).is_some_and(|s| s.state == 'Z' && s.parent == me && s.group != our_group) {
            let mut status = 0;
            // SAFETY: waitpid with WNOHANG on one exited child of ours that no one else waits for.
            unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
        }
    }
}

/// What /proc/<pid>/stat says of a process that concerns the harness.
pub struct ProcStat {
    /// R, S, D, Z, …
    pub state: char,
    pub parent: u32,
    pub group: u32,
}

/// Every process id in /proc.
pub fn all_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.filter_map(Result::ok).filter_map(|e| e.file_name().to_string_lossy().parse().ok()).collect()
}

/// The state, parent and process group of `pid`, while it exists (zombies included).
pub fn proc_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces; after it: state, parent pid, process group.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    Some(ProcStat { state, parent, group })
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free loopback port")
}

/// Waits until something accepts TCP connections at `addr`, or panics after `timeout` naming `what`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start listening on {addr} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A folder under target/test-artifacts (git-ignored) for logs and screenshots a person may want after a run.
pub fn artifacts_dir(suite: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts").join(suite);
    std::fs::create_dir_all(&dir).expect("create tests/artifacts");
    dir
}
