//! The hand-off on the real app under Xvfb: after "Save in keychain" the app still holds the tested password (the
//! test then deletes the keychain's copy), so "Add to Thunderbird" stores it in the profile (Thunderbird signs in
//! without asking); "Copy password" puts it on
//! the X clipboard (read back with xclip, an independent client), empties the clipboard after the time given with
//! the test-only `--clipboard-clear-after`, and leaves alone whatever was copied since; after the person leaves the
//! Done step the app has dropped the tested password and "Copy password" reads the keychain instead. Needs the app
//! binary: `cargo build -p icloud-mail-setup`.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use icloud_mail_tests::dovecot::{Dovecot, MailUser};
use icloud_mail_tests::keyring::KeyringSession;
use icloud_mail_tests::webdriver::{AppOptions, AppSession, Input, Walk, WizardStep};
use serde_json::json;

const JANE: &str = "jane.doe@icloud.com";
/// The test's clipboard time: long enough to read the clipboard, short enough not to wait a minute.
const CLEAR_AFTER: u64 = 4;

/// What `xclip -o -selection clipboard` reads on `display`: the text, or None when the clipboard is empty.
fn clipboard(display: &str) -> Option<String> {
    let out =
        Command::new("xclip").args(["-o", "-selection", "clipboard"]).env("DISPLAY", display).output().expect("run xclip (package xclip)");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned()).filter(|t| !t.is_empty())
}

