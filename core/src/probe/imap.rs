//! The IMAP side: TLS from the first byte (async-imap over tokio-rustls), the greeting, then LOGIN as the name
//! part and — only after the server refused it — once more as the full address on the same connection. Never more
//! than one extra login: Apple locks accounts that fail too often.

use async_imap::imap_proto::{Response, Status};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::classify::{self, Failure};
use super::login::{self, Login, LoginAnswer, Tries};
use super::{folders, Ctx, Side, SideReport, Step, StepStatus};
use crate::diagnosis::DiagnosisKind;
use crate::provider::Endpoint;
use crate::secret::Secret;

/// Logging out is a courtesy; it may not hold up the verdict for long.
const LOGOUT_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

pub(crate) async fn probe_imap(ctx: &Ctx<'_>, endpoint: &Endpoint, usernames: &[String], secret: &Secret) -> SideReport {
    let mut listed = None;
    let mut tries = match greeted(ctx, endpoint).await {
        Ok(client) => {
            let mut login = ImapLogin { client: Some(client), session: None, secret };
            let tries = login::with_each_form(ctx, Side::Imap, endpoint, usernames, &mut login).await;
            if let Some(mut session) = login.session.take() {
                // Signed in: the person's folders by role, from one LIST, then a courteous logout.
                listed = Some(folders::read(ctx, &mut session).await);
                let _ = tokio::time::timeout(LOGOUT_GRACE.min(ctx.remaining()), session.logout()).await;
            }
            tries
        }
        Err(failure) => Tries::failed_before_login(ctx, endpoint, failure),
    };
    // A login that got no answer at all before the deadline is a try of its own, with no username.
    if let (Err(failure), true) = (&tries.outcome, tries.attempts.is_empty()) {
        tries.attempts.push(ctx.attempt(endpoint, None, failure.kind, failure.server_text.clone()));
    }
    let mut report = ctx.side_report(endpoint, tries);
    folders::apply(&mut report, listed);
    ctx.done(Side::Imap, report)
}

type ImapClient = async_imap::Client<TlsStream<TcpStream>>;

/// Connects, secures and reads the greeting: a client ready to log in.
async fn greeted(ctx: &Ctx<'_>, endpoint: &Endpoint) -> Result<ImapClient, Failure> {
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
    greeting.map(|()| client)
}

/// LOGIN on one connection: async-imap hands the client back after a refusal, so the next form uses the same
/// connection; the session of a login that worked is kept for the logout.
struct ImapLogin<'a> {
    client: Option<ImapClient>,
    session: Option<async_imap::Session<TlsStream<TcpStream>>>,
    secret: &'a Secret,
}

impl Login for ImapLogin<'_> {
    async fn log_in(&mut self, username: &str) -> LoginAnswer {
        let Some(client) = self.client.take() else {
            return LoginAnswer::Refused(Failure::new(DiagnosisKind::ProtocolError, "the connection was lost during a login"));
        };
        match client.login(username, self.secret.expose()).await {
            Ok(session) => {
                self.session = Some(session);
                LoginAnswer::Accepted
            }
            Err((err, back)) => {
                self.client = Some(back);
                LoginAnswer::Refused(classify::from_imap(&err))
            }
        }
    }
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
