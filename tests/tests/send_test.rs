//! The send test (a message to oneself) against a real Dovecot on loopback whose relay refuses senders the user does
//! not own, as iCloud does: through the core API and through the command line. Nothing here talks to anything but
//! 127.0.0.1.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icloud_mail_core::diagnosis::DiagnosisKind;
use icloud_mail_core::probe::send::{send_test, SendEvent, SendReport, SendRequest, SendStep, SendTimeouts};
use icloud_mail_core::probe::{probe, DnsConfig, ProbeRequest, StepStatus, Timeouts};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Lang, Secret};
use icloud_mail_tests::ca::TestCa;
use icloud_mail_tests::dns::TestDns;
use icloud_mail_tests::dovecot::{Dovecot, Folder, MailUser, RelayStage, Setup};
use icloud_mail_tests::fault::{Fault, FaultServer};
use icloud_mail_tests::imap_proxy::LooseSearch;

const PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const JANE: &str = "jane@icloud.com";

fn server(setup: Setup, address: &str) -> Dovecot {
    Dovecot::start_with(&[MailUser::new(address, PASSWORD)], setup.refusing_foreign_senders(), TestCa::new()).expect("start Dovecot")
}

/// The account as a passed connection test left it (`verified::account_from_report`), for `address` signing in as `login`.
fn verified(server: &Dovecot, address: &str, login: Option<&str>) -> Account {
    let account = Account::new(Address::parse(address).unwrap(), login.map(|l| Address::parse(l).unwrap()), Some("Jane Doe".into()))
        .unwrap()
        .with_servers(
            Some(Endpoint::new(server.host(), server.imaps_port, Security::Tls)),
            Some(Endpoint::new(server.host(), server.submission_port, Security::Starttls)),
            None,
        );
    let mut request = ProbeRequest::new(account.clone());
    request.extra_ca_pem = Some(server.ca().ca_pem().as_bytes().to_vec());
    request.timeouts = Timeouts::with_overall(Duration::from_secs(9));
    // A custom domain's MX check goes to a loopback name server that knows nothing (never to the real DNS).
    let dns = TestDns::start(&[]);
    request.dns = DnsConfig::Servers(vec![dns.addr()]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report = runtime.block_on(probe(&request, &Secret::new(PASSWORD.to_owned()), &|_| {}));
    assert!(report.is_ok(), "{report:#?}\n{}", server.log());
    icloud_mail_core::verified::account_from_report(account, &report).expect("the test's settings")
}

/// Runs the send test on its own runtime: the report, the events, how long it took, tasks still alive after.
fn run(server: &Dovecot, account: Account, timeouts: SendTimeouts) -> (SendReport, Vec<SendEvent>, Duration, usize) {
    run_trusting(server.ca(), account, timeouts)
}

/// `run` for servers whose certificates come from `ca`.
fn run_trusting(ca: &TestCa, account: Account, timeouts: SendTimeouts) -> (SendReport, Vec<SendEvent>, Duration, usize) {
    let mut request = SendRequest::new(account, Lang::En);
    request.extra_ca_pem = Some(ca.ca_pem().as_bytes().to_vec());
    request.timeouts = timeouts;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let started = Instant::now();
    let report = runtime.block_on(send_test(&request, &Secret::new(PASSWORD.to_owned()), &move |e| sink.lock().unwrap().push(e)));
    let took = started.elapsed();
    let alive = runtime.metrics().num_alive_tasks();
    let events = events.lock().unwrap().clone();
    (report, events, took, alive)
}

fn steps(events: &[SendEvent]) -> Vec<(SendStep, StepStatus)> {
    events.iter().map(|e| (e.step, e.status)).collect()
}

/// What a folder holds, as a sorted list of whole messages.
fn contents(server: &Dovecot, address: &str, folder: &str) -> Vec<Vec<u8>> {
    let mut messages = server.folder_messages(address, folder);
    messages.sort();
    messages
}

#[test]
fn the_round_trip_for_the_own_address_succeeds_and_leaves_the_inbox_as_it_was() {
    let server = server(Setup::icloud_like(), JANE);
    deliver_one_to_keep(&server);
    let account = verified(&server, JANE, None);
    let (inbox, trash) = (contents(&server, JANE, "INBOX"), contents(&server, JANE, "Deleted Messages"));

    let (report, events, _, alive) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(
        steps(&events),
        [(SendStep::Sent, StepStatus::Ok), (SendStep::Arrived, StepStatus::Ok), (SendStep::Removed, StepStatus::Ok)]
    );
    let (sent, arrived, removed) = (report.sent_ms.unwrap(), report.arrived_ms.unwrap(), report.removed_ms.unwrap());
    assert!(sent <= arrived && arrived <= removed && removed <= report.elapsed_ms, "{report:#?}");
    assert_eq!(alive, 0, "nothing outlives the send test");
    // The message went through the relay and came back; it is gone again, and nothing else changed.
    assert_eq!((server.relay_transactions(), server.relayed(), server.relay_refused()), (1, 1, 0));
    assert_eq!(contents(&server, JANE, "INBOX"), inbox, "the inbox is as it was");
    assert_eq!(contents(&server, JANE, "Deleted Messages"), trash, "the message was expunged, not moved");
}

#[test]
fn a_custom_domain_sender_with_the_primary_login_is_sender_rejected_with_the_servers_words() {
    let server = server(Setup::icloud_like(), "jane.doe@icloud.com");
    let account = verified(&server, "jane@family.example", Some("jane.doe@icloud.com"));
    let inbox = contents(&server, "jane.doe@icloud.com", "INBOX");

    let (report, events, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::SenderRejected, "{report:#?}\n{}", server.log());
    assert_eq!(report.diagnosis.facts.command.as_deref(), Some("MAIL FROM"));
    let said = report.server_text.clone().unwrap_or_default();
    assert!(said.contains("sender address rejected: not one of your addresses") && said.starts_with("550"), "{report:#?}");
    assert_eq!(steps(&events), [(SendStep::Sent, StepStatus::Failed)]);
    assert_eq!((report.sent_ms, report.arrived_ms), (None, None));
    assert_eq!((server.relay_refused(), server.relayed()), (1, 0));
    assert_eq!(contents(&server, "jane.doe@icloud.com", "INBOX"), inbox);
    // The words: who was refused, and that the primary address always works.
    assert!(report.diagnosis.message(Lang::En).contains("jane@family.example"), "{}", report.diagnosis.message(Lang::En));
    assert!(report.diagnosis.hint(Lang::En).contains("primary iCloud address"));
    assert!(report.diagnosis.hint(Lang::De).contains("primäre iCloud-Adresse"));
}

#[test]
fn a_relay_that_accepts_and_never_delivers_gives_message_not_received_by_the_deadline() {
    let server = server(Setup::icloud_like().never_delivering(), JANE);
    let account = verified(&server, JANE, None);
    let timeouts = SendTimeouts { arrival: Duration::from_secs(2), ..SendTimeouts::default() };

    let (report, events, took, alive) = run(&server, account, timeouts);
    assert_eq!(report.kind(), DiagnosisKind::MessageNotReceived, "{report:#?}\n{}", server.log());
    assert_eq!(steps(&events), [(SendStep::Sent, StepStatus::Ok), (SendStep::Arrived, StepStatus::Failed)]);
    let sent = report.sent_ms.unwrap();
    // Waited the whole arrival time after sending, and not much longer.
    assert!(report.elapsed_ms >= sent + 2000 && took < Duration::from_millis(sent + 3500), "{report:#?} took {took:?}");
    assert_eq!(alive, 0);
    assert_eq!((server.relay_transactions(), server.relayed()), (1, 0));
    assert!(report.diagnosis.message(Lang::En).contains("2 seconds"), "{}", report.diagnosis.message(Lang::En));
}

/// What the one IMAP session that watched for the test message sent after its login (Dovecot's rawlog), as the
/// commands that matter here: `SEARCH` (a UID SEARCH for the token), `IDLE`, `DONE`.
fn watching_commands(server: &Dovecot) -> Vec<&'static str> {
    let logs = server.imap_rawlogs();
    let watching: Vec<&String> = logs.iter().filter(|log| log.contains("X-iCloud-Mail-Setup-Test")).collect();
    assert_eq!(watching.len(), 1, "one session watched the inbox: {logs:#?}");
    watching[0]
        .lines()
        .filter_map(|line| {
            // `1796535863.692984 A0005 UID SEARCH …`: a time stamp, the tag (none for DONE), the command.
            let words: Vec<String> = line.split_whitespace().skip(1).map(str::to_ascii_uppercase).collect();
            match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["DONE"] => Some("DONE"),
                [_, "IDLE"] => Some("IDLE"),
                [_, "UID", "SEARCH", ..] => Some("SEARCH"),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn with_idle_offered_the_inbox_is_watched_in_idle_and_the_wake_up_finds_the_message() {
    // The relay delivers a second after accepting, so the first search cannot find the message.
    let server = server(Setup::icloud_like().delivering_after(Duration::from_secs(1)), JANE);
    let account = verified(&server, JANE, None);
    let inbox = contents(&server, JANE, "INBOX");
    // Less time to arrive than one IDLE lasts before it is renewed (5 s): only the server's news during IDLE can end
    // the wait in time.
    let timeouts = SendTimeouts { arrival: Duration::from_secs(4), ..SendTimeouts::default() };

    let (report, events, _, _) = run(&server, account, timeouts);
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(steps(&events).last(), Some(&(SendStep::Removed, StepStatus::Ok)));
    assert_eq!(watching_commands(&server), ["SEARCH", "IDLE", "DONE", "SEARCH"], "searched, waited in IDLE, woke and found it");
    assert_eq!(server.relayed(), 1);
    assert_eq!(contents(&server, JANE, "INBOX"), inbox);
}

#[test]
fn a_server_without_idle_is_polled() {
    // Dovecot's capabilities without IDLE, and a relay that delivers a second after accepting: the inbox is searched
    // again until the message is there.
    let server = server(Setup::icloud_like().with_capability_without("IDLE").delivering_after(Duration::from_secs(1)), JANE);
    let account = verified(&server, JANE, None);
    let inbox = contents(&server, JANE, "INBOX");
    let (report, events, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(events.len(), 3);
    let commands = watching_commands(&server);
    assert!(commands.iter().filter(|c| **c == "SEARCH").count() >= 2, "searched more than once: {commands:?}");
    assert!(!commands.contains(&"IDLE"), "no IDLE where the server does not offer it: {commands:?}");
    assert_eq!(contents(&server, JANE, "INBOX"), inbox);
}

/// Sends to a server whose relay refuses at `stage` with `reply`: the report, and the inbox unchanged.
fn refused_at(stage: RelayStage, reply: &'static str) -> (SendReport, Vec<SendEvent>, Dovecot) {
    let server = server(Setup::icloud_like().refusing_at(stage, reply), JANE);
    let account = verified(&server, JANE, None);
    let inbox = contents(&server, JANE, "INBOX");
    let (report, events, _, alive) = run(&server, account, SendTimeouts::default());
    assert_eq!(alive, 0);
    assert_eq!((server.relay_refused(), server.relayed()), (1, 0), "{report:#?}");
    assert_eq!(contents(&server, JANE, "INBOX"), inbox);
    (report, events, server)
}

#[test]
fn a_message_refused_at_the_end_of_data_is_message_refused_with_the_servers_words_not_a_refused_sender() {
    let (report, events, server) = refused_at(RelayStage::EndOfData, "552 5.3.4 Message size exceeds fixed maximum message size");
    assert_eq!(report.kind(), DiagnosisKind::MessageRefused, "{report:#?}\n{}", server.log());
    let said = report.server_text.clone().unwrap_or_default();
    assert!(said.starts_with("552 5.3.4") && said.contains("Message size exceeds fixed maximum message size"), "{report:#?}");
    assert_eq!(report.diagnosis.facts.command.as_deref(), Some("end of DATA"));
    assert_eq!(steps(&events), [(SendStep::Sent, StepStatus::Failed)]);
    // The words say the sender was accepted, and name the command; nothing sends the person to fix the address.
    let (message, hint) = (report.diagnosis.message(Lang::En), report.diagnosis.hint(Lang::En));
    assert!(message.contains(JANE) && message.contains("end of DATA"), "{message}");
    assert!(!message.contains("refused to send mail from") && !hint.contains("Custom Email Domain"), "{message} {hint}");
    assert!(report.diagnosis.message(Lang::De).contains("end of DATA"));
}

#[test]
fn a_recipient_refused_at_rcpt_is_message_refused() {
    // The recipient is the address itself, named in the reply; but the refusal is not a policy refusal of the sender.
    let (report, _, server) = refused_at(RelayStage::Rcpt, "552 5.2.2 <jane@icloud.com>: mailbox full");
    assert_eq!(report.kind(), DiagnosisKind::MessageRefused, "{report:#?}\n{}", server.log());
    assert_eq!(report.diagnosis.facts.command.as_deref(), Some("RCPT TO"));
    assert!(report.server_text.clone().unwrap_or_default().contains("mailbox full"), "{report:#?}");
}

#[test]
fn a_policy_refusal_naming_the_sender_at_the_end_of_data_is_sender_rejected() {
    // Some servers check the From address only once they have the message.
    let (report, _, server) =
        refused_at(RelayStage::EndOfData, "550 5.7.1 <jane@icloud.com>: sender address rejected: not one of your addresses");
    assert_eq!(report.kind(), DiagnosisKind::SenderRejected, "{report:#?}\n{}", server.log());
    assert_eq!(report.diagnosis.facts.command.as_deref(), Some("end of DATA"));
    assert!(report.server_text.clone().unwrap_or_default().starts_with("550 5.7.1"), "{report:#?}");
}

#[test]
fn a_server_that_never_answers_the_message_is_a_timeout_named_after_the_end_of_data() {
    let server = server(Setup::icloud_like().stalling_at(RelayStage::EndOfData), JANE);
    let account = verified(&server, JANE, None);
    let timeouts = SendTimeouts { send: Duration::from_secs(4), ..SendTimeouts::default() };

    let (report, events, _, alive) = run(&server, account, timeouts);
    assert_eq!(report.kind(), DiagnosisKind::Timeout, "{report:#?}\n{}", server.log());
    assert_eq!(report.diagnosis.facts.command.as_deref(), Some("end of DATA"));
    let detail = report.diagnosis.detail.clone().unwrap_or_default();
    assert!(detail.contains("end of DATA") && !detail.contains("auth"), "{detail}");
    assert_eq!(steps(&events), [(SendStep::Sent, StepStatus::Failed)]);
    assert_eq!((alive, server.relayed()), (0, 0));
}

/// Jane's account with its IMAP side at `imap` (implicit TLS) and its SMTP side at `smtp` (STARTTLS).
fn account_at(imap: (&str, u16), smtp: (&str, u16)) -> Account {
    Account::new(Address::parse(JANE).unwrap(), None, None).unwrap().with_servers(
        Some(Endpoint::new(imap.0, imap.1, Security::Tls)),
        Some(Endpoint::new(smtp.0, smtp.1, Security::Starttls)),
        None,
    )
}

#[test]
fn a_failed_imap_side_ends_the_send_test_without_waiting_for_the_smtp_side() {
    let ca = TestCa::new();
    let (refused, silent) = (FaultServer::start(Fault::RefusedPort, &ca), FaultServer::start(Fault::Silent, &ca));
    let account = account_at((refused.host(), refused.port), (silent.host(), silent.port));
    let timeouts = SendTimeouts { send: Duration::from_secs(20), ..SendTimeouts::default() };

    let (report, events, _, alive) = run_trusting(&ca, account, timeouts);
    assert_eq!(report.kind(), DiagnosisKind::ConnectionRefused, "{report:#?}");
    // The SMTP side, waiting for a greeting that never comes, was dropped when IMAP failed, not waited for until
    // the send deadline.
    assert!(report.elapsed_ms < timeouts.send.as_millis() as u64, "{report:#?}");
    assert!(events.is_empty() && alive == 0, "{events:?}");
}

#[test]
fn an_imap_server_that_stalls_after_the_login_is_a_timeout_named_after_the_command_it_did_not_answer() {
    let server = server(Setup::icloud_like(), JANE);
    let stalling = FaultServer::start(Fault::ImapSilentAfterLogin, server.ca());
    let account = account_at((stalling.host(), stalling.port), (server.host(), server.submission_port));
    let timeouts = SendTimeouts { send: Duration::from_secs(3), ..SendTimeouts::default() };

    let (report, events, _, _) = run(&server, account, timeouts);
    assert_eq!(report.kind(), DiagnosisKind::Timeout, "{report:#?}");
    assert!(stalling.received_lines().iter().any(|l| l.to_ascii_uppercase().ends_with("CAPABILITY")), "{:?}", stalling.received_lines());
    let detail = report.diagnosis.detail.clone().unwrap_or_default();
    assert!(detail.contains("CAPABILITY") && !detail.contains("auth"), "{detail}");
    assert!(events.is_empty(), "nothing was sent: {events:?}");
    assert_eq!(server.relay_transactions(), 0);
}

/// Puts one message in Jane's inbox that the send test must leave alone.
fn deliver_one_to_keep(server: &Dovecot) {
    let old = b"From: someone@example.com\r\nTo: jane@icloud.com\r\nSubject: kept\r\n\r\nThis stays.\r\n";
    server.deliver(JANE, old).unwrap();
}

/// How many of `messages` are the send test's (its header).
fn test_messages(messages: &[Vec<u8>]) -> usize {
    messages.iter().filter(|m| String::from_utf8_lossy(m).contains("X-iCloud-Mail-Setup-Test:")).count()
}

#[test]
fn without_uidplus_the_message_is_moved_to_the_trash_and_nothing_else_is_touched() {
    // No UID EXPUNGE without UIDPLUS, and never a plain EXPUNGE: the test message alone goes to Deleted Messages.
    let server = server(Setup::icloud_like().with_capability_without("UIDPLUS"), JANE);
    deliver_one_to_keep(&server);
    let account = verified(&server, JANE, None);
    let (inbox, trash) = (contents(&server, JANE, "INBOX"), contents(&server, JANE, "Deleted Messages"));

    let (report, events, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(steps(&events).last(), Some(&(SendStep::Removed, StepStatus::Ok)));
    assert_eq!(contents(&server, JANE, "INBOX"), inbox, "the inbox is as it was");
    let after = contents(&server, JANE, "Deleted Messages");
    assert_eq!((after.len(), test_messages(&after)), (trash.len() + 1, 1), "moved to the trash, once");
}

#[test]
fn without_uidplus_or_move_the_message_is_copied_to_the_trash_and_only_it_is_marked_deleted() {
    let server = server(Setup::icloud_like().with_capability_without("UIDPLUS").with_capability_without("MOVE"), JANE);
    deliver_one_to_keep(&server);
    let account = verified(&server, JANE, None);
    let inbox = contents(&server, JANE, "INBOX");

    let (report, _, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    let trash = contents(&server, JANE, "Deleted Messages");
    assert_eq!(test_messages(&trash), 1, "a copy in the trash");
    // The inbox still holds what it held; the test message is there only flagged deleted (no EXPUNGE was sent, which
    // would have removed anything else marked deleted), so a mail app hides it.
    let now = contents(&server, JANE, "INBOX");
    assert!(inbox.iter().all(|m| now.contains(m)), "nothing that was there is gone");
    let flags = server.folder_flags(JANE, "INBOX");
    let deleted: Vec<_> = flags.iter().filter(|(_, f)| f.contains('T')).collect();
    assert_eq!(deleted.len(), 1, "only the test message is marked deleted: {flags:?}");
    assert!(String::from_utf8_lossy(deleted[0].0.as_slice()).contains("X-iCloud-Mail-Setup-Test:"));
}

#[test]
fn a_search_that_names_other_messages_removes_only_the_test_message() {
    let server = server(Setup::icloud_like(), JANE);
    deliver_one_to_keep(&server);
    let mut account = verified(&server, JANE, None);
    // The kept message is UID 1; the proxy adds it to every search answer, as a server matching headers loosely would.
    let proxy = LooseSearch::start(server.imaps_port, server.ca(), &[1]);
    account.provider.imap.port = proxy.port;
    let inbox = contents(&server, JANE, "INBOX");

    let (report, events, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(steps(&events).last(), Some(&(SendStep::Removed, StepStatus::Ok)));
    assert_eq!(contents(&server, JANE, "INBOX"), inbox, "the kept message is there, the test message is gone");
}

#[test]
fn with_two_messages_carrying_the_token_nothing_is_removed_and_the_verdict_says_so() {
    let server = server(Setup::icloud_like().delivering_twice(), JANE);
    deliver_one_to_keep(&server);
    let account = verified(&server, JANE, None);

    let (report, events, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::MessageLeft, "{report:#?}\n{}", server.log());
    assert_eq!(
        steps(&events),
        [(SendStep::Sent, StepStatus::Ok), (SendStep::Arrived, StepStatus::Ok), (SendStep::Removed, StepStatus::Failed)]
    );
    let flags = server.folder_flags(JANE, "INBOX");
    let messages: Vec<Vec<u8>> = flags.iter().map(|(m, _)| m.clone()).collect();
    assert_eq!((messages.len(), test_messages(&messages)), (3, 2), "both copies and the kept message are there");
    assert!(flags.iter().all(|(_, f)| !f.contains('T')), "none is even marked deleted: {flags:?}");
    assert!(contents(&server, JANE, "Deleted Messages").is_empty());
    assert!(report.diagnosis.message(Lang::En).contains(JANE), "{}", report.diagnosis.message(Lang::En));
    assert!(report.diagnosis.hint(Lang::En).contains("removed none"), "{}", report.diagnosis.hint(Lang::En));
}

#[test]
fn without_uidplus_a_trash_with_a_non_ascii_name_takes_the_message() {
    // The trash's name goes to the server in modified UTF-7 ("Gel&APY-schte Elemente"), as LIST sent it.
    let folders = vec![Folder { name: "Gelöschte Elemente", special_use: Some("\\Trash") }];
    let server = server(Setup { folders, ..Setup::classic() }.with_capability_without("UIDPLUS"), JANE);
    deliver_one_to_keep(&server);
    let account = verified(&server, JANE, None);
    assert_eq!(account.folders.trash.as_deref(), Some("Gelöschte Elemente"));
    let inbox = contents(&server, JANE, "INBOX");

    let (report, _, _, _) = run(&server, account, SendTimeouts::default());
    assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(contents(&server, JANE, "INBOX"), inbox, "the inbox is as it was");
    assert_eq!(test_messages(&contents(&server, JANE, "Gelöschte Elemente")), 1, "moved to the trash");
}

#[test]
fn a_cancel_after_sent_still_removes_the_message() {
    let server = server(Setup::icloud_like(), JANE);
    deliver_one_to_keep(&server);
    let account = verified(&server, JANE, None);
    let inbox = contents(&server, JANE, "INBOX");
    let mut request = SendRequest::new(account, Lang::En);
    request.extra_ca_pem = Some(server.ca().ca_pem().as_bytes().to_vec());
    // A runtime that keeps running after the test is dropped, as the app's does.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sent = Arc::new(tokio::sync::Notify::new());
    let on_sent = sent.clone();
    let on_event = move |e: SendEvent| {
        if (e.step, e.status) == (SendStep::Sent, StepStatus::Ok) {
            on_sent.notify_one();
        }
    };
    let secret = Secret::new(PASSWORD.to_owned());
    let cancelled = runtime.block_on(async {
        tokio::select! {
            _ = send_test(&request, &secret, &on_event) => false,
            _ = sent.notified() => true,
        }
    });
    assert!(cancelled, "the person left right after \"Sent\"");
    icloud_mail_tests::wait_until("the test message to be removed", Duration::from_secs(20), || {
        let now = contents(&server, JANE, "INBOX");
        now == inbox && server.relayed() == 1
    });
    assert_eq!(contents(&server, JANE, "Deleted Messages"), Vec::<Vec<u8>>::new(), "expunged, not moved");
}

// --- the command line ---

struct CliRun {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(server: &Dovecot, address: &str, extra: &[&str]) -> CliRun {
    let mut command = Command::new(icloud_mail_tests::app_binary());
    command
        .args(["--lang", "en", "probe", "--address", address, "--password-stdin", "--json"])
        .args(["--imap", &format!("{}:{}", server.host(), server.imaps_port)])
        .args(["--smtp", &format!("{}:{}", server.host(), server.submission_port)])
        .arg("--ca-file")
        .arg(server.ca_path())
        .args(extra);
    let out = icloud_mail_tests::run_with_stdin(&mut command, format!("{PASSWORD}\n"));
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn cli_send_test_adds_a_send_member_and_leaves_the_inbox_as_it_was() {
    let server = server(Setup::icloud_like(), JANE);
    let inbox = contents(&server, JANE, "INBOX");
    let run = cli(&server, JANE, &["--send-test"]);
    assert_eq!(run.code, 0, "{}\n{}\n{}", run.stdout, run.stderr, server.log());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!((v["imap"]["kind"].as_str(), v["smtp"]["kind"].as_str()), (Some("ok"), Some("ok")));
    let send = &v["send"];
    assert_eq!(send["kind"], "ok", "{send}");
    for member in ["elapsed_ms", "message", "hint", "server_text"] {
        assert!(send.get(member).is_some(), "send lacks {member}: {send}");
    }
    assert!(send["elapsed_ms"].as_u64().unwrap() > 0);
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
    assert_eq!(server.relayed(), 1);
    assert_eq!(contents(&server, JANE, "INBOX"), inbox);
}

#[test]
fn cli_without_send_test_never_sends_anything() {
    let server = server(Setup::icloud_like(), JANE);
    let run = cli(&server, JANE, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v.get("send").is_none(), "{v}");
    assert_eq!(server.relay_transactions(), 0, "no message reached the relay");
    assert!(server.messages(JANE).is_empty());
}

#[test]
fn cli_send_test_says_a_message_refused_at_the_end_of_data_is_message_refused_and_exits_1() {
    let server =
        server(Setup::icloud_like().refusing_at(RelayStage::EndOfData, "552 5.3.4 Message size exceeds fixed maximum message size"), JANE);
    let run = cli(&server, JANE, &["--send-test"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let send = &v["send"];
    assert_eq!((send["kind"].as_str(), send["command"].as_str()), (Some("message_refused"), Some("end of DATA")), "{send}");
    let said = send["server_text"].as_str().unwrap_or_default();
    assert!(said.starts_with("552 5.3.4") && said.contains("Message size exceeds fixed maximum message size"), "{send}");
    assert!(!send["message"].as_str().unwrap().contains("refused to send mail from"), "{send}");
}

#[test]
fn cli_send_test_says_why_a_message_did_not_arrive_and_exits_1() {
    let server = server(Setup::icloud_like().never_delivering(), JANE);
    let run = cli(&server, JANE, &["--send-test", "--send-timeout", "1"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["send"]["kind"], "message_not_received", "{v}");
    assert!(v["send"]["hint"].as_str().unwrap().contains("may still arrive"));
}