/// Another program copying `text` (xclip in the foreground, owning the clipboard until it is killed, or until it
/// has answered two pastes: this function's check that it took the clipboard, and one more).
fn copy_elsewhere(display: &str, text: &str) -> Child {
    let mut child = Command::new("xclip")
        .args(["-i", "-selection", "clipboard", "-quiet", "-loops", "2"])
        .env("DISPLAY", display)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run xclip");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while clipboard(display).as_deref() != Some(text) {
        assert!(Instant::now() < deadline, "xclip never took the clipboard");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn wait(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_password_reaches_thunderbird_and_the_clipboard_and_leaves_the_clipboard_again() {
    let password = icloud_mail_tests::fresh_password();
    let dovecot = Dovecot::start(&[MailUser::new(JANE, &password)]).expect("start Dovecot");
    let keyring = KeyringSession::with_keyring();
    // One Thunderbird profile, listed in ~/.thunderbird/profiles.ini (it has no key4.db yet: NSS makes it).
    let tb_root = keyring.home().join(".thunderbird");
    let profile = tb_root.join("abc.default-release");
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::write(tb_root.join("profiles.ini"), "[Profile0]\nName=default-release\nIsRelative=1\nPath=abc.default-release\nDefault=1\n")
        .unwrap();
    let exports = tempfile::tempdir().unwrap();
    let mut args = dovecot.app_args();
    args.extend(["--export-dir".into(), exports.path().display().to_string(), "--clipboard-clear-after".into(), CLEAR_AFTER.to_string()]);
    let env = keyring.env().into_iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    let app = AppSession::start("e2e_handoff", AppOptions { args, env, ..AppOptions::default() });
    let (display, _) = app.display_and_bus();
    let walk = Walk::new(JANE, &password);
    app.walk_to(WizardStep::Save, &walk);
    app.wait_for(Duration::from_secs(10), "the question", |s| s.chosen_mail_app().is_some());
    assert_eq!(app.chosen_mail_app().as_deref(), Some("thunderbird"), "the profile found makes Thunderbird the answer");

    // Saved in the keychain first (a terminal client's path): the app keeps the tested password all the same.
    app.choose_mail_app("terminal", Input::Mouse);
    app.click("#keychain-save");
    app.wait_for_text("#keychain-outcome", "Saved in your keychain.");
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", JANE).as_deref(), Some(password.as_str()));
    // The keychain's copy goes again, so what reaches Thunderbird and the clipboard below can only be the one the
    // app still holds.
    keyring.secret_tool(&["clear", "service", "icloud-mail-setup", "username", JANE]);
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", JANE), None);
    app.choose_mail_app("thunderbird", Input::Mouse);
    app.wait_for(Duration::from_secs(10), "the Thunderbird profile to be listed", |s| !s.find_all("#tb-add-0").is_empty());
    app.click("#tb-add-0");
    app.wait_for(Duration::from_secs(30), "Thunderbird's outcome", |s| s.text("#tb-profiles").contains("signs in without asking"));
    // The password itself arrived, for both logins Thunderbird looks up (decrypted with its own NSS and the
    // profile's key): IMAP with the name part, SMTP with the full address, as the connection test signed in.
    assert_eq!(
        icloud_mail_tests::thunderbird::stored_logins(&profile),
        [
            ("imap://localhost".to_owned(), "jane.doe".to_owned(), password.clone()),
            ("smtp://localhost".to_owned(), JANE.to_owned(), password.clone()),
        ]
    );
    assert!(app.find_all("#copy-password-tb-0").is_empty(), "no Copy password where Thunderbird does not ask");

    // Copy password (Outlook's path): on the clipboard, then gone after the time.
    app.choose_mail_app("outlook", Input::Mouse);
    app.click("#copy-password-outlook");
    app.wait_for_text("#copy-password-outlook-status", &format!("emptied in {CLEAR_AFTER} s"));
    assert_eq!(clipboard(&display).as_deref(), Some(password.as_str()));
    let copied = Instant::now();
    app.screenshot("save-copied");
    wait("the clipboard to be emptied", Duration::from_secs(CLEAR_AFTER + 5), || clipboard(&display).is_none());
    assert!(copied.elapsed() >= Duration::from_secs(CLEAR_AFTER - 1), "emptied too early: {:?}", copied.elapsed());

    // Something else copied in between is left alone (Apple Mail's path, its profile saved).
    app.choose_mail_app("apple_mail", Input::Mouse);
    app.click("#save-apple-mobileconfig");
    app.wait_for(Duration::from_secs(10), "the profile to be saved", |s| s.text("#save-path").contains("Saved to"));
    app.click("#copy-password-apple_mail");
    wait("the password on the clipboard", Duration::from_secs(5), || clipboard(&display).as_deref() == Some(password.as_str()));
    let mut other = copy_elsewhere(&display, "a note copied meanwhile");
    std::thread::sleep(Duration::from_secs(CLEAR_AFTER + 2));
    // The app decided by the selection's owner, without asking the other program for its text: xclip has answered
    // no paste since it took the clipboard, so it still runs.
    assert!(other.try_wait().unwrap().is_none(), "the app read the other program's clipboard to compare it");
    assert_eq!(clipboard(&display).as_deref(), Some("a note copied meanwhile"), "the app emptied someone else's copy");
    let _ = other.kill();
    let _ = other.wait();

    // Done: what the chosen app (Apple Mail) does next, what was done under Details, and Copy password still works
    // (the tested password is still held).
    app.walk_to(WizardStep::Done, &walk);
    let next = app.text("#done-sentence");
    assert!(next.contains("It asks for the app-specific password"), "{next}");
    let details = app.done_details();
    assert!(details.contains("The account and its app-specific password were added to Thunderbird"), "{details}");
    assert!(details.contains("saved in your keychain"), "{details}");
    app.screenshot("done");
    app.click("#copy-password-done");
    wait("the password on the clipboard", Duration::from_secs(5), || clipboard(&display).as_deref() == Some(password.as_str()));

    // Leaving Done drops the tested password in the app; Copy password then reads the keychain.
    app.click("#back");
    app.wait_for(Duration::from_secs(10), "the save step", |s| s.step() == WizardStep::Save);
    wait("the clipboard to be emptied", Duration::from_secs(CLEAR_AFTER + 5), || clipboard(&display).is_none());
    app.wait_for(Duration::from_secs(10), "Apple Mail's path again", |s| !s.find_all("#copy-password-apple_mail").is_empty());
    app.click("#copy-password-apple_mail");
    app.wait_for(Duration::from_secs(10), "the refusal", |s| s.text("#copy-password-apple_mail-status").contains("no longer held"));
    assert_eq!(clipboard(&display), None);
    keyring.secret_tool_store("icloud-mail-setup", JANE, &password);
    app.click("#copy-password-apple_mail");
    app.wait_for_text("#copy-password-apple_mail-status", "on the clipboard");
    assert_eq!(clipboard(&display).as_deref(), Some(password.as_str()), "read back from the keychain");

    let html = app.execute("return document.documentElement.outerHTML;", json!([]));
    assert!(!html.as_str().unwrap_or_default().contains(&password), "the password reached the page");
}
