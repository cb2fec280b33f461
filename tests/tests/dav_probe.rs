//! Calendars and contacts in the connection test (`ProbeRequest::dav`), against the harness's iCloud-like DAV
//! server (Radicale behind the service-host front, tests/src/dav.rs) and a real Dovecot for mail, all on loopback.
//! Names resolve through the test name server (`DnsConfig::Servers`), as the probe's injectable DNS allows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use icloud_mail_core::account::{AddressBook, Calendar};
use icloud_mail_core::diagnosis::DiagnosisKind;
use icloud_mail_core::probe::{
    probe, probe_mail_first, DnsConfig, ProbeEvent, ProbeReport, ProbeRequest, Side, Step, StepStatus, Timeouts,
};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Secret};
use icloud_mail_tests::ca::TestCa;
use icloud_mail_tests::dav::{self, DavServer, DavUser, FrontMode};
use icloud_mail_tests::dns::TestDns;
use icloud_mail_tests::dovecot::{Dovecot, MailUser};
use icloud_mail_tests::fault::{Fault, FaultServer};

const ADDRESS: &str = "jane@icloud.com";
const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

struct Servers {
    mail: Dovecot,
    dav: DavServer,
    dns: TestDns,
}

fn servers(dav_user: DavUser) -> Servers {
    let mail = Dovecot::start(&[MailUser::new(ADDRESS, PASSWORD)]).unwrap();
    let dav = DavServer::start(&[dav_user]);
    let dns = dav.start_dns(&["localhost"]);
    Servers { mail, dav, dns }
}

/// A request for mail on Dovecot and calendars/contacts on `caldav`/`carddav`, trusting both test CAs.
fn request(s: &Servers, caldav: Endpoint, carddav: Endpoint, overall: Duration) -> ProbeRequest {
    let tls = |port| Endpoint::new(s.mail.host(), port, Security::Tls);
    let mut account = Account::new(Address::parse(ADDRESS).unwrap(), None, None).unwrap().with_servers(
        Some(tls(s.mail.imaps_port)),
        Some(tls(s.mail.submissions_port)),
        None,
    );
    account.provider.caldav = caldav;
    account.provider.carddav = carddav;
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = Some(format!("{}{}", s.mail.ca().ca_pem(), s.dav.ca().ca_pem()).into_bytes());
    request.timeouts = Timeouts::with_overall(overall);
    request.dns = DnsConfig::Servers(vec![s.dns.addr()]);
    request.dav = true;
    request
}

fn icloud_like(s: &Servers) -> ProbeRequest {
    let caldav = Endpoint::new(dav::CALDAV_HOST, s.dav.front_port, Security::Tls);
    let carddav = Endpoint::new(dav::CARDDAV_HOST, s.dav.front_port, Security::Tls);
    request(s, caldav, carddav, Duration::from_secs(9))
}

fn run(request: &ProbeRequest, password: &str) -> (ProbeReport, Vec<ProbeEvent>, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let secret = Secret::new(password.to_owned());
    let report = runtime.block_on(probe(request, &secret, &move |e| sink.lock().unwrap().push(e)));
    // The resolver's own UDP exchange (hickory) ends once it sees the resolver dropped: give it a moment.
    runtime.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    let alive = runtime.metrics().num_alive_tasks();
    let events = events.lock().unwrap().clone();
    (report, events, alive)
}

