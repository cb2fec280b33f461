//! Probing (the connection test): real IMAP and SMTP logins over verified TLS, run concurrently, each side ending
//! in one `DiagnosisKind`, every step reported as it happens, the whole verdict bounded in time.
//!
//! Cancellation is dropping the future: both sides run inside it (joined, never spawned), so nothing outlives it.
//! The password is only ever handed to a server after TLS is up; it is never logged and never part of a report.

mod classify;
pub mod dav;
mod dns;
pub mod folders;
mod imap;
mod login;
pub mod send;
mod smtp;
mod smtp_stream;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use ts_rs::TS;

pub use dns::{check_domain, DnsConfig, DomainReport};

use crate::account::Account;
use crate::address::DomainKind;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::lang::Lang;
use crate::provider::{Endpoint, Security};
use crate::secret::Secret;
use classify::Failure;

/// How long the probe may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// One TCP connect (all addresses of a host together), and one DNS lookup.
    pub connect: Duration,
    /// The whole verdict, both sides, fallback included.
    pub overall: Duration,
}

impl Default for Timeouts {
    /// 9 s for everything (under the promised 10 s on a server that never answers), 4 s per connect so that a
    /// blocked 587 still leaves time for the 465 fallback.
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(4), overall: Duration::from_secs(9) }
    }
}

impl Timeouts {
    /// An overall deadline chosen by the person (`--timeout`); connects get at most 45 % of it, so a fallback fits.
    pub fn with_overall(overall: Duration) -> Timeouts {
        let connect = Timeouts::default().connect.min(overall.mul_f32(0.45));
        Timeouts { connect, overall }
    }
}

/// Everything a probe needs besides the password.
#[derive(Clone, Debug)]
pub struct ProbeRequest {
    pub account: Account,
    /// An extra CA to trust besides the operating system's (PEM, one or more certificates).
    pub extra_ca_pem: Option<Vec<u8>>,
    pub timeouts: Timeouts,
    pub dns: DnsConfig,
    /// Also test calendars and contacts (the provider's `caldav`/`carddav`), concurrently with mail.
    pub dav: bool,
}

impl ProbeRequest {
    pub fn new(account: Account) -> ProbeRequest {
        ProbeRequest { account, extra_ca_pem: None, timeouts: Timeouts::default(), dns: DnsConfig::System, dav: false }
    }
}

/// Which part of the test an event or report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Imap,
    Smtp,
    /// The MX check of an iCloud+ custom domain.
    Domain,
    /// Calendars (CalDAV over HTTPS), with `probe --dav` / the window's third panel.
    Caldav,
    /// Contacts (CardDAV over HTTPS).
    Carddav,
}

/// A step of one side, in the order they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Dns,
    Connect,
    /// The TLS handshake (for SMTP on 587: STARTTLS, the handshake and the second EHLO).
    Tls,
    /// The server's greeting (for SMTP also the first EHLO).
    Greeting,
    /// The login, with each form of the username tried (for DAV: the principal asked for with the credentials).
    Auth,
    /// DAV only: the home (calendar-home-set / addressbook-home-set) and the collections in it.
    Discover,
    /// The side's verdict is known.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Started,
    Ok,
    Failed,
}

/// One step as it happens, for a progress display. `elapsed_ms` counts from the start of the probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProbeEvent {
    pub side: Side,
    pub step: Step,
    pub status: StepStatus,
    pub host: String,
    pub port: u16,
    pub elapsed_ms: u64,
    /// For `done`: the side's verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kind: Option<DiagnosisKind>,
}

/// One try: a connection that failed before any login, or one login with one form of the username.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Attempt {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The username sent, when the try got as far as the login.
    pub username: Option<String>,
    pub kind: DiagnosisKind,
    /// Milliseconds from the start of the probe to the end of this try.
    pub elapsed_ms: u64,
    pub server_text: Option<String>,
}

