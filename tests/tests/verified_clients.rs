//! What was tested is what the mail app gets (#13). Against an iCloud-like Dovecot — iCloud's folder names with no
//! special-use flags, an account whose Sent and Trash are `Sent Items` and `Deleted Items`, accounts that sign in
//! with one login form only, port 587 closed where a test says so — each test runs the product's own flow:
//! `keychain set` (the password into gnome-keyring), `probe --json` (the password on standard input, the report
//! saved), then `export --verified REPORT` or `thunderbird add --verified REPORT` with no server flags, and then the
//! real client with nothing but that file and the keychain. A file that names a server, a port, a username or a
//! folder the test did not find cannot pass: the servers are on random loopback ports, each account refuses the
//! login form it does not take, and the Sent copies are looked for in the folder the server lists.
//!
//! Needs the app binary built first: `cargo build -p icloud-mail-setup`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use icloud_mail_tests::ca::TestCa;
use icloud_mail_tests::dovecot::{Accepts, Dovecot, MailUser, Setup, ICLOUD_FOLDERS, ITEMS_FOLDERS};
use icloud_mail_tests::keyring::KeyringSession;
use icloud_mail_tests::terminal::Terminal;
use icloud_mail_tests::thunderbird;
use icloud_mail_tests::{app_binary as app, assert_ok, fresh_password, fresh_token, run_with_stdin as run, wait_until};

/// `Sent Items` and `Deleted Items`; signs in with the full address only (the probe's IMAP login tries the name
/// part first, so the file must carry the form that worked).
const SAM: &str = "sam.items@icloud.com";
/// iCloud's folders; signs in with the name part only (the probe's SMTP login tries the full address first, so
/// the file must carry the form that worked).
const KIM: &str = "kim.short@icloud.com";

