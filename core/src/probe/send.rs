//! The send test: one short message From the account's sender address To the same address over the verified SMTP
//! endpoint, waited for over IMAP (IDLE where offered, else a bounded poll; found by a unique header token) and then
//! removed — exactly that message, by UID (`UID EXPUNGE` where UIDPLUS is offered, else moved to the trash folder).
//! A green SMTP login does not prove the person can send: iCloud refuses a From address the account does not own.
//!
//! Nothing is sent before the IMAP side is signed in and watching the inbox, so a message that is sent can always be
//! found and removed. Cancellation is dropping the future (both sides run inside it, nothing is spawned). The
//! password goes to the servers only after TLS is up, and is never logged or part of a report.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::TryStreamExt as _;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use ts_rs::TS;

use super::classify::{self, Failure};
use super::{dns, imap, smtp, Ctx, DnsConfig, PendingTls, ProbeEvent, Side, StepStatus};
use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::lang::Lang;
use crate::secret::Secret;

/// The header that carries the message's token; the IMAP search looks for it and nothing else is ever touched.
pub const TOKEN_HEADER: &str = "X-iCloud-Mail-Setup-Test";

/// How long the send test may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendTimeouts {
    /// One TCP connect (and one DNS lookup).
    pub connect: Duration,
    /// Both connections up and signed in, and the message handed over (as the connection test's deadline).
    pub send: Duration,
    /// From the server's acceptance of the message to its arrival in the inbox.
    pub arrival: Duration,
    /// Removing the message once found.
    pub removal: Duration,
}

impl Default for SendTimeouts {
    fn default() -> Self {
        SendTimeouts {
            connect: Duration::from_secs(4),
            send: Duration::from_secs(9),
            arrival: Duration::from_secs(30),
            removal: Duration::from_secs(9),
        }
    }
}

/// Everything a send test needs besides the password: the verified account (its endpoints, usernames and folders).
#[derive(Clone, Debug)]
pub struct SendRequest {
    pub account: Account,
    pub extra_ca_pem: Option<Vec<u8>>,
    pub timeouts: SendTimeouts,
    pub dns: DnsConfig,
    /// The language of the message's subject and body.
    pub lang: Lang,
}

impl SendRequest {
    pub fn new(account: Account, lang: Lang) -> SendRequest {
        SendRequest { account, extra_ca_pem: None, timeouts: SendTimeouts::default(), dns: DnsConfig::System, lang }
    }
}

/// A step of the send test, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SendStep {
    /// The server accepted the message for delivery.
    Sent,
    /// It was found in the inbox.
    Arrived,
    /// It was removed again.
    Removed,
}

/// One step as it happens. `elapsed_ms` counts from the start of the send test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendEvent {
    pub step: SendStep,
    pub status: StepStatus,
    pub elapsed_ms: u64,
}

/// The send test's verdict: `ok`, `sender_rejected`, `message_refused`, `message_not_received`, `message_left`, or a
/// transport kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendReport {
    pub diagnosis: Diagnosis,
    /// Milliseconds from the start to the verdict.
    pub elapsed_ms: u64,
    /// The server's own words, if it gave any (its refusal of the sender or the message).
    pub server_text: Option<String>,
    /// When the server accepted the message, the message arrived, and it was removed (ms from the start).
    pub sent_ms: Option<u64>,
    pub arrived_ms: Option<u64>,
    pub removed_ms: Option<u64>,
}

impl SendReport {
    pub fn kind(&self) -> DiagnosisKind {
        self.diagnosis.kind
    }

    pub fn is_ok(&self) -> bool {
        self.kind() == DiagnosisKind::Ok
    }
}

type Session = async_imap::Session<TlsStream<TcpStream>>;

