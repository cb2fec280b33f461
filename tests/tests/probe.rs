//! The connection test against real servers on loopback: a real Dovecot (IMAP over TLS, submission with STARTTLS
//! and with TLS) and the fault servers, through the core API and through the command line binary.
//! Nothing here talks to anything but 127.0.0.1.

use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icloud_mail_core::account::Folders;
use icloud_mail_core::diagnosis::DiagnosisKind;
use icloud_mail_core::probe::{probe, DnsConfig, ProbeEvent, ProbeReport, ProbeRequest, Side, Step, StepStatus, Timeouts};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Secret};
use icloud_mail_tests::ca::{TestCa, LOOPBACK_DNS_NAME};
use icloud_mail_tests::dns::TestDns;
use icloud_mail_tests::dovecot::{Accepts, Dovecot, Folder, MailUser};
use icloud_mail_tests::fault::{BlackHole, Fault, FaultServer};

const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

fn tls(host: &str, port: u16) -> Endpoint {
    Endpoint::new(host, port, Security::Tls)
}

fn starttls(host: &str, port: u16) -> Endpoint {
    Endpoint::new(host, port, Security::Starttls)
}

fn request(address: &str, imap: Endpoint, smtp: Endpoint, fallback: Option<Endpoint>, ca: &TestCa, overall: Duration) -> ProbeRequest {
    let account = Account::new(Address::parse(address).unwrap(), None, None).unwrap().with_servers(Some(imap), Some(smtp), fallback);
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = Some(ca.ca_pem().as_bytes().to_vec());
    request.timeouts = Timeouts::with_overall(overall);
    request
}

fn dovecot_request(server: &Dovecot, address: &str) -> ProbeRequest {
    request(
        address,
        tls(server.host(), server.imaps_port),
        starttls(server.host(), server.submission_port),
        Some(tls(server.host(), server.submissions_port)),
        server.ca(),
        Duration::from_secs(9),
    )
}

/// Runs a probe on its own runtime; returns the report, the events, and how many tasks were still alive after.
fn run(request: &ProbeRequest, password: &str) -> (ProbeReport, Vec<ProbeEvent>, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let secret = Secret::new(password.to_owned());
    let report = runtime.block_on(probe(request, &secret, &move |e| sink.lock().unwrap().push(e)));
    let alive = runtime.metrics().num_alive_tasks();
    let events = events.lock().unwrap().clone();
    (report, events, alive)
}

fn usernames(report: &icloud_mail_core::probe::SideReport) -> Vec<Option<String>> {
    report.attempts.iter().map(|a| a.username.clone()).collect()
}

#[test]
fn good_password_passes_both_sides() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let (report, events, alive) = run(&dovecot_request(&server, "jane@icloud.com"), PASSWORD);
    assert_eq!(report.imap.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert_eq!(report.smtp.kind(), DiagnosisKind::Ok, "{report:#?}\n{}", server.log());
    assert!(report.is_ok());
    // iCloud's order: IMAP as the name part, SMTP as the full address; each worked at the first try.
    assert_eq!(report.imap.username.as_deref(), Some("jane"));
    assert_eq!(report.smtp.username.as_deref(), Some("jane@icloud.com"));
    assert_eq!(usernames(&report.imap), [Some("jane".to_owned())]);
    assert_eq!(usernames(&report.smtp), [Some("jane@icloud.com".to_owned())]);
    assert_eq!((report.smtp.port, report.smtp.security), (server.submission_port, Security::Starttls));
    assert_eq!(report.smtp.unreachable_port, None);
    assert!(
        report.imap.diagnosis.message(icloud_mail_core::Lang::En).contains("Signed in to localhost as jane"),
        "{}",
        report.imap.diagnosis.message(icloud_mail_core::Lang::En)
    );
    assert!(server.log().contains("imap-login: Info: Login: user=<jane>"), "{}", server.log());
    assert!(server.log().contains("submission-login: Info: Login: user=<jane@icloud.com>"), "{}", server.log());
    assert_eq!(alive, 0, "a task outlived the probe");

    // Every step was reported, in order, for both sides.
    for side in [Side::Imap, Side::Smtp] {
        let steps: Vec<(Step, StepStatus)> = events.iter().filter(|e| e.side == side).map(|e| (e.step, e.status)).collect();
        for step in [Step::Dns, Step::Connect, Step::Tls, Step::Greeting, Step::Auth] {
            assert!(
                steps.contains(&(step, StepStatus::Started)) && steps.contains(&(step, StepStatus::Ok)),
                "{side:?} {step:?}: {steps:?}"
            );
        }
        assert_eq!(steps.last(), Some(&(Step::Done, StepStatus::Ok)));
    }
    let smtp_order: Vec<Step> = events.iter().filter(|e| e.side == Side::Smtp && e.status == StepStatus::Started).map(|e| e.step).collect();
    assert_eq!(smtp_order, [Step::Dns, Step::Connect, Step::Greeting, Step::Tls, Step::Auth], "STARTTLS comes after the greeting");
    let json = serde_json::to_string(&report).unwrap() + &serde_json::to_string(&events).unwrap() + &format!("{report:?}");
    assert!(!json.contains(PASSWORD));
}