/// POSIX shell quoting for a path in a tmux command line.
fn sh(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// One account on an iCloud-like server, its password saved by the product into gnome-keyring, and the report of
/// the product's connection test against that server.
struct World {
    address: &'static str,
    password: String,
    server: Dovecot,
    session: KeyringSession,
    report: PathBuf,
    /// How many lines of Dovecot's log the product's own test wrote: the clients' logins come after them.
    probe_log_lines: usize,
}

impl World {
    /// `address` is SAM or KIM (each with its folders and login forms); `setup` is iCloud-like, maybe with 587
    /// closed.
    fn new(address: &'static str, setup: Setup) -> World {
        let password = fresh_password();
        let user = match address {
            SAM => MailUser::new(SAM, &password).with_folders(&ITEMS_FOLDERS).accepting(Accepts::FullAddressOnly),
            KIM => MailUser::new(KIM, &password).accepting(Accepts::NamePartOnly),
            other => panic!("no such test account {other}"),
        };
        assert!(setup.icloud_like);
        let server = Dovecot::start_with(&[user], setup, TestCa::new()).expect("start Dovecot");
        let session = KeyringSession::with_keyring();
        let out = run(session.command(app()).args(["keychain", "set", "--address", address, "--password-stdin"]), format!("{password}\n"));
        assert_ok(&out);

        // The connection test, as a person or a script runs it: the password on standard input, the servers
        // given, the report kept.
        let mut probe = session.command(app());
        probe.args(["probe", "--address", address, "--password-stdin", "--json"]).args(server.app_args_with_fallback());
        let out = run(&mut probe, format!("{password}\n"));
        assert_ok(&out);
        let report = session.home().join("report.json");
        std::fs::write(&report, &out.stdout).unwrap();
        // The probe's own logins (one per protocol) are logged before the clients run; they must not count as a
        // client's.
        wait_until("the probe's logins in Dovecot's log", Duration::from_secs(10), || {
            let log = server.log();
            ["imap-login:", "submission-login:"].iter().all(|s| log.lines().any(|l| l.contains(s) && l.contains("Login: user=<")))
        });
        let probe_log_lines = server.log().lines().count();
        let world = World { address, password, server, session, report, probe_log_lines };
        let json = world.report_json();
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&world.password), "the report holds the password");
        assert_eq!((&json["imap"]["kind"], &json["smtp"]["kind"]), (&"ok".into(), &"ok".into()), "{json:#}");
        // The test read the server's list (what the files below must carry).
        assert_eq!(json["imap"]["folders"]["sent"], world.folder("sent"), "{json:#}");
        world
    }

    fn report_json(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&self.report).unwrap()).unwrap()
    }

    /// The server's folder for a role (from the account's folder list, as the server lists it).
    fn folder(&self, role: &str) -> &'static str {
        let folders = if self.address == SAM { ITEMS_FOLDERS } else { ICLOUD_FOLDERS };
        let index = ["drafts", "sent", "trash", "junk", "archive"].iter().position(|r| *r == role).expect("a role");
        folders[index]
    }

    /// The login form this account's server accepts.
    fn login(&self) -> &'static str {
        if self.address == KIM {
            KIM.split('@').next().unwrap()
        } else {
            self.address
        }
    }

    /// `export --verified REPORT` into `path`: the servers the test was run against (a report is taken only for
    /// the account's own servers), and the CA the client should trust.
    fn export_to(&self, format: &str, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut command = self.session.command(app());
        command.args(["export", "--address", self.address, "--format", format, "--verified"]).arg(&self.report);
        command.args(self.server.app_args_with_fallback()).arg("--output").arg(path);
        assert_ok(&run(&mut command, b""));
        let text = std::fs::read_to_string(path).unwrap();
        assert!(!text.contains(&self.password), "the exported file holds the password");
    }

    fn export(&self, format: &str) -> PathBuf {
        let file = self.session.home().join(format!("icloud.{format}"));
        self.export_to(format, &file);
        file
    }

    fn message(&self, subject: &str) -> Vec<u8> {
        format!(
            "From: {0}\r\nTo: {0}\r\nSubject: {subject}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@icloud.com>\r\n\r\nHello from the test.\r\n",
            self.address
        )
        .into_bytes()
    }

    /// Whether `folder` on the server holds a message with this subject.
    fn server_has(&self, folder: &str, subject: &str) -> bool {
        self.server
            .folder_messages(self.address, folder)
            .iter()
            .any(|m| String::from_utf8_lossy(m).contains(&format!("Subject: {subject}")))
    }

    /// Dovecot's log lines of `service` (e.g. `submission-login`) that record a login since the probe's.
    fn logins(&self, service: &str) -> Vec<String> {
        let log = self.server.log();
        log.lines()
            .skip(self.probe_log_lines)
            .filter(|l| l.contains(&format!("{service}:")) && l.contains("Login: user=<"))
            .map(str::to_owned)
            .collect()
    }

    /// Nothing under the session's folders (home, config, the exported files, the report) holds the password.
    fn assert_no_file_holds_the_password(&self) {
        assert_eq!(self.session.files_containing(self.password.as_bytes()), Vec::<PathBuf>::new());
    }
}

// ---------------------------------------------------------------- aerc