/// Sends one message to the account's own address and waits for it, as described above. Always returns a report
/// within the sum of the timeouts (plus a few milliseconds).
pub async fn send_test(request: &SendRequest, secret: &Secret, on_event: &(dyn Fn(SendEvent) + Send + Sync)) -> SendReport {
    let started = Instant::now();
    let timeouts = request.timeouts;
    let tls = PendingTls::start(request.extra_ca_pem.clone());
    let lookup = dns::Lookup::new(&request.dns, timeouts.connect.min(Duration::from_secs(3)));
    let quiet = |_: ProbeEvent| {};
    let ctx = Ctx { started, deadline: started + timeouts.send, connect_timeout: timeouts.connect, tls, lookup: &lookup, on_event: &quiet };
    let account = &request.account;
    let address = account.address.address.clone();
    let token = uuid::Uuid::new_v4().simple().to_string();
    // Dropped after "Sent" and before a verdict (the person cancelled), the run still makes one bounded attempt to
    // remove the message.
    let left_behind = RemovalOnCancel::new(request, secret, &token);
    let on_event = &|event: SendEvent| {
        left_behind.see(&event);
        on_event(event)
    };
    let mut run = Run { started, on_event, address: address.clone(), sent_ms: None, arrived_ms: None, removed_ms: None };

    // Both sides signed in at once; the IMAP side also selects the inbox and starts watching it. The first side that
    // fails ends both: the other is dropped (its connection closed) rather than waited for until the deadline.
    let (mut watch, mut sender) = match tokio::try_join!(watch_inbox(&ctx, account, secret), ready_to_send(&ctx, account, secret)) {
        Ok(both) => both,
        Err(failure) => return run.failed(failure),
    };

    let message = compose(account, request.lang, &token);
    if let Err(Refused { failure, command }) = send(&ctx, &mut sender, &address, &message).await {
        run.event(SendStep::Sent, StepStatus::Failed);
        let facts = Facts { command: Some(command.to_owned()), ..Facts::default() };
        return run.verdict(failure.kind, facts, Some(failure.detail), failure.server_text);
    }
    drop(sender);
    run.sent_ms = Some(run.event(SendStep::Sent, StepStatus::Ok));

    let arrival = Instant::now() + timeouts.arrival;
    let uids = match tokio::time::timeout_at(arrival.into(), watch.wait_for(&token, arrival)).await {
        Ok(Ok(uids)) if !uids.is_empty() => uids,
        Ok(Err(failure)) => {
            run.event(SendStep::Arrived, StepStatus::Failed);
            return run.failed(failure);
        }
        _ => {
            run.event(SendStep::Arrived, StepStatus::Failed);
            let facts = Facts { seconds: Some(timeouts.arrival.as_secs().max(1) as u32), ..Facts::default() };
            return run.verdict(DiagnosisKind::MessageNotReceived, facts, Some(format!("no message with {TOKEN_HEADER}: {token}")), None);
        }
    };
    run.arrived_ms = Some(run.event(SendStep::Arrived, StepStatus::Ok));
    if uids.len() > 1 {
        // Each of them carries exactly this test's token: which one is ours cannot be told, so none is touched.
        run.event(SendStep::Removed, StepStatus::Failed);
        let detail = format!("{} messages carry {TOKEN_HEADER}: {token}; none was removed", uids.len());
        return run.verdict(DiagnosisKind::MessageLeft, Facts::default(), Some(detail), None);
    }

    let removal = tokio::time::timeout(timeouts.removal, watch.remove(&uids, account.folders.trash.as_deref())).await;
    match removal {
        Ok(Ok(())) => {
            // The connection is dropped without LOGOUT, as the SMTP side is: the verdict is known.
            run.removed_ms = Some(run.event(SendStep::Removed, StepStatus::Ok));
            run.verdict(DiagnosisKind::Ok, Facts::default(), None, None)
        }
        Ok(Err(failure)) => {
            run.event(SendStep::Removed, StepStatus::Failed);
            run.failed(failure)
        }
        Err(_) => {
            run.event(SendStep::Removed, StepStatus::Failed);
            run.failed(Failure::new(DiagnosisKind::Timeout, "no answer while removing the test message"))
        }
    }
}

