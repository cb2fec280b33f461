//! An iCloud-like CalDAV/CardDAV server on loopback: Debian's Radicale behind TLS with the test CA and HTTP Basic
//! with realm `MMCalDav` on the *partition hosts*, and a small TLS front on the *service hosts* that answers only
//! the principal query, as `caldav.icloud.com` / `contacts.icloud.com` do.
//!
//! ```no_run
//! use icloud_mail_tests::dav::{DavServer, DavUser};
//! let dav = DavServer::start(&[DavUser::new("jane@icloud.com", "abcd-efgh-ijkl-mnop")]);
//! // in-process: request.dns = DnsConfig::Servers(vec![dns.addr()]) with `let dns = dav.start_dns(&[]);`
//! //             provider.caldav = dav.caldav_endpoint(), provider.carddav = dav.carddav_endpoint()
//! // a program: dav.with_test_hosts(&Command::new("vdirsyncer")) runs it with an /etc/hosts naming the test hosts
//! dav.put_event("jane@icloud.com", "Dentist");
//! dav.put_contact("jane@icloud.com", "Ada Lovelace");
//! ```
//!
//! How it looks to a client:
//! - `https://caldav.dav.test:<front_port>/` (the service host, the front): any path; without the right Basic
//!   credentials a 401 with `WWW-Authenticate: Basic realm="MMCalDav"`; a PROPFIND for `current-user-principal`
//!   names `/<id>/principal/` (relative, on the service host). A PROPFIND on the principal also answers
//!   `calendar-home-set` with an absolute URL on the partition host:
//!   `https://p23-caldav.dav.test:<radicale_port>/<address, @ as %40>/`. Every property it does not know is answered in a
//!   404 propstat beside the 200 one, as iCloud does. Anything but PROPFIND gets 405.
//! - `contacts.dav.test` likewise with `addressbook-home-set` on `p23-contacts.dav.test`.
//! - Radicale on the partition hosts (one Radicale for both, its own certificate and port): the home holds
//!   `home` (VEVENT, "Home", `#FF2968FF`), `tasks` (VTODO only, "Reminders": a client must skip it) and `card`
//!   (the address book, named `card`; Radicale would otherwise name it by its path).
//! - The e-mail domain (`icloud.com` here) has no `.well-known`: nothing in the harness answers for it.
//!
//! Every host name resolves to 127.0.0.1, in-process through `start_dns` (a `TestDns`), for a spawned program through
//! `with_test_hosts` (a private mount namespace whose `/etc/hosts` names them; needs root, as CI runs).
//! `stop()` closes both ports (connections refused), `set_mode(FrontMode::NotDav)` makes the front an HTTPS server
//! that is not DAV (405 to PROPFIND); `RedirectsRoot` / `RedirectsAway` redirect `/` within or out of the domain; `Hangs` never answers. Everything stops when dropped.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

use crate::ca::{TestCa, LOOPBACK_DNS_NAME};
use crate::dns::TestDns;
use crate::processes::{free_port, Service};

/// The realm both the front and Radicale name in their 401, as iCloud does.
pub const REALM: &str = "MMCalDav";
/// The service hosts (the front) and the partition hosts (Radicale) every test name resolves for.
pub const CALDAV_HOST: &str = "caldav.dav.test";
pub const CARDDAV_HOST: &str = "contacts.dav.test";
pub const CALDAV_PARTITION_HOST: &str = "p23-caldav.dav.test";
pub const CARDDAV_PARTITION_HOST: &str = "p23-contacts.dav.test";
/// The seeded collections (URL segments below the user's home) and what they are called.
pub const EVENT_CALENDAR: &str = "home";
pub const EVENT_CALENDAR_NAME: &str = "Home";
/// Apple's `calendar-color` as iCloud sends it (`#RRGGBBAA`); a client shows `#FF2968`.
pub const EVENT_CALENDAR_COLOR: &str = "#FF2968FF";
pub const TASK_CALENDAR: &str = "tasks";
pub const TASK_CALENDAR_NAME: &str = "Reminders";
pub const ADDRESS_BOOK: &str = "card";

/// The four DAV host names, for a name server or a hosts file.
pub const HOSTS: [&str; 4] = [CALDAV_HOST, CARDDAV_HOST, CALDAV_PARTITION_HOST, CARDDAV_PARTITION_HOST];

/// An account on the DAV server: the primary address signs in with the app-specific password.
#[derive(Clone, Debug)]
pub struct DavUser {
    pub address: String,
    pub password: String,
    /// Whether the home holds the VEVENT calendar (`home`); the task list and the address book are always there.
    pub event_calendar: bool,
}

