//! The exported files used for real: each client gets only the file the product exported (pointed at the loopback
//! Dovecot by `--imap/--smtp`, trusting the throwaway CA by `--ca-file`) plus the keychain (gnome-keyring on a
//! private bus, read through `icloud-mail-setup keychain get`). msmtp sends to self through STARTTLS, mbsync syncs
//! INBOX, NeoMutt opens the mailbox and shows the message, Thunderbird logs in with the account `thunderbird add`
//! wrote. Needs the app binary built first: `cargo build -p icloud-mail-setup`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use icloud_mail_tests::dovecot::{Dovecot, MailUser};
use icloud_mail_tests::keyring::KeyringSession;
use icloud_mail_tests::processes::Service;

const LOGIN: &str = "jane.doe@icloud.com";
const ADDRESS: &str = "jane@family.example";

use icloud_mail_tests::terminal::Terminal;
use icloud_mail_tests::{app_binary as app, fresh_password};

/// Sixteen random letters, to make subjects and names no other run shares.
fn fresh_token() -> String {
    fresh_password().replace('-', "")
}

use icloud_mail_tests::{assert_ok, run_with_stdin as run};

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
        let password = fresh_password();
        let server = Dovecot::start(&[MailUser::new(LOGIN, &password)]).expect("start Dovecot");
        let session = KeyringSession::with_keyring();
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

/// `LD_LIBRARY_PATH` for Thunderbird's own NSS (Debian's system NSS is too old for its key4.db).
const THUNDERBIRD_LIBS: &str = "/usr/lib/thunderbird";

