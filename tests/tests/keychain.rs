//! The keychain against the real Secret Service: the product binary (`keychain set|status|delete|get`) in a private
//! D-Bus session with gnome-keyring, checked with `secret-tool` as an independent client; and the failure cases (no
//! Secret Service, no bus, a locked keyring, a terminal) as a person meets them. Needs the app binary built first:
//! `cargo build -p icloud-mail-setup`.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use icloud_mail_tests::keyring::{KeyringSession, Stuck};

const SERVICE: &str = "icloud-mail-setup";
const JANE: &str = "jane.doe@icloud.com";

use icloud_mail_tests::app_binary as app;

use icloud_mail_tests::fresh_password;
use icloud_mail_tests::run_with_stdin as run;

/// Runs the product in the session with `stdin` on its standard input, and returns what it did.
fn product(session: &KeyringSession, args: &[&str], stdin: &str) -> Output {
    run(session.command(app()).args(args), stdin)
}

fn save(session: &KeyringSession, address: &str, password: &str, extra: &[&str]) -> Output {
    let mut args = vec!["keychain", "set", "--address", address, "--password-stdin"];
    args.extend_from_slice(extra);
    product(session, &args, &format!("{password}\n"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "exit status {:?}\nstdout: {}\nstderr: {}", out.status, stdout(out), stderr(out));
}

/// Nothing under the session's HOME, XDG and temp folders holds the password in the clear.
#[track_caller]
fn assert_no_trace(session: &KeyringSession, password: &str) {
    let found = session.files_containing(password.as_bytes());
    assert!(found.is_empty(), "the password is in {found:?}");
}

#[test]
fn a_saved_password_is_read_back_by_secret_tool() {
    let session = KeyringSession::with_keyring();
    let password = fresh_password();

    let out = save(&session, JANE, &password, &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Saved the password for jane.doe@icloud.com in the Secret Service"), "{}", stdout(&out));
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE).as_deref(), Some(password.as_str()));

    // The address is normalised the way the wizard does it: the entry's account is always the lower-case login.
    assert_eq!(session.secret_tool_lookup(SERVICE, "Jane.Doe@iCloud.com"), None);
    let status = product(&session, &["keychain", "status", "--address", " Jane.Doe@iCloud.COM "], "");
    assert_exit(&status, 0);
    assert!(stdout(&status).contains("A password for jane.doe@icloud.com is saved in the Secret Service"), "{}", stdout(&status));

    let json = product(&session, &["keychain", "status", "--address", JANE, "--json"], "");
    assert_exit(&json, 0);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("status --json prints JSON");
    assert_eq!(value, serde_json::json!({"exists": true, "store": "Secret Service", "entry": {"service": SERVICE, "account": JANE}}));
    for out in [&status, &json] {
        assert!(!stdout(out).contains(&password) && !stderr(out).contains(&password), "status showed the password");
    }

    let get = product(&session, &["keychain", "get", "--address", JANE], "");
    assert_exit(&get, 0);
    assert_eq!(stdout(&get), format!("{password}\n"));
    assert_no_trace(&session, &password);
}

#[test]
fn an_existing_password_is_replaced_only_with_the_flag() {
    let session = KeyringSession::with_keyring();
    let (old, new) = (fresh_password(), fresh_password());
    assert_exit(&save(&session, JANE, &old, &[]), 0);

    let refused = save(&session, JANE, &new, &[]);
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains("A password for jane.doe@icloud.com is already saved in the Secret Service."),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("(keychain_entry_exists)"), "{}", stderr(&refused));
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE).as_deref(), Some(old.as_str()), "the saved password was changed");

    let replaced = save(&session, JANE, &new, &["--replace"]);
    assert_exit(&replaced, 0);
    assert!(stdout(&replaced).contains("Replaced the password"), "{}", stdout(&replaced));
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE).as_deref(), Some(new.as_str()));
    // Still one item, not a second one beside the first.
    let search = session.secret_tool(&["search", "--all", "service", SERVICE, "username", JANE]);
    assert_eq!(String::from_utf8_lossy(&search.stderr).matches("attribute.username = ").count(), 1, "{search:?}");
    assert_no_trace(&session, &old);
    assert_no_trace(&session, &new);
}

