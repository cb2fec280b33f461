//! Calendars and contacts (CalDAV, CardDAV): discovery as iCloud needs it, beside the mail sides and on the same
//! terms — the probe's DNS (`dns::Lookup`), its connect timeout, its TLS configuration (`--ca-file` anchors, then
//! the platform's verifier; never off), its overall deadline, and the same `Secret`.
//!
//! The round trips, on hyper's HTTP/1.1 client over our own TCP + TLS stream (one kept-alive connection per host):
//! 1. PROPFIND `current-user-principal` on the service host (`caldav.icloud.com`, never the e-mail domain),
//!    without credentials: the 401's `WWW-Authenticate: Basic realm="…"` is recorded exactly as sent (Thunderbird
//!    files the password under that realm, so it must be the server's, not an assumed `MMCalDav`).
//! 2. The same with Basic credentials, sent only over the verified TLS connection: the principal.
//! 3. PROPFIND `calendar-home-set` / `addressbook-home-set` on the principal: the home, an absolute URL on the
//!    partition host (`https://p23-caldav.icloud.com:443/…`).
//! 4. PROPFIND Depth 1 on the home: the calendars that take events (task lists, inbox, outbox and notifications
//!    left out), or the address books.
//!
//! Four requests is the floor for a server that asks for credentials (the realm costs the first). Redirects
//! (301/302/307/308) are followed only to `https` URLs on an acceptable host (`acceptable_collection_url`), at most
//! `MAX_REDIRECTS` in all, and listed in the report. The home must be on an acceptable host too, or the password is
//! not sent there.

mod answer;

use std::pin::Pin;

use base64::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST, LOCATION, WWW_AUTHENTICATE};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use url::Url;

use super::classify::Failure;
use super::{Ctx, DavReport, Side, Step, StepStatus};
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::provider::{Endpoint, Security};
use crate::secret::Secret;

/// Redirects followed in one discovery, in all.
pub const MAX_REDIRECTS: usize = 3;
/// The most of an answer that is read (a home with hundreds of calendars stays far below).
const MAX_BODY: usize = 4 << 20;

const PRINCIPAL_QUERY: &str =
    r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;
const CALENDAR_HOME_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"#;
const ADDRESSBOOK_HOME_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:a="urn:ietf:params:xml:ns:carddav"><d:prop><a:addressbook-home-set/></d:prop></d:propfind>"#;
const CALENDARS_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:i="http://apple.com/ns/ical/"><d:prop><d:resourcetype/><d:displayname/><i:calendar-color/><c:supported-calendar-component-set/></d:prop></d:propfind>"#;
const ADDRESSBOOKS_QUERY: &str =
    r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:displayname/></d:prop></d:propfind>"#;

/// Whether a URL a DAV service named (a home, a collection, a redirect) may get the password: `https`, and on the
/// service host itself or a host in the service host's parent domain (`caldav.icloud.com` →
/// `p23-caldav.icloud.com`, any `*.icloud.com`). An IP address as service host allows only itself. So a server
/// (or a report file) cannot send the password, or a client's settings, to a host of its choosing.
pub fn acceptable_collection_url(service_host: &str, url: &str) -> bool {
    let Ok(url) = Url::parse(url) else { return false };
    if url.scheme() != "https" {
        return false;
    }
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let service = service_host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if host == service {
        return true;
    }
    if service.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    match service.split_once('.') {
        // The parent must itself have a dot: `caldav.test` does not make every `*.test` acceptable.
        Some((_, parent)) if parent.contains('.') => host.ends_with(&format!(".{parent}")),
        _ => false,
    }
}