/// The verdict of one side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SideReport {
    /// What happened: the kind, the facts its words are made from (host, port, username) and the technical detail
    /// (an error chain). Rendered in the person's language where it is shown.
    pub diagnosis: Diagnosis,
    /// The server the verdict is about (for SMTP: the fallback's, when the fallback was used and worked).
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The username that worked, or the last one tried; none when no login was tried.
    pub username: Option<String>,
    /// Milliseconds from the start of the probe to this side's verdict.
    pub elapsed_ms: u64,
    /// The server's own words, if it gave any.
    pub server_text: Option<String>,
    /// A port that could not be reached so the fallback was tried (SMTP 587 blocked); the note about it is the
    /// catalogue's `probe.port_blocked`.
    pub unreachable_port: Option<u16>,
    /// Every try, in order.
    pub attempts: Vec<Attempt>,
    /// IMAP after a login: the folders the server listed, by role. None for SMTP, before a login, and when the
    /// list could not be read (the `ok` verdict's detail then says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub folders: Option<crate::account::Folders>,
}

impl SideReport {
    pub fn kind(&self) -> DiagnosisKind {
        self.diagnosis.kind
    }

    pub fn is_ok(&self) -> bool {
        self.kind() == DiagnosisKind::Ok
    }

    /// The note about the fallback, in `lang`, when there was one.
    pub fn note(&self, lang: Lang) -> Option<String> {
        self.unreachable_port.map(|port| lang.text("probe.port_blocked", &Facts { port: Some(port), ..Facts::default() }))
    }
}

/// The verdict of calendars or contacts (one DAV service). Never part of the mail verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DavReport {
    /// `ok`, `auth_rejected`, the transport kinds, `dav_refused`, `no_calendars_found` / `no_address_book_found`.
    pub diagnosis: Diagnosis,
    /// The service host the discovery started on (`caldav.icloud.com`), and its port.
    pub host: String,
    pub port: u16,
    /// The username sent (the primary iCloud address), once the login was tried.
    pub username: Option<String>,
    /// The principal URL, once found (absolute).
    pub principal: Option<String>,
    /// The calendar-home-set or addressbook-home-set URL, once found (absolute; usually on a partition host).
    pub home: Option<String>,
    /// The realm the server's 401 named, exactly as sent; None when it sent none (or no 401 was seen).
    pub realm: Option<String>,
    /// Milliseconds from the start of the probe to this verdict.
    pub elapsed_ms: u64,
    /// The server's own words (an HTTP status line), if it gave any.
    pub server_text: Option<String>,
    /// CalDAV: the calendars for events found (None for CardDAV, and before the home was listed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub calendars: Option<Vec<crate::account::Calendar>>,
    /// CardDAV: the address books found (None for CalDAV, and before the home was listed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub addressbooks: Option<Vec<crate::account::AddressBook>>,
    /// HTTP requests the discovery made (its round trips; the floor is 4: the realm's 401, the principal, the home,
    /// the listing).
    #[serde(default)]
    pub requests: u32,
    /// Redirects followed, `from → to`, in order.
    #[serde(default)]
    pub redirects: Vec<String>,
}

impl DavReport {
    pub fn kind(&self) -> DiagnosisKind {
        self.diagnosis.kind
    }

    pub fn is_ok(&self) -> bool {
        self.kind() == DiagnosisKind::Ok
    }
}

/// The whole verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProbeReport {
    pub imap: SideReport,
    pub smtp: SideReport,
    /// For a custom domain: whether it is an iCloud+ custom domain.
    pub domain: Option<DomainReport>,
    /// Calendars, when the request asked for DAV (`ProbeRequest::dav`). Not part of `is_ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub caldav: Option<DavReport>,
    /// Contacts, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub carddav: Option<DavReport>,
}

impl ProbeReport {
    /// Both directions of mail work (calendars and contacts are reported beside, never part of this).
    pub fn is_ok(&self) -> bool {
        self.imap.is_ok() && self.smtp.is_ok()
    }
}

/// Tests incoming and outgoing mail for `request.account` with `secret`, concurrently, reporting each step to
/// `on_event` (and with `request.dav` calendars and contacts beside them). Always returns a report within
/// `request.timeouts.overall` (plus a few milliseconds): with `dav`, only once mail *and* DAV are known (the command
/// line's one JSON document needs both). A caller that must not wait for DAV uses `probe_mail_first`.
pub async fn probe(request: &ProbeRequest, secret: &Secret, on_event: &(dyn Fn(ProbeEvent) + Send + Sync)) -> ProbeReport {
    probe_mail_first(request, secret, on_event, |_| {}).await
}