#[test]
fn wrong_password_is_refused_on_both_sides_after_one_retry_each() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let (report, _, alive) = run(&dovecot_request(&server, "jane@icloud.com"), "wrong-pass-word-here");
    assert_eq!(report.imap.kind(), DiagnosisKind::AuthRejected, "{report:#?}");
    assert_eq!(report.smtp.kind(), DiagnosisKind::AuthRejected, "{report:#?}");
    // Exactly one extra attempt per protocol, in the seed's order.
    assert_eq!(usernames(&report.imap), [Some("jane".to_owned()), Some("jane@icloud.com".to_owned())]);
    assert_eq!(usernames(&report.smtp), [Some("jane@icloud.com".to_owned()), Some("jane".to_owned())]);
    assert!(report.imap.server_text.as_deref().unwrap_or("").contains("AUTHENTICATIONFAILED"), "{report:#?}");
    assert!(report.smtp.server_text.as_deref().unwrap_or("").starts_with("535"), "{report:#?}");
    assert!(report.imap.diagnosis.hint(icloud_mail_core::Lang::En).contains("app-specific password"));
    // A refused login is not a blocked port: no fallback was tried.
    assert!(report.smtp.attempts.iter().all(|a| a.port == server.submission_port));
    // Dovecot logs each connection's failed attempts when it closes; give it a moment to write.
    let failed = |service: &str| -> usize {
        let log = server.log();
        log.lines()
            .filter(|l| l.contains(service) && l.contains("auth failed, "))
            .filter_map(|l| l.split("auth failed, ").nth(1)?.split(' ').next()?.parse::<usize>().ok())
            .sum()
    };
    let until = Instant::now() + Duration::from_secs(3);
    while (failed("imap-login") < 2 || failed("submission-login") < 2) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!((failed("imap-login"), failed("submission-login")), (2, 2), "two logins per protocol, no more:\n{}", server.log());
    assert_eq!(alive, 0);
}

#[test]
fn the_second_login_form_is_found_when_only_one_works() {
    let server = Dovecot::start(&[
        MailUser::new("nameonly@icloud.com", PASSWORD).accepting(Accepts::NamePartOnly),
        MailUser::new("fullonly@icloud.com", PASSWORD).accepting(Accepts::FullAddressOnly),
    ])
    .unwrap();

    let (report, _, _) = run(&dovecot_request(&server, "nameonly@icloud.com"), PASSWORD);
    assert!(report.is_ok(), "{report:#?}\n{}", server.log());
    assert_eq!(report.imap.username.as_deref(), Some("nameonly"));
    assert_eq!(report.smtp.username.as_deref(), Some("nameonly"));
    assert_eq!(report.smtp.attempts.iter().map(|a| a.kind).collect::<Vec<_>>(), [DiagnosisKind::AuthRejected, DiagnosisKind::Ok]);

    let (report, _, _) = run(&dovecot_request(&server, "fullonly@icloud.com"), PASSWORD);
    assert!(report.is_ok(), "{report:#?}\n{}", server.log());
    assert_eq!(report.imap.username.as_deref(), Some("fullonly@icloud.com"));
    assert_eq!(usernames(&report.imap), [Some("fullonly".to_owned()), Some("fullonly@icloud.com".to_owned())]);
    assert_eq!(report.smtp.username.as_deref(), Some("fullonly@icloud.com"));
}

