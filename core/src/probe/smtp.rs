//! The SMTP side with lettre's connection (tokio): EHLO, STARTTLS **required** on 587 (no AUTH unless the upgrade
//! worked), AUTH as the full address and then once as the name part. When the first port cannot be reached at all
//! (refused, no answer) the fallback (465, TLS from the first byte) is tried and the report says so.
//!
//! The TLS handshake is ours (the one client configuration in `tls.rs`): lettre is given a stream whose plain TCP
//! is swapped for TLS after the server's `220` to STARTTLS. Before the swap the stream hands lettre one line at a
//! time, so nothing a server (or a man in the middle) sends after that `220` can sit in a buffer and be read later
//! as if it had come through TLS; such bytes end the test as a protocol error instead.
//!
//! After a successful AUTH the connection is dropped without QUIT: the verdict is known, and QUIT would cost one
//! more round trip on the slowest side of the test.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Auth, Ehlo, Starttls};
use lettre::transport::smtp::extension::{ClientId, Extension, ServerInfo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::classify::{self, Failure};
use super::{Attempt, Ctx, Side, SideReport, Step, StepStatus};
use crate::diagnosis::DiagnosisKind;
use crate::provider::{Endpoint, Security};
use crate::secret::Secret;

/// The EHLO name: an address literal, as Thunderbird sends by default, so the computer's name is not given away.
fn hello_name() -> ClientId {
    ClientId::Ipv4(Ipv4Addr::LOCALHOST)
}

pub(crate) async fn probe_smtp(
    ctx: &Ctx<'_>,
    primary: &Endpoint,
    fallback: Option<&Endpoint>,
    usernames: &[String],
    secret: &Secret,
) -> SideReport {
    let mut attempts = Vec::new();
    let first = attempt(ctx, primary, usernames, secret, &mut attempts).await;
    let unreachable =
        matches!(&first, Err((f, Step::Connect, _)) if matches!(f.kind, DiagnosisKind::ConnectionRefused | DiagnosisKind::Timeout));
    let report = match (fallback, unreachable) {
        (Some(fallback), true) if ctx.remaining() > std::time::Duration::ZERO => {
            let second = attempt(ctx, fallback, usernames, secret, &mut attempts).await;
            if second.is_ok() {
                let mut report = finish(ctx, fallback, second, attempts);
                report.unreachable_port = Some(primary.port);
                report
            } else {
                // The first port's verdict stands; the attempts name both.
                finish(ctx, primary, first, attempts)
            }
        }
        _ => finish(ctx, primary, first, attempts),
    };
    ctx.emit(
        Side::Smtp,
        Step::Done,
        if report.is_ok() { StepStatus::Ok } else { StepStatus::Failed },
        &report.host,
        report.port,
        Some(report.kind()),
    );
    report
}

type AttemptResult = Result<String, (Failure, Step, Option<String>)>;

fn finish(ctx: &Ctx<'_>, endpoint: &Endpoint, outcome: AttemptResult, attempts: Vec<Attempt>) -> SideReport {
    match outcome {
        Ok(username) => ctx.side_report(endpoint, Ok(username), None, attempts),
        Err((failure, _, tried)) => ctx.side_report(endpoint, Err(failure), tried, attempts),
    }
}

/// One server: connect, secure, log in. On failure: what went wrong, at which step, and the last username tried.
async fn attempt(ctx: &Ctx<'_>, endpoint: &Endpoint, usernames: &[String], secret: &Secret, attempts: &mut Vec<Attempt>) -> AttemptResult {
    let mut tried = None;
    let result = run(ctx, endpoint, usernames, secret, attempts, &mut tried).await;
    result.map_err(|(failure, step)| {
        if step != Step::Auth {
            attempts.push(ctx.attempt(endpoint, None, failure.kind, failure.server_text.clone()));
        }
        (failure, step, tried)
    })
}

async fn run(
    ctx: &Ctx<'_>,
    endpoint: &Endpoint,
    usernames: &[String],
    secret: &Secret,
    attempts: &mut Vec<Attempt>,
    tried: &mut Option<String>,
) -> Result<String, (Failure, Step)> {
    let (host, port) = (endpoint.host.as_str(), endpoint.port);
    let step = |step, status| ctx.emit(Side::Smtp, step, status, host, port, None);
    let at = |step: Step| move |failure: Failure| (failure, step);
    let tcp = ctx.connect(Side::Smtp, endpoint).await.map_err(at(Step::Connect))?;

    let (mut conn, stream, info) = match endpoint.security {
        Security::Tls => {
            step(Step::Tls, StepStatus::Started);
            let tls = ctx.handshake(host, tcp).await.inspect_err(|_| step(Step::Tls, StepStatus::Failed)).map_err(at(Step::Tls))?;
            step(Step::Tls, StepStatus::Ok);
            let stream = SmtpStream::tls(tls);
            step(Step::Greeting, StepStatus::Started);
            let conn = greet(ctx, &stream).await.inspect_err(|_| step(Step::Greeting, StepStatus::Failed)).map_err(at(Step::Greeting))?;
            step(Step::Greeting, StepStatus::Ok);
            let info = conn.server_info().clone();
            (conn, stream, info)
        }
        Security::Starttls => {
            let stream = SmtpStream::plain(tcp);
            step(Step::Greeting, StepStatus::Started);
            let mut conn =
                greet(ctx, &stream).await.inspect_err(|_| step(Step::Greeting, StepStatus::Failed)).map_err(at(Step::Greeting))?;
            step(Step::Greeting, StepStatus::Ok);
            step(Step::Tls, StepStatus::Started);
            let info = start_tls(ctx, host, &mut conn, &stream)
                .await
                .inspect_err(|_| step(Step::Tls, StepStatus::Failed))
                .map_err(at(Step::Tls))?;
            step(Step::Tls, StepStatus::Ok);
            (conn, stream, info)
        }
    };
    debug_assert!(stream.is_tls(), "credentials only ever go over TLS");
    if !stream.is_tls() {
        return Err((Failure::new(DiagnosisKind::StarttlsUnavailable, "the connection is not encrypted"), Step::Tls));
    }

    let Some(mechanism) = info.get_auth_mechanism(&[Mechanism::Plain, Mechanism::Login]) else {
        return Err((Failure::new(DiagnosisKind::ProtocolError, "the server offers no password login (AUTH PLAIN or LOGIN)"), Step::Auth));
    };
    // At most two forms, whatever the preset says: one extra login attempt, never more.
    let forms = &usernames[..usernames.len().min(2)];
    for (i, username) in forms.iter().enumerate() {
        step(Step::Auth, StepStatus::Started);
        *tried = Some(username.clone());
        let result = ctx.within(Step::Auth, authenticate(&mut conn, mechanism, username, secret)).await.map_err(at(Step::Auth))?;
        match result {
            Ok(true) => {
                attempts.push(ctx.attempt(endpoint, Some(username), DiagnosisKind::Ok, None));
                step(Step::Auth, StepStatus::Ok);
                return Ok(username.clone());
            }
            Ok(false) => {
                let failure = Failure::new(DiagnosisKind::ProtocolError, "the server kept asking for more during AUTH");
                attempts.push(ctx.attempt(endpoint, Some(username), failure.kind, None));
                step(Step::Auth, StepStatus::Failed);
                return Err((failure, Step::Auth));
            }
            Err(err) => {
                let failure = stream.explain(classify::from_smtp(&err, true));
                attempts.push(ctx.attempt(endpoint, Some(username), failure.kind, failure.server_text.clone()));
                step(Step::Auth, StepStatus::Failed);
                if failure.kind == DiagnosisKind::AuthRejected && i + 1 < forms.len() {
                    continue;
                }
                return Err((failure, Step::Auth));
            }
        }
    }
    Err((Failure::new(DiagnosisKind::AuthRejected, "no username to try"), Step::Auth))
}

/// Reads the greeting and sends the first EHLO (lettre does both).
async fn greet(ctx: &Ctx<'_>, stream: &SmtpStream) -> Result<AsyncSmtpConnection, Failure> {
    let hello = hello_name();
    let connect = AsyncSmtpConnection::connect_with_transport(Box::new(stream.clone()), &hello);
    ctx.within(Step::Greeting, connect).await?.map_err(|e| stream.explain(classify::from_smtp(&e, false)))
}

/// STARTTLS, the handshake, and the EHLO that counts (capabilities before TLS may be forged): its server info.
async fn start_tls(ctx: &Ctx<'_>, host: &str, conn: &mut AsyncSmtpConnection, stream: &SmtpStream) -> Result<ServerInfo, Failure> {
    if !conn.server_info().supports_feature(Extension::StartTls) {
        return Err(Failure::new(DiagnosisKind::StarttlsUnavailable, "EHLO did not offer STARTTLS"));
    }
    match ctx.within(Step::Tls, conn.command(Starttls)).await? {
        Ok(_) => {}
        Err(e) => {
            let failure = stream.explain(classify::from_smtp(&e, false));
            // A refusal (454 and the like) means no TLS here; anything else keeps its own kind.
            let kind = if e.status().is_some() { DiagnosisKind::StarttlsUnavailable } else { failure.kind };
            return Err(Failure { kind, ..failure });
        }
    }
    let tcp = stream.take_plain()?;
    let tls = ctx.handshake(host, tcp).await?;
    stream.set_tls(tls);
    let ehlo =
        ctx.within(Step::Tls, conn.command(Ehlo::new(hello_name()))).await?.map_err(|e| stream.explain(classify::from_smtp(&e, false)))?;
    ServerInfo::from_response(&ehlo).map_err(|e| Failure::new(DiagnosisKind::ProtocolError, format!("unreadable EHLO answer: {e}")))
}

/// AUTH with one username; LOGIN's challenges are answered (a few at most). Ok(false): the server never finished.
async fn authenticate(
    conn: &mut AsyncSmtpConnection,
    mechanism: Mechanism,
    username: &str,
    secret: &Secret,
) -> Result<bool, lettre::transport::smtp::Error> {
    let credentials = Credentials::new(username.to_owned(), secret.expose().to_owned());
    let mut response = conn.command(Auth::new(mechanism, credentials.clone(), None)?).await?;
    for _ in 0..3 {
        if !response.has_code(334) {
            break;
        }
        response = conn.command(Auth::new_from_response(mechanism, credentials.clone(), &response)?).await?;
    }
    Ok(!response.has_code(334))
}

/// The stream lettre reads and writes: plain TCP until STARTTLS, then TLS; or TLS from the start.
#[derive(Clone)]
struct SmtpStream(Arc<Mutex<Shared>>);

struct Shared {
    state: State,
    /// The server closed the connection (a read returned nothing): turns lettre's "incomplete response" into
    /// `server_closed`.
    eof: bool,
}

enum State {
    Plain {
        tcp: TcpStream,
        pending: Vec<u8>,
    },
    Tls(Box<TlsStream<TcpStream>>),
    /// Between STARTTLS and the end of the handshake.
    Upgrading,
}

/// A line longer than this is handed over in pieces (lettre refuses over-long replies itself).
const MAX_PENDING: usize = 16 * 1024;

impl SmtpStream {
    fn plain(tcp: TcpStream) -> SmtpStream {
        SmtpStream(Arc::new(Mutex::new(Shared { state: State::Plain { tcp, pending: Vec::new() }, eof: false })))
    }

    fn tls(tls: TlsStream<TcpStream>) -> SmtpStream {
        SmtpStream(Arc::new(Mutex::new(Shared { state: State::Tls(Box::new(tls)), eof: false })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_tls(&self) -> bool {
        matches!(self.lock().state, State::Tls(_))
    }

    /// Takes the TCP stream for the handshake. Bytes already received after the `220` are refused.
    fn take_plain(&self) -> Result<TcpStream, Failure> {
        let mut shared = self.lock();
        match std::mem::replace(&mut shared.state, State::Upgrading) {
            State::Plain { tcp, pending } if pending.is_empty() => Ok(tcp),
            State::Plain { .. } => Err(Failure::new(
                DiagnosisKind::ProtocolError,
                "the server sent data right after agreeing to STARTTLS (a sign of tampering); the password was not sent",
            )),
            other => {
                shared.state = other;
                Err(Failure::new(DiagnosisKind::ProtocolError, "STARTTLS on a connection that is not plain"))
            }
        }
    }

    fn set_tls(&self, tls: TlsStream<TcpStream>) {
        self.lock().state = State::Tls(Box::new(tls));
    }

    /// A failure seen through lettre, corrected by what the stream knows: the server hung up.
    fn explain(&self, failure: Failure) -> Failure {
        if self.lock().eof && failure.kind == DiagnosisKind::ProtocolError {
            return Failure { kind: DiagnosisKind::ServerClosed, ..failure };
        }
        failure
    }
}

impl std::fmt::Debug for SmtpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_tls() { "SmtpStream(tls)" } else { "SmtpStream(plain)" })
    }
}

fn upgrading() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is being upgraded to TLS")
}