/// Whether a sent message may be left in the inbox without a verdict saying so: armed by the "Sent" event, disarmed
/// by the events every verdict after it is preceded by ("Arrived" failed, or any "Removed"). Dropped armed, it
/// spawns `remove_left_behind` on the running runtime; it needs nothing from the dropped run.
struct RemovalOnCancel {
    armed: std::sync::atomic::AtomicBool,
    request: SendRequest,
    secret: Secret,
    token: String,
}

impl RemovalOnCancel {
    fn new(request: &SendRequest, secret: &Secret, token: &str) -> RemovalOnCancel {
        let armed = std::sync::atomic::AtomicBool::new(false);
        RemovalOnCancel { armed, request: request.clone(), secret: secret.clone(), token: token.to_owned() }
    }

    fn see(&self, event: &SendEvent) {
        let armed = match (event.step, event.status) {
            (SendStep::Sent, StepStatus::Ok) => true,
            (SendStep::Arrived, StepStatus::Failed) | (SendStep::Removed, _) => false,
            _ => return,
        };
        self.armed.store(armed, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for RemovalOnCancel {
    fn drop(&mut self) {
        if !self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (request, secret, token) = (self.request.clone(), self.secret.clone(), std::mem::take(&mut self.token));
        runtime.spawn(async move {
            let bound = request.timeouts.send + request.timeouts.removal;
            let _ = tokio::time::timeout(bound, remove_left_behind(&request, &secret, &token)).await;
        });
    }
}

/// One attempt to remove the message carrying `token` after its run was dropped: a connection of its own, a wait of
/// at most the removal time for the message, and the removal when exactly one message carries the token.
async fn remove_left_behind(request: &SendRequest, secret: &Secret, token: &str) -> Result<(), Failure> {
    let started = Instant::now();
    let timeouts = request.timeouts;
    let lookup = dns::Lookup::new(&request.dns, timeouts.connect.min(Duration::from_secs(3)));
    let quiet = |_: ProbeEvent| {};
    let tls = PendingTls::start(request.extra_ca_pem.clone());
    let ctx = Ctx { started, deadline: started + timeouts.send, connect_timeout: timeouts.connect, tls, lookup: &lookup, on_event: &quiet };
    let mut watch = watch_inbox(&ctx, &request.account, secret).await?;
    let uids = watch.wait_for(token, Instant::now() + timeouts.removal).await?;
    if uids.len() != 1 {
        return Ok(());
    }
    watch.remove(&uids, request.account.folders.trash.as_deref()).await
}

/// The state of one run: the times of its steps.
struct Run<'a> {
    started: Instant,
    on_event: &'a (dyn Fn(SendEvent) + Send + Sync),
    address: String,
    sent_ms: Option<u64>,
    arrived_ms: Option<u64>,
    removed_ms: Option<u64>,
}

impl Run<'_> {
    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn event(&self, step: SendStep, status: StepStatus) -> u64 {
        let elapsed_ms = self.elapsed_ms();
        (self.on_event)(SendEvent { step, status, elapsed_ms });
        elapsed_ms
    }

    fn failed(&self, failure: Failure) -> SendReport {
        self.verdict(failure.kind, Facts::default(), Some(failure.detail), failure.server_text)
    }

    fn verdict(&self, kind: DiagnosisKind, facts: Facts, detail: Option<String>, server_text: Option<String>) -> SendReport {
        let facts = Facts { address: Some(self.address.clone()), ..facts };
        SendReport {
            diagnosis: Diagnosis::new(kind, facts, detail),
            elapsed_ms: self.elapsed_ms(),
            server_text,
            sent_ms: self.sent_ms,
            arrived_ms: self.arrived_ms,
            removed_ms: self.removed_ms,
        }
    }
}

/// The inbox, selected and watched.
struct Watch {
    /// The session, or the IDLE that holds it (async-imap takes the session by value and gives it back); None only
    /// in between, and after an error (the run then ends with that error).
    session: Option<Session>,
    idling: Option<async_imap::extensions::idle::Handle<TlsStream<TcpStream>>>,
    idle: bool,
    uidplus: bool,
    moves: bool,
}

/// Signs in over IMAP with the username the test proved, reads the capabilities and selects the inbox.
async fn watch_inbox(ctx: &Ctx<'_>, account: &Account, secret: &Secret) -> Result<Watch, Failure> {
    let client = imap::greeted(ctx, &account.provider.imap).await?;
    let username = account.imap_username();
    let mut session = match ctx.within(super::Step::Auth, client.login(&username, secret.expose())).await? {
        Ok(session) => session,
        Err((err, _)) => return Err(classify::from_imap(&err)),
    };
    let capabilities = ctx.within_command("CAPABILITY", session.capabilities()).await?.map_err(|e| imap_failure(&e, "CAPABILITY"))?;
    let (idle, uidplus, moves) = (capabilities.has_str("IDLE"), capabilities.has_str("UIDPLUS"), capabilities.has_str("MOVE"));
    let inbox = account.folders.inbox.clone().unwrap_or_else(|| "INBOX".to_owned());
    ctx.within_command("SELECT", session.select(&inbox)).await?.map_err(|e| imap_failure(&e, "SELECT"))?;
    Ok(Watch { session: Some(session), idling: None, idle, uidplus, moves })
}

fn lost() -> Failure {
    Failure::new(DiagnosisKind::ServerClosed, "the IMAP connection was lost while waiting")
}

/// The longest one IDLE waits before the inbox is searched again.
const IDLE_AT_MOST: Duration = Duration::from_secs(5);

/// How often the inbox is searched on a server without IDLE.
const POLL_EVERY: Duration = Duration::from_millis(500);

impl Watch {
    fn session(&mut self) -> Result<&mut Session, Failure> {
        self.session.as_mut().ok_or_else(lost)
    }

