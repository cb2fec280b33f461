//! The SMTP side with lettre's connection (tokio): EHLO, STARTTLS **required** on 587 (no AUTH unless the upgrade
//! worked), AUTH as the full address and then once as the name part. When the first port cannot be reached at all
//! (refused, no answer) the fallback (465, TLS from the first byte) is tried and the report says so.
//!
//! The TLS handshake is ours (the one client configuration in `tls.rs`): lettre is given a stream (`smtp_stream.rs`)
//! whose plain TCP is swapped for TLS after the server's `220` to STARTTLS. Before the swap the stream hands lettre
//! one line at a time, so nothing a server (or a man in the middle) sends after that `220` can sit in a buffer and be
//! read later as if it had come through TLS; such bytes end the test as a protocol error instead.
//!
//! After a successful AUTH the connection is dropped without QUIT: the verdict is known, and QUIT would cost one
//! more round trip on the slowest side of the test.

use std::net::Ipv4Addr;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Auth, Ehlo, Starttls};
use lettre::transport::smtp::extension::{ClientId, Extension, ServerInfo};

use tokio::net::TcpStream;

use super::classify::{self, Failure};
use super::login::{self, Login, LoginAnswer, Tries};
use super::smtp_stream::SmtpStream;
use super::{Ctx, Side, SideReport, Step, StepStatus};
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
    let first = try_server(ctx, primary, usernames, secret).await;
    let report = match fallback {
        Some(fallback) if first.unreachable && ctx.remaining() > std::time::Duration::ZERO => {
            let second = try_server(ctx, fallback, usernames, secret).await;
            let attempts = [first.tries.attempts, second.tries.attempts].concat();
            if second.tries.outcome.is_ok() {
                let report = ctx.side_report(fallback, Tries { attempts, ..second.tries });
                SideReport { unreachable_port: Some(primary.port), ..report }
            } else {
                // The first port's verdict stands; the attempts name both.
                ctx.side_report(primary, Tries { attempts, ..first.tries })
            }
        }
        _ => ctx.side_report(primary, first.tries),
    };
    ctx.done(Side::Smtp, report)
}

/// What was tried on one server, and whether it could not be reached at all (refused, or no answer to connecting):
/// only then is the fallback tried.
struct ServerTries {
    tries: Tries,
    unreachable: bool,
}

/// One server: connect, secure, log in.
async fn try_server(ctx: &Ctx<'_>, endpoint: &Endpoint, usernames: &[String], secret: &Secret) -> ServerTries {
    let tcp = match ctx.connect(Side::Smtp, endpoint).await {
        Ok(tcp) => tcp,
        Err(failure) => {
            let unreachable = matches!(failure.kind, DiagnosisKind::ConnectionRefused | DiagnosisKind::Timeout);
            return ServerTries { tries: Tries::failed_before_login(ctx, endpoint, failure), unreachable };
        }
    };
    let tries = match secured(ctx, endpoint, tcp).await {
        Err(failure) => Tries::failed_before_login(ctx, endpoint, failure),
        Ok(Secured { mut conn, stream, info }) => match info.get_auth_mechanism(&[Mechanism::Plain, Mechanism::Login]) {
            // Told as a failed login, with no try of its own: nothing was sent.
            None => Tries {
                outcome: Err(Failure::new(DiagnosisKind::ProtocolError, "the server offers no password login (AUTH PLAIN or LOGIN)")),
                tried: None,
                attempts: Vec::new(),
            },
            Some(mechanism) => {
                let mut login = SmtpLogin { conn: &mut conn, mechanism, stream: &stream, secret };
                login::with_each_form(ctx, Side::Smtp, endpoint, usernames, &mut login).await
            }
        },
    };
    ServerTries { tries, unreachable: false }
}

/// A connection over TLS, greeted, with the capabilities the server announced over TLS.
struct Secured {
    conn: AsyncSmtpConnection,
    stream: SmtpStream,
    info: ServerInfo,
}

/// TLS from the first byte then the greeting, or the greeting then STARTTLS; never anything else.
async fn secured(ctx: &Ctx<'_>, endpoint: &Endpoint, tcp: TcpStream) -> Result<Secured, Failure> {
    let (host, port) = (endpoint.host.as_str(), endpoint.port);
    let step = |step, status| ctx.emit(Side::Smtp, step, status, host, port, None);
    let secured = match endpoint.security {
        Security::Tls => {
            step(Step::Tls, StepStatus::Started);
            let tls = ctx.handshake(host, tcp).await.inspect_err(|_| step(Step::Tls, StepStatus::Failed))?;
            step(Step::Tls, StepStatus::Ok);
            let stream = SmtpStream::tls(tls);
            step(Step::Greeting, StepStatus::Started);
            let conn = greet(ctx, &stream).await.inspect_err(|_| step(Step::Greeting, StepStatus::Failed))?;
            step(Step::Greeting, StepStatus::Ok);
            let info = conn.server_info().clone();
            Secured { conn, stream, info }
        }
        Security::Starttls => {
            let stream = SmtpStream::plain(tcp);
            step(Step::Greeting, StepStatus::Started);
            let mut conn = greet(ctx, &stream).await.inspect_err(|_| step(Step::Greeting, StepStatus::Failed))?;
            step(Step::Greeting, StepStatus::Ok);
            step(Step::Tls, StepStatus::Started);
            let info = start_tls(ctx, host, &mut conn, &stream).await.inspect_err(|_| step(Step::Tls, StepStatus::Failed))?;
            step(Step::Tls, StepStatus::Ok);
            Secured { conn, stream, info }
        }
    };
    debug_assert!(secured.stream.is_tls(), "credentials only ever go over TLS");
    if !secured.stream.is_tls() {
        return Err(Failure::new(DiagnosisKind::StarttlsUnavailable, "the connection is not encrypted"));
    }
    Ok(secured)
}

/// AUTH on a secured connection.
struct SmtpLogin<'a> {
    conn: &'a mut AsyncSmtpConnection,
    mechanism: Mechanism,
    stream: &'a SmtpStream,
    secret: &'a Secret,
}

impl Login for SmtpLogin<'_> {
    async fn log_in(&mut self, username: &str) -> LoginAnswer {
        match authenticate(self.conn, self.mechanism, username, self.secret).await {
            Ok(true) => LoginAnswer::Accepted,
            Ok(false) => LoginAnswer::Refused(Failure::new(DiagnosisKind::ProtocolError, "the server kept asking for more during AUTH")),
            Err(err) => LoginAnswer::Refused(self.stream.explain(classify::from_smtp(&err, true))),
        }
    }
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