#[test]
fn a_blocked_587_falls_back_to_465_and_says_so() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let blocked = FaultServer::start(Fault::RefusedPort, server.ca());
    let mut req = dovecot_request(&server, "jane@icloud.com");
    req.account =
        req.account.clone().with_servers(None, Some(starttls("localhost", blocked.port)), Some(tls("localhost", server.submissions_port)));
    let (report, _, _) = run(&req, PASSWORD);
    assert_eq!(report.smtp.kind(), DiagnosisKind::Ok, "{report:#?}");
    assert_eq!((report.smtp.port, report.smtp.security), (server.submissions_port, Security::Tls));
    assert_eq!(report.smtp.unreachable_port, Some(blocked.port));
    assert!(report.smtp.note(icloud_mail_core::Lang::En).as_deref().unwrap().contains(&blocked.port.to_string()));
    let tries: Vec<(u16, DiagnosisKind)> = report.smtp.attempts.iter().map(|a| (a.port, a.kind)).collect();
    assert_eq!(tries, [(blocked.port, DiagnosisKind::ConnectionRefused), (server.submissions_port, DiagnosisKind::Ok)]);

    // When the fallback fails too, the first port's verdict stands and both tries are named.
    let also_blocked = FaultServer::start(Fault::RefusedPort, server.ca());
    req.account =
        req.account.clone().with_servers(None, Some(starttls("localhost", blocked.port)), Some(tls("localhost", also_blocked.port)));
    let (report, _, _) = run(&req, PASSWORD);
    assert_eq!((report.smtp.kind(), report.smtp.port), (DiagnosisKind::ConnectionRefused, blocked.port));
    assert_eq!(report.smtp.attempts.len(), 2);
}

/// Folders like iCloud's, with a few that test the matching: a special-use flag on a name that is not iCloud's
/// (`Gesendet` \Sent beside an unflagged `Sent Messages`), a non-ASCII name (modified UTF-7 on the wire), iCloud's
/// name beside a variant (`Deleted Messages`, `Deleted Items`), a level below another.
const FOLDERS: &[Folder] = &[
    Folder { name: "Sent Messages", special_use: None },
    Folder { name: "Gesendet", special_use: Some("\\Sent") },
    Folder { name: "Entwürfe", special_use: Some("\\Drafts") },
    Folder { name: "Deleted Items", special_use: None },
    Folder { name: "Deleted Messages", special_use: None },
    Folder { name: "Junk", special_use: Some("\\Junk") },
    Folder { name: "Archive", special_use: Some("\\Archive") },
    Folder { name: "Archive/2024", special_use: None },
];

fn expected_folders() -> Folders {
    Folders {
        inbox: Some("INBOX".into()),
        sent: Some("Gesendet".into()),
        drafts: Some("Entwürfe".into()),
        trash: Some("Deleted Messages".into()),
        junk: Some("Junk".into()),
        archive: Some("Archive".into()),
        delimiter: Some("/".into()),
    }
}

#[test]
fn the_folders_the_server_lists_are_reported_by_role() {
    let server = Dovecot::start_with_folders(&[MailUser::new("jane@icloud.com", PASSWORD)], FOLDERS).unwrap();
    let (report, _, alive) = run(&dovecot_request(&server, "jane@icloud.com"), PASSWORD);
    assert!(report.is_ok(), "{report:#?}\n{}", server.log());
    assert_eq!(report.imap.folders, Some(expected_folders()), "{report:#?}");
    assert_eq!(report.imap.diagnosis.detail, None, "the list was read");
    assert_eq!(report.smtp.folders, None);
    assert_eq!(alive, 0);
    // A verified account takes them, and the first username that worked.
    let account = icloud_mail_core::verified::account_from_report(dovecot_request(&server, "jane@icloud.com").account, &report).unwrap();
    assert_eq!((account.folders, account.verified), (expected_folders(), true));

    // Dovecot's defaults: INBOX alone, so every other role stays empty rather than guessed.
    let plain = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let (report, _, _) = run(&dovecot_request(&plain, "jane@icloud.com"), PASSWORD);
    let folders = report.imap.folders.expect("the list was read");
    assert_eq!(folders.roles().map(|(_, name)| name), [Some("INBOX"), None, None, None, None, None], "{folders:?}");
    // A failed login reads no folders.
    let (report, _, _) = run(&dovecot_request(&server, "jane@icloud.com"), "wrong-pass-word-here");
    assert_eq!((report.imap.kind(), report.imap.folders), (DiagnosisKind::AuthRejected, None));
}