/// aerc (Debian 12: 0.14) with only the exported accounts.conf in its own config folder, the keychain, and the
/// test CA by SSL_CERT_FILE: it shows the server's folders, composes with `:compose`, sends with `y`, and copies the
/// message into the account's Sent folder. aerc 0.14 falls back to Debian's /usr/share/aerc/aerc.conf and binds.conf
/// when its config folder has none, so accounts.conf is the only file it is given.
fn aerc_sends_and_keeps_a_copy(world: &World) {
    world.export_to("aerc", &world.session.home().join(".config/aerc/accounts.conf"));
    let subject = format!("aerc-{}", fresh_token());
    let terminal = Terminal::start(&world.session, &format!("EDITOR=true SSL_CERT_FILE={} aerc", sh(world.server.ca_path())));
    // Connected: the folder list is the server's.
    terminal.wait_for(world.folder("sent"), Duration::from_secs(30));
    terminal.type_line(&format!(":compose -H \"To: {}\" -H \"Subject: {subject}\"", world.address));
    terminal.wait_for("Send this email?", Duration::from_secs(20));
    terminal.keys(&["y"]);
    wait_until("the message in the INBOX", Duration::from_secs(30), || world.server_has("INBOX", &subject));
    wait_until(&format!("aerc's copy in {:?}", world.folder("sent")), Duration::from_secs(30), || {
        world.server_has(world.folder("sent"), &subject)
    });
    let submission = world.logins("submission-login");
    assert!(!submission.is_empty(), "no login by aerc:\n{}", world.server.log());
    assert!(submission.iter().all(|l| l.contains(&format!("user=<{}>", world.login())) && l.contains("TLS")), "{submission:?}");
    // IMAP too signed in with the one form this account takes.
    let imap = world.logins("imap-login");
    assert!(!imap.is_empty() && imap.iter().all(|l| l.contains(&format!("user=<{}>", world.login()))), "{imap:?}");
    world.assert_no_file_holds_the_password();
}

#[test]
fn aerc_sends_over_587_with_starttls_and_copies_into_sent_messages() {
    let world = World::new(KIM, Setup::icloud_like());
    assert_eq!(world.report_json()["smtp"]["port"], world.server.submission_port);
    aerc_sends_and_keeps_a_copy(&world);
}

#[test]
fn aerc_sends_over_465_when_587_is_closed_and_copies_into_sent_items() {
    let world = World::new(SAM, Setup::icloud_like().without_starttls_submission());
    assert_eq!(world.report_json()["smtp"]["port"], world.server.submissions_port);
    aerc_sends_and_keeps_a_copy(&world);
}

// ---------------------------------------------------------------- msmtp

#[test]
fn msmtp_sends_over_465_with_the_name_part_when_587_is_closed() {
    let world = World::new(KIM, Setup::icloud_like().without_starttls_submission());
    let file = world.export("msmtp");
    let subject = format!("msmtp-{}", fresh_token());
    let out = run(world.session.command("msmtp").arg(format!("--file={}", file.display())).arg(KIM), world.message(&subject));
    assert_ok(&out);
    wait_until("the message in the INBOX", Duration::from_secs(10), || world.server_has("INBOX", &subject));
    // msmtp signed in with the name part (the only form this account takes), over TLS (587 does not even listen).
    let submission = world.logins("submission-login");
    assert!(!submission.is_empty(), "no login by msmtp:\n{}", world.server.log());
    assert!(submission.iter().all(|l| l.contains(&format!("user=<{}>", world.login())) && l.contains("TLS")), "{submission:?}");
    world.assert_no_file_holds_the_password();
}

// ---------------------------------------------------------------- mbsync

/// The local Maildir root the exported file names (`Path "~/…/"`), in the session's home.
fn mbsync_local_root(file: &Path, home: &Path) -> PathBuf {
    let text = std::fs::read_to_string(file).unwrap();
    let path = text.lines().find_map(|l| l.strip_prefix("Path ")).unwrap_or_else(|| panic!("no Path in\n{text}"));
    let path = path.trim().trim_matches('"');
    home.join(path.strip_prefix("~/").unwrap_or_else(|| panic!("Path {path} is not under ~")))
}

fn maildir_messages(maildir: &Path) -> Vec<String> {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
        .flat_map(|entries| entries.map(|e| String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned()))
        .collect()
}

