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

use super::classify::{self, Failure};
use super::smtp_stream::SmtpStream;
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