/// Calendars and contacts of one probe (`probe_mail_first`'s second half), both always tested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DavReports {
    pub caldav: DavReport,
    pub carddav: DavReport,
}

/// `probe`, handing the mail verdict to `on_mail` the moment IMAP, SMTP (and a custom domain's MX check) are known —
/// without its `caldav`/`carddav`, which may still be running — and then returning the whole report once DAV is
/// known too (by the deadline at the latest). One probe, one deadline, one TLS configuration and DNS lookup for all
/// four sides; the window shows and acts on the mail verdict at once and takes calendars and contacts when they
/// come. Dropping the future cancels everything still running, DAV included; `on_mail` is then never called if
/// mail was not known yet.
pub async fn probe_mail_first(
    request: &ProbeRequest,
    secret: &Secret,
    on_event: &(dyn Fn(ProbeEvent) + Send + Sync),
    on_mail: impl FnOnce(&ProbeReport) + Send,
) -> ProbeReport {
    let started = Instant::now();
    let deadline = started + request.timeouts.overall;
    let tls = PendingTls::start(request.extra_ca_pem.clone());
    let lookup = dns::Lookup::new(&request.dns, request.timeouts.connect.min(Duration::from_secs(3)));
    let ctx = Ctx { started, deadline, connect_timeout: request.timeouts.connect, tls, lookup: &lookup, on_event };
    let mail = async {
        let report = mail(&ctx, request, secret).await;
        on_mail(&report);
        report
    };
    // Calendars and contacts run beside mail, on the same deadline: they never hold up the mail sides' own verdicts
    // (each reported as its `done` event, and to `on_mail`, when known).
    let dav = async {
        if !request.dav {
            return None;
        }
        Some(dav_sides(&ctx, &request.account, secret).await)
    };
    let (mut report, dav) = tokio::join!(mail, dav);
    if let Some(DavReports { caldav, carddav }) = dav {
        (report.caldav, report.carddav) = (Some(caldav), Some(carddav));
    }
    report
}

/// The mail sides (and the MX check of a custom domain), concurrently: a report without DAV members.
async fn mail(ctx: &Ctx<'_>, request: &ProbeRequest, secret: &Secret) -> ProbeReport {
    let account = &request.account;
    let provider = &account.provider;
    let domain = async {
        if account.address.kind != DomainKind::Custom {
            return None;
        }
        let host = account.address.domain.clone();
        ctx.emit(Side::Domain, Step::Dns, StepStatus::Started, &host, 0, None);
        let report = dns::check_domain_with(ctx.lookup, &host, ctx.remaining().min(request.timeouts.connect)).await;
        let status = if report.kind() == DiagnosisKind::DnsFailure { StepStatus::Failed } else { StepStatus::Ok };
        ctx.emit(Side::Domain, Step::Dns, status, &host, 0, None);
        ctx.emit(Side::Domain, Step::Done, status, &host, 0, Some(report.kind()));
        Some(report)
    };
    let (imap_usernames, smtp_usernames) = (account.imap_usernames(), account.smtp_usernames());
    let imap = imap::probe_imap(ctx, &provider.imap, &imap_usernames, secret);
    let smtp = smtp::probe_smtp(ctx, &provider.smtp, provider.smtp_fallback.as_ref(), &smtp_usernames, secret);
    let (imap, smtp, domain) = tokio::join!(imap, smtp, domain);
    ProbeReport { imap, smtp, domain, caldav: None, carddav: None }
}

/// CalDAV and CardDAV on the account's DAV hosts, as its primary address, concurrently.
async fn dav_sides(ctx: &Ctx<'_>, account: &Account, secret: &Secret) -> DavReports {
    let (provider, username) = (&account.provider, account.login.address.as_str());
    let caldav = dav::probe_dav(ctx, Side::Caldav, &provider.caldav, username, secret);
    let carddav = dav::probe_dav(ctx, Side::Carddav, &provider.carddav, username, secret);
    let (caldav, carddav) = tokio::join!(caldav, carddav);
    DavReports { caldav, carddav }
}