#[test]
fn a_server_that_never_answers_the_folder_list_still_passes_in_time() {
    let ca = TestCa::new();
    let imap = FaultServer::start(Fault::ImapSilentAfterLogin, &ca);
    let smtp = FaultServer::start(Fault::RefusedPort, &ca);
    let overall = Duration::from_secs(8);
    let req = request("jane@icloud.com", tls("localhost", imap.port), starttls("localhost", smtp.port), None, &ca, overall);
    let started = Instant::now();
    let (report, events, alive) = run(&req, PASSWORD);
    let took = started.elapsed();
    assert_eq!(report.imap.kind(), DiagnosisKind::Ok, "{report:#?}");
    assert_eq!(report.imap.username.as_deref(), Some("jane"));
    assert_eq!(report.imap.folders, None, "the folders are unknown, not guessed");
    let detail = report.imap.diagnosis.detail.clone().unwrap_or_default();
    assert!(detail.contains("LIST"), "the detail says why: {detail}");
    assert!(took < overall, "took {took:?}");
    assert!(
        Duration::from_millis(report.imap.elapsed_ms) < overall,
        "the verdict came {} ms in, past the {overall:?} deadline",
        report.imap.elapsed_ms
    );
    assert!(
        imap.received_lines().iter().any(|l| l.contains("LIST \"\" \"*\"") || l.contains("LIST \"\" *")),
        "{:?}",
        imap.received_lines()
    );
    assert_eq!(events.iter().rfind(|e| e.side == Side::Imap).map(|e| (e.step, e.status)), Some((Step::Done, StepStatus::Ok)));
    assert_eq!(alive, 0);
}

/// One fault behind both sides (SMTP with the given security, no fallback); the kinds and the time taken.
fn probe_fault(fault: Fault, smtp_security: Security, overall: Duration) -> (ProbeReport, FaultServer, Duration) {
    let ca = TestCa::new();
    let server = FaultServer::start(fault, &ca);
    let req = request(
        "jane@icloud.com",
        tls("localhost", server.port),
        Endpoint::new("localhost", server.port, smtp_security),
        None,
        &ca,
        overall,
    );
    let started = Instant::now();
    let (report, _, alive) = run(&req, PASSWORD);
    let took = started.elapsed();
    assert_eq!(alive, 0, "{fault:?}: a task outlived the probe");
    assert!(took <= overall + Duration::from_millis(700), "{fault:?} took {took:?} with a deadline of {overall:?}");
    (report, server, took)
}

fn assert_kinds(fault: Fault, smtp_security: Security, imap: DiagnosisKind, smtp: DiagnosisKind) -> FaultServer {
    let (report, server, _) = probe_fault(fault, smtp_security, Duration::from_secs(4));
    assert_eq!(report.imap.kind(), imap, "{fault:?} IMAP: {report:#?}");
    assert_eq!(report.smtp.kind(), smtp, "{fault:?} SMTP: {report:#?}");
    assert!(
        !report.imap.diagnosis.message(icloud_mail_core::Lang::En).is_empty()
            && !report.smtp.diagnosis.hint(icloud_mail_core::Lang::En).is_empty()
    );
    server
}

#[test]
fn a_server_that_accepts_and_never_speaks_times_out_by_the_deadline() {
    let (report, _, took) = probe_fault(Fault::Silent, Security::Starttls, Duration::from_secs(3));
    assert_eq!((report.imap.kind(), report.smtp.kind()), (DiagnosisKind::Timeout, DiagnosisKind::Timeout), "{report:#?}");
    assert!(took >= Duration::from_millis(2900), "{took:?}");
}