#[test]
fn calendars_and_the_address_book_are_found_on_the_partition_host() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    let (report, events, alive) = run(&icloud_like(&s), PASSWORD);
    assert!(report.is_ok(), "{report:#?}");
    let caldav = report.caldav.as_ref().expect("a caldav report");
    let carddav = report.carddav.as_ref().expect("a carddav report");
    assert_eq!(caldav.kind(), DiagnosisKind::Ok, "{caldav:#?}\n{}", s.dav.log());
    assert_eq!(carddav.kind(), DiagnosisKind::Ok, "{carddav:#?}\n{}", s.dav.log());

    // The principal on the service host, the homes on the partition hosts, the realm as the 401 named it.
    let front = format!("https://{}:{}", dav::CALDAV_HOST, s.dav.front_port);
    assert_eq!(caldav.principal.as_deref(), Some(format!("{front}{}", s.dav.principal_path(ADDRESS)).as_str()));
    assert_eq!(caldav.home.as_deref(), Some(s.dav.calendar_home(ADDRESS).as_str()));
    assert_eq!(carddav.home.as_deref(), Some(s.dav.addressbook_home(ADDRESS).as_str()));
    assert_eq!(caldav.realm.as_deref(), Some(dav::REALM));
    assert_eq!(carddav.realm.as_deref(), Some(dav::REALM));
    assert_eq!((caldav.host.as_str(), caldav.port), (dav::CALDAV_HOST, s.dav.front_port));
    assert_eq!(caldav.username.as_deref(), Some(ADDRESS));

    // The event calendar with its name and colour; the task list left out; the one address book.
    let home = s.dav.calendar_home(ADDRESS);
    assert_eq!(
        caldav.calendars.as_deref(),
        Some(
            &[Calendar {
                name: dav::EVENT_CALENDAR_NAME.into(),
                url: format!("{home}{}/", dav::EVENT_CALENDAR),
                color: Some("#FF2968".into())
            }][..]
        )
    );
    assert_eq!(
        carddav.addressbooks.as_deref(),
        Some(
            &[AddressBook { name: dav::ADDRESS_BOOK.into(), url: format!("{}{}/", s.dav.addressbook_home(ADDRESS), dav::ADDRESS_BOOK) }][..]
        )
    );
    // The floor: the realm's 401, the principal, the home, the listing.
    assert_eq!((caldav.requests, carddav.requests), (4, 4));
    assert!(caldav.redirects.is_empty());
    assert_eq!(alive, 0, "a task outlived the probe");

    for side in [Side::Caldav, Side::Carddav] {
        let steps: Vec<(Step, StepStatus)> = events.iter().filter(|e| e.side == side).map(|e| (e.step, e.status)).collect();
        for step in [Step::Dns, Step::Connect, Step::Tls, Step::Auth, Step::Discover, Step::Done] {
            assert!(steps.contains(&(step, StepStatus::Ok)), "{side:?} {step:?} not reported ok: {steps:?}");
        }
        let done = events.iter().filter(|e| e.side == side && e.step == Step::Done).collect::<Vec<_>>();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].kind, Some(DiagnosisKind::Ok));
    }
    // The service host's steps in the mail sides' order: name, connection, TLS, then the login.
    let first: Vec<(Step, StepStatus)> = events.iter().filter(|e| e.side == Side::Caldav).take(7).map(|e| (e.step, e.status)).collect();
    assert_eq!(
        first,
        [
            (Step::Dns, StepStatus::Started),
            (Step::Dns, StepStatus::Ok),
            (Step::Connect, StepStatus::Started),
            (Step::Connect, StepStatus::Ok),
            (Step::Tls, StepStatus::Started),
            (Step::Tls, StepStatus::Ok),
            (Step::Auth, StepStatus::Started)
        ]
    );
    // The partition host was connected to as itself (its own certificate, its own port).
    assert!(events
        .iter()
        .any(|e| e.side == Side::Caldav && e.step == Step::Tls && e.host == dav::CALDAV_PARTITION_HOST && e.port == s.dav.radicale_port));
}

#[test]
fn without_dav_asked_for_nothing_is_tried() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    let mut request = icloud_like(&s);
    request.dav = false;
    let (report, events, _) = run(&request, PASSWORD);
    assert!(report.is_ok());
    assert!(report.caldav.is_none() && report.carddav.is_none());
    assert!(!events.iter().any(|e| matches!(e.side, Side::Caldav | Side::Carddav)));
    assert_eq!(s.dav.front_requests(), 0);
}

#[test]
fn a_wrong_password_is_rejected_by_both_dav_sides_while_mail_passes() {
    let s = servers(DavUser::new(ADDRESS, "wxyz-wxyz-wxyz-wxyz"));
    let (report, _, _) = run(&icloud_like(&s), PASSWORD);
    assert!(report.is_ok(), "mail passes: {report:#?}");
    for dav_report in [report.caldav.as_ref().unwrap(), report.carddav.as_ref().unwrap()] {
        assert_eq!(dav_report.kind(), DiagnosisKind::AuthRejected, "{dav_report:#?}");
        assert_eq!(dav_report.realm.as_deref(), Some(dav::REALM));
        assert_eq!(dav_report.server_text.as_deref(), Some("401 Unauthorized"));
        assert_eq!(dav_report.username.as_deref(), Some(ADDRESS));
        assert!(dav_report.principal.is_none() && dav_report.calendars.is_none());
    }
}