impl DavUser {
    pub fn new(address: &str, password: &str) -> DavUser {
        DavUser { address: address.to_owned(), password: password.to_owned(), event_calendar: true }
    }

    /// An account whose home holds only the task list (and the address book): `no_calendars_found`.
    pub fn without_event_calendar(mut self) -> DavUser {
        self.event_calendar = false;
        self
    }
}

/// How the front on the service hosts answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrontMode {
    /// Like caldav.icloud.com: the principal query, pointing to the partition host.
    IcloudLike = 0,
    /// An HTTPS server that is not DAV: 405 Method Not Allowed to PROPFIND, whatever the credentials.
    NotDav = 1,
    /// Like `IcloudLike`, but `/` answers `301 Moved Permanently` to `/dav/` on the same host first.
    RedirectsRoot = 2,
    /// `/` answers `302 Found` to `https://elsewhere.example/` (a host outside the service's domain).
    RedirectsAway = 3,
    /// Accepts the connection and the TLS handshake, reads the request, and never answers it (a service host that
    /// hangs): a client's discovery ends only at its own deadline.
    Hangs = 4,
}

/// The running server (front + Radicale).
pub struct DavServer {
    /// The port of the service hosts (the front); `caldav_endpoint()` / `carddav_endpoint()` name it.
    pub front_port: u16,
    /// The port of the partition hosts (Radicale).
    pub radicale_port: u16,
    users: Vec<DavUser>,
    front: Option<Front>,
    radicale: Option<Service>,
    mode: Arc<AtomicU8>,
    front_requests: Arc<AtomicUsize>,
    hosts_file: PathBuf,
    ca: TestCa,
    dir: tempfile::TempDir,
}

impl DavServer {
    /// Starts Radicale and the front for `users` with a fresh CA, and waits until both accept connections.
    pub fn start(users: &[DavUser]) -> DavServer {
        Self::start_with_ca(users, TestCa::new())
    }

    /// Like `start`, with a CA the caller made (so one `--ca-file` serves Dovecot and DAV alike).
    pub fn start_with_ca(users: &[DavUser], ca: TestCa) -> DavServer {
        crate::processes::become_subreaper();
        let dir = tempfile::Builder::new().prefix("icloud-mail-dav-").tempdir().expect("a temporary folder for Radicale");
        let root = dir.path().to_path_buf();
        let collections = root.join("collections");
        for user in users {
            assert!(!user.password.contains(':') && !user.address.contains(':'), "htpasswd lines are user:password");
            seed(&collections.join("collection-root").join(&user.address), user);
        }
        let htpasswd: String = users.iter().map(|u| format!("{}:{}\n", u.address, u.password)).collect();
        std::fs::write(root.join("users"), htpasswd).expect("write the htpasswd file");

        let radicale_leaf = ca.leaf(&[CALDAV_PARTITION_HOST, CARDDAV_PARTITION_HOST]);
        let radicale_port = free_port();
        let config = format!(
            "[server]\nhosts = 127.0.0.1:{radicale_port}\nssl = True\ncertificate = {cert}\nkey = {key}\n\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\nrealm = {REALM}\ndelay = 0\n\n\
             [rights]\ntype = owner_only\n\n[storage]\nfilesystem_folder = {collections}\n\n[web]\ntype = none\n\n\
             [logging]\nlevel = info\nmask_passwords = True\n",
            cert = radicale_leaf.cert_path.display(),
            key = radicale_leaf.key_path.display(),
            users = root.join("users").display(),
            collections = collections.display(),
        );
        std::fs::write(root.join("radicale.conf"), config).expect("write radicale.conf");
        let radicale = Service::start(
            "radicale",
            Command::new("/usr/bin/radicale").arg("--config").arg(root.join("radicale.conf")),
            &root.join("radicale.log"),
        )
        .expect("start Radicale (Debian's radicale package; scripts/install.sh test)");

        let mode = Arc::new(AtomicU8::new(FrontMode::IcloudLike as u8));
        let front_requests = Arc::new(AtomicUsize::new(0));
        let front_leaf = ca.leaf(&[CALDAV_HOST, CARDDAV_HOST]);
        let ctx = FrontCtx { users: users.to_vec(), radicale_port, mode: mode.clone(), requests: front_requests.clone() };
        let front = Front::start(crate::fault::server_config(&front_leaf), ctx);

        let hosts_file = root.join("hosts");
        std::fs::write(&hosts_file, hosts_file_text()).expect("write the test hosts file");
        let mut server = DavServer {
            front_port: front.port,
            radicale_port,
            users: users.to_vec(),
            front: Some(front),
            radicale: Some(radicale),
            mode,
            front_requests,
            hosts_file,
            ca,
            dir,
        };
        server.wait_for_radicale();
        server
    }