#[test]
fn a_server_that_closes_at_once_is_server_closed() {
    assert_kinds(Fault::CloseAtOnce, Security::Starttls, DiagnosisKind::ServerClosed, DiagnosisKind::ServerClosed);
    assert_kinds(Fault::CloseAtOnce, Security::Tls, DiagnosisKind::ServerClosed, DiagnosisKind::ServerClosed);
}

#[test]
fn garbage_is_a_protocol_error() {
    assert_kinds(Fault::Garbage, Security::Starttls, DiagnosisKind::ProtocolError, DiagnosisKind::ProtocolError);
}

#[test]
fn certificate_faults_are_named_and_no_password_is_sent() {
    for (fault, kind) in [
        (Fault::TlsExpired, DiagnosisKind::TlsCertificateExpired),
        (Fault::TlsWrongHost, DiagnosisKind::TlsCertificateWrongHost),
        (Fault::TlsSelfSigned, DiagnosisKind::TlsCertificateUntrusted),
    ] {
        assert_kinds(fault, Security::Tls, kind, kind);
    }
    let server =
        assert_kinds(Fault::SmtpStarttlsExpired, Security::Starttls, DiagnosisKind::ProtocolError, DiagnosisKind::TlsCertificateExpired);
    assert!(!server.received_lines().iter().any(|l| l.to_ascii_uppercase().starts_with("AUTH")), "{:?}", server.received_lines());
}

#[test]
fn smtp_without_starttls_never_receives_auth() {
    for fault in [Fault::SmtpWithoutStarttls, Fault::SmtpStarttlsRefused] {
        let ca = TestCa::new();
        let server = FaultServer::start(fault, &ca);
        let req = request("jane@icloud.com", tls("localhost", 1), starttls("localhost", server.port), None, &ca, Duration::from_secs(4));
        let (report, _, alive) = run(&req, PASSWORD);
        assert_eq!(report.smtp.kind(), DiagnosisKind::StarttlsUnavailable, "{fault:?}: {report:#?}");
        assert_eq!(report.smtp.username, None, "no login was tried");
        let lines = server.received_lines();
        assert!(lines.iter().any(|l| l.starts_with("EHLO")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.to_ascii_uppercase().starts_with("AUTH")), "{fault:?}: {lines:?}");
        assert!(!lines.iter().any(|l| l.contains(PASSWORD)));
        assert_eq!(alive, 0);
    }
}

#[test]
fn refused_and_unanswered_connections() {
    assert_kinds(Fault::RefusedPort, Security::Starttls, DiagnosisKind::ConnectionRefused, DiagnosisKind::ConnectionRefused);
    let overall = Duration::from_secs(3);
    let (report, _, _) = probe_fault(Fault::NoSynAnswer, Security::Starttls, overall);
    assert_eq!((report.imap.kind(), report.smtp.kind()), (DiagnosisKind::Timeout, DiagnosisKind::Timeout), "{report:#?}");
    // The connect timeout (45 % of the deadline) ends it, not the deadline: the verdict names that budget.
    let budget = Timeouts::with_overall(overall).connect;
    assert!(budget < overall);
    for side in [&report.imap, &report.smtp] {
        let detail = side.diagnosis.detail.clone().unwrap_or_default();
        assert_eq!(detail, format!("no answer to the connection request within {} ms", budget.as_millis()), "{report:#?}");
    }
}

#[test]
fn an_unanswered_587_still_leaves_time_for_465() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let blackhole = FaultServer::start(Fault::NoSynAnswer, server.ca());
    let mut req = dovecot_request(&server, "jane@icloud.com");
    req.account = req.account.clone().with_servers(
        None,
        Some(starttls("localhost", blackhole.port)),
        Some(tls("localhost", server.submissions_port)),
    );
    req.timeouts = Timeouts::with_overall(Duration::from_secs(4));
    let (report, _, _) = run(&req, PASSWORD);
    assert_eq!(report.smtp.kind(), DiagnosisKind::Ok, "{report:#?}");
    assert_eq!(report.smtp.unreachable_port, Some(blackhole.port));
    assert_eq!(report.smtp.attempts[0].kind, DiagnosisKind::Timeout);
}

