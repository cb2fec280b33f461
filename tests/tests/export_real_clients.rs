//! The exported files used for real: each client gets only the file the product exported (pointed at the loopback
//! Dovecot by `--imap/--smtp`, trusting the throwaway CA by `--ca-file`) plus the keychain (gnome-keyring on a
//! private bus, read through `icloud-mail-setup keychain get`). msmtp sends to self through STARTTLS, mbsync syncs
//! INBOX, NeoMutt opens the mailbox and shows the message, Thunderbird logs in with the account `thunderbird add`
//! wrote. Needs the app binary built first: `cargo build -p icloud-mail-setup`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use icloud_mail_tests::dovecot::Dovecot;
use icloud_mail_tests::keyring::KeyringSession;

const LOGIN: &str = "jane.doe@icloud.com";
const ADDRESS: &str = "jane@family.example";

use icloud_mail_tests::terminal::Terminal;
use icloud_mail_tests::thunderbird;
use icloud_mail_tests::{app_binary as app, fresh_token, wait_until};

use icloud_mail_tests::{assert_ok, run_with_stdin as run};

/// Whether Dovecot's log shows an IMAP login with the primary login's name part.
fn imap_login(log: &str) -> bool {
    log.lines().any(|l| l.contains("imap-login:") && l.contains("Login: user=<jane.doe>"))
}

/// Dovecot with the primary iCloud login's mailbox, the keychain holding its password (saved by the product), and
/// the arguments that point an export at them.
struct World {
    password: String,
    server: Dovecot,
    session: KeyringSession,
}

impl World {
    fn new() -> World {
        let (password, server, session) = icloud_mail_tests::mailbox_and_keyring(LOGIN);
        let out = run(
            session.command(app()).args(["keychain", "set", "--address", LOGIN, "--password-stdin"]),
            format!("{password}\n").as_bytes(),
        );
        assert_ok(&out);
        World { password, server, session }
    }

    fn server_args(&self) -> Vec<String> {
        vec![
            "--imap".into(),
            format!("{}:{}", self.server.host(), self.server.imaps_port),
            "--smtp".into(),
            format!("{}:{}", self.server.host(), self.server.submission_port),
        ]
    }

    /// `icloud-mail-setup export` for the custom-domain address, into the session's home.
    fn export(&self, format: &str) -> PathBuf {
        let file = self.session.home().join(format!("icloud.{format}"));
        let mut command = self.session.command(app());
        command.args(["export", "--address", ADDRESS, "--login", LOGIN, "--name", "Jane \"JD\" Doe", "--format", format, "--output"]);
        command.arg(&file).args(self.server_args()).arg("--ca-file").arg(self.server.ca_path());
        assert_ok(&run(&mut command, b""));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&self.password), "the exported file holds the password");
        file
    }

    fn message(&self, subject: &str) -> Vec<u8> {
        format!("From: Jane <{ADDRESS}>\r\nTo: {LOGIN}\r\nSubject: {subject}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@family.example>\r\n\r\nHello from the test.\r\n")
            .into_bytes()
    }
}

#[test]
fn msmtp_sends_to_self_through_starttls_with_only_the_file_and_the_keychain() {
    let world = World::new();
    let file = world.export("msmtp");
    let subject = format!("msmtp-{}", fresh_token());
    let out = run(world.session.command("msmtp").arg(format!("--file={}", file.display())).arg(LOGIN), world.message(&subject));
    assert_ok(&out);
    wait_until("the message in the INBOX", Duration::from_secs(10), || {
        world.server.messages(LOGIN).iter().any(|m| String::from_utf8_lossy(m).contains(&subject))
    });
    // Dovecot notes TLS on the submission login, and the login is the primary iCloud address.
    let log = world.server.log();
    let login_line = log
        .lines()
        .find(|l| l.contains("submission-login:") && l.contains("Login:"))
        .unwrap_or_else(|| panic!("no submission login in:\n{log}"));
    assert!(login_line.contains(&format!("user=<{LOGIN}>")) && login_line.contains("TLS"), "{login_line}");
}