/// A throwaway profile that trusts the test CA (in its cert9.db), starts online on a loopback-only machine, and
/// has the password for the IMAP login in logins.json (Thunderbird would otherwise ask, and nobody can answer).
fn thunderbird_profile(world: &World, profile: &Path) {
    std::fs::create_dir_all(profile).unwrap();
    let db = format!("sql:{}", profile.display());
    assert_ok(&run(Command::new("certutil").args(["-N", "--empty-password", "-d", &db]), b""));
    assert_ok(&run(
        Command::new("certutil").args(["-A", "-n", "icloud-mail-setup test CA", "-t", "C,,", "-d", &db, "-i"]).arg(world.server.ca_path()),
        b"",
    ));
    std::fs::write(
        profile.join("prefs.js"),
        "// Mozilla User Preferences\n\n\
         user_pref(\"offline.autoDetect\", false);\n\
         user_pref(\"offline.startup_state\", 2);\n\
         user_pref(\"network.manage-offline-status\", false);\n\
         user_pref(\"mail.shell.checkDefaultClient\", false);\n\
         user_pref(\"mailnews.start_page.enabled\", false);\n\
         user_pref(\"app.update.enabled\", false);\n",
    )
    .unwrap();
    nss::seed_login(profile, &format!("imap://{}", world.server.host()), "jane.doe", &world.password);
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
    let mut thunderbird = world.session.command("thunderbird");
    thunderbird.args(["--headless", "--no-remote", "--profile"]).arg(&profile).env("MOZ_HEADLESS", "1");
    let mut running = Service::start("thunderbird", &mut thunderbird, &log).expect("start thunderbird");

    wait_until("Thunderbird's IMAP login at Dovecot", Duration::from_secs(90), || {
        assert!(running.is_running(), "Thunderbird exited early:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
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
        let prefix = format!("user_pref({}, ", serde_json::Value::from(name));
        let line = rewritten.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("Thunderbird dropped {name}:\n{rewritten}"));
        serde_json::from_str(line[prefix.len()..].strip_suffix(");").unwrap()).unwrap()
    };
    let (id, server) = (outcome["identity_key"].as_str().unwrap(), outcome["server_key"].as_str().unwrap());
    assert_eq!(pref(&format!("mail.identity.{id}.fullName")), TB_NAME);
    assert_eq!(pref(&format!("mail.identity.{id}.useremail")), ADDRESS);
    assert_eq!(pref(&format!("mail.server.{server}.userName")), "jane.doe");
    assert_eq!(pref(&format!("mail.server.{server}.port")), world.server.imaps_port);
    // No file Thunderbird or the product wrote holds the password in clear (logins.json holds it encrypted).
    assert_eq!(world.session.files_containing(world.password.as_bytes()), Vec::<PathBuf>::new());
}

/// Thunderbird's password store, written with Thunderbird's own NSS: `PK11SDR_Encrypt` with the profile's key4.db,
/// as Thunderbird's login manager does. Loaded at run time (dlopen) so nothing links against it at build time.
mod nss {
    use std::ffi::{c_char, c_int, c_uint, c_void, CString};
    use std::path::Path;

    #[repr(C)]
    struct SecItem {
        kind: c_int,
        data: *mut u8,
        len: c_uint,
    }

    type NssInit = unsafe extern "C" fn(*const c_char) -> c_int;
    type NssShutdown = unsafe extern "C" fn() -> c_int;
    type SdrEncrypt = unsafe extern "C" fn(*mut SecItem, *mut SecItem, *mut SecItem, *mut c_void) -> c_int;
    type FreeItem = unsafe extern "C" fn(*mut SecItem, c_int);

    fn symbol<T>(lib: *mut c_void, name: &str) -> T {
        let name = CString::new(name).unwrap();
        // SAFETY: dlsym on a handle from dlopen; the caller names the C signature the symbol has in NSS's headers.
        let ptr = unsafe { libc::dlsym(lib, name.as_ptr()) };
        assert!(!ptr.is_null(), "NSS lacks {name:?}");
        // SAFETY: T is a function pointer type of the same size as the symbol's address.
        unsafe { std::mem::transmute_copy(&ptr) }
    }

    fn encrypt(sdr: SdrEncrypt, free: FreeItem, plain: &str) -> String {
        use base64::Engine;
        let mut key_id = SecItem { kind: 0, data: std::ptr::null_mut(), len: 0 };
        let mut data = SecItem { kind: 0, data: plain.as_ptr() as *mut u8, len: plain.len() as c_uint };
        let mut out = SecItem { kind: 0, data: std::ptr::null_mut(), len: 0 };
        // SAFETY: the items live across the call; NSS allocates `out`, freed below with SECITEM_FreeItem.
        let rv = unsafe { sdr(&mut key_id, &mut data, &mut out, std::ptr::null_mut()) };
        assert_eq!(rv, 0, "PK11SDR_Encrypt failed");
        // SAFETY: NSS filled `out` with `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(out.data, out.len as usize) }.to_vec();
        // SAFETY: frees the data NSS allocated; `0` keeps the item struct itself (it is ours, on the stack).
        unsafe { free(&mut out, 0) };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Writes logins.json with one login for `origin` (e.g. `imap://localhost`).
    pub fn seed_login(profile: &Path, origin: &str, username: &str, password: &str) {
        // Thunderbird's libnss3 has no RUNPATH: its own libnssutil3 and SQLite go in first, so that the loader
        // reuses them (by soname) instead of Debian's older system copies.
        let mut lib = std::ptr::null_mut();
        for name in ["libnssutil3.so", "libmozsqlite3.so", "libnss3.so"] {
            let path = CString::new(format!("{}/{name}", super::THUNDERBIRD_LIBS)).unwrap();
            // SAFETY: dlopen of a library file by path; the handle stays open for the rest of the test process.
            lib = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            // SAFETY: dlerror returns a NUL-terminated message or null.
            let why = unsafe { libc::dlerror() };
            let why = if why.is_null() { String::new() } else { unsafe { std::ffi::CStr::from_ptr(why) }.to_string_lossy().into_owned() };
            assert!(!lib.is_null(), "cannot load {path:?} (package thunderbird): {why}");
        }
        let init: NssInit = symbol(lib, "NSS_InitReadWrite");
        let shutdown: NssShutdown = symbol(lib, "NSS_Shutdown");
        let sdr: SdrEncrypt = symbol(lib, "PK11SDR_Encrypt");
        let free: FreeItem = symbol(lib, "SECITEM_FreeItem");
        let dir = CString::new(format!("sql:{}", profile.display())).unwrap();
        // SAFETY: NSS_InitReadWrite takes a NUL-terminated config directory.
        assert_eq!(unsafe { init(dir.as_ptr()) }, 0, "NSS_InitReadWrite failed for {dir:?}");
        let (user, pass) = (encrypt(sdr, free, username), encrypt(sdr, free, password));
        // SAFETY: balanced with the init above; nothing NSS allocated is still in use.
        unsafe { shutdown() };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let logins = serde_json::json!({
            "nextId": 2,
            "logins": [{
                "id": 1, "hostname": origin, "httpRealm": origin, "formSubmitURL": null,
                "usernameField": "", "passwordField": "",
                "encryptedUsername": user, "encryptedPassword": pass,
                "guid": "{8f6e3f7a-2a3c-4c4e-9a55-0f3f0d1c2b11}", "encType": 1,
                "timeCreated": now, "timeLastUsed": now, "timePasswordChanged": now, "timesUsed": 1
            }],
            "potentiallyVulnerablePasswords": [], "dismissedBreachAlertsByLoginGUID": {}, "version": 3
        });
        std::fs::write(profile.join("logins.json"), logins.to_string()).unwrap();
    }
}
