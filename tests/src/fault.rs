//! Fault servers on loopback: each misbehaves in exactly one way a real network or server can, so a suite can
//! check that a client ends in the right verdict, in time, without sending a password where it must not.
//!
//! ```no_run
//! use icloud_mail_tests::{ca::TestCa, fault::{Fault, FaultServer}};
//! let ca = TestCa::new();
//! let server = FaultServer::start(Fault::SmtpWithoutStarttls, &ca);
//! // point a client at server.host():server.port, then:
//! assert!(!server.received_lines().iter().any(|l| l.to_ascii_uppercase().starts_with("AUTH")));
//! ```
//!
//! Every server stops (threads joined, sockets closed) when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::ca::{Leaf, TestCa};

/// One way of misbehaving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Accepts the connection and never sends a byte (nor reads one).
    Silent,
    /// Accepts and closes at once.
    CloseAtOnce,
    /// Sends bytes that are no mail server's greeting (nor TLS), then keeps the connection open.
    Garbage,
    /// TLS from the first byte with a certificate from the test CA that has expired.
    TlsExpired,
    /// TLS from the first byte with a valid certificate from the test CA for another host.
    TlsWrongHost,
    /// TLS from the first byte with a self-signed certificate (not from the test CA).
    TlsSelfSigned,
    /// Plain SMTP that never offers STARTTLS but offers AUTH and would accept any password; it records every line.
    SmtpWithoutStarttls,
    /// SMTP that offers STARTTLS and then refuses it (`454 4.7.0 TLS not available`); it records every line.
    SmtpStarttlsRefused,
    /// SMTP that offers STARTTLS and then shows an expired certificate; it records every plain-text line.
    SmtpStarttlsExpired,
    /// IMAP over TLS with a valid certificate from the test CA that accepts any LOGIN and then never answers
    /// again (a LIST hangs); it records every line after the login.
    ImapSilentAfterLogin,
    /// Nothing listens: connections are refused at once.
    RefusedPort,
    /// The SYN is never answered: a listening socket whose backlog is full, so the kernel drops new SYNs.
    NoSynAnswer,
}

/// A running fault server on 127.0.0.1.
pub struct FaultServer {
    pub port: u16,
    pub fault: Fault,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: Option<JoinHandle<()>>,
    // Kept open for NoSynAnswer: the black hole.
    _held: Vec<Box<dyn std::any::Any + Send>>,
}

impl FaultServer {
    /// Starts a server for `fault`; `ca` issues the broken certificates of the TLS faults.
    pub fn start(fault: Fault, ca: &TestCa) -> FaultServer {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = Arc::new(Mutex::new(Vec::new()));
        let mut server = FaultServer { port: 0, fault, lines, stop, threads, acceptor: None, _held: Vec::new() };
        match fault {
            Fault::RefusedPort => {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
                server.port = listener.local_addr().expect("local address").port();
                // Dropped here: the port is closed, and the kernel answers SYNs with RST.
            }
            Fault::NoSynAnswer => {
                let hole = BlackHole::at(SocketAddr::from(([127, 0, 0, 1], 0)));
                server.port = hole.addr.port();
                server._held.push(Box::new(hole));
            }
            _ => {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
                server.port = listener.local_addr().expect("local address").port();
                let tls = match fault {
                    Fault::TlsExpired | Fault::SmtpStarttlsExpired => Some(server_config(&ca.expired_leaf())),
                    Fault::TlsWrongHost => Some(server_config(&ca.leaf_for_another_host())),
                    Fault::TlsSelfSigned => Some(server_config(&ca.self_signed())),
                    Fault::ImapSilentAfterLogin => Some(server_config(&ca.leaf_for_loopback())),
                    _ => None,
                };
                let (stop, lines, threads) = (server.stop.clone(), server.lines.clone(), server.threads.clone());
                server.acceptor = Some(
                    std::thread::Builder::new()
                        .name(format!("fault-{fault:?}"))
                        .spawn(move || {
                            for stream in listener.incoming() {
                                if stop.load(Ordering::SeqCst) {
                                    break;
                                }
                                let Ok(stream) = stream else { continue };
                                let (stop, lines, tls) = (stop.clone(), lines.clone(), tls.clone());
                                let handle = std::thread::spawn(move || serve(fault, stream, &stop, &lines, tls));
                                threads.lock().unwrap().push(handle);
                            }
                        })
                        .expect("start the fault server thread"),
                );
            }
        }
        server
    }

    pub fn host(&self) -> &'static str {
        "localhost"
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `host:port`, as the command line's overrides take it.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host(), self.port)
    }

    /// Every line a client sent in plain text (SMTP faults), without line endings.
    pub fn received_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1));
            let _ = acceptor.join();
        }
        for handle in self.threads.lock().unwrap().drain(..) {
            let _ = handle.join();
        }
    }
}