/// Tests one DAV service (`side` is `Caldav` or `Carddav`) on `endpoint` as `username`.
pub(crate) async fn probe_dav(ctx: &Ctx<'_>, side: Side, endpoint: &Endpoint, username: &str, secret: &Secret) -> DavReport {
    let mut discovery = Discovery::new(ctx, side, endpoint, username, secret);
    let outcome = discovery.run().await;
    let status = if outcome.is_ok() { StepStatus::Ok } else { StepStatus::Failed };
    let Discovery { principal, home, realm, requests, redirects, command, tried_login, .. } = discovery;
    let (kind, detail, server_text, calendars, addressbooks) = match outcome {
        Ok(Found::Calendars(c)) => (DiagnosisKind::Ok, None, None, Some(c), None),
        Ok(Found::AddressBooks(a)) => (DiagnosisKind::Ok, None, None, None, Some(a)),
        Err(f) => (f.kind, Some(f.detail), f.server_text, None, None),
    };
    let detail = match (detail, redirects.is_empty()) {
        (detail, true) => detail,
        (Some(d), false) => Some(format!("{d}; redirected: {}", redirects.join(", "))),
        (None, false) => Some(format!("redirected: {}", redirects.join(", "))),
    };
    let username = tried_login.then(|| username.to_owned());
    let facts = Facts {
        host: Some(endpoint.host.clone()),
        port: Some(endpoint.port),
        username: username.clone(),
        command: (kind == DiagnosisKind::DavRefused).then_some(command).flatten(),
        ..Facts::default()
    };
    let report = DavReport {
        diagnosis: Diagnosis::new(kind, facts, detail),
        host: endpoint.host.clone(),
        port: endpoint.port,
        username,
        principal: principal.map(String::from),
        home: home.map(String::from),
        realm,
        elapsed_ms: ctx.elapsed_ms(),
        server_text,
        calendars,
        addressbooks,
        requests,
        redirects,
    };
    ctx.emit(side, Step::Done, status, &report.host, report.port, Some(report.kind()));
    report
}

enum Found {
    Calendars(Vec<crate::account::Calendar>),
    AddressBooks(Vec<crate::account::AddressBook>),
}

type Driver = hyper::client::conn::http1::Connection<TokioIo<TlsStream<TcpStream>>, Full<Bytes>>;

/// One kept-alive HTTPS connection: hyper's sender and the connection future, polled only while a request waits
/// (nothing is spawned, so nothing outlives the probe).
struct Connection {
    host: String,
    port: u16,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    driver: Pin<Box<Driver>>,
    /// The connection future has finished: the server closed it.
    ended: bool,
}

/// An answer, with the URL it came from (after redirects).
struct Answer {
    url: Url,
    status: StatusCode,
    realm: Option<String>,
    body: String,
}

impl Answer {
    fn status_line(&self) -> String {
        format!("{} {}", self.status.as_u16(), self.status.canonical_reason().unwrap_or_default()).trim().to_owned()
    }
}

struct Discovery<'a, 'c> {
    ctx: &'a Ctx<'c>,
    side: Side,
    service: Endpoint,
    /// `Basic …`, marked sensitive; made from the secret in a zeroizing buffer.
    authorization: HeaderValue,
    connections: Vec<Connection>,
    principal: Option<Url>,
    home: Option<Url>,
    realm: Option<String>,
    requests: u32,
    redirects: Vec<String>,
    /// The request under way, for `dav_refused`'s facts.
    command: Option<String>,
    tried_login: bool,
}