    fn wait_for_radicale(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.radicale_port));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            let running = self.radicale.as_mut().is_some_and(|r| r.is_running());
            assert!(running && std::time::Instant::now() < deadline, "Radicale did not start listening on {addr}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `caldav.dav.test:<port>`: what `--caldav` takes, or `Endpoint::new(CALDAV_HOST, front_port, Security::Tls)`.
    pub fn caldav_endpoint(&self) -> String {
        format!("{CALDAV_HOST}:{}", self.front_port)
    }

    pub fn carddav_endpoint(&self) -> String {
        format!("{CARDDAV_HOST}:{}", self.front_port)
    }

    /// The calendar home the front names for `address` (absolute, on the partition host).
    pub fn calendar_home(&self, address: &str) -> String {
        format!("https://{CALDAV_PARTITION_HOST}:{}/{}/", self.radicale_port, home_segment(address))
    }

    pub fn addressbook_home(&self, address: &str) -> String {
        format!("https://{CARDDAV_PARTITION_HOST}:{}/{}/", self.radicale_port, home_segment(address))
    }

    /// The principal path the front names for `address` (on the service host), iCloud-style `/<id>/principal/`.
    pub fn principal_path(&self, address: &str) -> String {
        let index = self.users.iter().position(|u| u.address == address).expect("a user of this server");
        principal_path(index)
    }

    /// The CA that signed both certificates (`--ca-file`).
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    pub fn ca_path(&self) -> &Path {
        self.ca.ca_path()
    }

    /// A name server for the in-process probe that resolves the four DAV hosts (and `extra`) to 127.0.0.1.
    pub fn start_dns(&self, extra: &[&str]) -> TestDns {
        start_dns(extra)
    }

    /// An `/etc/hosts` naming the test hosts (and localhost, `mail.loopback.test`), for `with_test_hosts`.
    pub fn hosts_file(&self) -> &Path {
        &self.hosts_file
    }

    /// `command` run with `hosts_file()` as its `/etc/hosts` (see the free function `with_test_hosts`).
    pub fn with_test_hosts(&self, command: &Command) -> Command {
        with_test_hosts(command, &self.hosts_file)
    }

    /// Requests the front has answered so far (any path, any host).
    pub fn front_requests(&self) -> usize {
        self.front_requests.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: FrontMode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Stops the front and Radicale: both ports then refuse connections (DAV down; mail unaffected).
    pub fn stop(&mut self) {
        if let Some(mut front) = self.front.take() {
            front.stop();
        }
        if let Some(mut radicale) = self.radicale.take() {
            radicale.stop(Duration::from_secs(5));
        }
    }

    /// Puts an event (today, one hour) with `summary` into `address`'s `home` calendar; returns its UID.
    pub fn put_event(&self, address: &str, summary: &str) -> String {
        let uid = format!("{}@dav.test", crate::fresh_token());
        let day = time::OffsetDateTime::now_utc().date();
        let stamp = format!("{:04}{:02}{:02}", day.year(), u8::from(day.month()), day.day());
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//iCloud Mail Setup tests//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
             DTSTAMP:{stamp}T080000Z\r\nDTSTART:{stamp}T100000Z\r\nDTEND:{stamp}T110000Z\r\nSUMMARY:{summary}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        self.put_item(address, EVENT_CALENDAR, &format!("{}.ics", uid.replace('@', "-")), &ics);
        uid
    }

    /// Puts a contact with the full name `name` (and an e-mail address made from it) into `address`'s `card`.
    pub fn put_contact(&self, address: &str, name: &str) -> String {
        let uid = format!("{}@dav.test", crate::fresh_token());
        let (given, family) = name.split_once(' ').unwrap_or((name, ""));
        let email = format!("{}@example.com", name.to_ascii_lowercase().replace(' ', "."));
        let vcf =
            format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{family};{given};;;\r\nEMAIL:{email}\r\nEND:VCARD\r\n");
        self.put_item(address, ADDRESS_BOOK, &format!("{}.vcf", uid.replace('@', "-")), &vcf);
        uid
    }

    /// Writes an item into a collection's folder, where Radicale's file system storage reads it on the next request.
    fn put_item(&self, address: &str, collection: &str, file: &str, text: &str) {
        let folder = self.dir.path().join("collections/collection-root").join(address).join(collection);
        assert!(folder.is_dir(), "no collection {collection} for {address}");
        std::fs::write(folder.join(file), text).expect("write the item");
    }

    /// Radicale's log (requests at info level; passwords masked).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("radicale.log")).unwrap_or_default()
    }
}

