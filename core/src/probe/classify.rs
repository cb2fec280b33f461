//! Typed errors → one `DiagnosisKind`: lettre's status and predicates, async-imap's `Error::No`, a `rustls::Error`
//! found anywhere in the `source()` chain (lettre and tokio-rustls hide it inside I/O errors), `io::ErrorKind` for
//! refused and unanswered connections, hickory's resolve errors. Message text is only ever kept as detail.

use std::error::Error as StdError;
use std::io;

use rustls::CertificateError;

use crate::diagnosis::DiagnosisKind;

/// Why one step of one side failed: the kind, the server's own words if it said any, and technical detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub kind: DiagnosisKind,
    pub server_text: Option<String>,
    pub detail: String,
}

impl Failure {
    pub fn new(kind: DiagnosisKind, detail: impl Into<String>) -> Failure {
        Failure { kind, server_text: None, detail: detail.into() }
    }

    pub fn with_server_text(mut self, text: Option<String>) -> Failure {
        self.server_text = text.filter(|t| !t.trim().is_empty());
        self
    }
}

/// Finds a `rustls::Error` in an error chain, looking inside `io::Error`s too (their `source()` skips the error
/// they wrap, so `get_ref()` is needed).
pub(crate) fn find_rustls<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_rustls(inner) {
                    return Some(found);
                }
            }
        }
        current = e.source();
    }
    None
}

/// Finds the innermost `io::Error` kind in a chain (lettre wraps network errors in its own type).
fn find_io_kind(err: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    let mut kind = None;
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            kind = Some(io.kind());
            if let Some(inner) = io.get_ref() {
                if let Some(k) = find_io_kind(inner) {
                    kind = Some(k);
                }
            }
        }
        current = e.source();
    }
    kind
}

/// The kind a TLS error means for a person.
pub(crate) fn tls_kind(err: &rustls::Error) -> DiagnosisKind {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            // A certificate that is not valid *yet* also means "the dates do not fit": the hint to check the clock fits.
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => DiagnosisKind::TlsCertificateExpired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => DiagnosisKind::TlsCertificateWrongHost,
            _ => DiagnosisKind::TlsCertificateUntrusted,
        },
        // The other side does not speak TLS at all (a plain-text server, a captive portal's web page).
        rustls::Error::InvalidMessage(_) => DiagnosisKind::ProtocolError,
        _ => DiagnosisKind::TlsHandshakeFailed,
    }
}

fn io_kind(kind: io::ErrorKind) -> DiagnosisKind {
    use io::ErrorKind::*;
    match kind {
        ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable => DiagnosisKind::ConnectionRefused,
        TimedOut | WouldBlock => DiagnosisKind::Timeout,
        InvalidData => DiagnosisKind::ProtocolError,
        _ => DiagnosisKind::ServerClosed,
    }
}

/// Any I/O error: a connect, a TLS handshake (the rustls error inside decides), a read or write.
pub(crate) fn from_io(err: &io::Error) -> Failure {
    if let Some(tls) = find_rustls(err) {
        return Failure::new(tls_kind(tls), format!("TLS: {tls}"));
    }
    // tokio-rustls reports a handshake cut short as UnexpectedEof; a plain read as Ok(0), handled by the callers.
    Failure::new(io_kind(err.kind()), err.to_string())
}

/// An IMAP error during the greeting or LOGIN.
pub(crate) fn from_imap(err: &async_imap::error::Error) -> Failure {
    use async_imap::error::Error;
    match err {
        // RFC 5530: `NO [AUTHENTICATIONFAILED]` (iCloud) — async-imap keeps the code inside the text. Any other NO to
        // LOGIN is a refusal as well, except a server that is temporarily unable to check passwords.
        Error::No(text) if text.contains("UNAVAILABLE") => {
            Failure::new(DiagnosisKind::ServerClosed, "the server could not check the password right now")
                .with_server_text(Some(imap_words(text)))
        }
        Error::No(text) => Failure::new(DiagnosisKind::AuthRejected, "LOGIN answered NO").with_server_text(Some(imap_words(text))),
        Error::Bad(text) => Failure::new(DiagnosisKind::ProtocolError, "LOGIN answered BAD").with_server_text(Some(imap_words(text))),
        Error::ConnectionLost => Failure::new(DiagnosisKind::ServerClosed, "the connection was closed"),
        Error::Io(io) => from_io(io),
        Error::Parse(parse) => Failure::new(DiagnosisKind::ProtocolError, format!("unreadable IMAP answer: {parse}")),
        // The username or password holds characters IMAP cannot carry (a line break): it cannot be right.
        Error::Validate(_) => Failure::new(DiagnosisKind::AuthRejected, "the username or password contains a line break"),
        other => Failure::new(DiagnosisKind::ProtocolError, other.to_string()),
    }
}

