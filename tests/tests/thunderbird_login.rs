//! The password reaches Thunderbird without retyping: `thunderbird add --password-stdin` (or
//! `--password-from-keychain`) stores it in the profile's own login store with Thunderbird's own NSS, and Debian's
//! Thunderbird, started headless on that profile with no password given to it by the test, signs in to the real
//! Dovecot (its log says `Login: user=<jane.doe>`, and the account's folder appears under ImapMail/). The test never
//! writes logins.json or key4.db itself: it only reads them (and checks that its own certutil call, which trusts the
//! test CA in cert9.db, left key4.db as it was). Needs the app binary: `cargo build -p icloud-mail-setup`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use icloud_mail_tests::dovecot::Dovecot;
use icloud_mail_tests::keyring::KeyringSession;
use icloud_mail_tests::processes::Service;
use icloud_mail_tests::thunderbird;
use icloud_mail_tests::{app_binary as app, assert_ok, fresh_password, run_with_stdin as run, wait_until};
use serde_json::Value;

const LOGIN: &str = "jane.doe@icloud.com";

/// Dovecot with Jane's mailbox, and a keyring session whose HOME holds the profiles.
struct World {
    password: String,
    server: Dovecot,
    session: KeyringSession,
}

impl World {
    fn new() -> World {
        let (password, server, session) = icloud_mail_tests::mailbox_and_keyring(LOGIN);
        World { password, server, session }
    }

    /// `icloud-mail-setup thunderbird add --json` for Jane into `profile`, with `extra` flags and `stdin`.
    fn add(&self, profile: &Path, extra: &[&str], stdin: &str) -> Output {
        let mut command = self.session.command(app());
        command.args(["thunderbird", "add", "--address", LOGIN, "--profile"]).arg(profile);
        command.args(["--imap", &format!("{}:{}", self.server.host(), self.server.imaps_port)]);
        command.args(["--smtp", &format!("{}:{}", self.server.host(), self.server.submission_port)]);
        command.args(extra);
        run(&mut command, stdin.as_bytes())
    }

    fn add_json(&self, profile: &Path, extra: &[&str], stdin: &str) -> Value {
        let mut flags = vec!["--json"];
        flags.extend_from_slice(extra);
        let out = self.add(profile, &flags, stdin);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
    }

    /// Files anywhere in the session (HOME and every profile in it) that hold the password in clear.
    fn clear_copies(&self) -> Vec<PathBuf> {
        self.session.files_containing(self.password.as_bytes())
    }

    /// Trusts the test CA in the profile's cert9.db (certutil with Thunderbird's own NSS, as a person importing a
    /// CA in Thunderbird would) and keeps Thunderbird online on a loopback-only machine (user.js). NSS records the
    /// new trust's integrity signatures (`sig_cert_…`) in key4.db's metaData; the keys and everything else in
    /// key4.db stay as they were (checked).
    fn prepare_for_thunderbird(&self, profile: &Path) {
        let before = key_store_state(profile);
        thunderbird::trust_ca(profile, self.server.ca_path());
        assert!(key_store_state(profile) == before, "the test's certutil call changed more of key4.db than trust signatures");
        std::fs::write(profile.join("user.js"), thunderbird::HEADLESS_PREFS).unwrap();
    }

    fn thunderbird(&self, profile: &Path, log: &str) -> Service {
        thunderbird::start_headless(self.session.command("thunderbird"), profile, &self.session.root().join(log))
    }

    /// Starts Debian's Thunderbird headless on `profile` and waits for its IMAP login at Dovecot and the account's
    /// mail folder in the profile; the test gives Thunderbird no password.
    fn thunderbird_signs_in(&self, profile: &Path) {
        let logins_before = self.imap_logins();
        let mut running = self.thunderbird(profile, "thunderbird.log");
        let log = self.session.root().join("thunderbird.log");
        thunderbird::wait_while_running(&mut running, &log, "Thunderbird's IMAP login at Dovecot", Duration::from_secs(90), || {
            self.imap_logins() > logins_before
        });
        wait_until("the account's mail folder in the profile", Duration::from_secs(30), || {
            profile.join(format!("ImapMail/{}", self.server.host())).is_dir()
        });
        running.stop(Duration::from_secs(20));
    }