#[test]
fn with_the_dav_server_down_mail_passes_and_calendars_say_why() {
    let mut s = servers(DavUser::new(ADDRESS, PASSWORD));
    s.dav.stop();
    let (report, _, _) = run(&icloud_like(&s), PASSWORD);
    assert!(report.is_ok(), "{report:#?}");
    for dav_report in [report.caldav.as_ref().unwrap(), report.carddav.as_ref().unwrap()] {
        assert_eq!(dav_report.kind(), DiagnosisKind::ConnectionRefused, "{dav_report:#?}");
        assert_eq!(dav_report.username, None, "no login was tried");
    }
}

#[test]
fn an_https_server_that_is_not_dav_is_dav_refused() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    s.dav.set_mode(FrontMode::NotDav);
    let (report, _, _) = run(&icloud_like(&s), PASSWORD);
    assert!(report.is_ok());
    let caldav = report.caldav.unwrap();
    assert_eq!(caldav.kind(), DiagnosisKind::DavRefused, "{caldav:#?}");
    assert_eq!(caldav.server_text.as_deref(), Some("405 Method Not Allowed"));
    assert_eq!(caldav.diagnosis.facts.command.as_deref(), Some("PROPFIND current-user-principal"));
    assert_eq!(report.carddav.unwrap().kind(), DiagnosisKind::DavRefused);
}

#[test]
fn an_account_with_only_a_task_list_has_no_calendars() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD).without_event_calendar());
    let (report, _, _) = run(&icloud_like(&s), PASSWORD);
    let caldav = report.caldav.unwrap();
    assert_eq!(caldav.kind(), DiagnosisKind::NoCalendarsFound, "{caldav:#?}");
    assert_eq!(caldav.home.as_deref(), Some(s.dav.calendar_home(ADDRESS).as_str()), "the home was found");
    assert_eq!(report.carddav.unwrap().kind(), DiagnosisKind::Ok);
}

#[test]
fn a_bad_certificate_is_a_tls_verdict_and_nothing_is_sent() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    let expired = FaultServer::start(Fault::TlsExpired, s.dav.ca());
    let self_signed = FaultServer::start(Fault::TlsSelfSigned, s.dav.ca());
    let caldav = Endpoint::new("127.0.0.1", expired.port, Security::Tls);
    let carddav = Endpoint::new("127.0.0.1", self_signed.port, Security::Tls);
    let (report, _, _) = run(&request(&s, caldav, carddav, Duration::from_secs(9)), PASSWORD);
    assert!(report.is_ok());
    assert_eq!(report.caldav.as_ref().unwrap().kind(), DiagnosisKind::TlsCertificateExpired, "{report:#?}");
    assert_eq!(report.carddav.as_ref().unwrap().kind(), DiagnosisKind::TlsCertificateUntrusted, "{report:#?}");
    assert_eq!(report.caldav.unwrap().username, None, "no credentials were sent");
}

#[test]
fn a_hanging_dav_server_times_out_without_delaying_the_mail_verdict() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    let silent = FaultServer::start(Fault::Silent, &TestCa::new());
    let hanging = Endpoint::new("127.0.0.1", silent.port, Security::Tls);
    let overall = Duration::from_secs(3);
    let (report, events, alive) = run(&request(&s, hanging.clone(), hanging, overall), PASSWORD);
    assert!(report.is_ok(), "{report:#?}");
    let caldav = report.caldav.as_ref().unwrap();
    assert_eq!(caldav.kind(), DiagnosisKind::Timeout, "{caldav:#?}");
    assert!(caldav.elapsed_ms >= 2_900 && caldav.elapsed_ms < 4_000, "{caldav:#?}");
    // The mail sides reached their verdicts long before the DAV deadline.
    for side in [&report.imap, &report.smtp] {
        assert!(side.elapsed_ms < 1_500, "mail waited on DAV: {} ms", side.elapsed_ms);
    }
    let mail_done = events.iter().filter(|e| e.step == Step::Done && matches!(e.side, Side::Imap | Side::Smtp)).map(|e| e.elapsed_ms).max();
    assert!(mail_done.unwrap() < 1_500);
    assert_eq!(alive, 0);
}

