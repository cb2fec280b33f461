//! A real Thunderbird (Debian's, 153) with the profile the product wrote — mail, the iCloud-like calendar and address
//! book, and their passwords in Thunderbird's own store — run as a person's Thunderbird runs (a window on Xvfb, not
//! headless) and driven over Marionette (`--marionette -remote-allow-system-access`, Python's `marionette_driver` in
//! the chrome context, from `scripts/install.sh test`'s venv). It must show the server's event in its calendar and
//! the server's contact in its address book with no password prompt, and send one message through its own send code
//! (`nsIMsgSend.createAndSendMessage`, deliver now) that arrives at the relay with its copy in the Sent folder.
//!
//! Thunderbird runs in a loopback-only network namespace (`netns::LoopbackNet`): its background traffic cannot
//! leave the machine. Dovecot and the DAV server stay on the host's loopback and are reached through relays inside
//! the namespace; the DAV host names resolve through a private /etc/hosts (`dav::with_test_hosts`, a mount
//! namespace). One Thunderbird run serves all three checks (its start takes a while on two cores).
//!
//! Needs the app binary built first (`cargo build -p icloud-mail-setup`), root, Xvfb, Radicale and Dovecot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use icloud_mail_tests::ca::TestCa;
use icloud_mail_tests::dav::{self, DavServer, DavUser};
use icloud_mail_tests::dovecot::{Dovecot, MailUser, Setup};
use icloud_mail_tests::netns::LoopbackNet;
use icloud_mail_tests::processes::Service;
use icloud_mail_tests::{app_binary as app, assert_ok, fresh_password, fresh_token, run_with_stdin as run, thunderbird, wait_until};

const ADDRESS: &str = "jane.dav@icloud.com";

fn venv_python() -> PathBuf {
    let python = icloud_mail_tests::workspace_root().join("tests/.marionette-venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/install.sh test (it installs marionette_driver)", python.display());
    python
}

/// A profile as a person's would be before the product runs: a key store, the test CAs trusted, prefs for a machine
/// without internet (online at once, no first-run questions).
fn fresh_profile(profile: &Path, cas: &[&Path]) {
    std::fs::create_dir_all(profile).unwrap();
    let db = format!("sql:{}", profile.display());
    let mut certutil = Command::new("certutil");
    certutil.env("LD_LIBRARY_PATH", thunderbird::THUNDERBIRD_LIBS).args(["-N", "--empty-password", "-d", &db]);
    assert_ok(&run(&mut certutil, b""));
    for ca in cas {
        thunderbird::trust_ca(profile, ca);
    }
    let prefs = format!(
        "// Mozilla User Preferences\n\n{}{}",
        thunderbird::HEADLESS_PREFS,
        "user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n\
         user_pref(\"toolkit.telemetry.reportingpolicy.firstRun\", false);\n\
         user_pref(\"mail.spotlight.firstRunDone\", true);\n\
         user_pref(\"mail.provider.suppress_dialog_on_startup\", true);\n"
    );
    std::fs::write(profile.join("prefs.js"), prefs).unwrap();
}

