//! The IMAP side: TLS from the first byte (async-imap over tokio-rustls), the greeting, then LOGIN as the name
//! part and — only after the server refused it — once more as the full address on the same connection. Never more
//! than one extra login: Apple locks accounts that fail too often.

use async_imap::imap_proto::{Response, Status};

use super::classify::{self, Failure};
use super::{folders, Attempt, Ctx, Side, SideReport, Step, StepStatus};
use crate::account::Folders;
use crate::diagnosis::DiagnosisKind;
use crate::provider::Endpoint;
use crate::secret::Secret;

/// Logging out is a courtesy; it may not hold up the verdict for long.
const LOGOUT_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

pub(crate) async fn probe_imap(ctx: &Ctx<'_>, endpoint: &Endpoint, usernames: &[String], secret: &Secret) -> SideReport {
    let mut attempts = Vec::new();
    let mut tried = None;
    let mut listed = None;
    let outcome = run(ctx, endpoint, usernames, secret, &mut attempts, &mut tried, &mut listed).await;
    if let Err(failure) = &outcome {
        if attempts.is_empty() {
            attempts.push(ctx.attempt(endpoint, None, failure.kind, failure.server_text.clone()));
        }
    }
    let mut report = ctx.side_report(endpoint, outcome, tried, attempts);
    folders::apply(&mut report, listed);
    ctx.emit(
        Side::Imap,
        Step::Done,
        if report.is_ok() { StepStatus::Ok } else { StepStatus::Failed },
        &endpoint.host,
        endpoint.port,
        Some(report.kind()),
    );
    report
}

async fn run(
    ctx: &Ctx<'_>,
    endpoint: &Endpoint,
    usernames: &[String],
    secret: &Secret,
    attempts: &mut Vec<Attempt>,
    tried: &mut Option<String>,
    listed: &mut Option<Result<Folders, String>>,
) -> Result<String, Failure> {
    let (host, port) = (endpoint.host.as_str(), endpoint.port);
    let step = |step, status| ctx.emit(Side::Imap, step, status, host, port, None);
    let tcp = ctx.connect(Side::Imap, endpoint).await?;

    step(Step::Tls, StepStatus::Started);
    let tls = ctx.handshake(host, tcp).await.inspect_err(|_| step(Step::Tls, StepStatus::Failed))?;
    step(Step::Tls, StepStatus::Ok);

    step(Step::Greeting, StepStatus::Started);
    let mut client = async_imap::Client::new(tls);
    let greeting = ctx.within(Step::Greeting, client.read_response()).await.and_then(|read| match read {
        Ok(Some(response)) => check_greeting(response.parsed()),
        Ok(None) => Err(Failure::new(DiagnosisKind::ServerClosed, "the server closed the connection before its greeting")),
        Err(e) => Err(unreadable_greeting(&e)),
    });
    step(Step::Greeting, if greeting.is_ok() { StepStatus::Ok } else { StepStatus::Failed });
    greeting?;

    // At most two forms, whatever the preset says: one extra login attempt, never more.
    let forms = &usernames[..usernames.len().min(2)];
    for (i, username) in forms.iter().enumerate() {
        step(Step::Auth, StepStatus::Started);
        *tried = Some(username.clone());
        match ctx.within(Step::Auth, client.login(username, secret.expose())).await? {
            Ok(mut session) => {
                attempts.push(ctx.attempt(endpoint, Some(username), DiagnosisKind::Ok, None));
                step(Step::Auth, StepStatus::Ok);
                *listed = Some(folders::read(ctx, &mut session).await);
                let _ = tokio::time::timeout(LOGOUT_GRACE.min(ctx.remaining()), session.logout()).await;
                return Ok(username.clone());
            }
            Err((err, back)) => {
                let failure = classify::from_imap(&err);
                attempts.push(ctx.attempt(endpoint, Some(username), failure.kind, failure.server_text.clone()));
                step(Step::Auth, StepStatus::Failed);
                if failure.kind == DiagnosisKind::AuthRejected && i + 1 < forms.len() {
                    client = back;
                    continue;
                }
                return Err(failure);
            }
        }
    }
    Err(Failure::new(DiagnosisKind::AuthRejected, "no username to try"))
}

/// The first thing an IMAP server says must be an untagged OK (or PREAUTH); BYE means it turned us away.
fn check_greeting(parsed: &Response<'_>) -> Result<(), Failure> {
    match parsed {
        Response::Data { status: Status::Ok | Status::PreAuth, .. } => Ok(()),
        Response::Data { status: Status::Bye, outcome, .. } => Err(Failure::new(DiagnosisKind::ServerClosed, "the greeting was BYE")
            .with_server_text(outcome.information.as_ref().map(|i| i.to_string()))),
        other => Err(Failure::new(DiagnosisKind::ProtocolError, format!("unexpected greeting: {other:?}"))),
    }
}

/// async-imap reports bytes it cannot parse as an `Other` I/O error without a source: not an IMAP server.
fn unreadable_greeting(e: &std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::Other && classify::find_rustls(e).is_none() {
        return Failure::new(DiagnosisKind::ProtocolError, format!("not an IMAP greeting: {e}"));
    }
    classify::from_io(e)
}