/// What both sides share during one probe.
pub(crate) struct Ctx<'a> {
    started: Instant,
    deadline: Instant,
    connect_timeout: Duration,
    tls: PendingTls,
    lookup: &'a dns::Lookup,
    on_event: &'a (dyn Fn(ProbeEvent) + Send + Sync),
}

impl Ctx<'_> {
    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn emit(&self, side: Side, step: Step, status: StepStatus, host: &str, port: u16, kind: Option<DiagnosisKind>) {
        (self.on_event)(ProbeEvent { side, step, status, host: host.to_owned(), port, elapsed_ms: self.elapsed_ms(), kind });
    }

    /// Runs `fut` until the overall deadline; past it, the step fails with `timeout`.
    async fn within<T>(&self, step: Step, fut: impl std::future::Future<Output = T>) -> Result<T, Failure> {
        tokio::time::timeout_at(self.deadline.into(), fut)
            .await
            .map_err(|_| Failure::new(DiagnosisKind::Timeout, format!("no answer during {step:?} before the deadline").to_lowercase()))
    }

    /// `within` for one protocol command after the login (`CAPABILITY`, `SELECT`, `MAIL FROM`, …): a stall is
    /// named after the command that got no answer.
    async fn within_command<T>(&self, command: &str, fut: impl std::future::Future<Output = T>) -> Result<T, Failure> {
        tokio::time::timeout_at(self.deadline.into(), fut)
            .await
            .map_err(|_| Failure::new(DiagnosisKind::Timeout, format!("no answer to {command} before the deadline")))
    }

    /// Looks up and connects to `endpoint`, reporting both steps. The addresses are tried Happy Eyeballs style
    /// (`connect_any`) within one connect timeout; the first that answers wins.
    async fn connect(&self, side: Side, endpoint: &Endpoint) -> Result<TcpStream, Failure> {
        let (host, port) = (endpoint.host.as_str(), endpoint.port);
        self.emit(side, Step::Dns, StepStatus::Started, host, port, None);
        let budget = self.connect_timeout.min(self.remaining());
        let addrs = match tokio::time::timeout(budget, self.lookup.addresses(host, port)).await {
            Ok(Ok(addrs)) => addrs,
            Ok(Err(failure)) => {
                self.emit(side, Step::Dns, StepStatus::Failed, host, port, None);
                return Err(failure);
            }
            Err(_) => {
                self.emit(side, Step::Dns, StepStatus::Failed, host, port, None);
                return Err(Failure::new(DiagnosisKind::DnsFailure, format!("no DNS answer for {host} within {} ms", budget.as_millis())));
            }
        };
        self.emit(side, Step::Dns, StepStatus::Ok, host, port, None);

        self.emit(side, Step::Connect, StepStatus::Started, host, port, None);
        let budget = self.connect_timeout.min(self.remaining());
        let result = tokio::time::timeout(budget, connect_any(&addrs)).await;
        let outcome = match result {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(classify::from_io(&e)),
            Err(_) => {
                Err(Failure::new(DiagnosisKind::Timeout, format!("no answer to the connection request within {} ms", budget.as_millis())))
            }
        };
        let status = if outcome.is_ok() { StepStatus::Ok } else { StepStatus::Failed };
        self.emit(side, Step::Connect, status, host, port, None);
        outcome
    }

    /// The TLS handshake on `tcp`, certificate checked for `host`. Waiting for the TLS configuration (the system's
    /// trusted certificates) counts against the deadline like everything else.
    async fn handshake(&self, host: &str, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Failure> {
        let config = match tokio::time::timeout_at(self.deadline.into(), self.tls.get()).await {
            // Not a verdict on the server: the certificate check itself could not be set up (the extra CA file was
            // checked before the probe started, so this is the system's verifier).
            Ok(built) => built.map_err(|e| Failure::new(DiagnosisKind::TlsVerifierUnavailable, e))?,
            Err(_) => {
                return Err(Failure::new(
                    DiagnosisKind::TlsHandshakeFailed,
                    "this computer's trusted certificates had not finished loading by the deadline; the password was not sent",
                ))
            }
        };
        let name = tls::server_name(host).ok_or_else(|| Failure::new(DiagnosisKind::DnsFailure, format!("'{host}' is not a host name")))?;
        let connector = tokio_rustls::TlsConnector::from(config);
        match self.within(Step::Tls, connector.connect(name, tcp)).await? {
            Ok(stream) => Ok(stream),
            Err(e) => Err(classify::from_io(&e)),
        }
    }

    /// A side's report from what it tried on `endpoint` (the server the verdict is about).
    fn side_report(&self, endpoint: &Endpoint, tries: login::Tries) -> SideReport {
        let login::Tries { outcome, tried, attempts } = tries;
        let (kind, server_text, detail, username) = match outcome {
            Ok(worked) => (DiagnosisKind::Ok, None, None, Some(worked)),
            Err(f) => (f.kind, f.server_text, Some(f.detail), tried),
        };
        let facts = Facts { host: Some(endpoint.host.clone()), port: Some(endpoint.port), username: username.clone(), ..Facts::default() };
        SideReport {
            diagnosis: Diagnosis::new(kind, facts, detail),
            host: endpoint.host.clone(),
            port: endpoint.port,
            security: endpoint.security,
            username,
            elapsed_ms: self.elapsed_ms(),
            server_text,
            unreachable_port: None,
            attempts,
            folders: None,
        }
    }

    /// Reports a side's verdict as its `done` step, and hands the report on.
    fn done(&self, side: Side, report: SideReport) -> SideReport {
        let status = if report.is_ok() { StepStatus::Ok } else { StepStatus::Failed };
        self.emit(side, Step::Done, status, &report.host, report.port, Some(report.kind()));
        report
    }

    fn attempt(&self, endpoint: &Endpoint, username: Option<&str>, kind: DiagnosisKind, server_text: Option<String>) -> Attempt {
        Attempt {
            host: endpoint.host.clone(),
            port: endpoint.port,
            security: endpoint.security,
            username: username.map(str::to_owned),
            kind,
            elapsed_ms: self.elapsed_ms(),
            server_text,
        }
    }
}