    async fn start_idle(&mut self) -> Result<(), Failure> {
        let mut handle = self.session.take().ok_or_else(lost)?.idle();
        handle.init().await.map_err(|e| imap_failure(&e, "IDLE"))?;
        self.idling = Some(handle);
        Ok(())
    }

    /// Waits in IDLE until the server tells of a change or `limit` passes, then ends the IDLE.
    async fn idle_wait(&mut self, limit: Duration) -> Result<(), Failure> {
        let Some(mut handle) = self.idling.take() else { return Ok(()) };
        let (wait, stop) = handle.wait_with_timeout(limit);
        // Any news (EXISTS, RECENT, FETCH) ends the wait, as does the limit.
        let woke = wait.await;
        drop(stop);
        self.session = Some(handle.done().await.map_err(|e| imap_failure(&e, "DONE"))?);
        woke.map(|_| ()).map_err(|e| imap_failure(&e, "IDLE"))
    }

    /// The UIDs of the message carrying `token`, as soon as it is in the inbox; empty when `until` passed first.
    /// The inbox is brought up to date (NOOP: Dovecot's SEARCH alone does not see new mail) and searched at once —
    /// many servers have delivered the message by the time they accept it — and then after each change the server
    /// tells of in IDLE (renewed at least every `IDLE_AT_MOST`, in case a server told of the message before its IDLE
    /// continuation), or every `POLL_EVERY` on a server without IDLE.
    async fn wait_for(&mut self, token: &str, until: Instant) -> Result<HashSet<u32>, Failure> {
        let query = format!("HEADER {TOKEN_HEADER} {token}");
        loop {
            self.session()?.noop().await.map_err(|e| imap_failure(&e, "NOOP"))?;
            let candidates = self.session()?.uid_search(&query).await.map_err(|e| imap_failure(&e, "UID SEARCH"))?;
            let found = self.carrying(&candidates, token).await?;
            let left = until.saturating_duration_since(Instant::now());
            if !found.is_empty() || left.is_zero() {
                return Ok(found);
            }
            if self.idle {
                self.start_idle().await?;
                self.idle_wait(left.min(IDLE_AT_MOST)).await?;
            } else {
                tokio::time::sleep(POLL_EVERY.min(left)).await;
            }
        }
    }