impl Drop for DavServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The user's folder in Radicale's URLs, as Radicale itself writes it in its hrefs (`@` percent-encoded).
fn home_segment(address: &str) -> String {
    address.replace('@', "%40")
}

fn principal_path(index: usize) -> String {
    format!("/{}/principal/", 12_345_678 + index)
}

/// Creates `user`'s home and collections on disk, as Radicale's file system storage keeps them.
fn seed(home: &Path, user: &DavUser) {
    let mut collections = vec![
        (
            TASK_CALENDAR,
            serde_json::json!({"tag": "VCALENDAR", "C:supported-calendar-component-set": "VTODO", "D:displayname": TASK_CALENDAR_NAME, "ICAL:calendar-color": "#1BADF8FF"}),
        ),
        (ADDRESS_BOOK, serde_json::json!({"tag": "VADDRESSBOOK", "D:displayname": ADDRESS_BOOK})),
    ];
    if user.event_calendar {
        collections.push((
            EVENT_CALENDAR,
            serde_json::json!({"tag": "VCALENDAR", "C:supported-calendar-component-set": "VEVENT", "D:displayname": EVENT_CALENDAR_NAME, "ICAL:calendar-color": EVENT_CALENDAR_COLOR}),
        ));
    }
    for (name, props) in collections {
        let folder = home.join(name);
        std::fs::create_dir_all(&folder).expect("create a collection folder");
        std::fs::write(folder.join(".Radicale.props"), props.to_string()).expect("write .Radicale.props");
    }
}

/// The hosts file for spawned programs: localhost, the harness's loopback name and the four DAV hosts.
pub fn hosts_file_text() -> String {
    let mut text = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for name in HOSTS.iter().chain([&LOOPBACK_DNS_NAME]) {
        text.push_str(&format!("127.0.0.1\t{name}\n"));
    }
    text
}

/// A name server resolving the four DAV hosts and `extra` to 127.0.0.1 (`DnsConfig::Servers(vec![dns.addr()])`).
pub fn start_dns(extra: &[&str]) -> TestDns {
    let loopback: &[IpAddr] = &[IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let records: Vec<(&str, &[IpAddr])> = HOSTS.iter().chain(extra).map(|name| (*name, loopback)).collect();
    TestDns::start(&records)
}

/// `command` (program, arguments, environment changes, working folder) run in a private mount namespace in which
/// `hosts_file` is bind-mounted over `/etc/hosts`, so the program resolves the test hosts by name and the rest of
/// the machine sees nothing. `unshare --mount` makes the namespace's mounts private; needs root (CI runs as root).
pub fn with_test_hosts(command: &Command, hosts_file: &Path) -> Command {
    let mut wrapped = Command::new("unshare");
    wrapped
        .arg("--mount")
        .arg("sh")
        .arg("-c")
        .arg("mount --bind \"$0\" /etc/hosts && exec \"$@\"")
        .arg(hosts_file)
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

// --- the front on the service hosts ---

struct FrontCtx {
    users: Vec<DavUser>,
    radicale_port: u16,
    mode: Arc<AtomicU8>,
    requests: Arc<AtomicUsize>,
}

struct Front {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Front {
    fn start(tls: Arc<rustls::ServerConfig>, ctx: FrontCtx) -> Front {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the DAV front");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let ctx = Arc::new(ctx);
        let thread = std::thread::Builder::new()
            .name("dav-front".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the DAV front");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                    loop {
                        let (tcp, _) = tokio::select! {
                            accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                            _ = &mut stopped => break,
                        };
                        let (acceptor, ctx) = (acceptor.clone(), ctx.clone());
                        tokio::spawn(async move {
                            let Ok(tls) = acceptor.accept(tcp).await else { return };
                            let service = hyper::service::service_fn(move |req| answer(req, ctx.clone()));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                                .await;
                        });
                    }
                });
                // Dropping the runtime ends every connection still open.
            })
            .expect("start the DAV front");
        Front { port, stop: Some(stop), thread: Some(thread) }
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.stop();
    }
}

const DAV: &str = "DAV:";
const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";