#[test]
fn a_deleted_password_is_gone() {
    let session = KeyringSession::with_keyring();
    let password = fresh_password();
    assert_exit(&save(&session, JANE, &password, &[]), 0);

    let deleted = product(&session, &["keychain", "delete", "--address", JANE], "");
    assert_exit(&deleted, 0);
    assert!(stdout(&deleted).contains("Deleted the password for jane.doe@icloud.com"), "{}", stdout(&deleted));
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE), None);

    let status = product(&session, &["keychain", "status", "--address", JANE], "");
    assert_exit(&status, 1);
    assert!(stdout(&status).contains("No password for jane.doe@icloud.com is saved in the Secret Service."), "{}", stdout(&status));
    let json = product(&session, &["keychain", "status", "--address", JANE, "--json"], "");
    assert_exit(&json, 1);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap()["exists"], false);

    for args in [["keychain", "delete", "--address", JANE], ["keychain", "get", "--address", JANE]] {
        let out = product(&session, &args, "");
        assert_exit(&out, 1);
        assert!(stderr(&out).contains("(keychain_no_entry)"), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
    }
    assert_no_trace(&session, &password);
}

#[test]
fn a_saved_password_outlives_the_product_and_the_keyring_daemon() {
    let mut session = KeyringSession::with_keyring();
    let password = fresh_password();
    // Each call is its own process: nothing is held in the product's memory between them.
    assert_exit(&save(&session, JANE, &password, &[]), 0);
    let get = product(&session, &["keychain", "get", "--address", JANE], "");
    assert_exit(&get, 0);
    assert_eq!(stdout(&get), format!("{password}\n"));

    // Logging out and in again: the daemon reads the same keyring file back.
    session.restart_keyring();
    let get = product(&session, &["keychain", "get", "--address", JANE], "");
    assert_exit(&get, 0);
    assert_eq!(stdout(&get), format!("{password}\n"));
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE).as_deref(), Some(password.as_str()));
    assert_no_trace(&session, &password);
}

#[test]
fn a_custom_domain_address_saves_under_its_icloud_login() {
    let session = KeyringSession::with_keyring();
    let password = fresh_password();
    let out = save(&session, "jane@family.example", &password, &["--login", "JaneDoe@iCloud.com"]);
    assert_exit(&out, 0);
    assert_eq!(session.secret_tool_lookup(SERVICE, "janedoe@icloud.com").as_deref(), Some(password.as_str()));
    assert_eq!(session.secret_tool_lookup(SERVICE, "jane@family.example"), None);

    // Without --login there is no telling which login to use: bad usage, and the keychain is not asked.
    let out = product(&session, &["keychain", "status", "--address", "jane@family.example"], "");
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("(login_required)"), "{}", stderr(&out));
    let out = product(&session, &["keychain", "status", "--address", "jane@family.example", "--login", "janedoe@icloud.com"], "");
    assert_exit(&out, 0);
}

#[test]
fn bad_input_is_refused_before_anything_is_saved() {
    let session = KeyringSession::with_keyring();
    let empty = product(&session, &["keychain", "set", "--address", JANE, "--password-stdin"], "");
    assert_exit(&empty, 2);
    assert!(stderr(&empty).contains("No password on standard input"), "{}", stderr(&empty));

    let long = "x".repeat(641);
    let too_long = save(&session, JANE, &long, &[]);
    assert_exit(&too_long, 1);
    assert!(stderr(&too_long).contains("The Secret Service does not accept a value this long."), "{}", stderr(&too_long));
    assert!(stderr(&too_long).contains("at most 640"), "{}", stderr(&too_long));
    assert!(stderr(&too_long).contains("(keychain_value_too_long"), "{}", stderr(&too_long));

    let gmail = save(&session, "jane@gmail.com", &fresh_password(), &[]);
    assert_exit(&gmail, 2);
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE), None);
    assert_eq!(session.secret_tool_lookup(SERVICE, "jane@gmail.com"), None);
}