    /// Of the messages `candidates` (what the server's search returned), those whose own token header is exactly
    /// `token`: a server or proxy that matches unknown headers loosely may return any message, and only the test's
    /// own may be removed.
    async fn carrying(&mut self, candidates: &HashSet<u32>, token: &str) -> Result<HashSet<u32>, Failure> {
        if candidates.is_empty() {
            return Ok(HashSet::new());
        }
        let set = uid_set(candidates);
        let session = self.session()?;
        let fetches = session
            .uid_fetch(&set, format!("BODY.PEEK[HEADER.FIELDS ({TOKEN_HEADER})]"))
            .await
            .map_err(|e| imap_failure(&e, "UID FETCH"))?;
        let fetches: Vec<_> = fetches.try_collect().await.map_err(|e| imap_failure(&e, "UID FETCH"))?;
        Ok(fetches
            .iter()
            .filter_map(|fetch| Some((fetch.uid?, fetch.header()?)))
            .filter(|(uid, header)| candidates.contains(uid) && carries_token(header, token))
            .map(|(uid, _)| uid)
            .collect())
    }

    /// Removes exactly the messages `uids`: `UID EXPUNGE` with UIDPLUS, else moved (or copied and flagged deleted)
    /// into the trash folder. A plain EXPUNGE is never sent: it would remove whatever else is marked deleted.
    async fn remove(&mut self, uids: &HashSet<u32>, trash: Option<&str>) -> Result<(), Failure> {
        let set = uid_set(uids);
        let (uidplus, moves) = (self.uidplus, self.moves);
        let session = self.session()?;
        if uidplus {
            let flagged = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await.map_err(|e| imap_failure(&e, "UID STORE"))?;
            flagged.try_collect::<Vec<_>>().await.map_err(|e| imap_failure(&e, "UID STORE"))?;
            let expunged = session.uid_expunge(&set).await.map_err(|e| imap_failure(&e, "UID EXPUNGE"))?;
            expunged.try_collect::<Vec<_>>().await.map_err(|e| imap_failure(&e, "UID EXPUNGE"))?;
            return Ok(());
        }
        let Some(trash) = trash else {
            return Err(Failure::new(
                DiagnosisKind::ProtocolError,
                "the server offers neither UIDPLUS nor a trash folder: the test message was left in the inbox",
            ));
        };
        // The name as the server knows it: modified UTF-7, as LIST sent it (the account holds it decoded).
        let trash = &super::folders::encode_modified_utf7(trash);
        if moves {
            return session.uid_mv(&set, trash).await.map_err(|e| imap_failure(&e, "UID MOVE"));
        }
        session.uid_copy(&set, trash).await.map_err(|e| imap_failure(&e, "UID COPY"))?;
        let flagged = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await.map_err(|e| imap_failure(&e, "UID STORE"))?;
        flagged.try_collect::<Vec<_>>().await.map_err(|e| imap_failure(&e, "UID STORE"))?;
        Ok(())
    }
}

/// `1,5,7`: a UID set, in order.
fn uid_set(uids: &HashSet<u32>) -> String {
    let mut sorted: Vec<u32> = uids.iter().copied().collect();
    sorted.sort_unstable();
    sorted.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Whether a message's header fields (as `BODY[HEADER.FIELDS (TOKEN_HEADER)]` returns them) hold a token header
/// whose value is exactly `token` (unfolded, outer blanks aside).
fn carries_token(header: &[u8], token: &str) -> bool {
    let text = String::from_utf8_lossy(header).replace("\r\n ", " ").replace("\r\n\t", " ");
    text.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .any(|(name, value)| name.trim().eq_ignore_ascii_case(TOKEN_HEADER) && value.trim() == token)
}

/// A failed IMAP command after the login: its kind from the error, named after the command.
fn imap_failure(err: &async_imap::error::Error, command: &str) -> Failure {
    use async_imap::error::Error;
    match err {
        Error::No(text) | Error::Bad(text) => {
            Failure::new(DiagnosisKind::ProtocolError, format!("{command} was refused")).with_server_text(Some(classify::imap_words(text)))
        }
        other => {
            let failure = classify::from_imap(other);
            Failure { detail: format!("{command}: {}", failure.detail), ..failure }
        }
    }
}

/// Connects and signs in over SMTP with the username the test proved: a connection ready for MAIL FROM.
async fn ready_to_send(ctx: &Ctx<'_>, account: &Account, secret: &Secret) -> Result<smtp::Secured, Failure> {
    let endpoint = &account.provider.smtp;
    let tcp = ctx.connect(Side::Smtp, endpoint).await?;
    let mut secured = smtp::secured(ctx, endpoint, tcp).await?;
    let Some(mechanism) = secured.info.get_auth_mechanism(&[
        lettre::transport::smtp::authentication::Mechanism::Plain,
        lettre::transport::smtp::authentication::Mechanism::Login,
    ]) else {
        return Err(Failure::new(DiagnosisKind::ProtocolError, "the server offers no password login (AUTH PLAIN or LOGIN)"));
    };
    let username = account.smtp_username();
    match ctx.within(super::Step::Auth, smtp::authenticate(&mut secured.conn, mechanism, &username, secret)).await? {
        Ok(true) => Ok(secured),
        Ok(false) => Err(Failure::new(DiagnosisKind::ProtocolError, "the server kept asking for more during AUTH")),
        Err(err) => Err(secured.stream.explain(classify::from_smtp(&err, true))),
    }
}

/// A refusal (or a failure) while handing the message over, and the command it answered.
struct Refused {
    failure: Failure,
    /// `MAIL FROM`, `RCPT TO`, `DATA` or `end of DATA` (the reply to the message itself).
    command: &'static str,
}

/// MAIL FROM, RCPT TO, DATA and the message, each within the send deadline. A permanent refusal is
/// `sender_rejected` when it refuses the sender (see `refusal_kind`), else `message_refused`; either way with the
/// server's words and the command it answered. The message is always 7-bit (`compose`), so no BODY parameter.
async fn send(ctx: &Ctx<'_>, sender: &mut smtp::Secured, address: &str, message: &[u8]) -> Result<(), Refused> {
    let from: lettre::Address = address.parse().map_err(|e| Refused {
        failure: Failure::new(DiagnosisKind::ProtocolError, format!("{address:?} cannot be sent from: {e}")),
        command: "MAIL FROM",
    })?;
    let stream = &sender.stream;
    let conn = &mut sender.conn;
    let refused = |command: &'static str| {
        move |err: lettre::transport::smtp::Error| {
            let failure = stream.explain(classify::from_smtp(&err, false));
            let failure = if err.status().is_some() && err.is_permanent() {
                Failure { kind: refusal_kind(command, failure.server_text.as_deref(), address), ..failure }
            } else {
                failure
            };
            Refused { failure, command }
        }
    };
    let late = |command: &'static str| move |failure: Failure| Refused { failure, command };
    ctx.within_command("MAIL FROM", conn.command(Mail::new(Some(from.clone()), Vec::new())))
        .await
        .map_err(late("MAIL FROM"))?
        .map_err(refused("MAIL FROM"))?;
    ctx.within_command("RCPT TO", conn.command(Rcpt::new(from, Vec::new()))).await.map_err(late("RCPT TO"))?.map_err(refused("RCPT TO"))?;
    ctx.within_command("DATA", conn.command(Data)).await.map_err(late("DATA"))?.map_err(refused("DATA"))?;
    ctx.within_command("end of DATA", conn.message(message)).await.map_err(late("end of DATA"))?.map_err(refused("end of DATA"))?;
    Ok(())
}

/// What a permanent (5xx) refusal of `command` means. `sender_rejected` only for a refusal of the sender: any
/// refusal of MAIL FROM, or a policy refusal (enhanced status 5.7.x) whose words name the sender's address, wherever
/// the server makes its check (some check the From address only at the end of DATA). Every other refusal — a
/// recipient, the size, the content — is `message_refused`: telling the person to fix their sender address would
/// send them after the wrong fix.
fn refusal_kind(command: &str, server_text: Option<&str>, sender: &str) -> DiagnosisKind {
    if command == "MAIL FROM" {
        return DiagnosisKind::SenderRejected;
    }
    let text = server_text.unwrap_or_default().to_lowercase();
    // `550 5.7.1 <x>: …`: the enhanced status code (RFC 3463) follows the reply code; a relay in between may put its
    // own generic one in front (`550 5.0.0 5.7.1 …`), so every code before the words counts.
    let is_code =
        |word: &str| word.split('.').count() == 3 && word.split('.').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let policy = text.split_whitespace().skip(1).take_while(|w| is_code(w)).any(|code| code.starts_with("5.7."));
    if policy && text.contains(&sender.to_lowercase()) {
        DiagnosisKind::SenderRejected
    } else {
        DiagnosisKind::MessageRefused
    }
}

/// The test message: From and To the sender address, the subject and body in `lang`, the token in its own header.
/// All of it 7-bit (encoded words, base64), so any server takes it.
pub fn compose(account: &Account, lang: Lang, token: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let address = &account.address.address;
    let facts = Facts { address: Some(address.clone()), ..Facts::default() };
    let subject = lang.text("send_test.subject", &facts);
    let body = lang.text("send_test.body", &facts).replace('\n', "\r\n");
    // Folded encoded words: a long name (up to 10,000 characters) stays within the 998-character line limit.
    let encoded_word = |text: &str| crate::encoded_words::encoded_words(text, "\r\n ");
    let from = match &account.display_name {
        Some(name) => format!("{}\r\n <{address}>", encoded_word(name)),
        None => address.clone(),
    };
    let domain = account.address.address.rsplit('@').next().unwrap_or("localhost");
    let encoded_body = b64.encode(body.as_bytes());
    let mut lines = String::new();
    for chunk in encoded_body.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        lines.push_str("\r\n");
    }
    format!(
        "From: {from}\r\nTo: {address}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{token}@{domain}>\r\n{TOKEN_HEADER}: {token}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{lines}",
        encoded_word(&subject),
        rfc5322_date(std::time::SystemTime::now()),
    )
    .into_bytes()
}