impl<'a, 'c> Discovery<'a, 'c> {
    fn new(ctx: &'a Ctx<'c>, side: Side, endpoint: &Endpoint, username: &str, secret: &Secret) -> Discovery<'a, 'c> {
        let mut credentials = zeroize::Zeroizing::new(format!("{username}:{}", secret.expose()));
        let mut header =
            zeroize::Zeroizing::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials.as_bytes())));
        zeroize::Zeroize::zeroize(&mut *credentials);
        // A header value cannot hold what is not visible ASCII; base64 always is.
        let mut authorization = HeaderValue::from_str(&header).unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        zeroize::Zeroize::zeroize(&mut *header);
        authorization.set_sensitive(true);
        Discovery {
            ctx,
            side,
            service: endpoint.clone(),
            authorization,
            connections: Vec::new(),
            principal: None,
            home: None,
            realm: None,
            requests: 0,
            redirects: Vec::new(),
            command: None,
            tried_login: false,
        }
    }

    fn emit(&self, step: Step, status: StepStatus) {
        self.ctx.emit(self.side, step, status, &self.service.host, self.service.port, None);
    }

    async fn run(&mut self) -> Result<Found, Failure> {
        let host = if self.service.host.contains(':') { format!("[{}]", self.service.host) } else { self.service.host.clone() };
        let service_url = Url::parse(&format!("https://{host}:{}/", self.service.port))
            .map_err(|e| Failure::new(DiagnosisKind::DnsFailure, format!("'{}' is not a host name: {e}", self.service.host)))?;

        // DNS, connect and TLS to the service host first, so the steps come in the mail sides' order.
        self.connection(&service_url).await?;
        self.emit(Step::Auth, StepStatus::Started);
        let authenticated = self.principal(service_url).await;
        self.emit(Step::Auth, if authenticated.is_ok() { StepStatus::Ok } else { StepStatus::Failed });
        let principal = authenticated?;

        self.emit(Step::Discover, StepStatus::Started);
        let found = self.collections(principal).await;
        self.emit(Step::Discover, if found.is_ok() { StepStatus::Ok } else { StepStatus::Failed });
        found
    }

    /// Steps 1 and 2: the realm, then the principal with credentials.
    async fn principal(&mut self, service_url: Url) -> Result<Url, Failure> {
        let command = "PROPFIND current-user-principal";
        let first = self.propfind(&service_url, 0, PRINCIPAL_QUERY, false, command).await?;
        let answer = match first.status {
            StatusCode::UNAUTHORIZED => {
                self.realm = first.realm.clone();
                self.tried_login = true;
                self.propfind(&first.url, 0, PRINCIPAL_QUERY, true, command).await?
            }
            // A server that does not ask for credentials: there is no realm to record.
            _ => first,
        };
        if self.realm.is_none() {
            self.realm = answer.realm.clone();
        }
        let resources = self.multistatus(&answer)?;
        let principal = answer::href_of(&resources, answer::DAV, "current-user-principal", &answer.url)
            .ok_or_else(|| refused(&answer, "no current-user-principal in the answer"))?;
        self.principal = Some(principal.clone());
        Ok(principal)
    }

    /// Steps 3 and 4: the home on the principal, then its collections.
    async fn collections(&mut self, principal: Url) -> Result<Found, Failure> {
        let (query, namespace, name) = match self.side {
            Side::Carddav => (ADDRESSBOOK_HOME_QUERY, answer::CARDDAV, "addressbook-home-set"),
            _ => (CALENDAR_HOME_QUERY, answer::CALDAV, "calendar-home-set"),
        };
        let answer = self.propfind(&principal, 0, query, true, &format!("PROPFIND {name}")).await?;
        let resources = self.multistatus(&answer)?;
        let home = answer::href_of(&resources, namespace, name, &answer.url)
            .ok_or_else(|| refused(&answer, &format!("no {name} in the answer")))?;
        if !acceptable_collection_url(&self.service.host, home.as_str()) {
            return Err(Failure::new(
                DiagnosisKind::DavRefused,
                format!("{} named the home {home}, outside its own domain; the password was not sent there", self.service.host),
            ));
        }
        self.home = Some(home.clone());

        let list = if self.side == Side::Carddav { ADDRESSBOOKS_QUERY } else { CALENDARS_QUERY };
        let answer = self.propfind(&home, 1, list, true, "PROPFIND Depth 1 on the home").await?;
        let resources = self.multistatus(&answer)?;
        if self.side == Side::Carddav {
            let books = answer::address_books(&resources, &answer.url);
            if books.is_empty() {
                return Err(Failure::new(DiagnosisKind::NoAddressBookFound, format!("{home} lists no address book")));
            }
            Ok(Found::AddressBooks(books))
        } else {
            let calendars = answer::event_calendars(&resources, &answer.url);
            if calendars.is_empty() {
                return Err(Failure::new(DiagnosisKind::NoCalendarsFound, format!("{home} lists no calendar that takes events")));
            }
            Ok(Found::Calendars(calendars))
        }
    }

    /// The resources of a 207 answer; any other status ends discovery with its kind.
    fn multistatus(&mut self, answer: &Answer) -> Result<Vec<answer::Resource>, Failure> {
        match answer.status {
            StatusCode::MULTI_STATUS => answer::multistatus(&answer.body).map_err(|why| refused(answer, &why)),
            StatusCode::UNAUTHORIZED => {
                if self.realm.is_none() {
                    self.realm = answer.realm.clone();
                }
                Err(Failure::new(DiagnosisKind::AuthRejected, format!("{} refused the credentials", answer.url))
                    .with_server_text(Some(answer.status_line())))
            }
            _ => Err(refused(answer, "the server does not do WebDAV discovery here")),
        }
    }

    /// One PROPFIND (following redirects), with the credentials when `authenticated`.
    async fn propfind(&mut self, url: &Url, depth: u8, body: &'static str, authenticated: bool, command: &str) -> Result<Answer, Failure> {
        self.command = Some(command.to_owned());
        let mut url = url.clone();
        let step = if authenticated && self.principal.is_some() { Step::Discover } else { Step::Auth };
        loop {
            let index = self.connection(&url).await?;
            let mut request = Request::builder()
                .method("PROPFIND")
                .uri(match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                })
                .header(HOST, host_header(&url))
                .header("Depth", depth.to_string())
                .header(CONTENT_TYPE, "application/xml; charset=utf-8")
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .map_err(|e| Failure::new(DiagnosisKind::ProtocolError, format!("could not build the request for {url}: {e}")))?;
            if authenticated {
                request.headers_mut().insert(AUTHORIZATION, self.authorization.clone());
            }
            self.requests += 1;
            let connection = &mut self.connections[index];
            let sent = self.ctx.within(step, exchange(connection, request)).await;
            let (status, headers, body) = match sent {
                Ok(Ok(answer)) => answer,
                Ok(Err(failure)) | Err(failure) => {
                    self.connections.swap_remove(index);
                    return Err(failure);
                }
            };
            if matches!(status.as_u16(), 301 | 302 | 307 | 308) {
                let location = headers.get(LOCATION).and_then(|l| l.to_str().ok()).unwrap_or_default();
                let next = url.join(location).map_err(|_| {
                    Failure::new(DiagnosisKind::DavRefused, format!("{url} redirected to '{location}', which is not a URL"))
                        .with_server_text(Some(status.to_string()))
                })?;
                if !acceptable_collection_url(&self.service.host, next.as_str()) {
                    return Err(Failure::new(
                        DiagnosisKind::DavRefused,
                        format!("{url} redirected to {next}: not https on {}'s domain, not followed", self.service.host),
                    )
                    .with_server_text(Some(status.to_string())));
                }
                if self.redirects.len() >= MAX_REDIRECTS {
                    return Err(Failure::new(
                        DiagnosisKind::DavRefused,
                        format!("more than {MAX_REDIRECTS} redirects; the last to {next}"),
                    )
                    .with_server_text(Some(status.to_string())));
                }
                self.redirects.push(format!("{url} → {next}"));
                url = next;
                continue;
            }
            let realm = headers.get_all(WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()).find_map(basic_realm);
            return Ok(Answer { url, status, realm, body });
        }
    }

    /// The index of a ready connection to `url`'s host and port: a kept-alive one, or a new one (DNS, connect and
    /// TLS reported as steps, all within the probe's deadline).
    async fn connection(&mut self, url: &Url) -> Result<usize, Failure> {
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        if url.scheme() != "https" {
            return Err(Failure::new(DiagnosisKind::DavRefused, format!("{url} is not https; nothing was sent")));
        }
        if let Some(index) = self.connections.iter().position(|c| c.host == host && c.port == port) {
            let connection = &mut self.connections[index];
            let ready = !connection.ended
                && tokio::select! {
                    ready = connection.sender.ready() => ready.is_ok(),
                    _ = &mut connection.driver => false,
                };
            if ready {
                return Ok(index);
            }
            self.connections.swap_remove(index);
        }
        let endpoint = Endpoint::new(&host, port, Security::Tls);
        let tcp = self.ctx.connect(self.side, &endpoint).await?;
        let step = |status| self.ctx.emit(self.side, Step::Tls, status, &host, port, None);
        step(StepStatus::Started);
        let tls = self.ctx.handshake(&host, tcp).await.inspect_err(|_| step(StepStatus::Failed))?;
        step(StepStatus::Ok);
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| Failure::new(DiagnosisKind::ProtocolError, format!("HTTP over TLS to {host}: {e}")))?;
        self.connections.push(Connection { host, port, sender, driver: Box::pin(driver), ended: false });
        Ok(self.connections.len() - 1)
    }
}