/// The window's way (`probe_mail_first`): with the service hosts accepting and never answering, the mail verdict is
/// handed over — passed, without DAV members — before either DAV side has its verdict, and the whole report still
/// ends with both DAV sides timed out. Order, not wall-clock: the hand-over is recorded among the events.
#[test]
fn the_mail_verdict_is_handed_over_before_a_hanging_dav_server_has_its_verdict() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    s.dav.set_mode(FrontMode::Hangs);
    let mut request = icloud_like(&s);
    request.timeouts = Timeouts::with_overall(Duration::from_secs(4));
    #[derive(Debug)]
    enum Seen {
        Event(ProbeEvent),
        Mail(Box<ProbeReport>),
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (events, mail) = (seen.clone(), seen.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let secret = Secret::new(PASSWORD.to_owned());
    let report = runtime.block_on(probe_mail_first(
        &request,
        &secret,
        &move |e| events.lock().unwrap().push(Seen::Event(e)),
        move |r: &ProbeReport| mail.lock().unwrap().push(Seen::Mail(Box::new(r.clone()))),
    ));
    let seen = seen.lock().unwrap();
    let handed = seen.iter().position(|s| matches!(s, Seen::Mail(_))).expect("the mail verdict was handed over");
    let Seen::Mail(mail) = &seen[handed] else { unreachable!() };
    assert!(mail.is_ok(), "{mail:#?}");
    assert_eq!((mail.caldav.as_ref(), mail.carddav.as_ref()), (None, None), "handed over before DAV was known");
    let dav_done = |e: &Seen| matches!(e, Seen::Event(e) if e.step == Step::Done && matches!(e.side, Side::Caldav | Side::Carddav));
    let first_dav_verdict = seen.iter().position(dav_done).expect("DAV's verdicts");
    assert!(handed < first_dav_verdict, "the mail verdict waited for DAV: {seen:#?}");
    assert_eq!(seen.iter().filter(|s| matches!(s, Seen::Mail(_))).count(), 1, "handed over once");
    // The whole report: the same mail verdict, and both DAV sides timed out after signing-in started.
    assert_eq!((&report.imap, &report.smtp), (&mail.imap, &mail.smtp));
    for side in [report.caldav.as_ref().unwrap(), report.carddav.as_ref().unwrap()] {
        assert_eq!(side.kind(), DiagnosisKind::Timeout, "{side:#?}");
    }
    assert!(s.dav.front_requests() >= 2, "the front was reached and left hanging");
}

// --- the command line: probe --dav, its JSON members, and --verified reading them back ---

struct Cli {
    s: Servers,
    ca_file: tempfile::NamedTempFile,
}

fn cli_setup(dav_user: DavUser) -> Cli {
    let s = servers(dav_user);
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), format!("{}{}", s.mail.ca().ca_pem(), s.dav.ca().ca_pem())).unwrap();
    Cli { s, ca_file }
}

