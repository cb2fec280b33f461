//! End to end on the real app: the debug build under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Screenshots of each step visited land in tests/artifacts/e2e_wizard/screenshots (git-ignored).

use std::time::Duration;

use icloud_mail_tests::webdriver::{AppOptions, AppSession};

#[test]
fn address_step_validates_live_and_moves_forward_and_back() {
    let app = AppSession::start("e2e_wizard", AppOptions::default());

    assert_eq!(app.text("h1.step-title"), "Set up iCloud Mail in your mail app");
    app.screenshot("1-welcome");
    app.click("#next");
    app.wait_for_text("h1.step-title", "Your iCloud Mail address");
    assert_eq!(app.property("#next", "disabled"), serde_json::json!(true), "Next must wait for a valid address");

    // A name without a domain: the page explains what is missing, through the core's validation.
    app.type_into("#address-input", "johnsmith");
    let status = app.wait_for_text("#address-status", "An email address needs an @");
    assert!(status.contains("johnsmith@icloud.com"), "the hint suggests the iCloud form: {status}");
    assert_eq!(app.property("#address-input", "ariaInvalid"), serde_json::json!("true"));
    assert_eq!(app.property("#next", "disabled"), serde_json::json!(true));
    app.screenshot("2-address-invalid");

    // Another provider's address gets its own explanation.
    app.type_into("#address-input", "someone@gmail.com");
    app.wait_for_text("#address-status", "gmail.com is Gmail, not iCloud Mail.");

    // Mixed case and spaces are forgiven; the core normalises the address.
    app.type_into("#address-input", "  JohnSmith@iCloud.com ");
    app.wait_for_text("#address-status", "johnsmith@icloud.com is an iCloud Mail address.");
    app.wait_for(Duration::from_secs(5), "Next to be enabled", |s| s.property("#next", "disabled") == serde_json::json!(false));
    app.screenshot("3-address-valid");

    // Enter in the field moves on (keyboard navigation), focus lands on the new step's heading.
    app.click("#address-input");
    app.press_keys("\u{E007}");
    app.wait_for_text("h1.step-title", "Make an app-specific password");
    let focused = app.execute("return document.activeElement && document.activeElement.className;", serde_json::json!([]));
    assert_eq!(focused, serde_json::json!("step-title"), "focus moves to the step heading");
    app.screenshot("4-password");

    // Back keeps what was typed.
    app.click("#back");
    app.wait_for_text("h1.step-title", "Your iCloud Mail address");
    assert_eq!(app.property("#address-input", "value"), serde_json::json!("johnsmith@icloud.com"));
    for name in ["1-welcome", "2-address-invalid", "3-address-valid", "4-password"] {
        let png = app.screenshots.join(format!("{name}.png"));
        assert!(std::fs::metadata(&png).map(|m| m.len() > 1000).unwrap_or(false), "{} is missing or empty", png.display());
    }
}

/// Walks Welcome → Address → Password → Connection test in the real app started against the given servers.
fn to_connection_test(suite: &str, args: Vec<String>, password: &str) -> AppSession {
    let app = AppSession::start(suite, AppOptions { args, ..AppOptions::default() });
    app.click("#next");
    app.type_into("#address-input", "jane.doe@icloud.com");
    app.wait_for_text("#address-status", "is an iCloud Mail address");
    app.click("#next");
    app.wait_for_text("h1.step-title", "Make an app-specific password");
    app.type_into("#password-input", password);
    app.wait_for(Duration::from_secs(5), "Next to be enabled", |s| s.property("#next", "disabled") == serde_json::json!(false));
    app.click("#next");
    app.wait_for_text("h1.step-title", "Test the connection");
    app
}

fn server_args(imap: String, smtp: String, ca: &std::path::Path) -> Vec<String> {
    vec!["--imap".into(), imap, "--smtp".into(), smtp, "--ca-file".into(), ca.display().to_string()]
}