#[test]
fn dropping_the_probe_cancels_everything() {
    let ca = TestCa::new();
    let silent = FaultServer::start(Fault::Silent, &ca);
    let req =
        request("jane@icloud.com", tls("localhost", silent.port), starttls("localhost", silent.port), None, &ca, Duration::from_secs(9));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let secret = Secret::new(PASSWORD.to_owned());
    let started = Instant::now();
    let outcome = runtime.block_on(async { tokio::time::timeout(Duration::from_millis(300), probe(&req, &secret, &|_| {})).await });
    assert!(outcome.is_err(), "the probe should still be waiting");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(runtime.metrics().num_alive_tasks(), 0);
}

// --- the command line ---

struct CliRun {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str], stdin: &str) -> CliRun {
    let out = icloud_mail_tests::run_with_stdin(Command::new(icloud_mail_tests::app_binary()).args(args), stdin);
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
fn cli_reports_ok_as_json_and_never_shows_the_password() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let mut args = vec!["probe".to_owned(), "--address".into(), "jane@icloud.com".into(), "--password-stdin".into(), "--json".into()];
    args.extend(server.app_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cli(&args, &format!("{PASSWORD}\n"));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    for side in ["imap", "smtp"] {
        let s = &report[side];
        assert_eq!(s["kind"], "ok", "{report}");
        for field in ["kind", "host", "port", "security", "username", "elapsed_ms", "message", "hint", "server_text"] {
            assert!(s.get(field).is_some(), "{side}.{field} missing: {report}");
        }
        assert_eq!(s["host"], "localhost");
    }
    assert_eq!(report["imap"]["username"], "jane");
    assert_eq!(report["smtp"]["security"], "starttls");
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
    assert!(!server.log().contains(PASSWORD));
}

#[test]
fn what_the_test_signed_in_with_is_what_export_verified_writes() {
    // The case of issue #13: 587 blocked and an account that signs in only with its full address.
    let server =
        Dovecot::start_with_folders(&[MailUser::new("fullonly@icloud.com", PASSWORD).accepting(Accepts::FullAddressOnly)], FOLDERS)
            .unwrap();
    let blocked = FaultServer::start(Fault::RefusedPort, server.ca());
    let ca_file = server.ca_path().display().to_string();
    let (imap, smtp, fallback) =
        (format!("localhost:{}", server.imaps_port), blocked.endpoint(), format!("localhost:{}", server.submissions_port));
    let probe = cli(
        &[
            "probe",
            "--address",
            "fullonly@icloud.com",
            "--password-stdin",
            "--json",
            "--imap",
            &imap,
            "--smtp",
            &smtp,
            "--smtp-fallback",
            &fallback,
            "--ca-file",
            &ca_file,
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(probe.code, 0, "{}\n{}", probe.stdout, probe.stderr);
    let json: serde_json::Value = serde_json::from_str(probe.stdout.trim()).unwrap();
    assert_eq!((json["address"].as_str(), json["login"].as_str()), (Some("fullonly@icloud.com"), Some("fullonly@icloud.com")));
    assert_eq!(json["imap"]["username"], "fullonly@icloud.com");
    assert_eq!(
        json["imap"]["folders"],
        serde_json::json!({"inbox": "INBOX", "sent": "Gesendet", "drafts": "Entwürfe", "trash": "Deleted Messages", "junk": "Junk", "archive": "Archive"})
    );
    assert_eq!(json["imap"]["delimiter"], "/");
    assert_eq!((json["smtp"]["port"].as_u64(), json["smtp"]["security"].as_str()), (Some(u64::from(server.submissions_port)), Some("tls")));

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(&report, &probe.stdout).unwrap();
    let export = |format: &str| {
        let verified = ["export", "--address", "fullonly@icloud.com", "--verified", report.to_str().unwrap(), "--format", format];
        let servers = ["--imap", &imap, "--smtp", &smtp, "--smtp-fallback", &fallback, "--output", "-"];
        let run = cli(&[&verified[..], &servers[..]].concat(), "");
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        run.stdout
    };
    let msmtp = export("msmtp");
    assert!(msmtp.contains(&format!("port {}\ntls on\ntls_starttls off\n", server.submissions_port)), "{msmtp}");
    assert!(msmtp.contains("user \"fullonly@icloud.com\""), "{msmtp}");
    let neomutt = export("neomutt");
    assert!(neomutt.contains("set imap_user = \"fullonly@icloud.com\""), "{neomutt}");
    assert!(neomutt.contains("set record = \"+Gesendet\"") && neomutt.contains("set postponed = \"+Entw%C3%BCrfe\""), "{neomutt}");
    // Another account's report is refused.
    let other =
        cli(&["export", "--address", "jane@icloud.com", "--verified", report.to_str().unwrap(), "--format", "msmtp", "--output", "-"], "");
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(other.stderr.contains("fullonly@icloud.com") && other.stderr.contains("jane@icloud.com"), "{}", other.stderr);
}

#[test]
fn cli_wrong_password_exits_1_with_a_readable_report() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let wrong = "zzzz-yyyy-xxxx-wwww";
    let mut args = vec!["probe".to_owned(), "--address".into(), "jane@icloud.com".into(), "--password-stdin".into()];
    args.extend(server.app_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cli(&args, &format!("{wrong}\r\n"));
    println!("{}", run.stdout);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("refused the password"), "{}", run.stdout);
    assert!(run.stdout.contains("app-specific password"), "{}", run.stdout);
    assert!(run.stdout.contains("AUTHENTICATIONFAILED"), "the server's own words: {}", run.stdout);
    for text in [&run.stdout, &run.stderr, &server.log()] {
        assert!(!text.contains(wrong), "the password leaked: {text}");
    }
}

#[test]
fn cli_usage_errors_exit_2() {
    // No --password-stdin: the password is never taken from the command line.
    let run = cli(&["probe", "--address", "jane@icloud.com"], "");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let run = cli(&["probe", "--address", "jane@icloud.com", "--password-stdin", "--imap", "nonsense"], "pw\n");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("nonsense"), "{}", run.stderr);
    let run = cli(&["probe", "--address", "not an address", "--password-stdin"], "pw\n");
    assert_eq!(run.code, 2);
    let run = cli(&["probe", "--address", "jane@icloud.com", "--password-stdin"], "");
    assert_eq!(run.code, 2, "an empty password is bad usage: {}", run.stderr);
    let run = cli(&["probe", "--address", "jane@family.example", "--password-stdin"], "pw\n");
    assert_eq!(run.code, 2, "a custom domain needs --login: {}", run.stderr);
    assert!(run.stderr.contains("primary iCloud address"), "{}", run.stderr);
    let run = cli(&["probe", "--address", "jane@icloud.com", "--password-stdin", "--ca-file", "/nonexistent/ca.pem"], "pw\n");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = cli(&["probe", "--help"], "");
    assert_eq!(run.code, 0);
    for flag in ["--address", "--login", "--password-stdin", "--imap", "--smtp", "--smtp-fallback", "--ca-file", "--timeout", "--json"] {
        assert!(run.stdout.contains(flag), "--help lacks {flag}:\n{}", run.stdout);
    }
}

#[test]
fn cli_fault_gives_its_kind_and_exit_1() {
    let ca = TestCa::new();
    let refused = FaultServer::start(Fault::RefusedPort, &ca);
    let endpoint = refused.endpoint();
    let ca_file = ca.ca_path().display().to_string();
    let run = cli(
        &[
            "probe",
            "--address",
            "jane@icloud.com",
            "--password-stdin",
            "--json",
            "--imap",
            &endpoint,
            "--smtp",
            &endpoint,
            "--ca-file",
            &ca_file,
        ],
        "secret-password\n",
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["imap"]["kind"], "connection_refused");
    assert_eq!(report["smtp"]["kind"], "connection_refused");
    assert_eq!(report["smtp"]["attempts"].as_array().unwrap().len(), 1, "an explicit --smtp tries no fallback");
}

// --- deadlines on every wait ---

#[test]
fn an_address_that_never_answers_does_not_use_up_the_connect_budget() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    // The name resolves first to 127.0.0.2, where the same ports never answer, and then to Dovecot on 127.0.0.1.
    let _holes = [server.imaps_port, server.submission_port].map(|port| BlackHole::at(SocketAddr::from(([127, 0, 0, 2], port))));
    let order: [IpAddr; 2] = [[127, 0, 0, 2].into(), [127, 0, 0, 1].into()];
    let dns = TestDns::start(&[(LOOPBACK_DNS_NAME, &order)]);
    let mut req = request(
        "jane@icloud.com",
        tls(LOOPBACK_DNS_NAME, server.imaps_port),
        starttls(LOOPBACK_DNS_NAME, server.submission_port),
        None,
        server.ca(),
        Duration::from_secs(9),
    );
    req.dns = DnsConfig::Servers(vec![dns.addr()]);
    let (report, events, _) = run(&req, PASSWORD);
    assert!(report.is_ok(), "{report:#?}\n{}", server.log());
    // Each side connected within one connect budget, in one connect step: the silent address was left for the next
    // one while it was still pending (had it been waited for, the budget would have run out first and the step
    // failed), and nothing was retried.
    for side in [Side::Imap, Side::Smtp] {
        let steps: Vec<StepStatus> = events.iter().filter(|e| e.side == side && e.step == Step::Connect).map(|e| e.status).collect();
        assert_eq!(steps, [StepStatus::Started, StepStatus::Ok], "{side:?}: {events:#?}");
        let connected = events.iter().find(|e| e.side == side && e.step == Step::Connect && e.status == StepStatus::Ok).expect("connected");
        assert!(connected.elapsed_ms < req.timeouts.connect.as_millis() as u64, "{side:?} connected after {} ms", connected.elapsed_ms);
    }
}