impl Cli {
    /// The account's flags: mail on Dovecot, DAV on the harness's service hosts, both CAs trusted.
    fn server_flags(&self) -> Vec<String> {
        let mail = &self.s.mail;
        [
            "--address",
            ADDRESS,
            "--imap",
            &format!("localhost:{}", mail.imaps_port),
            "--smtp",
            &format!("localhost:{}", mail.submission_port),
            "--caldav",
            &self.s.dav.caldav_endpoint(),
            "--carddav",
            &self.s.dav.carddav_endpoint(),
            "--ca-file",
            &self.ca_file.path().display().to_string(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// The app with `args`, the DAV host names resolvable through its own /etc/hosts.
    fn run(&self, args: &[String], stdin: &str) -> std::process::Output {
        let mut command = std::process::Command::new(icloud_mail_tests::app_binary());
        command.args(args);
        icloud_mail_tests::run_with_stdin(&mut self.s.dav.with_test_hosts(&command), stdin)
    }

    fn probe_json(&self) -> (Option<i32>, serde_json::Value) {
        let mut args = vec!["probe".to_owned(), "--dav".into(), "--json".into(), "--password-stdin".into()];
        args.extend(self.server_flags());
        let out = self.run(&args, &format!("{PASSWORD}\n"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!text.contains(PASSWORD) && !String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
        (out.status.code(), serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}\n{out:?}")))
    }
}

fn keys(member: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = member.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

/// `probe --json` without `--dav` is mail's alone: no DAV members, not one request to the DAV hosts (here hanging,
/// so a probe that still tried them would also wait for their deadline).
#[test]
fn cli_probe_json_without_dav_has_no_dav_members_and_asks_the_dav_hosts_nothing() {
    let cli = cli_setup(DavUser::new(ADDRESS, PASSWORD));
    cli.s.dav.set_mode(FrontMode::Hangs);
    let mut args = vec!["probe".to_owned(), "--json".into(), "--password-stdin".into()];
    args.extend(cli.server_flags());
    let out = cli.run(&args, &format!("{PASSWORD}\n"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"));
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    assert_eq!(json["imap"]["kind"], "ok", "{json:#}");
    let object = json.as_object().unwrap();
    assert!(!object.contains_key("caldav") && !object.contains_key("carddav"), "{json:#}");
    assert_eq!(cli.s.dav.front_requests(), 0);
}

#[test]
fn cli_probe_dav_json_has_the_documented_members() {
    let cli = cli_setup(DavUser::new(ADDRESS, PASSWORD));
    let (code, json) = cli.probe_json();
    assert_eq!(code, Some(0), "{json:#}");
    let common =
        ["detail", "elapsed_ms", "hint", "home", "host", "kind", "message", "port", "principal", "realm", "server_text", "username"];
    let with = |extra: &str| {
        let mut k: Vec<String> = common.iter().map(|s| s.to_string()).chain([extra.to_owned()]).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&json["caldav"]), with("calendars"));
    assert_eq!(keys(&json["carddav"]), with("addressbooks"));
    let caldav = &json["caldav"];
    assert_eq!(caldav["kind"], "ok", "{json:#}");
    assert_eq!(caldav["realm"], dav::REALM);
    assert_eq!(caldav["host"], dav::CALDAV_HOST);
    assert_eq!(caldav["home"], cli.s.dav.calendar_home(ADDRESS));
    assert_eq!(
        caldav["calendars"],
        serde_json::json!([{"name": dav::EVENT_CALENDAR_NAME, "url": format!("{}{}/", cli.s.dav.calendar_home(ADDRESS), dav::EVENT_CALENDAR), "color": "#FF2968"}])
    );
    assert_eq!(keys(&caldav["calendars"][0]), ["color", "name", "url"]);
    assert_eq!(json["carddav"]["addressbooks"][0]["name"], dav::ADDRESS_BOOK);
    assert_eq!(keys(&json["carddav"]["addressbooks"][0]), ["name", "url"]);

    // Without --dav there are no such members.
    let mut args = vec!["probe".to_owned(), "--json".into(), "--password-stdin".into()];
    args.extend(cli.server_flags());
    let plain: serde_json::Value = serde_json::from_slice(&cli.run(&args, &format!("{PASSWORD}\n")).stdout).unwrap();
    assert!(plain.get("caldav").is_none() && plain.get("carddav").is_none(), "{plain:#}");
}

#[test]
fn cli_dav_never_changes_the_exit_code_and_the_text_says_why() {
    let mut cli = cli_setup(DavUser::new(ADDRESS, "wxyz-wxyz-wxyz-wxyz"));
    let (code, json) = cli.probe_json();
    assert_eq!(code, Some(0), "mail passed: {json:#}");
    assert_eq!((json["caldav"]["kind"].as_str(), json["carddav"]["kind"].as_str()), (Some("auth_rejected"), Some("auth_rejected")));

    cli.s.dav.stop();
    let (code, json) = cli.probe_json();
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["caldav"]["kind"], "connection_refused");
    assert_eq!(json["caldav"]["calendars"], serde_json::json!([]));

    let mut args = vec!["--lang".to_owned(), "en".into(), "probe".into(), "--dav".into(), "--password-stdin".into()];
    args.extend(cli.server_flags());
    let out = cli.run(&args, &format!("{PASSWORD}\n"));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Calendars (CalDAV)") && text.contains("Contacts (CardDAV)"), "{text}");
    assert!(text.contains("connection_refused"), "{text}");
}

#[test]
fn cli_readable_output_lists_what_was_found() {
    let cli = cli_setup(DavUser::new(ADDRESS, PASSWORD));
    let mut args = vec!["--lang".to_owned(), "en".into(), "probe".into(), "--dav".into(), "--password-stdin".into()];
    args.extend(cli.server_flags());
    let out = cli.run(&args, &format!("{PASSWORD}\n"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("Found: Home #FF2968 <{}home/>", cli.s.dav.calendar_home(ADDRESS))), "{text}");
    assert!(text.contains("Realm: MMCalDav"), "{text}");
    assert!(!text.contains(dav::TASK_CALENDAR_NAME), "the task list is not listed: {text}");
}

#[test]
fn cli_verified_reads_the_dav_members_back_and_refuses_other_servers() {
    let cli = cli_setup(DavUser::new(ADDRESS, PASSWORD));
    let (code, json) = cli.probe_json();
    assert_eq!(code, Some(0));
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, json: &serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, json.to_string()).unwrap();
        path.display().to_string()
    };
    let export = |report: &str, with_dav_flags: bool| {
        let mut args = vec!["export".to_owned(), "--format".into(), "settings-text".into(), "--output".into(), "-".into()];
        let flags = cli.server_flags();
        let flags: Vec<String> = if with_dav_flags {
            flags
        } else {
            // Without --caldav/--carddav the account's DAV hosts are iCloud's.
            flags.chunks(2).filter(|f| !matches!(f[0].as_str(), "--caldav" | "--carddav")).flatten().cloned().collect()
        };
        args.extend(flags);
        args.extend(["--verified".to_owned(), report.to_owned()]);
        cli.run(&args, "")
    };
    let as_tested = write("report.json", &json);
    let out = export(&as_tested, true);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // Tested on another DAV service host than the account's: refused, as for mail.
    let out = export(&as_tested, false);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("report_other_server"));

    // A calendar URL outside the service's domain (an edited report): refused.
    let mut edited = json.clone();
    edited["caldav"]["calendars"][0]["url"] = serde_json::json!("https://attacker.example/cal/");
    let out = export(&write("edited.json", &edited), true);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("attacker.example"));
}

#[test]
fn redirects_are_followed_within_the_service_domain_and_reported_and_refused_out_of_it() {
    let s = servers(DavUser::new(ADDRESS, PASSWORD));
    s.dav.set_mode(FrontMode::RedirectsRoot);
    let (report, _, _) = run(&icloud_like(&s), PASSWORD);
    let caldav = report.caldav.unwrap();
    assert_eq!(caldav.kind(), DiagnosisKind::Ok, "{caldav:#?}");
    let root = format!("https://{}:{}/", dav::CALDAV_HOST, s.dav.front_port);
    assert_eq!(caldav.redirects, [format!("{root} → {root}dav/")]);
    assert_eq!(caldav.requests, 5, "one more request than the floor: the redirect");
    assert!(caldav.diagnosis.detail.as_deref().unwrap_or_default().contains("redirected"), "{caldav:#?}");

    s.dav.set_mode(FrontMode::RedirectsAway);
    let front_before = s.dav.front_requests();
    let (report, _, _) = run(&icloud_like(&s), PASSWORD);
    assert!(report.is_ok());
    let caldav = report.caldav.unwrap();
    assert_eq!(caldav.kind(), DiagnosisKind::DavRefused, "{caldav:#?}");
    assert!(caldav.detail_contains("elsewhere.example"), "{caldav:#?}");
    assert_eq!(caldav.server_text.as_deref(), Some("302 Found"));
    assert!(caldav.redirects.is_empty(), "not followed");
    assert_eq!(s.dav.front_requests() - front_before, 2, "one unauthenticated request per side, nothing more");
}

trait Detail {
    fn detail_contains(&self, text: &str) -> bool;
}

impl Detail for icloud_mail_core::probe::DavReport {
    fn detail_contains(&self, text: &str) -> bool {
        self.diagnosis.detail.as_deref().is_some_and(|d| d.contains(text))
    }
}