#[test]
fn without_a_secret_service_nothing_is_saved_anywhere() {
    let session = KeyringSession::without_secret_service();
    let password = fresh_password();
    let before = session.files();

    let out = save(&session, JANE, &password, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("No Secret Service was found to keep the password in."), "{err}");
    assert!(err.contains("install and start a Secret Service such as GNOME Keyring (package gnome-keyring)"), "{err}");
    assert!(err.contains("You can still export your mail settings."), "{err}");
    assert!(err.contains("(keychain_unavailable: "), "{err}");
    assert!(out.stdout.is_empty(), "{}", stdout(&out));

    let json = product(&session, &["keychain", "status", "--address", JANE, "--json"], "");
    assert_exit(&json, 1);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap()["kind"], "keychain_unavailable");
    let get = product(&session, &["keychain", "get", "--address", JANE], "");
    assert_exit(&get, 1);
    assert!(get.stdout.is_empty());

    // No fallback: no file appeared in HOME, the XDG folders, TMPDIR or the working folder.
    assert_eq!(session.files(), before, "the product wrote files when the keychain was missing");
    assert_no_trace(&session, &password);
}

#[test]
fn a_secret_service_without_a_default_keyring_says_what_to_create() {
    let session = KeyringSession::with_empty_keyring();
    let out = save(&session, JANE, &fresh_password(), &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("(keychain_unavailable: the Secret Service is running but has no default keyring"), "{err}");
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE), None);
}

#[test]
fn without_a_session_bus_the_diagnosis_says_so() {
    let session = KeyringSession::without_bus();
    let password = fresh_password();
    let before = session.files();

    let out = save(&session, JANE, &password, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("No desktop session bus was found, so the Secret Service cannot be reached."), "{err}");
    assert!(err.contains("(keychain_no_session: "), "{err}");

    // A bus address that leads nowhere (the bus went away) reads the same.
    let dead = session.root().join("no-bus-here");
    let mut command = session.command(app());
    command.env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", dead.display()));
    let out = run(command.args(["keychain", "status", "--address", JANE]), "");
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("(keychain_no_session: "), "{}", stderr(&out));

    assert_eq!(session.files(), before);
    assert_no_trace(&session, &password);
}

#[test]
fn a_locked_keyring_is_told_apart_and_keeps_what_it_has() {
    let mut session = KeyringSession::with_keyring();
    let (saved, new) = (fresh_password(), fresh_password());
    assert_exit(&save(&session, JANE, &saved, &[]), 0);
    session.lock();

    // Replacing, reading and saving a new entry all need the keyring unlocked; nothing can show the unlock prompt.
    let replace = save(&session, JANE, &new, &["--replace"]);
    let get = product(&session, &["keychain", "get", "--address", JANE], "");
    let other = save(&session, "someone.else@icloud.com", &new, &[]);
    for out in [&replace, &get, &other] {
        assert_exit(out, 1);
        assert!(stderr(out).contains("The Secret Service is locked."), "{}", stderr(out));
        assert!(stderr(out).contains("(keychain_locked"), "{}", stderr(out));
    }
    assert!(get.stdout.is_empty());

    session.restart_keyring();
    assert_eq!(session.secret_tool_lookup(SERVICE, JANE).as_deref(), Some(saved.as_str()));
    assert_eq!(session.secret_tool_lookup(SERVICE, "someone.else@icloud.com"), None);
    assert_no_trace(&session, &saved);
    assert_no_trace(&session, &new);
}

/// Runs `keychain get` with a terminal as its standard output, through `script` (util-linux), which gives the
/// command a pseudo-terminal and copies what appears on it to our pipe.
fn get_on_a_terminal(session: &KeyringSession, extra: &str) -> Output {
    let command_line = format!("'{}' keychain get --address {JANE} {extra}", app().display());
    let mut script = session.command("script");
    script.env("SHELL", "/bin/sh").args(["--quiet", "--return", "--command", &command_line, "/dev/null"]);
    run(&mut script, "")
}

