//! A loopback-only network namespace for a program whose background traffic must not leave the machine (a real
//! Thunderbird), with the test servers reachable in it through relays.
//!
//! The namespace is held by a `sleep` started with `unshare --net`; its loopback is brought up with `ip`. Programs
//! run in it through `nsenter --net=/proc/<pid>/ns/net` ([`LoopbackNet::command`]). The servers stay where the
//! harness started them, on the host's loopback: for each port, a relay listens on 127.0.0.1 and ::1 *inside* the
//! namespace (its sockets made by a thread that `setns`es there and returns) and forwards every connection to
//! 127.0.0.1 on the host, from threads in the host's namespace. A socket keeps the namespace it was made in, so
//! nothing but those ports leads out. Needs root (CAP_SYS_ADMIN), as CI runs.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The namespace and its relays; everything ends when dropped.
pub struct LoopbackNet {
    holder: Child,
    ns: PathBuf,
    stop: Arc<AtomicBool>,
    relayed: Arc<std::sync::atomic::AtomicUsize>,
}

impl LoopbackNet {
    /// A new network namespace with only a loopback interface, up.
    pub fn new() -> LoopbackNet {
        let holder = Command::new("unshare")
            .args(["--net", "--", "sleep", "3600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare --net (util-linux; needs root)");
        let ns = PathBuf::from(format!("/proc/{}/ns/net", holder.id()));
        let own = std::fs::read_link("/proc/self/ns/net").expect("read our network namespace");
        let deadline = Instant::now() + Duration::from_secs(5);
        // `unshare` makes the namespace, then becomes `sleep`: wait until the holder is in a namespace of its own.
        while std::fs::read_link(&ns).map(|l| l == own).unwrap_or(true) {
            assert!(Instant::now() < deadline, "unshare --net did not make a namespace");
            std::thread::sleep(Duration::from_millis(10));
        }
        let net =
            LoopbackNet { holder, ns, stop: Arc::new(AtomicBool::new(false)), relayed: Arc::new(std::sync::atomic::AtomicUsize::new(0)) };
        let out = net.command("ip").args(["link", "set", "lo", "up"]).output().expect("ip (iproute2)");
        assert!(out.status.success(), "ip link set lo up: {}", String::from_utf8_lossy(&out.stderr));
        let links = net.command("ip").args(["-o", "link"]).output().expect("ip -o link");
        let links = String::from_utf8_lossy(&links.stdout).into_owned();
        assert_eq!(links.lines().count(), 1, "the namespace has only its loopback: {links}");
        net
    }

    /// `program` run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command.arg(format!("--net={}", self.ns.display())).arg("--").arg(program);
        command
    }

    /// The namespace's path (`/proc/<pid>/ns/net`), for `nsenter --net=`.
    pub fn path(&self) -> &std::path::Path {
        &self.ns
    }

    /// Connections relayed so far.
    pub fn relayed(&self) -> usize {
        self.relayed.load(Ordering::SeqCst)
    }

    /// Makes 127.0.0.1:`port` and [::1]:`port` inside the namespace lead to 127.0.0.1:`port` on the host.
    pub fn relay(&self, port: u16) {
        let ns = std::fs::File::open(&self.ns).expect("open the namespace");
        // Sockets made by a thread that entered the namespace belong to it; the thread ends, the sockets stay.
        let listeners = std::thread::spawn(move || {
            // SAFETY: setns on this thread only (a network namespace is per thread) with a valid namespace fd.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            let v4 = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1 in the namespace");
            let v6 = TcpListener::bind(("::1", port)).ok();
            (v4, v6)
        })
        .join()
        .expect("the namespace thread");
        for listener in [Some(listeners.0), listeners.1].into_iter().flatten() {
            listener.set_nonblocking(true).expect("nonblocking listener");
            let stop = self.stop.clone();
            let relayed = self.relayed.clone();
            std::thread::spawn(move || accept_loop(listener, port, &stop, &relayed));
        }
    }
}

fn accept_loop(listener: TcpListener, port: u16, stop: &AtomicBool, relayed: &std::sync::atomic::AtomicUsize) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((inside, _)) => {
                let _ = inside.set_nonblocking(false);
                let Ok(outside) = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))) else { continue };
                relayed.fetch_add(1, Ordering::SeqCst);
                pipe(inside, outside);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return,
        }
    }
}

/// Copies bytes both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (a2, b2) = (a.try_clone().expect("clone a stream"), b.try_clone().expect("clone a stream"));
    std::thread::spawn(move || copy(a, b2));
    std::thread::spawn(move || copy(b, a2));
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

impl Default for LoopbackNet {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for LoopbackNet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