impl AsyncRead for SmtpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut shared = self.lock();
        let shared = &mut *shared;
        let before = buf.filled().len();
        let result = match &mut shared.state {
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            State::Upgrading => Poll::Ready(Err(upgrading())),
            State::Plain { tcp, pending } => loop {
                // Hand over one line at most, so nothing past the current reply waits in lettre's buffer.
                if let Some(end) =
                    pending.iter().position(|b| *b == b'\n').map(|i| i + 1).or((pending.len() >= MAX_PENDING).then_some(MAX_PENDING))
                {
                    let n = end.min(buf.remaining());
                    buf.put_slice(&pending[..n]);
                    pending.drain(..n);
                    break Poll::Ready(Ok(()));
                }
                let mut chunk = [0u8; 4096];
                let mut chunk_buf = ReadBuf::new(&mut chunk);
                match Pin::new(&mut *tcp).poll_read(cx, &mut chunk_buf) {
                    Poll::Ready(Ok(())) if chunk_buf.filled().is_empty() => {
                        // End of stream: give lettre what is left (an unfinished line), then nothing.
                        let n = pending.len().min(buf.remaining());
                        buf.put_slice(&pending[..n]);
                        pending.drain(..n);
                        break Poll::Ready(Ok(()));
                    }
                    Poll::Ready(Ok(())) => pending.extend_from_slice(chunk_buf.filled()),
                    other => break other,
                }
            },
        };
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0 {
            shared.eof = true;
        }
        result
    }
}