    /// How many IMAP logins as jane.doe Dovecot has logged.
    fn imap_logins(&self) -> usize {
        self.server.log().lines().filter(|l| l.contains("imap-login:") && l.contains("Login: user=<jane.doe>")).count()
    }
}

/// A profile Thunderbird made itself: Thunderbird started headless once on an empty folder (it writes key4.db,
/// cert9.db, prefs.js…), then quit.
fn profile_made_by_thunderbird(world: &World, profile: &Path) {
    std::fs::create_dir_all(profile).unwrap();
    let mut first_run = world.thunderbird(profile, "thunderbird-first-run.log");
    wait_until("Thunderbird to create its profile", Duration::from_secs(60), || {
        profile.join("key4.db").is_file() && profile.join("prefs.js").is_file() && !profile.join(".startup-incomplete").exists()
    });
    std::thread::sleep(Duration::from_secs(2));
    first_run.stop(Duration::from_secs(20));
    assert!(!profile.join("logins.json").exists(), "a new profile has no saved passwords yet");
}

/// key4.db's keys and metadata apart from certificate-trust signatures, read (read-only) with sqlite3.
fn key_store_state(profile: &Path) -> String {
    let db = profile.join("key4.db");
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg(&db)
        .arg("SELECT id, hex(item1), hex(item2) FROM metaData WHERE id NOT LIKE 'sig_cert_%' ORDER BY id; SELECT * FROM nssPrivate ORDER BY id;")
        .output()
        .expect("run sqlite3 (package sqlite3)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The logins in the profile's logins.json (read only).
fn logins(profile: &Path) -> Vec<Value> {
    let text = std::fs::read(profile.join("logins.json")).expect("logins.json");
    let doc: Value = serde_json::from_slice(&text).unwrap();
    doc["logins"].as_array().unwrap().clone()
}

fn origins(profile: &Path) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> =
        logins(profile).iter().map(|l| (l["hostname"].as_str().unwrap().to_owned(), l["httpRealm"].as_str().unwrap().to_owned())).collect();
    found.sort();
    found
}

#[test]
fn password_stdin_into_a_profile_thunderbird_made_signs_thunderbird_in_without_asking() {
    let world = World::new();
    let profile = world.session.home().join("tb-made");
    profile_made_by_thunderbird(&world, &profile);
    world.prepare_for_thunderbird(&profile);
    let key4 = std::fs::read(profile.join("key4.db")).unwrap();

    let report = world.add_json(&profile, &["--password-stdin"], &format!("{}\n", world.password));
    assert_eq!(report["outcome"], "added", "{report}");
    assert_eq!(report["password_stored"], true, "{report}");
    // key4.db was there, logins.json was not: only key4.db is backed up, byte for byte.
    let backups: Vec<String> = report["password_backups"].as_array().unwrap().iter().map(|b| b.as_str().unwrap().to_owned()).collect();
    assert_eq!(backups.len(), 1, "{report}");
    assert!(backups[0].contains("key4.db.bak-"), "{backups:?}");
    assert!(std::fs::read(&backups[0]).unwrap() == key4, "the backup is not key4.db as it was");
    let host = world.server.host();
    let expected = vec![(format!("imap://{host}"), format!("imap://{host}")), (format!("smtp://{host}"), format!("smtp://{host}"))];
    assert_eq!(origins(&profile), expected);
    assert_eq!(world.clear_copies(), Vec::<PathBuf>::new(), "the password is in clear in a file");

    // A second add with another password replaces ours rather than adding a second login per server; a third with
    // the right one again leaves exactly one login per server, holding it.
    let other = fresh_password();
    let again = world.add_json(&profile, &["--password-stdin"], &format!("{other}\n"));
    assert_eq!((again["outcome"].as_str(), again["password_stored"].as_bool()), (Some("already_present"), Some(true)), "{again}");
    assert_eq!(origins(&profile), expected, "one login per server after a second add");
    let third = world.add_json(&profile, &["--password-stdin"], &format!("{}\n", world.password));
    assert_eq!(third["password_stored"], true);
    assert_eq!(origins(&profile), expected);
    // Three adds that each changed the login store leave one backup pair, the latest, where the report says.
    let names: Vec<String> = std::fs::read_dir(&profile).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let count = |prefix: &str| names.iter().filter(|n| n.starts_with(prefix)).count();
    assert_eq!((count("logins.json.bak-"), count("key4.db.bak-") <= 1), (1, true), "{names:?}");
    for backup in third["password_backups"].as_array().unwrap() {
        assert!(Path::new(backup.as_str().unwrap()).is_file(), "{third}");
    }
    // The same password once more: nothing to change, nothing backed up.
    let same = world.add_json(&profile, &["--password-stdin"], &format!("{}\n", world.password));
    assert_eq!((same["password_stored"].as_bool(), same["password_backups"].as_array().map(Vec::len)), (Some(true), Some(0)), "{same}");

    world.thunderbird_signs_in(&profile);
    assert_eq!(logins(&profile).len(), 2, "Thunderbird found the logins and added none");
    assert_eq!(world.clear_copies(), Vec::<PathBuf>::new(), "the password is in clear in a file");
}

#[test]
fn password_from_the_keychain_into_a_fresh_folder_where_nss_makes_key4db() {
    let world = World::new();
    let out = run(
        world.session.command(app()).args(["keychain", "set", "--address", LOGIN, "--password-stdin"]),
        format!("{}\n", world.password),
    );
    assert_ok(&out);
    let profile = world.session.home().join("fresh");
    std::fs::create_dir_all(&profile).unwrap();

    // Text output: added, and Thunderbird signs in without asking.
    let out = world.add(&profile, &["--password-from-keychain"], "");
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Thunderbird signs in without asking"), "{text}");
    assert!(!text.contains("asks for your app-specific password"), "{text}");
    assert!(profile.join("key4.db").is_file(), "NSS made key4.db");
    assert_eq!(origins(&profile).len(), 2);
    assert_eq!(world.clear_copies(), Vec::<PathBuf>::new());

    world.prepare_for_thunderbird(&profile);
    world.thunderbird_signs_in(&profile);
    assert_eq!(world.clear_copies(), Vec::<PathBuf>::new());
}

#[test]
fn a_primary_password_gets_the_account_but_leaves_the_login_store_alone_and_says_why() {
    let world = World::new();
    let profile = world.session.home().join("locked");
    std::fs::create_dir_all(&profile).unwrap();
    // A key store with a primary password, set with NSS's own tool.
    let pwfile = world.session.root().join("primary-password");
    std::fs::write(&pwfile, "correct horse battery staple\n").unwrap();
    let db = format!("sql:{}", profile.display());
    assert_ok(&run(Command::new("certutil").args(["-N", "-d", &db, "-f"]).arg(&pwfile), b""));
    let key4 = std::fs::read(profile.join("key4.db")).unwrap();

    let out = world.add(&profile, &["--json", "--password-stdin"], &format!("{}\n", world.password));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "added", "{report}");
    assert_eq!(report["password_stored"], false);
    assert_eq!(report["password_reason"]["kind"], "thunderbird_primary_password", "{report}");
    assert!(report["password_reason"]["message"].as_str().unwrap().contains("primary password"), "{report}");
    assert!(std::fs::read_to_string(profile.join("prefs.js")).unwrap().contains("jane.doe"), "the account was added");
    assert!(std::fs::read(profile.join("key4.db")).unwrap() == key4, "key4.db was changed");
    assert!(!profile.join("logins.json").exists(), "no login store written");
    let names: Vec<String> = std::fs::read_dir(&profile).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains(".bak-") && !n.starts_with("prefs.js")), "no backup of the login store: {names:?}");

    // In words: the account is there, the password is not, and why.
    let out = world.add(&profile, &["--password-stdin"], &format!("{}\n", world.password));
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("already has jane.doe@icloud.com"), "{stdout}");
    assert!(stderr.contains("locked with a primary password") && stderr.contains("thunderbird_primary_password"), "{stderr}");
    assert!(stdout.contains("asks for your app-specific password"), "{stdout}");
    assert!(std::fs::read(profile.join("key4.db")).unwrap() == key4, "key4.db was changed");
    assert_eq!(world.clear_copies(), Vec::<PathBuf>::new());
}