/// The TLS configuration, built while the first round trips (DNS, TCP, the SMTP greeting) are under way: loading
/// the system's roots takes tens of milliseconds. The build runs on a plain thread that touches no network and
/// ends by itself even when the probe is dropped; a recent build is reused without any thread. Waiting for it can
/// be given up at any moment (the deadline) by either side without spoiling it for the other.
struct PendingTls {
    built: tokio::sync::watch::Receiver<Option<BuiltConfig>>,
}

type BuiltConfig = Result<Arc<rustls::ClientConfig>, String>;

impl PendingTls {
    fn start(extra_ca_pem: Option<Vec<u8>>) -> PendingTls {
        if let Some(config) = tls::reusable_client_config(extra_ca_pem.as_deref()) {
            return PendingTls { built: tokio::sync::watch::channel(Some(Ok(config))).1 };
        }
        let (tx, built) = tokio::sync::watch::channel(None);
        let spawned = std::thread::Builder::new().name("tls-config".into()).spawn(move || {
            let _ = tx.send(Some(tls::shared_client_config(extra_ca_pem.as_deref()).map_err(|e| e.to_string())));
        });
        match spawned {
            Ok(_) => PendingTls { built },
            Err(e) => {
                let failed = Err(format!("could not start building the TLS configuration: {e}"));
                PendingTls { built: tokio::sync::watch::channel(Some(failed)).1 }
            }
        }
    }

    /// The configuration, once built. Cancel-safe: dropping the future only stops this caller's wait.
    async fn get(&self) -> BuiltConfig {
        let mut built = self.built.clone();
        let ready = built.wait_for(Option::is_some).await.ok().and_then(|ready| ready.clone());
        ready.unwrap_or_else(|| Err("the TLS configuration could not be built".to_owned()))
    }
}