/// Sends `request` and reads the whole answer, driving the connection meanwhile.
async fn exchange(connection: &mut Connection, request: Request<Full<Bytes>>) -> Result<(StatusCode, hyper::HeaderMap, String), Failure> {
    let host = connection.host.clone();
    let read = async {
        let response = connection.sender.send_request(request).await.map_err(|e| http_failure(&host, &e))?;
        let (parts, body) = response.into_parts();
        let bytes = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|e| Failure::new(DiagnosisKind::ProtocolError, format!("reading the answer of {host}: {e}")))?
            .to_bytes();
        Ok((parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned()))
    };
    tokio::pin!(read);
    tokio::select! {
        biased;
        answer = &mut read => answer,
        ended = &mut connection.driver => {
            // The connection is over (HTTP/1.0 servers such as Radicale close after each answer): what arrived is
            // still read, and the connection is not used again.
            connection.ended = true;
            match ended {
                Ok(()) => read.await,
                Err(e) => Err(http_failure(&host, &e)),
            }
        }
    }
}

fn http_failure(host: &str, e: &hyper::Error) -> Failure {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        return Failure::new(DiagnosisKind::ServerClosed, format!("{host} closed the connection: {e}"));
    }
    match std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>()) {
        Some(io) => super::classify::from_io(io),
        None => Failure::new(DiagnosisKind::ProtocolError, format!("{host} did not answer in HTTP: {e}")),
    }
}