#[test]
fn mbsync_syncs_the_inbox_and_sent_items_with_the_full_address() {
    let world = World::new(SAM, Setup::icloud_like());
    let (inbox_subject, sent_subject) = (format!("mbsync-in-{}", fresh_token()), format!("mbsync-sent-{}", fresh_token()));
    world.server.deliver(SAM, &world.message(&inbox_subject)).unwrap();
    world.server.deliver_to_folder(SAM, "Sent Items", &world.message(&sent_subject)).unwrap();
    let file = world.export("mbsync");
    // The one step the file's header asks for before the first sync.
    let root = mbsync_local_root(&file, &world.session.home());
    std::fs::create_dir_all(&root).unwrap();
    let out = run(world.session.command("mbsync").arg("-c").arg(&file).arg("-a"), b"");
    assert_ok(&out);
    let inbox = maildir_messages(&root.join("INBOX"));
    assert!(inbox.iter().any(|m| m.contains(&inbox_subject)), "{} holds {inbox:?}", root.display());
    let sent = maildir_messages(&root.join("Sent Items"));
    assert!(sent.iter().any(|m| m.contains(&sent_subject)), "{}/Sent Items holds {sent:?}", root.display());

    // And back: a message filed locally into Sent Items reaches the server's Sent Items on the next sync.
    let local_subject = format!("mbsync-up-{}", fresh_token());
    let name = format!("1795000000.local{}.test:2,S", fresh_token());
    std::fs::write(root.join("Sent Items/cur").join(name), world.message(&local_subject)).unwrap();
    assert_ok(&run(world.session.command("mbsync").arg("-c").arg(&file).arg("-a"), b""));
    assert!(world.server_has("Sent Items", &local_subject), "{}", world.server.log());
    let imap = world.logins("imap-login");
    assert!(!imap.is_empty() && imap.iter().all(|l| l.contains(&format!("user=<{SAM}>"))), "{imap:?}");
    world.assert_no_file_holds_the_password();
}

// ---------------------------------------------------------------- NeoMutt

#[test]
fn neomutt_sends_in_batch_mode_with_the_name_part() {
    let world = World::new(KIM, Setup::icloud_like());
    let file = world.export("neomutt");
    let subject = format!("neomutt-batch-{}", fresh_token());
    let mut neomutt = world.session.command("neomutt");
    neomutt.arg("-n").arg("-F").arg(&file).args(["-s", &subject, KIM]);
    let out = run(&mut neomutt, b"Hello from NeoMutt's batch mode.\n");
    assert_ok(&out);
    wait_until("the message in the INBOX", Duration::from_secs(10), || world.server_has("INBOX", &subject));
    let submission = world.logins("submission-login");
    assert!(!submission.is_empty(), "no login by NeoMutt:\n{}", world.server.log());
    assert!(submission.iter().all(|l| l.contains(&format!("user=<{}>", world.login())) && l.contains("TLS")), "{submission:?}");
    world.assert_no_file_holds_the_password();
}