#[test]
fn without_a_password_or_without_thunderbirds_nss_the_login_store_is_untouched() {
    let world = World::new();
    let profile = world.session.home().join("plain");
    std::fs::create_dir_all(&profile).unwrap();
    let out = world.add(&profile, &[], "");
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("asks for your app-specific password") && text.contains("--password-stdin"), "{text}");
    assert!(!profile.join("logins.json").exists() && !profile.join("key4.db").exists());
    assert_eq!(world.add_json(&profile, &[], "")["password_stored"], false);

    // Thunderbird's NSS cannot be found: the account is there (from above), the password is not, and why.
    let nowhere = world.session.root().join("no-thunderbird");
    std::fs::create_dir_all(&nowhere).unwrap();
    let report =
        world.add_json(&profile, &["--password-stdin", "--thunderbird-dir", nowhere.to_str().unwrap()], &format!("{}\n", world.password));
    assert_eq!(report["outcome"], "already_present");
    assert_eq!(report["password_stored"], false);
    assert_eq!(report["password_reason"]["kind"], "thunderbird_nss_unavailable", "{report}");
    assert!(!profile.join("logins.json").exists() && !profile.join("key4.db").exists());

    // The two password flags exclude each other.
    let out = world.add(&profile, &["--password-stdin", "--password-from-keychain"], "x\n");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn while_thunderbird_runs_nothing_is_stored() {
    let world = World::new();
    let profile = world.session.home().join("running");
    profile_made_by_thunderbird(&world, &profile);
    world.prepare_for_thunderbird(&profile);
    let mut running = world.thunderbird(&profile, "thunderbird-running.log");
    wait_until("Thunderbird to hold the profile", Duration::from_secs(60), || {
        profile.join(".parentlock").exists() && profile.join("lock").symlink_metadata().is_ok()
    });
    std::thread::sleep(Duration::from_secs(3));
    let out = world.add(&profile, &["--json", "--password-stdin"], &format!("{}\n", world.password));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let refusal: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refusal["kind"], "thunderbird_running", "{refusal}");
    running.stop(Duration::from_secs(20));
    assert!(!profile.join("logins.json").exists());
}