/// The whole product's world: a Dovecot with Jane's account, a gnome-keyring on a private bus, an export folder,
/// and the app started against them (same flags a person would use). Keep every field alive for the whole test:
/// dropping one stops that component.
struct World {
    app: AppSession,
    dovecot: icloud_mail_tests::dovecot::Dovecot,
    keyring: icloud_mail_tests::keyring::KeyringSession,
    exports: tempfile::TempDir,
}

fn world(suite: &str, dovecot: icloud_mail_tests::dovecot::Dovecot, extra_env: &[(&str, &str)]) -> World {
    let keyring = icloud_mail_tests::keyring::KeyringSession::with_keyring();
    let exports = tempfile::tempdir().expect("tempdir");
    let mut args =
        server_args(format!("localhost:{}", dovecot.imaps_port), format!("localhost:{}", dovecot.submission_port), dovecot.ca_path());
    args.extend(["--export-dir".to_owned(), exports.path().display().to_string()]);
    let mut env: Vec<(String, String)> =
        keyring.env().into_iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let app = AppSession::start(suite, AppOptions { args, env, ..AppOptions::default() });
    World { app, dovecot, keyring, exports }
}

#[test]
fn connection_test_signs_in_to_a_real_server_and_shows_each_step() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let password = "abcd-efgh-ijkl-mnop";
    let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", password)]).expect("start Dovecot");
    let args =
        server_args(format!("localhost:{}", dovecot.imaps_port), format!("localhost:{}", dovecot.submission_port), dovecot.ca_path());
    let app = to_connection_test("e2e_connection_ok", args, password);

    let imap = app.wait_for_text("#verdict-imap", "Works");
    assert!(imap.contains(&format!("signed in as jane.doe on localhost:{} with SSL/TLS", dovecot.imaps_port)), "{imap}");
    let smtp = app.wait_for_text("#verdict-smtp", "Works");
    assert!(smtp.contains(&format!("jane.doe@icloud.com on localhost:{} with STARTTLS", dovecot.submission_port)), "{smtp}");
    let steps = app.text("#side-imap .probe-steps");
    for step in ["Connected to localhost", "Secure connection set up", "The server answered", "Signed in"] {
        assert!(steps.contains(step), "IMAP steps lack {step:?}: {steps}");
    }
    app.wait_for(Duration::from_secs(5), "Next to be enabled", |s| s.property("#next", "disabled") == serde_json::json!(false));
    let retry_shown =
        app.execute("return getComputedStyle(document.querySelector('.test-actions')).display !== 'none';", serde_json::json!([]));
    assert_eq!(retry_shown, serde_json::json!(false), "Retry / Back to password are offered only after a failure");
    app.screenshot("connection-ok");
    // The password reached the server only as a login (Dovecot saw both logins), and never the page's markup.
    let log = dovecot.log();
    assert!(log.contains("Login: user=<jane.doe>"), "no IMAP login in Dovecot's log");
    let html = app.execute("return document.documentElement.outerHTML;", serde_json::json!([]));
    assert!(!html.as_str().unwrap_or_default().contains(password), "the password is in the page's markup");
}

#[test]
fn a_refused_password_ends_in_the_app_specific_password_guidance() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", "abcd-efgh-ijkl-mnop")]).expect("start Dovecot");
    let args =
        server_args(format!("localhost:{}", dovecot.imaps_port), format!("localhost:{}", dovecot.submission_port), dovecot.ca_path());
    let app = to_connection_test("e2e_connection_refused", args, "my-apple-account-password");

    let imap = app.wait_for_text("#verdict-imap", "refused the password");
    assert!(imap.contains("app-specific password, not your Apple Account password"), "{imap}");
    app.wait_for_text("#verdict-smtp", "refused the password");
    assert_eq!(app.property("#verdict-imap", "dataset").get("kind"), Some(&serde_json::json!("auth_rejected")));
    assert!(app.text("#side-imap .probe-steps").contains("Sign-in refused"), "the failed step says so");
    assert_eq!(app.property("#next", "disabled"), serde_json::json!(true));
    app.screenshot("connection-auth-rejected");
    app.click("#back-to-password");
    app.wait_for_text("h1.step-title", "Make an app-specific password");
}