#[test]
fn mbsync_syncs_the_inbox_with_only_the_file_and_the_keychain() {
    let world = World::new();
    let subject = format!("mbsync-{}", fresh_token());
    world.server.deliver(LOGIN, &world.message(&subject)).unwrap();
    let file = world.export("mbsync");
    // The one step the file's header asks for before the first sync.
    std::fs::create_dir_all(world.session.home().join(format!("Mail/{ADDRESS}"))).unwrap();
    let out = run(world.session.command("mbsync").arg("-c").arg(&file).arg("-a"), b"");
    assert_ok(&out);
    let inbox = world.session.home().join(format!("Mail/{ADDRESS}/INBOX"));
    let synced: Vec<String> = ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(inbox.join(sub)).ok())
        .flat_map(|entries| entries.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()))
        .collect();
    assert!(synced.iter().any(|m| m.contains(&subject)), "{} holds {synced:?}", inbox.display());
    assert!(imap_login(&world.server.log()), "IMAP logged in with the name part");
}

#[test]
fn neomutt_validates_the_file_and_shows_the_mailbox() {
    let world = World::new();
    let subject = format!("neomutt-{}", fresh_token());
    world.server.deliver(LOGIN, &world.message(&subject)).unwrap();
    let file = world.export("neomutt");
    // The file is valid: NeoMutt reads it without a complaint and resolves the password through the keychain.
    let out = run(world.session.command("neomutt").arg("-n").arg("-F").arg(&file).args(["-Q", "imap_pass", "-Q", "folder"]), b"");
    assert_ok(&out);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&format!("imap_pass = \"{}\"", world.password)), "{shown}");

    // And it opens the mailbox: the message's subject appears in its index.
    let terminal = Terminal::start(&world.session, &format!("neomutt -n -F '{}'", file.display()));
    terminal.wait_for(&subject, Duration::from_secs(20));
    assert!(imap_login(&world.server.log()));
}

// ---------------------------------------------------------------- Thunderbird

/// A throwaway profile that trusts the test CA and holds the password for the IMAP login (see
/// `icloud_mail_tests::thunderbird::prepare_profile`).
fn thunderbird_profile(world: &World, profile: &Path) {
    thunderbird::prepare_profile(profile, world.server.ca_path(), &format!("imap://{}", world.server.host()), "jane.doe", &world.password);
}

/// A name with every character prefs.js must escape, and some it must not.
const TB_NAME: &str = "Jane \"JD\" O'Brien \\ <&> Müller 💌";

#[test]
fn thunderbird_logs_in_with_the_account_thunderbird_add_wrote() {
    let world = World::new();
    let profile = world.session.home().join("tb-profile");
    thunderbird_profile(&world, &profile);

    let mut add = world.session.command(app());
    add.args(["thunderbird", "add", "--address", ADDRESS, "--login", LOGIN, "--name", TB_NAME, "--json", "--profile"])
        .arg(&profile)
        .args(world.server_args());
    let out = run(&mut add, b"");
    assert_ok(&out);
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["outcome"], "added", "{outcome}");

    let log = world.session.root().join("logs/thunderbird.log");
    let mut running = thunderbird::start_headless(world.session.command("thunderbird"), &profile, &log);
    thunderbird::wait_while_running(&mut running, &log, "Thunderbird's IMAP login at Dovecot", Duration::from_secs(90), || {
        imap_login(&world.server.log())
    });
    wait_until("the account's mail folder in the profile", Duration::from_secs(30), || {
        profile.join(format!("ImapMail/{}", world.server.host())).is_dir()
    });

    // While it runs, the product refuses to touch the profile.
    let out = run(&mut add, b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let refusal: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refusal["kind"], "thunderbird_running");
    running.stop(Duration::from_secs(20));
    // Thunderbird rewrote prefs.js on the way out: what it read from the lines the product wrote comes back.
    let rewritten = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    assert!(rewritten.contains("DO NOT EDIT THIS FILE"), "Thunderbird did not rewrite prefs.js:\n{rewritten}");
    let pref = |name: &str| -> serde_json::Value {
        thunderbird::pref(&rewritten, name).unwrap_or_else(|| panic!("Thunderbird dropped {name}:\n{rewritten}"))
    };
    let (id, server) = (outcome["identity_key"].as_str().unwrap(), outcome["server_key"].as_str().unwrap());
    assert_eq!(pref(&format!("mail.identity.{id}.fullName")), TB_NAME);
    assert_eq!(pref(&format!("mail.identity.{id}.useremail")), ADDRESS);
    assert_eq!(pref(&format!("mail.server.{server}.userName")), "jane.doe");
    assert_eq!(pref(&format!("mail.server.{server}.port")), world.server.imaps_port);
    // No file Thunderbird or the product wrote holds the password in clear (logins.json holds it encrypted).
    assert_eq!(world.session.files_containing(world.password.as_bytes()), Vec::<PathBuf>::new());
}