/// How long an address gets to accept before the next one is tried alongside it (RFC 8305's "Connection Attempt
/// Delay", its recommended value).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Connects to the first address that accepts, Happy Eyeballs style (RFC 8305): the addresses in order (IPv4 first,
/// the families taking turns), the next one started when the last has not connected within `ATTEMPT_DELAY` or has
/// failed; the first connection wins and the attempts still running are dropped. So one address that never answers
/// costs a quarter of a second, not the whole connect budget. When all fail, the error of the first address in the
/// order is reported: `localhost` refused on 127.0.0.1 is "refused", even when ::1 is not configured at all.
async fn connect_any(addrs: &[SocketAddr]) -> std::io::Result<TcpStream> {
    use futures::stream::{FuturesUnordered, StreamExt};

    let order = interleave_families(addrs);
    let mut errors: Vec<Option<std::io::Error>> = order.iter().map(|_| None).collect();
    let mut running = FuturesUnordered::new();
    let attempt = |i: usize| {
        let addr = order[i];
        async move { (i, TcpStream::connect(addr).await) }
    };
    let mut next = 0;
    loop {
        if running.is_empty() {
            if next == order.len() {
                break;
            }
            running.push(attempt(next));
            next += 1;
        }
        tokio::select! {
            Some((i, result)) = running.next() => match result {
                Ok(stream) => {
                    // Every command is one small write that waits for its answer: Nagle's algorithm would only add delay.
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(e) => {
                    errors[i] = Some(e);
                    // A failed attempt hands over to the next address at once.
                    if next < order.len() {
                        running.push(attempt(next));
                        next += 1;
                    }
                }
            },
            () = tokio::time::sleep(ATTEMPT_DELAY), if next < order.len() => {
                running.push(attempt(next));
                next += 1;
            }
        }
    }
    Err(errors
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address to connect to")))
}

/// The addresses with the two families taking turns, each family in its own order, starting with the family of the
/// first address (RFC 8305, section 4).
fn interleave_families(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else { return Vec::new() };
    let (mut leading, mut other): (std::collections::VecDeque<SocketAddr>, std::collections::VecDeque<SocketAddr>) =
        addrs.iter().partition(|a| a.is_ipv4() == first.is_ipv4());
    let mut order = Vec::with_capacity(addrs.len());
    while !leading.is_empty() || !other.is_empty() {
        order.extend(leading.pop_front());
        order.extend(other.pop_front());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback address whose SYNs are dropped: a listener whose accept queue is full (kept open by the caller).
    /// Linux only: it needs a second loopback address (macOS has only 127.0.0.1) and Linux's dropping of SYNs to a
    /// full queue (Windows refuses them instead).
    #[cfg(target_os = "linux")]
    fn black_hole(ip: [u8; 4]) -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::from(ip), 0)).unwrap();
        // SAFETY: listen(2) on a socket we own, only changing its backlog (0: one queued connection).
        unsafe { libc::listen(listener.as_raw_fd(), 0) };
        let addr = listener.local_addr().unwrap();
        let fillers = (0..8).map_while(|_| std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()).collect();
        (listener, fillers)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn an_address_that_never_answers_hands_over_to_the_next() {
        let hole = black_hole([127, 0, 0, 2]);
        let good = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addrs = [hole.0.local_addr().unwrap(), good.local_addr().unwrap()];
        let stream = tokio::time::timeout(Duration::from_secs(3), connect_any(&addrs)).await.expect("connected within 3 s").unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addrs[1]);
        assert!(stream.nodelay().unwrap());
    }

    #[tokio::test]
    async fn a_refusal_hands_over_at_once_and_the_first_error_is_told() {
        let closed = |ip: [u8; 4]| std::net::TcpListener::bind((std::net::Ipv4Addr::from(ip), 0)).unwrap().local_addr().unwrap();
        let good = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = connect_any(&[closed([127, 0, 0, 1]), good.local_addr().unwrap()]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good.local_addr().unwrap());

        // Two closed ports on 127.0.0.1: the only loopback address every system has (macOS has no 127.0.0.3).
        let refused = connect_any(&[closed([127, 0, 0, 1]), closed([127, 0, 0, 1])]).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(connect_any(&[]).await.unwrap_err().kind(), std::io::ErrorKind::AddrNotAvailable);
    }

    #[test]
    fn address_families_take_turns() {
        let v4 = |last: u8| SocketAddr::from(([127, 0, 0, last], 993));
        let v6 = |port: u16| SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
        assert_eq!(interleave_families(&[v4(1), v4(2), v4(3), v6(1), v6(2)]), [v4(1), v6(1), v4(2), v6(2), v4(3)]);
        assert_eq!(interleave_families(&[v6(1), v4(1)]), [v6(1), v4(1)]);
        assert_eq!(interleave_families(&[]), Vec::<SocketAddr>::new());
    }
}