/// Xvfb inside the namespace (its own display number), until dropped.
fn start_xvfb(net: &LoopbackNet, log_dir: &Path) -> (String, Service) {
    let number = 40 + std::process::id() % 400;
    let display = format!(":{number}");
    let service = Service::start(
        "Xvfb",
        net.command("Xvfb").args([&display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"]),
        &log_dir.join("xvfb.log"),
    )
    .expect("start Xvfb (package xvfb)");
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
    wait_until("Xvfb's socket", Duration::from_secs(20), || socket.exists());
    (display, service)
}

/// The flags that point the app at the test servers: Dovecot for mail, the DAV front for calendars and contacts,
/// and one `--ca-file` holding both test CAs.
fn server_args(dovecot: &Dovecot, dav: &DavServer, dir: &Path) -> Vec<String> {
    let cas = dir.join("cas.pem");
    std::fs::write(&cas, format!("{}{}", dovecot.ca().ca_pem(), dav.ca().ca_pem())).unwrap();
    let host = dovecot.host();
    vec![
        "--imap".into(),
        format!("{host}:{}", dovecot.imaps_port),
        "--smtp".into(),
        format!("{host}:{}", dovecot.submission_port),
        "--caldav".into(),
        dav.caldav_endpoint(),
        "--carddav".into(),
        dav.carddav_endpoint(),
        "--ca-file".into(),
        cas.display().to_string(),
    ]
}

/// The product's own flow on the command line: the connection test with calendars and contacts (`probe --dav
/// --json`, the password on standard input, the DAV names through the test hosts file), the report kept, then
/// `thunderbird add --with-dav --verified REPORT --password-stdin`.
fn product_adds(profile: &Path, dovecot: &Dovecot, dav: &DavServer, password: &str, dir: &Path) -> serde_json::Value {
    let servers = server_args(dovecot, dav, dir);
    let mut probe = Command::new(app());
    probe.args(["probe", "--address", ADDRESS, "--password-stdin", "--json", "--dav"]).args(&servers);
    let out = run(&mut dav.with_test_hosts(&probe), format!("{password}\n"));
    assert_ok(&out);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(password), "the report holds the password");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&report["caldav"]["kind"], &report["carddav"]["kind"]), (&"ok".into(), &"ok".into()), "{report:#}");
    let report_path = dir.join("report.json");
    std::fs::write(&report_path, &out.stdout).unwrap();

    let mut add = Command::new(app());
    add.args(["thunderbird", "add", "--address", ADDRESS, "--with-dav", "--password-stdin", "--json", "--verified"]);
    add.arg(&report_path).arg("--profile").arg(profile).args(&servers);
    let out = run(&mut add, format!("{password}\n"));
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every file below `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => found.extend(files_containing(&path, needle)),
            Ok(t) if t.is_file() && std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)) => {
                found.push(path)
            }
            _ => {}
        }
    }
    found
}

#[test]
fn thunderbird_syncs_the_calendar_and_contacts_the_product_added_and_sends_with_its_profile() {
    let started = Instant::now();
    let password = fresh_password();
    let dovecot = Dovecot::start_with(&[MailUser::new(ADDRESS, &password)], Setup::icloud_like(), TestCa::new()).expect("start Dovecot");
    let dav = DavServer::start(&[DavUser::new(ADDRESS, &password)]);
    let event = format!("Dentist {}", fresh_token());
    let contact = "Ada Lovelace";
    dav.put_event(ADDRESS, &event);
    dav.put_contact(ADDRESS, contact);
    let home = tempfile::Builder::new().prefix("icloud-mail-tb-dav-").tempdir().unwrap();
    let artifacts = icloud_mail_tests::processes::artifacts_dir("thunderbird_dav");
    let profile = home.path().join("profile");
    fresh_profile(&profile, &[dovecot.ca_path(), dav.ca_path()]);

    let outcome = product_adds(&profile, &dovecot, &dav, &password, home.path());
    assert_eq!(outcome["outcome"], "added", "{outcome}");
    assert_eq!(outcome["password_stored"], true, "{outcome}");
    let calendar_url = format!("{}{}/", dav.calendar_home(ADDRESS), dav::EVENT_CALENDAR);
    let book_url = format!("{}{}/", dav.addressbook_home(ADDRESS), dav::ADDRESS_BOOK);
    assert_eq!(outcome["dav"]["calendars"][0]["url"], calendar_url.as_str(), "{outcome}");
    assert_eq!(outcome["dav"]["addressbooks"][0]["url"], book_url.as_str(), "{outcome}");
    let prefs_js = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    assert!(!prefs_js.contains(&password), "the password is not in prefs.js");
    let added = started.elapsed();

    // The namespace: Thunderbird's loopback leads only to these servers.
    let net = LoopbackNet::new();
    for port in [dovecot.imaps_port, dovecot.submission_port, dovecot.submissions_port, dav.radicale_port, dav.front_port] {
        net.relay(port);
    }
    let (display, _xvfb) = start_xvfb(&net, &artifacts);
    let mut thunderbird = net.command("thunderbird");
    thunderbird.args(["--marionette", "-remote-allow-system-access", "--no-remote", "--profile"]).arg(&profile);
    let mut thunderbird = dav.with_test_hosts(&thunderbird);
    thunderbird
        .env("HOME", home.path())
        .env("DISPLAY", &display)
        .env("MOZ_CRASHREPORTER_DISABLE", "1")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("MOZ_HEADLESS");
    let log = artifacts.join("thunderbird.log");
    let mut running = Service::start("thunderbird", &mut thunderbird, &log).expect("start thunderbird (package thunderbird)");

    let subject = format!("Thunderbird sends {}", fresh_token());
    let request = serde_json::json!({
        "port": 2828, "address": ADDRESS, "event": event, "contact": contact, "to": ADDRESS, "subject": subject,
        "wait_seconds": 120,
    });
    let script = icloud_mail_tests::workspace_root().join("tests/marionette/thunderbird_dav.py");
    let out = net.command(venv_python()).arg(&script).arg(request.to_string()).output().expect("run the Marionette driver");
    let thunderbird_log = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        out.status.success(),
        "the driver failed: {}\n{}\nThunderbird's log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout),
        thunderbird_log()
    );
    let seen: serde_json::Value = serde_json::from_slice(out.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap())
        .unwrap_or_else(|e| panic!("the driver's answer: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    let driven = started.elapsed();
    eprintln!("thunderbird_dav: the driver saw {seen}");

    // The calendar, as the product named it, with the server's event.
    let calendars = seen["calendars"].as_array().expect("calendars");
    assert_eq!(calendars.len(), 1, "one CalDAV calendar: {seen:#}");
    assert_eq!(calendars[0]["uri"], calendar_url.as_str(), "{seen:#}");
    assert_eq!(calendars[0]["username"], ADDRESS, "{seen:#}");
    assert!(
        calendars[0]["items"].as_array().unwrap().iter().any(|i| i == event.as_str()),
        "the server's event is not in Thunderbird's calendar: {seen:#}\nRadicale:\n{}",
        dav.log()
    );
    // The address book, with the server's contact.
    let books = seen["books"].as_array().expect("books");
    assert_eq!(books.len(), 1, "one CardDAV address book: {seen:#}");
    assert_eq!(books[0]["url"], book_url.as_str(), "{seen:#}");
    assert!(
        books[0]["cards"].as_array().unwrap().iter().any(|c| c == contact),
        "the server's contact is not in Thunderbird's address book: {seen:#}\nRadicale:\n{}",
        dav.log()
    );
    // Nobody was asked for a password.
    assert_eq!(seen["prompts"], serde_json::json!([]), "Thunderbird prompted: {seen:#}");

    // Sent by Thunderbird: accepted, delivered by the relay, and copied into the account's Sent folder.
    assert_eq!(seen["sent"]["status"], 0, "{seen:#}\n{}", thunderbird_log());
    let has = |folder: &str| {
        dovecot.folder_messages(ADDRESS, folder).iter().any(|m| String::from_utf8_lossy(m).contains(&format!("Subject: {subject}")))
    };
    wait_until("Thunderbird's message in the INBOX (through submission)", Duration::from_secs(30), || has("INBOX"));
    wait_until("Thunderbird's copy in Sent Messages", Duration::from_secs(60), || has("Sent Messages"));
    let log = dovecot.log();
    assert!(log.lines().any(|l| l.contains("submission-login:") && l.contains(&format!("user=<{ADDRESS}>"))), "{log}");

    running.stop(Duration::from_secs(20));
    assert!(net.relayed() > 0);
    // The password is nowhere in clear: not in the profile (prefs.js, logins.json, Thunderbird's caches), not in
    // the report, not in HOME.
    assert_eq!(files_containing(home.path(), password.as_bytes()), Vec::<PathBuf>::new(), "files holding the password");
    eprintln!(
        "thunderbird_dav: probe + add {:.1} s, Thunderbird start to calendar, contacts and send {:.1} s, all {:.1} s",
        added.as_secs_f64(),
        (driven - added).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