/// `Sun, 29 Nov 2026 02:42:14 +0000` (UTC: the message says no more about where the person is).
fn rfc5322_date(now: std::time::SystemTime) -> String {
    let secs = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    #[test]
    fn only_the_exact_token_counts() {
        let field = |value: &str| format!("{TOKEN_HEADER}: {value}\r\n\r\n").into_bytes();
        assert!(carries_token(&field("abc123"), "abc123"));
        assert!(carries_token(b"x-icloud-mail-setup-test:\r\n abc123\r\n\r\n", "abc123"), "folded, any case");
        for other in ["abc1234", "abc12", "xabc123", "abc123 abc123", ""] {
            assert!(!carries_token(&field(other), "abc123"), "{other}");
        }
        assert!(!carries_token(b"\r\n", "abc123"), "a message without the header");
    }

    #[test]
    fn a_long_name_is_folded_and_reads_back_whole() {
        let name: String = "Jäne Doe ".repeat(250).trim_end().to_owned();
        assert!(name.chars().count() > 2000);
        let account = Account::new(Address::parse("jane@icloud.com").unwrap(), None, Some(name.clone())).unwrap();
        let message = compose(&account, Lang::En, "abc123");
        let text = String::from_utf8(message.clone()).unwrap();
        assert!(text.split("\r\n").all(|line| line.len() <= 78), "every line within 78 characters");
        let parsed = mail_parser::MessageParser::default().parse(&message).unwrap();
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!((from.name(), from.address()), (Some(name.as_str()), Some("jane@icloud.com")));
        assert_eq!(parsed.header_raw(TOKEN_HEADER).map(str::trim), Some("abc123"));
    }

    #[test]
    fn only_a_refusal_of_the_sender_is_sender_rejected() {
        let jane = "Jane@iCloud.com";
        let kind = |command, text: &str| refusal_kind(command, Some(text), jane);
        // MAIL FROM refused, whatever the words.
        assert_eq!(kind("MAIL FROM", "550 5.7.1 <jane@icloud.com>: sender address rejected"), DiagnosisKind::SenderRejected);
        assert_eq!(kind("MAIL FROM", "553 mailbox name not allowed"), DiagnosisKind::SenderRejected);
        // The message refused for its size, or a recipient refused: not the sender's fault.
        assert_eq!(kind("end of DATA", "552 5.3.4 Message size exceeds fixed maximum message size"), DiagnosisKind::MessageRefused);
        assert_eq!(kind("RCPT TO", "550 5.1.1 <jane@icloud.com>: mailbox unavailable"), DiagnosisKind::MessageRefused);
        assert_eq!(kind("DATA", "554 5.5.1 No valid recipients"), DiagnosisKind::MessageRefused);
        // A policy refusal that names the sender, where the server checks it late.
        assert_eq!(kind("end of DATA", "550 5.7.1 <jane@icloud.com>: sender address rejected"), DiagnosisKind::SenderRejected);
        assert_eq!(kind("RCPT TO", "554 5.7.1 sender jane@icloud.com not allowed"), DiagnosisKind::SenderRejected);
        assert_eq!(kind("end of DATA", "550 5.0.0 5.7.1 <jane@icloud.com>: sender address rejected"), DiagnosisKind::SenderRejected);
        // Words that merely mention 5.7.1 are not a code.
        assert_eq!(kind("end of DATA", "552 size too big for jane@icloud.com, see 5.7.1"), DiagnosisKind::MessageRefused);
        // A policy refusal that names someone else, or no one.
        assert_eq!(kind("end of DATA", "554 5.7.1 Message rejected as spam"), DiagnosisKind::MessageRefused);
        assert_eq!(refusal_kind("RCPT TO", None, jane), DiagnosisKind::MessageRefused);
    }

    #[test]
    fn dates_are_rfc5322() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_795_920_134);
        assert_eq!(rfc5322_date(t), "Sun, 29 Nov 2026 02:42:14 +0000");
        assert_eq!(rfc5322_date(std::time::UNIX_EPOCH + Duration::from_secs(951_782_400)), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn the_message_carries_its_token_and_words_in_the_chosen_language() {
        let address = Address::parse("jane@icloud.com").unwrap();
        let account = Account::new(address, None, Some("Jäne Doe".into())).unwrap();
        let en = String::from_utf8(compose(&account, Lang::En, "abc123")).unwrap();
        assert!(en.is_ascii());
        assert!(en.contains("\r\nX-iCloud-Mail-Setup-Test: abc123\r\n"), "{en}");
        assert!(en.contains("\r\nTo: jane@icloud.com\r\n") && en.contains("<jane@icloud.com>\r\n"), "{en}");
        let de = String::from_utf8(compose(&account, Lang::De, "abc123")).unwrap();
        let body = |m: &str| {
            let encoded: String = m.split("\r\n\r\n").nth(1).unwrap().split("\r\n").collect();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap()
        };
        assert!(body(&en).contains("iCloud Mail Setup") && body(&en).contains("jane@icloud.com"));
        assert_ne!(body(&en), body(&de));
        assert_eq!(
            body(&de).replace("\r\n", "\n"),
            Lang::De.text("send_test.body", &Facts { address: Some("jane@icloud.com".into()), ..Facts::default() })
        );
    }
}