/// The server's own words from async-imap's `code: …, info: Some("…")` rendering.
pub(crate) fn imap_words(text: &str) -> String {
    if let Some(start) = text.find("info: Some(\"") {
        let rest = &text[start + 12..];
        if let Some(end) = rest.rfind("\")") {
            return rest[..end].replace("\\\"", "\"");
        }
    }
    text.to_owned()
}

/// An SMTP error from lettre. `step_is_auth` decides what a permanent (5xx) reply means.
pub(crate) fn from_smtp(err: &lettre::transport::smtp::Error, step_is_auth: bool) -> Failure {
    let server_text = err.status().map(|code| match err.source() {
        Some(text) => format!("{code} {text}"),
        None => code.to_string(),
    });
    if let Some(tls) = find_rustls(err) {
        return Failure::new(tls_kind(tls), format!("TLS: {tls}"));
    }
    if err.is_timeout() {
        return Failure::new(DiagnosisKind::Timeout, err.to_string());
    }
    if err.status().is_some() {
        let kind = if step_is_auth && err.is_permanent() { DiagnosisKind::AuthRejected } else { DiagnosisKind::ProtocolError };
        return Failure::new(kind, err.to_string()).with_server_text(server_text);
    }
    if let Some(kind) = find_io_kind(err) {
        return Failure::new(io_kind(kind), err.to_string());
    }
    // A reply lettre could not parse, or none at all.
    Failure::new(DiagnosisKind::ProtocolError, err.to_string())
}

/// A name that could not be looked up.
pub(crate) fn from_resolve(err: &hickory_resolver::ResolveError, host: &str) -> Failure {
    let detail = if err.is_nx_domain() {
        format!("{host} does not exist in DNS")
    } else if err.is_no_records_found() {
        format!("{host} has no address records")
    } else {
        format!("looking up {host}: {err}")
    };
    Failure::new(DiagnosisKind::DnsFailure, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_map_to_their_kinds() {
        let cert = |e| rustls::Error::InvalidCertificate(e);
        assert_eq!(tls_kind(&cert(CertificateError::Expired)), DiagnosisKind::TlsCertificateExpired);
        assert_eq!(tls_kind(&cert(CertificateError::NotValidYet)), DiagnosisKind::TlsCertificateExpired);
        assert_eq!(tls_kind(&cert(CertificateError::NotValidForName)), DiagnosisKind::TlsCertificateWrongHost);
        assert_eq!(tls_kind(&cert(CertificateError::UnknownIssuer)), DiagnosisKind::TlsCertificateUntrusted);
        assert_eq!(tls_kind(&cert(CertificateError::BadSignature)), DiagnosisKind::TlsCertificateUntrusted);
        assert_eq!(tls_kind(&rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)), DiagnosisKind::TlsHandshakeFailed);
        assert_eq!(tls_kind(&rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)), DiagnosisKind::ProtocolError);
    }

    #[test]
    fn rustls_errors_are_found_inside_io_errors() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let io = io::Error::new(io::ErrorKind::InvalidData, inner);
        let outer = io::Error::other(io);
        assert_eq!(from_io(&outer).kind, DiagnosisKind::TlsCertificateExpired);
    }

    #[test]
    fn io_kinds_map_to_network_verdicts() {
        assert_eq!(from_io(&io::Error::from(io::ErrorKind::ConnectionRefused)).kind, DiagnosisKind::ConnectionRefused);
        assert_eq!(from_io(&io::Error::from(io::ErrorKind::TimedOut)).kind, DiagnosisKind::Timeout);
        assert_eq!(from_io(&io::Error::from(io::ErrorKind::UnexpectedEof)).kind, DiagnosisKind::ServerClosed);
        assert_eq!(from_io(&io::Error::from(io::ErrorKind::ConnectionReset)).kind, DiagnosisKind::ServerClosed);
    }

    #[test]
    fn imap_no_is_a_refused_login_with_the_servers_words() {
        use async_imap::error::Error;
        let err = Error::No("code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")".into());
        let f = from_imap(&err);
        assert_eq!(f.kind, DiagnosisKind::AuthRejected);
        assert_eq!(f.server_text.as_deref(), Some("[AUTHENTICATIONFAILED] Authentication failed."));
        assert_eq!(from_imap(&Error::No("[UNAVAILABLE] Temporary failure".into())).kind, DiagnosisKind::ServerClosed);
        assert_eq!(from_imap(&Error::Bad("nonsense".into())).kind, DiagnosisKind::ProtocolError);
        assert_eq!(from_imap(&Error::ConnectionLost).kind, DiagnosisKind::ServerClosed);
    }
}