#[test]
fn a_server_that_never_answers_ends_in_a_timeout_within_the_deadline() {
    use icloud_mail_tests::ca::TestCa;
    use icloud_mail_tests::fault::{Fault, FaultServer};
    let ca = TestCa::new();
    let imap = FaultServer::start(Fault::Silent, &ca);
    let smtp = FaultServer::start(Fault::Silent, &ca);
    let app =
        to_connection_test("e2e_connection_timeout", server_args(imap.endpoint(), smtp.endpoint(), ca.ca_path()), "abcd-efgh-ijkl-mnop");
    let started = std::time::Instant::now();
    app.wait_for(Duration::from_secs(15), "both sides to end", |s| {
        s.text("#verdict-imap").contains("did not answer in time") && s.text("#verdict-smtp").contains("did not answer in time")
    });
    assert!(started.elapsed() < Duration::from_secs(12), "the verdict took {:?}", started.elapsed());
    app.screenshot("connection-timeout");
}

#[test]
fn happy_path_from_welcome_to_done_saves_to_the_keychain_and_exports_a_file() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let password = "wxyz-abcd-efgh-ijkl";
    let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", password)]).expect("start Dovecot");
    let World { app, dovecot, keyring, exports } = world("e2e_happy_path", dovecot, &[]);
    app.click("#next");
    app.type_into("#address-input", "jane.doe@icloud.com");
    app.wait_for_text("#address-status", "is an iCloud Mail address");
    app.click("#next");
    app.type_into("#password-input", password);
    app.wait_for_text("#password-status", "looks like an app-specific password");
    app.click("#next");
    app.wait_for_text("#verdict-smtp", "Works");
    app.wait_for_text("#verdict-imap", "Works");
    app.wait_for(Duration::from_secs(5), "Next to be enabled", |s| s.property("#next", "disabled") == serde_json::json!(false));
    app.click("#next");
    app.wait_for_text("h1.step-title", "Save and set up your mail app");

    // The keychain: saved through the app, read back by an independent client.
    app.click("#keychain-save");
    app.wait_for_text("#keychain-outcome", "Saved in your keychain.");
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", "jane.doe@icloud.com").as_deref(), Some(password));

    // An exported msmtp file, re-parsed: the servers and login the test used, and never the password.
    app.click("#save-msmtp");
    app.wait_for(Duration::from_secs(10), "the msmtp file to be saved", |s| s.text(".save-files").contains("Saved to"));
    let file = std::fs::read_dir(exports.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("msmtp"))
        .expect("msmtp file");
    let text = std::fs::read_to_string(&file).unwrap();
    // msmtp's syntax: `key value`, the value optionally in double quotes.
    let value = |key: &str| text.lines().map(str::trim).find_map(|l| l.strip_prefix(key).map(|v| v.trim().trim_matches('"').to_owned()));
    assert_eq!(value("host ").as_deref(), Some("localhost"));
    assert_eq!(value("port ").as_deref(), Some(dovecot.submission_port.to_string().as_str()));
    assert_eq!(value("user ").as_deref(), Some("jane.doe@icloud.com"));
    assert_eq!(value("tls_starttls ").as_deref(), Some("on"));
    assert!(!text.contains(password), "the exported file holds the password");
    app.screenshot("5-save");

    app.click("#next");
    app.wait_for_text("h1.step-title", "All done");
    let summary = app.text("#summary");
    assert!(summary.contains("saved in your keychain"), "{summary}");
    assert!(summary.contains(&file.display().to_string()), "{summary}");
    app.screenshot("6-done");
    let html = app.execute("return document.documentElement.outerHTML;", serde_json::json!([]));
    assert!(!html.as_str().unwrap_or_default().contains(password), "the password is still in the page");
    let leaked = keyring.files_containing(password.as_bytes());
    assert!(leaked.is_empty(), "the password was written to {leaked:?}");
}