async fn answer(request: Request<Incoming>, ctx: Arc<FrontCtx>) -> Result<Response<Full<Bytes>>, Infallible> {
    ctx.requests.fetch_add(1, Ordering::SeqCst);
    let host = request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
    let host = host.rsplit_once(':').map(|(h, _)| h.to_owned()).unwrap_or(host).to_ascii_lowercase();
    let user = signed_in(&request, &ctx.users);
    let is_propfind = request.method().as_str() == "PROPFIND";
    let path = request.uri().path().to_owned();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mode = ctx.mode.load(Ordering::SeqCst);
    if mode == FrontMode::Hangs as u8 {
        return std::future::pending().await;
    }
    if mode == FrontMode::NotDav as u8 {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "not a DAV server"));
    }
    if path == "/" && (mode == FrontMode::RedirectsRoot as u8 || mode == FrontMode::RedirectsAway as u8) {
        let (status, location) = if mode == FrontMode::RedirectsRoot as u8 {
            (StatusCode::MOVED_PERMANENTLY, "/dav/".to_owned())
        } else {
            (StatusCode::FOUND, "https://elsewhere.example/".to_owned())
        };
        let mut response = plain(status, "moved");
        response.headers_mut().insert(hyper::header::LOCATION, location.parse().expect("a header value"));
        return Ok(response);
    }
    let Some(index) = user else {
        let mut response = plain(StatusCode::UNAUTHORIZED, "Unauthorized");
        response.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\"").parse().expect("a header value"));
        return Ok(response);
    };
    if !is_propfind {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"));
    }
    let address = home_segment(&ctx.users[index].address);
    let principal = principal_path(index);
    let on_principal = path == principal;
    let home = if host == CARDDAV_HOST {
        ("addressbook-home-set", CARDDAV, format!("https://{CARDDAV_PARTITION_HOST}:{}/{address}/", ctx.radicale_port))
    } else {
        ("calendar-home-set", CALDAV, format!("https://{CALDAV_PARTITION_HOST}:{}/{address}/", ctx.radicale_port))
    };
    let (mut found, mut missing) = (String::new(), String::new());
    for (ns, name) in asked_properties(&body) {
        match (ns.as_str(), name.as_str()) {
            (DAV, "current-user-principal") => {
                found.push_str(&format!("<d:current-user-principal><d:href>{principal}</d:href></d:current-user-principal>"))
            }
            (DAV, "principal-URL") if on_principal => {
                found.push_str(&format!("<d:principal-URL><d:href>{principal}</d:href></d:principal-URL>"))
            }
            (DAV, "resourcetype") if on_principal => found.push_str("<d:resourcetype><d:principal/></d:resourcetype>"),
            (ns, name) if on_principal && ns == home.1 && name == home.0 => {
                found.push_str(&format!("<x:{name} xmlns:x=\"{ns}\"><d:href>{}</d:href></x:{name}>", home.2))
            }
            (ns, name) => missing.push_str(&format!("<x:{name} xmlns:x=\"{}\"/>", xml_escape(ns))),
        }
    }
    let mut propstats = String::new();
    if !found.is_empty() {
        propstats.push_str(&format!("<d:propstat><d:prop>{found}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"));
    }
    if !missing.is_empty() {
        propstats.push_str(&format!("<d:propstat><d:prop>{missing}</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"));
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>{path}</d:href>{propstats}</d:response></d:multistatus>"
    );
    let mut response = Response::new(Full::new(Bytes::from(xml)));
    *response.status_mut() = StatusCode::MULTI_STATUS;
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, "text/xml; charset=utf-8".parse().expect("a header value"));
    Ok(response)
}

/// The user whose Basic credentials the request carries, if they are right.
fn signed_in(request: &Request<Incoming>, users: &[DavUser]) -> Option<usize> {
    let value = request.headers().get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    users.iter().position(|u| u.address == name && u.password == password)
}

/// The properties a PROPFIND body asks for, as (namespace, local name); an empty body (allprop) asks for the
/// principal.
fn asked_properties(body: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(body).unwrap_or_default();
    let Ok(doc) = roxmltree::Document::parse(text) else { return vec![(DAV.into(), "current-user-principal".into())] };
    let props: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "prop" && n.tag_name().namespace() == Some(DAV))
        .flat_map(|prop| prop.children().filter(|c| c.is_element()))
        .map(|c| (c.tag_name().namespace().unwrap_or_default().to_owned(), c.tag_name().name().to_owned()))
        .collect();
    if props.is_empty() {
        vec![(DAV.into(), "current-user-principal".into())]
    } else {
        props
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}