impl AsyncWrite for SmtpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.lock().state {
            State::Plain { tcp, .. } => Pin::new(tcp).poll_write(cx, data),
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, data),
            State::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.lock().state {
            State::Plain { tcp, .. } => Pin::new(tcp).poll_flush(cx),
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            State::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.lock().state {
            State::Plain { tcp, .. } => Pin::new(tcp).poll_shutdown(cx),
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            State::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncTokioStream for SmtpStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.lock().state {
            State::Plain { tcp, .. } => tcp.peer_addr(),
            State::Tls(tls) => tls.get_ref().0.peer_addr(),
            State::Upgrading => Err(upgrading()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    async fn pair() -> (SmtpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (SmtpStream::plain(client), server)
    }

    #[tokio::test]
    async fn plain_reads_hand_over_one_line_at_a_time() {
        let (stream, mut server) = pair().await;
        server.write_all(b"220 ready\r\nINJECTED 250 fake\r\n").await.unwrap();
        let mut reader = BufReader::new(stream.clone());
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "220 ready\r\n");
        // The injected line is still in our stream, not in the reader: so the upgrade refuses it.
        assert!(reader.buffer().is_empty());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let err = stream.take_plain().unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ProtocolError);
    }

    #[tokio::test]
    async fn a_clean_220_can_be_upgraded() {
        let (stream, mut server) = pair().await;
        server.write_all(b"220 go ahead\r\n").await.unwrap();
        let mut reader = BufReader::new(stream.clone());
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert!(stream.take_plain().is_ok());
        assert!(!stream.is_tls());
    }

    #[tokio::test]
    async fn end_of_stream_is_remembered() {
        let (stream, server) = pair().await;
        drop(server);
        let mut reader = BufReader::new(stream.clone());
        let mut line = String::new();
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 0);
        let failure = stream.explain(Failure::new(DiagnosisKind::ProtocolError, "incomplete response"));
        assert_eq!(failure.kind, DiagnosisKind::ServerClosed);
    }
}