/// Sleeps until the server is dropped (or a minute passed), so a connection is held open without a byte.
fn hold(stop: &AtomicBool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn serve(fault: Fault, stream: TcpStream, stop: &AtomicBool, lines: &Mutex<Vec<String>>, tls: Option<Arc<rustls::ServerConfig>>) {
    if stop.load(Ordering::SeqCst) {
        return;
    }
    match fault {
        Fault::Silent => hold(stop),
        Fault::CloseAtOnce => {
            let _ = stream.shutdown(Shutdown::Both);
        }
        Fault::Garbage => {
            let mut stream = stream;
            // Not an IMAP/SMTP greeting and not a TLS record (0x16 0x03 …): a captive portal's HTTP answer.
            let _ = stream.write_all(b"HTTP/1.1 302 Found\r\nLocation: http://portal.invalid/\r\nContent-Length: 0\r\n\r\n");
            hold(stop);
        }
        Fault::TlsExpired | Fault::TlsWrongHost | Fault::TlsSelfSigned => {
            if let Some(config) = tls {
                tls_handshake_then_hold(stream, config, stop);
            }
        }
        Fault::SmtpWithoutStarttls | Fault::SmtpStarttlsRefused | Fault::SmtpStarttlsExpired => {
            smtp_session(fault, stream, stop, lines, tls);
        }
        Fault::ImapSilentAfterLogin => {
            if let Some(config) = tls {
                imap_silent_after_login(stream, config, stop, lines);
            }
        }
        Fault::RefusedPort | Fault::NoSynAnswer => {}
    }
}

fn tls_handshake_then_hold(mut stream: TcpStream, config: Arc<rustls::ServerConfig>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut conn) = rustls::ServerConnection::new(config) else { return };
    while conn.is_handshaking() {
        if conn.complete_io(&mut stream).is_err() {
            // The client refused the certificate (as it must) and sent an alert, or hung up.
            return;
        }
    }
    // A client that accepted the certificate gets a greeting it could act on; a verifying client never gets here.
    let mut tls = rustls::Stream::new(&mut conn, &mut stream);
    let _ = tls.write_all(b"* OK fault server accepted TLS\r\n220 fault server accepted TLS\r\n");
    hold(stop);
}

fn imap_silent_after_login(mut stream: TcpStream, config: Arc<rustls::ServerConfig>, stop: &AtomicBool, lines: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut conn) = rustls::ServerConnection::new(config) else { return };
    while conn.is_handshaking() {
        if conn.complete_io(&mut stream).is_err() {
            return;
        }
    }
    // Short reads from here on, so the loop notices when the server is dropped.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut tls = rustls::Stream::new(&mut conn, &mut stream);
    if tls.write_all(b"* OK [CAPABILITY IMAP4rev1] fault server ready\r\n").is_err() {
        return;
    }
    let (started, mut pending, mut logged_in) = (Instant::now(), Vec::new(), false);
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
        match std::io::Read::read(&mut tls, &mut buf) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        while let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 2);
            let tag = line.split(' ').next().unwrap_or("*").to_owned();
            if !logged_in && line.split(' ').nth(1).is_some_and(|c| c.eq_ignore_ascii_case("LOGIN")) {
                // The password is not recorded.
                lines.lock().unwrap().push(format!("{tag} LOGIN"));
                logged_in = true;
                if tls.write_all(format!("{tag} OK LOGIN completed\r\n").as_bytes()).is_err() {
                    return;
                }
            } else {
                lines.lock().unwrap().push(line);
            }
        }
    }
}

fn smtp_session(fault: Fault, stream: TcpStream, stop: &AtomicBool, lines: &Mutex<Vec<String>>, tls: Option<Arc<rustls::ServerConfig>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Ok(mut out) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    if out.write_all(b"220 localhost ESMTP fault server\r\n").is_err() {
        return;
    }
    let offers_starttls = fault != Fault::SmtpWithoutStarttls;
    let started = Instant::now();
    let mut line = String::new();
    while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) if line.ends_with('\n') => {}
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        let text = line.trim_end_matches(['\r', '\n']).to_owned();
        line.clear();
        lines.lock().unwrap().push(text.clone());
        let upper = text.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            if offers_starttls {
                b"250-localhost\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
            } else {
                b"250-localhost\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"
            }
        } else if upper.starts_with("HELO") {
            b"250 localhost\r\n"
        } else if upper == "STARTTLS" && offers_starttls {
            if fault == Fault::SmtpStarttlsRefused {
                b"454 4.7.0 TLS not available due to temporary reason\r\n"
            } else {
                let _ = out.write_all(b"220 2.0.0 Ready to start TLS\r\n");
                if let (Some(config), Ok(stream)) = (tls.clone(), out.try_clone()) {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    tls_handshake_then_hold(stream, config, stop);
                }
                return;
            }
        } else if upper.starts_with("AUTH") {
            // A careless client would be told its credentials worked.
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper == "QUIT" {
            let _ = out.write_all(b"221 2.0.0 Bye\r\n");
            return;
        } else {
            b"250 2.0.0 OK\r\n"
        };
        if out.write_all(reply).is_err() {
            return;
        }
    }
}

pub(crate) fn server_config(leaf: &Leaf) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes()).collect::<Result<_, _>>().expect("the leaf certificate is PEM");
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).expect("the leaf key is PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a usable certificate and key");
    Arc::new(config)
}

/// An address whose connection requests are never answered: a listener whose accept queue is full and never
/// drained, so Linux drops new SYNs and a client's connect hangs until its own timeout, as with a firewall that
/// silently drops packets. Any loopback address works (127.0.0.2 beside a server on 127.0.0.1 and the same port).
/// Nothing outlives it.
pub struct BlackHole {
    pub addr: SocketAddr,
    _listener: TcpListener,
    _fillers: Vec<TcpStream>,
}

impl BlackHole {
    /// A black hole at `addr` (port 0: any free port).
    pub fn at(addr: SocketAddr) -> BlackHole {
        assert!(addr.ip().is_loopback(), "tests only talk to loopback: {addr}");
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        // SAFETY: listen(2) on a socket we own; calling it again only changes the backlog (0 → one queued connection).
        unsafe { libc::listen(listener.as_raw_fd(), 0) };
        let addr = listener.local_addr().expect("local address");
        let mut fillers = Vec::new();
        // Fill the queue until a connect no longer completes quickly.
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(stream) => fillers.push(stream),
                Err(_) => break,
            }
        }
        BlackHole { addr, _listener: listener, _fillers: fillers }
    }
}