#[test]
fn thunderbird_started_while_an_add_holds_the_profile_is_refused_and_nothing_is_lost() {
    let world = World::new();
    let profile = world.session.home().join("mid-add");
    profile_made_by_thunderbird(&world, &profile);
    world.prepare_for_thunderbird(&profile);
    let added = world.add_json(&profile, &["--password-stdin"], &format!("{}\n", world.password));
    assert_eq!((added["outcome"].as_str(), added["password_stored"].as_bool()), (Some("added"), Some(true)), "{added}");
    let prefs = std::fs::read(profile.join("prefs.js")).unwrap();

    // The lock an add holds while it reads and writes the profile (the same call `thunderbird add` makes).
    let held = icloud_mail_core::export::thunderbird_profile::lock::hold(&profile).unwrap().expect("the profile is free");
    let mut started = world.thunderbird(&profile, "thunderbird-mid-add.log");
    wait_until("Thunderbird to give up on the locked profile", Duration::from_secs(60), || !started.is_running());
    assert_eq!(std::fs::read(profile.join("prefs.js")).unwrap(), prefs, "Thunderbird did not open the profile");
    assert_eq!(world.imap_logins(), 0, "nor sign in");
    drop(held);

    // Released, the profile is Thunderbird's again, with the account the add wrote.
    world.thunderbird_signs_in(&profile);
}