#[test]
fn get_refuses_to_show_the_password_on_a_terminal_unless_forced() {
    let session = KeyringSession::with_keyring();
    let password = fresh_password();
    assert_exit(&save(&session, JANE, &password, &[]), 0);

    let refused = get_on_a_terminal(&session, "");
    assert_exit(&refused, 2);
    assert!(stdout(&refused).contains("Not printing the password to a terminal"), "{}", stdout(&refused));
    assert!(!stdout(&refused).contains(&password), "the password reached the terminal");

    let forced = get_on_a_terminal(&session, "--force");
    assert_exit(&forced, 0);
    assert!(stdout(&forced).contains(&password), "{}", stdout(&forced));
    assert_no_trace(&session, &password);
}

/// Typed at a terminal, the password is read without echo: it never shows on the screen or in its scrollback,
/// and what was typed is what the keychain holds.
#[test]
fn a_password_typed_at_a_terminal_is_not_shown() {
    let session = KeyringSession::with_keyring();
    let password = fresh_password();
    let command = format!("'{}' keychain set --address {JANE} --password-stdin; echo finished-$?; sleep 30", app().display());
    let terminal = icloud_mail_tests::terminal::Terminal::start(&session, &command);
    terminal.wait_for("App-specific password", std::time::Duration::from_secs(10));
    terminal.type_line(&password);
    let screen = terminal.wait_for("finished-", std::time::Duration::from_secs(15));
    assert!(screen.contains("finished-0"), "keychain set failed:\n{screen}");
    assert!(!screen.contains(&password), "the password was echoed:\n{screen}");
    assert!(!screen.contains(&password[..9]), "part of the password was echoed:\n{screen}");
    let out = session.command("secret-tool").args(["lookup", "service", SERVICE, "username", JANE]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), password, "the keychain holds what was typed");
}

/// Runs the product in the session and waits for it at most `limit`: past that it is killed and the test fails
/// (a keychain call with no deadline would wait a year for an unanswered prompt). Returns what it did and how long.
fn product_within(session: &KeyringSession, args: &[&str], stdin: &str, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = session
        .command(app())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the app");
    child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()).expect("write to the app's stdin");
    while child.try_wait().expect("poll the app").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait for the killed app");
            panic!("{args:?} gave no verdict within {limit:?}\nstdout: {}\nstderr: {}", stdout(&out), stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collect the app's output");
    (out, started.elapsed())
}

/// Starting the product and its bus connection, on a busy machine.
const MARGIN: Duration = Duration::from_millis(1500);

#[test]
fn a_secret_service_that_never_answers_gets_a_verdict_by_the_deadline() {
    let session = KeyringSession::with_stuck_secret_service(Stuck::Silent);
    let (out, took) = product_within(
        &session,
        &["keychain", "status", "--address", JANE, "--json", "--timeout", "1"],
        "",
        Duration::from_secs(1) + MARGIN,
    );
    assert_exit(&out, 1);
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json prints the diagnosis");
    assert_eq!(verdict["kind"], "keychain_timeout", "{verdict}");
    // Our deadline (1 s) ended it, not the client library's own limit for one D-Bus call (2 s).
    assert_eq!(verdict["seconds"], 1, "{verdict}");
    assert_eq!(verdict["store"], "Secret Service", "{verdict}");
    assert!(took < Duration::from_secs(1) + MARGIN, "{took:?}");
}

#[test]
fn an_unanswered_unlock_prompt_is_a_locked_keychain_by_the_deadline() {
    let session = KeyringSession::with_stuck_secret_service(Stuck::UnansweredUnlockPrompt);
    let limit = Duration::from_secs(2) + MARGIN;
    let (out, _) = product_within(&session, &["keychain", "status", "--address", JANE, "--json", "--timeout", "2"], "", limit);
    assert_exit(&out, 1);
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json prints the diagnosis");
    assert_eq!(verdict["kind"], "keychain_locked", "{verdict}");
    assert!(verdict["detail"].as_str().unwrap_or_default().contains("unlock prompt"), "{verdict}");

    // A save stuck the same way says that it is unconfirmed: the password may still be saved if the prompt is answered.
    let password = fresh_password();
    let (out, _) = product_within(
        &session,
        &["keychain", "set", "--address", JANE, "--password-stdin", "--timeout", "2"],
        &format!("{password}\n"),
        limit,
    );
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("(keychain_locked: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("may still be saved"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&password) && out.stdout.is_empty());
    assert_no_trace(&session, &password);
}