/// NeoMutt skips the copy to an IMAP `record` in batch mode, so the copy is proven through its screen: `m`, the
/// recipient, the subject, an editor that writes the body by itself, `y`. The copy must land in `Sent Items` (a
/// file naming `Sent Messages` would make NeoMutt ask whether to create that folder, and nothing answers).
#[test]
fn neomutt_keeps_the_sent_copy_in_sent_items() {
    let world = World::new(SAM, Setup::icloud_like());
    let file = world.export("neomutt");
    let editor = world.session.home().join("write-body.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf 'Body written by the editor.\\n' >> \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let subject = format!("neomutt-ui-{}", fresh_token());

    let terminal = Terminal::start(&world.session, &format!("EDITOR={} neomutt -n -F {}", sh(&editor), sh(&file)));
    terminal.wait_for("NeoMutt: +INBOX", Duration::from_secs(30));
    terminal.keys(&["m"]);
    terminal.wait_for("To:", Duration::from_secs(10));
    terminal.type_line(SAM);
    terminal.wait_for("Subject:", Duration::from_secs(10));
    terminal.type_line(&subject);
    terminal.wait_for("NeoMutt: Compose", Duration::from_secs(10));
    terminal.keys(&["y"]);
    wait_until("the message in the INBOX", Duration::from_secs(30), || world.server_has("INBOX", &subject));
    wait_until("NeoMutt's copy in \"Sent Items\"", Duration::from_secs(30), || world.server_has("Sent Items", &subject));
    let imap = world.logins("imap-login");
    assert!(!imap.is_empty() && imap.iter().all(|l| l.contains(&format!("user=<{SAM}>"))), "{imap:?}");
    world.assert_no_file_holds_the_password();
}

// ---------------------------------------------------------------- Thunderbird

#[test]
fn thunderbird_signs_in_with_the_verified_profile_and_names_the_account_folders() {
    let world = World::new(SAM, Setup::icloud_like());
    let host = world.server.host();
    let profile = world.session.home().join("tb-profile");
    // The password as Thunderbird keeps it (its own store, not the system keychain), for the login form the
    // server takes: a profile with another username would find no password, ask, and never sign in.
    thunderbird::prepare_profile(&profile, world.server.ca_path(), &format!("imap://{host}"), SAM, &world.password);

    let mut add = world.session.command(app());
    add.args(["thunderbird", "add", "--address", SAM, "--json", "--verified"]).arg(&world.report).arg("--profile").arg(&profile);
    add.args(world.server.app_args_with_fallback());
    let out = run(&mut add, b"");
    assert_ok(&out);
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["outcome"], "added", "{outcome}");
    let (id, server) = (outcome["identity_key"].as_str().unwrap(), outcome["server_key"].as_str().unwrap());

    // Thunderbird's folder URIs: imap://<user, @ as %40>@<host>/<path, space as %20>.
    let uri = |folder: &str| format!("imap://{}@{host}/{}", SAM.replace('@', "%40"), folder.replace(' ', "%20"));
    let expected = [
        (format!("mail.server.{server}.hostname"), serde_json::Value::from(host)),
        (format!("mail.server.{server}.port"), world.server.imaps_port.into()),
        (format!("mail.server.{server}.userName"), SAM.into()),
        (format!("mail.identity.{id}.fcc_folder"), uri("Sent Items").into()),
        (format!("mail.identity.{id}.draft_folder"), uri("Drafts").into()),
        (format!("mail.server.{server}.trash_folder_name"), "Deleted Items".into()),
    ];
    let written = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    for (name, value) in &expected {
        assert_eq!(thunderbird::pref(&written, name).as_ref(), Some(value), "{name} in\n{written}");
    }

    let log = world.session.root().join("logs/thunderbird.log");
    let mut running = thunderbird::start_headless(world.session.command("thunderbird"), &profile, &log);
    thunderbird::wait_while_running(&mut running, &log, "Thunderbird's IMAP login at Dovecot", Duration::from_secs(90), || {
        world.logins("imap-login").iter().any(|l| l.contains(&format!("user=<{SAM}>")))
    });
    // It found the server's folders, the ones the prefs name among them.
    let mail_dir = profile.join("ImapMail").join(host);
    wait_until("Thunderbird's copy of the folder list", Duration::from_secs(60), || {
        ["Sent Items.msf", "Drafts.msf", "Deleted Items.msf"].iter().all(|f| mail_dir.join(f).exists())
    });
    running.stop(Duration::from_secs(20));
    // Thunderbird rewrote prefs.js on the way out and kept the folders the product wrote.
    let rewritten = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    assert!(rewritten.contains("DO NOT EDIT THIS FILE"), "Thunderbird did not rewrite prefs.js:\n{rewritten}");
    for (name, value) in &expected {
        assert_eq!(thunderbird::pref(&rewritten, name).as_ref(), Some(value), "{name} after Thunderbird ran, in\n{rewritten}");
    }
    let imap = world.logins("imap-login");
    assert!(imap.iter().all(|l| l.contains(&format!("user=<{SAM}>"))), "{imap:?}");
    world.assert_no_file_holds_the_password();
}