#[test]
fn a_trust_store_that_never_loads_gives_a_verdict_by_the_deadline() {
    let ca = TestCa::new();
    let silent = FaultServer::start(Fault::Silent, &ca);
    // The system's certificates come from SSL_CERT_FILE: a named pipe nobody writes to, so loading them never ends.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("never-written.pem");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path that lives across the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo {}", fifo.display());
    let endpoint = silent.endpoint();
    let ca_file = ca.ca_path().display().to_string();
    let args = ["probe", "--address", "jane@icloud.com", "--password-stdin", "--json", "--imap", &endpoint, "--smtp", &endpoint];
    let args = [&args[..], &["--ca-file", &ca_file, "--timeout", "2"]].concat();
    let mut command = Command::new(icloud_mail_tests::app_binary());
    command.args(&args).env("SSL_CERT_FILE", &fifo).env_remove("SSL_CERT_DIR");
    let (run, took) = cli_within(&mut command, "secret-password\n", Duration::from_secs(2) + Duration::from_millis(1500));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    assert_eq!(report["imap"]["kind"], "tls_handshake_failed", "{report}");
    assert!(report["imap"]["detail"].as_str().unwrap_or_default().contains("trusted certificates"), "{report}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(silent.received_lines().is_empty(), "{:?}", silent.received_lines());
}

#[test]
fn the_window_refuses_a_bad_ca_file_before_opening() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is no certificate\n").unwrap();
    // No display: had the check not stopped it, the window toolkit would fail in its own way instead.
    let mut command = Command::new(icloud_mail_tests::app_binary());
    command.arg("--ca-file").arg(&garbage).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let (run, _) = cli_within(&mut command, "", Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&format!("--ca-file {}: ", garbage.display())), "{}", run.stderr);
    assert!(run.stderr.contains("no PEM certificate"), "{}", run.stderr);

    let missing = dir.path().join("missing.pem");
    let mut command = Command::new(icloud_mail_tests::app_binary());
    command.arg("--ca-file").arg(&missing).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let (run, _) = cli_within(&mut command, "", Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&missing.display().to_string()), "{}", run.stderr);
}

/// Runs `command` with `stdin`, killing it (and failing) if it has not ended within `limit`.
fn cli_within(command: &mut Command, stdin: &str, limit: Duration) -> (CliRun, Duration) {
    use std::io::Write;
    let started = Instant::now();
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("no verdict within {limit:?}\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let run = CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    (run, took)
}