/// Every step in the light and the dark theme. The pictures go to tests/artifacts; with UPDATE_SCREENSHOTS=1 they
/// also replace the ones in docs/screenshots that the README shows:
/// `UPDATE_SCREENSHOTS=1 dbus-run-session -- cargo test -p icloud-mail-tests --test e2e_wizard screenshots`.
#[test]
fn screenshots_of_every_step_in_light_and_dark() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let password = "qrst-uvwx-abcd-efgh";
    let docs = icloud_mail_tests::workspace_root().join("docs/screenshots");
    let update = std::env::var_os("UPDATE_SCREENSHOTS").is_some();
    for theme in ["light", "dark"] {
        let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", password)]).expect("start Dovecot");
        // WebKitGTK reports prefers-color-scheme from the GTK theme.
        let gtk_theme = if theme == "dark" { "Adwaita:dark" } else { "Adwaita" };
        let World { app, dovecot: _dovecot, keyring: _keyring, exports: _exports } =
            world(&format!("screenshots_{theme}"), dovecot, &[("GTK_THEME", gtk_theme)]);
        let dark = app.execute("return matchMedia('(prefers-color-scheme: dark)').matches;", serde_json::json!([]));
        assert_eq!(dark, serde_json::json!(theme == "dark"), "the page did not follow the {theme} theme");
        let mut shots = Vec::new();
        shots.push(app.screenshot(&format!("1-welcome-{theme}")));
        app.click("#next");
        app.type_into("#address-input", "jane.doe@icloud.com");
        app.wait_for_text("#address-status", "is an iCloud Mail address");
        shots.push(app.screenshot(&format!("2-address-{theme}")));
        app.click("#next");
        app.type_into("#password-input", password);
        app.wait_for_text("#password-status", "looks like an app-specific password");
        shots.push(app.screenshot(&format!("3-password-{theme}")));
        app.click("#next");
        app.wait_for_text("#verdict-smtp", "Works");
        app.wait_for_text("#verdict-imap", "Works");
        shots.push(app.screenshot(&format!("4-test-{theme}")));
        app.click("#next");
        app.click("#keychain-save");
        app.wait_for_text("#keychain-outcome", "Saved in your keychain.");
        shots.push(app.screenshot(&format!("5-save-{theme}")));
        app.click("#next");
        app.wait_for_text("h1.step-title", "All done");
        shots.push(app.screenshot(&format!("6-done-{theme}")));
        if update {
            std::fs::create_dir_all(&docs).expect("docs/screenshots");
            for shot in &shots {
                std::fs::copy(shot, docs.join(shot.file_name().unwrap())).expect("copy screenshot");
            }
        }
    }
}