fn refused(answer: &Answer, why: &str) -> Failure {
    Failure::new(DiagnosisKind::DavRefused, format!("{}: {} ({why})", answer.url, answer.status_line()))
        .with_server_text(Some(answer.status_line()))
}

/// `host` or `host:port` as the Host header wants it (the port left out when it is 443).
fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) if port != 443 => format!("{host}:{port}"),
        _ => host.to_owned(),
    }
}

/// The realm of a `Basic` challenge in one `WWW-Authenticate` value (RFC 7617: `Basic realm="…"`, the quoted
/// string unescaped), exactly as sent otherwise; None when the value has no Basic challenge with a realm.
pub(crate) fn basic_realm(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("basic") {
        let start = from + at;
        from = start + 5;
        // `basic` as a whole scheme token: at the start or after a separator, followed by a space.
        let before_ok = start == 0 || matches!(lower.as_bytes()[start - 1], b' ' | b',');
        if !before_ok || !lower[from..].starts_with(' ') {
            continue;
        }
        let params = &value[from..];
        let params_lower = &lower[from..];
        let Some(r) = params_lower.find("realm") else { continue };
        let rest = params[r + 5..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else { continue };
        let rest = rest.trim_start();
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut realm = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => realm.extend(chars.next()),
                    '"' => return Some(realm),
                    c => realm.push(c),
                }
            }
            return None;
        }
        let token: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != ',').collect();
        return (!token.is_empty()).then_some(token);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_is_taken_as_sent() {
        assert_eq!(basic_realm(r#"Basic realm="MMCalDav""#).as_deref(), Some("MMCalDav"));
        assert_eq!(basic_realm(r#"basic Realm = "Radicale - Password Required""#).as_deref(), Some("Radicale - Password Required"));
        assert_eq!(basic_realm(r#"Digest realm="x", nonce="y", Basic realm="a \"b\"""#).as_deref(), Some(r#"a "b""#));
        assert_eq!(basic_realm("Basic realm=token, charset=\"UTF-8\"").as_deref(), Some("token"));
        assert_eq!(basic_realm(r#"Digest realm="MMCalDav""#), None);
        assert_eq!(basic_realm(r#"Bearer realm="x""#), None);
        assert_eq!(basic_realm(r#"Basic charset="UTF-8""#), None);
    }

    #[test]
    fn only_https_urls_in_the_service_domain_get_the_password() {
        let ok = |url| acceptable_collection_url("caldav.icloud.com", url);
        assert!(ok("https://p23-caldav.icloud.com:443/12345678/calendars/"));
        assert!(ok("https://caldav.icloud.com/12345678/principal/"));
        assert!(ok("https://P07-CONTACTS.icloud.com/1/carddavhome/card/"));
        assert!(!ok("http://p23-caldav.icloud.com/12345678/calendars/"), "plain http");
        assert!(!ok("https://p23-caldav.icloud.com.evil.example/"), "a look-alike domain");
        assert!(!ok("https://evilicloud.com/"), "not a subdomain");
        assert!(!ok("https://www.example.com/"));
        assert!(!ok("not a url"));
        assert!(!acceptable_collection_url("caldav.test", "https://evil.test/"), "a parent without a dot allows nothing else");
        assert!(acceptable_collection_url("127.0.0.1", "https://127.0.0.1:8443/jane/"));
        assert!(!acceptable_collection_url("127.0.0.1", "https://0.0.1/"));
    }
}