/// A person who uses only the keyboard finishes the wizard: Tab, typing and Enter, nothing else.
#[test]
fn keyboard_only_completion() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    const TAB: &str = "\u{E004}";
    const ENTER: &str = "\u{E007}";
    let password = "mnop-qrst-uvwx-abcd";
    let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", password)]).expect("start Dovecot");
    let World { app, keyring, dovecot: _dovecot, exports: _exports } = world("e2e_keyboard", dovecot, &[]);
    let focused = |app: &AppSession| {
        app.execute(
            "return document.activeElement ? (document.activeElement.id || document.activeElement.className) : '';",
            serde_json::json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    };
    // Tabs until the element with this id has focus; a keyboard user can always get there.
    let tab_to = |app: &AppSession, id: &str| {
        for _ in 0..60 {
            if focused(app) == id {
                return;
            }
            app.press_keys(TAB);
        }
        panic!("Tab never reached #{id}");
    };
    let heading = |app: &AppSession, title: &str| {
        app.wait_for_text("h1.step-title", title);
        assert_eq!(focused(app), "step-title", "focus moves to the heading of {title:?}");
    };

    heading(&app, "Set up iCloud Mail in your mail app");
    tab_to(&app, "next");
    app.press_keys(ENTER);
    heading(&app, "Your iCloud Mail address");
    tab_to(&app, "address-input");
    app.press_keys("jane.doe@icloud.com");
    app.wait_for_text("#address-status", "is an iCloud Mail address");
    app.press_keys(ENTER);
    heading(&app, "Make an app-specific password");
    tab_to(&app, "password-input");
    app.press_keys(password);
    app.wait_for_text("#password-status", "looks like an app-specific password");
    app.press_keys(ENTER);
    heading(&app, "Test the connection");
    app.wait_for_text("#verdict-imap", "Works");
    app.wait_for_text("#verdict-smtp", "Works");
    tab_to(&app, "next");
    app.press_keys(ENTER);
    heading(&app, "Save and set up your mail app");
    tab_to(&app, "keychain-save");
    app.press_keys(ENTER);
    app.wait_for_text("#keychain-outcome", "Saved in your keychain.");
    tab_to(&app, "save-msmtp");
    app.press_keys(ENTER);
    app.wait_for(Duration::from_secs(10), "the file to be saved", |s| s.text(".save-files").contains("Saved to"));
    tab_to(&app, "next");
    app.press_keys(ENTER);
    heading(&app, "All done");
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", "jane.doe@icloud.com").as_deref(), Some(password));
    // Focus is visible: the focused button draws an outline.
    tab_to(&app, "back");
    let outline = app.execute("return getComputedStyle(document.activeElement).outlineStyle;", serde_json::json!([]));
    assert_ne!(outline, serde_json::json!("none"), "the focused control shows no focus ring");
}

/// At the smallest window size and with text at 200 %, no step is cut off sideways (content may scroll down).
#[test]
fn smallest_window_and_double_text_size_never_clip() {
    let app = AppSession::start("e2e_zoom", AppOptions::default());
    // The window cannot be made smaller than tauri.conf.json's minimum (560 × 520).
    app.set_window_size(300, 300);
    let size = app.execute("return [window.innerWidth, window.innerHeight];", serde_json::json!([]));
    assert!(size[0].as_f64().unwrap() >= 540.0 && size[1].as_f64().unwrap() >= 480.0, "the window shrank below its minimum: {size}");
    app.execute("document.documentElement.style.fontSize = '200%'; return true;", serde_json::json!([]));
    let overflow = |app: &AppSession| {
        app.execute(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, \
             [...document.querySelectorAll('button, input, p, li, h1, h2, label')].filter(e => e.getBoundingClientRect().right > d.clientWidth + 1).map(e => e.id || e.className || e.tagName)];",
            serde_json::json!([]),
        )
    };
    let check = |app: &AppSession, step: &str| {
        let o = overflow(app);
        assert!(o[0].as_f64() <= o[1].as_f64() && o[2].as_array().is_some_and(|a| a.is_empty()), "{step} is cut off at 200 % text: {o}");
    };
    check(&app, "welcome");
    app.screenshot("welcome-200");
    app.click("#next");
    app.type_into("#address-input", "johnsmith");
    app.wait_for_text("#address-status", "needs an @");
    check(&app, "address");
    app.screenshot("address-200");
    app.type_into("#address-input", "jane@icloud.com");
    app.wait_for_text("#address-status", "is an iCloud Mail address");
    app.click("#next");
    app.wait_for_text("h1.step-title", "Make an app-specific password");
    check(&app, "password");
    app.screenshot("password-200");
}

/// A second launch hands over to the open window and ends, instead of opening a second wizard.
#[test]
fn a_second_launch_focuses_the_open_window() {
    let app = AppSession::start("e2e_single_instance", AppOptions::default());
    app.click("#next");
    app.type_into("#address-input", "jane@icloud.com");
    let (display, bus) = app.display_and_bus();
    let mut second = std::process::Command::new(icloud_mail_tests::app_binary())
        .env("DISPLAY", display)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start a second copy");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second launch kept running: a second wizard opened");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the second launch failed: {status}");
    // The first window is untouched and still has what was typed.
    assert_eq!(app.property("#address-input", "value"), serde_json::json!("jane@icloud.com"));
}
