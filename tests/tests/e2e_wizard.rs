//! End to end on the real app: the debug build under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Screenshots of each step visited land in tests/artifacts/e2e_wizard/screenshots (git-ignored).

use std::time::Duration;

use icloud_mail_tests::dovecot::Dovecot;
use icloud_mail_tests::fault::{Fault, FaultServer};
use icloud_mail_tests::webdriver::{AppOptions, AppSession, Input, Walk, WizardStep, ENTER};

#[test]
fn address_step_validates_live_and_moves_forward_and_back() {
    let app = AppSession::start("e2e_wizard", AppOptions::default());

    assert_eq!(app.text("h1.step-title"), "Set up iCloud Mail in your mail app");
    app.screenshot("1-welcome");
    app.walk_to(WizardStep::Address, &Walk::new("johnsmith@icloud.com", "abcd-efgh-ijkl-mnop"));
    assert_eq!(app.text("h1.step-title"), "Your iCloud Mail address");
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
    app.wait_for(Duration::from_secs(5), "Next to be enabled", AppSession::next_enabled);
    app.screenshot("3-address-valid");

    // Enter in the field moves on (keyboard navigation), focus lands on the new step's heading.
    app.click("#address-input");
    app.press_keys(ENTER);
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

/// Starts the app against the given servers and walks it to the connection test with Jane's address and `password`.
fn to_connection_test(suite: &str, args: Vec<String>, password: &str) -> AppSession {
    let app = AppSession::start(suite, AppOptions { args, ..AppOptions::default() });
    app.walk_to(WizardStep::Test, &Walk::new(JANE, password));
    app
}

const JANE: &str = "jane.doe@icloud.com";

fn server_args(imap: String, smtp: String, ca: &std::path::Path) -> Vec<String> {
    vec!["--imap".into(), imap, "--smtp".into(), smtp, "--ca-file".into(), ca.display().to_string()]
}

/// How the app reaches Dovecot's outgoing side.
enum Smtp {
    /// Submission with STARTTLS (iCloud's 587).
    Submission,
    /// A closed port first (587 blocked on this network), then Dovecot's submission over TLS (iCloud's 465) as
    /// the fallback.
    BlockedThenFallback,
}

/// The whole product's world: a Dovecot with Jane's account, a gnome-keyring on a private bus, an export folder,
/// and the app started against them (same flags a person would use). Keep every field alive for the whole test:
/// dropping one stops that component.
struct World {
    app: AppSession,
    dovecot: Dovecot,
    keyring: icloud_mail_tests::keyring::KeyringSession,
    exports: tempfile::TempDir,
    /// The closed port standing for a blocked 587, with `Smtp::BlockedThenFallback`.
    blocked: Option<FaultServer>,
}

fn world(suite: &str, dovecot: Dovecot, extra_env: &[(&str, &str)], smtp: Smtp) -> World {
    world_with(suite, dovecot, extra_env, smtp, |_| {})
}

/// `world`, with `setup` run on the throwaway home folder before the app starts (a Thunderbird profile, say).
fn world_with(suite: &str, dovecot: Dovecot, extra_env: &[(&str, &str)], smtp: Smtp, setup: impl FnOnce(&std::path::Path)) -> World {
    let keyring = icloud_mail_tests::keyring::KeyringSession::with_keyring();
    setup(&keyring.home());
    let exports = tempfile::tempdir().expect("tempdir");
    let imap = format!("localhost:{}", dovecot.imaps_port);
    let (mut args, blocked) = match smtp {
        Smtp::Submission => (server_args(imap, format!("localhost:{}", dovecot.submission_port), dovecot.ca_path()), None),
        Smtp::BlockedThenFallback => {
            let blocked = FaultServer::start(Fault::RefusedPort, dovecot.ca());
            let mut args = server_args(imap, format!("127.0.0.1:{}", blocked.port), dovecot.ca_path());
            args.extend(["--smtp-fallback".to_owned(), format!("localhost:{}", dovecot.submissions_port)]);
            (args, Some(blocked))
        }
    };
    args.extend(["--export-dir".to_owned(), exports.path().display().to_string()]);
    let mut env: Vec<(String, String)> =
        keyring.env().into_iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let app = AppSession::start(suite, AppOptions { args, env, ..AppOptions::default() });
    World { app, dovecot, keyring, exports, blocked }
}

#[test]
fn connection_test_signs_in_to_a_real_server_and_shows_each_step() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let password = "abcd-efgh-ijkl-mnop";
    let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", password)]).expect("start Dovecot");
    let args = dovecot.app_args();
    let app = to_connection_test("e2e_connection_ok", args, password);

    let imap = app.wait_for_text("#verdict-imap", "Works");
    assert!(imap.contains(&format!("signed in as jane.doe on localhost:{} with SSL/TLS", dovecot.imaps_port)), "{imap}");
    let smtp = app.wait_for_text("#verdict-smtp", "Works");
    assert!(smtp.contains(&format!("jane.doe@icloud.com on localhost:{} with STARTTLS", dovecot.submission_port)), "{smtp}");
    let steps = app.text("#side-imap .probe-steps");
    for step in ["Connected to localhost", "Secure connection set up", "The server answered", "Signed in"] {
        assert!(steps.contains(step), "IMAP steps lack {step:?}: {steps}");
    }
    app.wait_for(Duration::from_secs(5), "Next to be enabled", AppSession::next_enabled);
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
    let args = dovecot.app_args();
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
    let World { app, dovecot, keyring, exports, blocked: _ } = world("e2e_happy_path", dovecot, &[], Smtp::Submission);
    let walk = Walk::new(JANE, password);
    app.walk_to(WizardStep::Password, &walk);
    app.complete_step(&walk);
    app.wait_for_text("#password-status", "looks like an app-specific password");
    app.walk_to(WizardStep::Test, &walk);
    app.wait_for_text("#verdict-smtp", "Works");
    app.wait_for_text("#verdict-imap", "Works");
    app.walk_to(WizardStep::Save, &walk);
    assert_eq!(app.text("h1.step-title"), "Save and set up your mail app");
    // A terminal client: its path has the files and the keychain they read.
    app.choose_mail_app("terminal", Input::Mouse);

    // The keychain: saved through the app, read back by an independent client.
    app.click("#keychain-save");
    app.wait_for_text("#keychain-outcome", "Saved in your keychain.");
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", "jane.doe@icloud.com").as_deref(), Some(password));

    // An exported msmtp file, re-parsed: the servers and login the test used, and never the password.
    app.click("#save-msmtp");
    app.wait_for(Duration::from_secs(10), "the msmtp file to be saved", |s| s.text("#save-path").contains("Saved to"));
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

    app.walk_to(WizardStep::Done, &walk);
    assert_eq!(app.text("h1.step-title"), "All done");
    assert_eq!(app.text("#done-sentence"), "Start your terminal mail client: it reads the password from your keychain and signs in.");
    let summary = app.done_details();
    assert!(summary.contains("saved in your keychain"), "{summary}");
    assert!(summary.contains(&file.display().to_string()), "{summary}");
    app.screenshot("6-done");
    // The terminal path wrote its one file and the keychain entry, nothing else.
    assert_eq!(files_under(exports.path()).len(), 1, "{:?}", files_under(exports.path()));
    assert!(!keyring.home().join(".thunderbird").exists(), "no Thunderbird profile was made");
    assert_eq!(stray_home_files(&keyring.home()), Vec::<String>::new());
    assert_eq!(remembered(&keyring.home()).as_deref(), Some("terminal"));
    let html = app.execute("return document.documentElement.outerHTML;", serde_json::json!([]));
    assert!(!html.as_str().unwrap_or_default().contains(password), "the password is still in the page");
    let leaked = keyring.files_containing(password.as_bytes());
    assert!(leaked.is_empty(), "the password was written to {leaked:?}");
}

/// Issue #13's case in the real app: 587 blocked, an account that signs in only with its full address, an
/// iCloud-like server whose Sent folder is "Sent Items". The test goes green on 465 with the full address, and
/// every file saved afterwards says exactly that — and carries the name typed — never the preset's 587 and name
/// part or iCloud's standard folder names.
#[test]
fn every_saved_file_gets_what_the_connection_test_proved_and_the_name_typed() {
    use icloud_mail_tests::ca::TestCa;
    use icloud_mail_tests::dovecot::{Accepts, Dovecot, MailUser, Setup, ITEMS_FOLDERS};
    let password = "mnop-qrst-uvwx-abcd";
    let sam = "sam.fullonly@icloud.com";
    let user = MailUser::new(sam, password).accepting(Accepts::FullAddressOnly).with_folders(&ITEMS_FOLDERS);
    let dovecot = Dovecot::start_with(&[user], Setup::icloud_like(), TestCa::new()).expect("start Dovecot");
    let World { app, dovecot, keyring: _keyring, exports, blocked: _blocked } =
        world("e2e_verified", dovecot, &[], Smtp::BlockedThenFallback);
    let walk = Walk::new(sam, password);
    app.walk_to(WizardStep::Address, &walk);
    app.complete_step(&walk);
    app.type_into("#name-input", "Sam Müller");
    app.walk_to(WizardStep::Test, &walk);
    app.wait_for_text("#verdict-imap", "Works");
    app.wait_for_text("#verdict-smtp", "Works");
    app.walk_to(WizardStep::Save, &walk);

    // Each file, once it is in place (a save writes a hidden temporary file first, then renames it).
    let saved = |needle: &str| {
        std::fs::read_dir(exports.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.') && n.to_string_lossy().contains(needle)))
    };
    for (format, needle) in [("msmtp", "msmtprc"), ("neomutt", "neomuttrc"), ("aerc", "aerc"), ("settings-text", "settings.txt")] {
        app.choose_mail_app(if format == "settings-text" { "other_app" } else { "terminal" }, Input::Mouse);
        app.click(&format!("#save-{format}"));
        app.wait_for(Duration::from_secs(30), &format!("the {format} file"), |s| {
            // A refusal ends the wait at once, with the page's words.
            let outcome = format!("#save-{format}");
            let problem = s.execute(
                &format!("const r = document.querySelector('{outcome}').closest('.format'); const o = r && r.querySelector('.outcome.problem'); return o ? o.innerText : '';"),
                serde_json::json!([]),
            );
            assert_eq!(problem.as_str().unwrap_or_default(), "", "saving {format} failed");
            saved(needle).is_some()
        });
    }
    let read = |needle: &str| std::fs::read_to_string(saved(needle).expect("saved above")).unwrap();
    let port = dovecot.submissions_port.to_string();

    let msmtp = read("msmtprc");
    let value = |key: &str| msmtp.lines().map(str::trim).find_map(|l| l.strip_prefix(key).map(|v| v.trim().trim_matches('"').to_owned()));
    assert_eq!(value("port ").as_deref(), Some(port.as_str()), "{msmtp}");
    assert_eq!(value("tls_starttls ").as_deref(), Some("off"), "{msmtp}");
    assert_eq!(value("user ").as_deref(), Some(sam), "{msmtp}");
    assert_eq!(value("from ").as_deref(), Some(sam), "{msmtp}");

    let neomutt = read("neomuttrc");
    assert!(neomutt.contains(&format!("set imap_user = \"{sam}\"")), "IMAP signs in with the full address:\n{neomutt}");
    assert!(neomutt.contains(&format!(":{port}/")), "SMTP on the fallback port:\n{neomutt}");
    assert!(neomutt.contains("Sent%20Items") || neomutt.contains("Sent Items"), "the server's own Sent folder:\n{neomutt}");
    assert!(!neomutt.contains("Sent Messages"), "no invented folder:\n{neomutt}");
    assert!(neomutt.contains("Sam Müller"), "the name typed:\n{neomutt}");

    let aerc = read("aerc");
    assert!(aerc.contains("copy-to = Sent Items"), "{aerc}");
    assert!(aerc.contains(&port), "{aerc}");

    let card = read("settings.txt");
    for expected in ["Sam Müller", sam, port.as_str(), "SSL/TLS", "Sent Items", "Deleted Items"] {
        assert!(card.contains(expected), "the settings card lacks {expected:?}:\n{card}");
    }
    app.walk_to(WizardStep::Done, &walk);
}

/// Every step in the light and the dark theme. The pictures go to tests/artifacts; with UPDATE_SCREENSHOTS=1 they
/// also replace the ones in docs/screenshots that the README and docs/wizard.md show:
/// `UPDATE_SCREENSHOTS=1 dbus-run-session -- cargo test -p icloud-mail-tests --test e2e_wizard screenshots`.
#[test]
fn screenshots_of_every_step_in_light_and_dark() {
    let password = "qrst-uvwx-abcd-efgh";
    let docs = icloud_mail_tests::workspace_root().join("docs/screenshots");
    let update = std::env::var_os("UPDATE_SCREENSHOTS").is_some();
    for theme in ["light", "dark"] {
        // WebKitGTK reports prefers-color-scheme from the GTK theme.
        let gtk_theme = if theme == "dark" { "Adwaita:dark" } else { "Adwaita" };
        // Dovecot and the DAV server, so the connection step shows the calendars found and Thunderbird's path its
        // box ticked. Every part of the world stays alive until the end of the theme's run (a `..` would drop them).
        let DavWorld { app, dav: _dav, keyring: _keyring, _dovecot, _cas } =
            dav_world(&format!("screenshots_{theme}"), password, false, &[("GTK_THEME", gtk_theme)]);
        let dark = app.execute("return matchMedia('(prefers-color-scheme: dark)').matches;", serde_json::json!([]));
        assert_eq!(dark, serde_json::json!(theme == "dark"), "the page did not follow the {theme} theme");
        // Each step as a person leaves it: filled in, the test passed (its third panel scrolled into view for a
        // second picture). The save step three times: the question
        // (Thunderbird preselected: this computer has a profile), Thunderbird's path with the account added, and
        // Outlook's with its file saved and the import command; Done after Outlook.
        let walk = Walk::new(JANE, password);
        let mut shots = Vec::new();
        let path_in_view = |app: &AppSession| {
            app.execute("document.getElementById('save-path').scrollIntoView(); return true;", serde_json::json!([]));
        };
        for (n, step) in WizardStep::ALL.into_iter().enumerate() {
            app.walk_to(step, &walk);
            app.complete_step(&walk);
            match step {
                WizardStep::Test => {
                    shots.push(app.screenshot(&format!("4-test-{theme}")));
                    // The third panel, below the mail sides: the calendars and the address book found.
                    app.wait_for(Duration::from_secs(10), "the calendars found", |s| !s.find_all("#dav-found-caldav li").is_empty());
                    app.execute("document.getElementById('side-dav').scrollIntoView(); return true;", serde_json::json!([]));
                    shots.push(app.screenshot(&format!("4-test-dav-{theme}")));
                }
                WizardStep::Save => {
                    app.wait_for(Duration::from_secs(10), "the Thunderbird profile", |s| !s.find_all("#tb-add-0").is_empty());
                    shots.push(app.screenshot(&format!("5-save-question-{theme}")));
                    app.click("#tb-add-0");
                    app.wait_for(Duration::from_secs(30), "Thunderbird's outcome", |s| {
                        s.text("#tb-profiles").contains("Added to Thunderbird")
                    });
                    path_in_view(&app);
                    shots.push(app.screenshot(&format!("5-save-thunderbird-{theme}")));
                    app.choose_mail_app("outlook", Input::Mouse);
                    app.click("#save-outlook-prf");
                    app.wait_for(Duration::from_secs(10), "the import command", |s| !s.find_all("#outlook-import-command").is_empty());
                    path_in_view(&app);
                    shots.push(app.screenshot(&format!("5-save-outlook-{theme}")));
                }
                _ => shots.push(app.screenshot(&format!("{}-{}-{theme}", n + 1, step.id()))),
            }
        }
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
    use icloud_mail_tests::dovecot::MailUser;
    let password = "mnop-qrst-uvwx-abcd";
    let dovecot = Dovecot::start(&[MailUser::new(JANE, password)]).expect("start Dovecot");
    let World { app, keyring, dovecot: _dovecot, exports, blocked: _blocked } = world("e2e_keyboard", dovecot, &[], Smtp::Submission);
    let walk = Walk::new(JANE, password).by_keyboard();

    app.wait_for_text("h1.step-title", "Set up iCloud Mail in your mail app");
    assert_eq!(app.focused(), "step-title", "focus starts on the first heading");
    // The walk presses Tab until it reaches a field or Next, types, presses Enter, and checks that focus lands on
    // each new step's heading.
    app.walk_to(WizardStep::Save, &walk);
    assert_eq!(app.text("h1.step-title"), "Save and set up your mail app");
    // The question first: Tab into it, the arrow keys to "A terminal client".
    app.choose_mail_app("terminal", Input::Keyboard);
    assert_eq!(app.chosen_mail_app().as_deref(), Some("terminal"));
    // The path in the order it reads: the client's file, then the keychain it reads the password from.
    app.tab_to("save-msmtp");
    app.press_keys(ENTER);
    app.wait_for(Duration::from_secs(10), "the file to be saved", |s| s.text("#save-path").contains("Saved to"));
    app.tab_to("keychain-save");
    app.press_keys(ENTER);
    app.wait_for_text("#keychain-outcome", "Saved in your keychain.");
    app.walk_to(WizardStep::Done, &walk);
    assert_eq!(app.text("h1.step-title"), "All done");
    assert!(app.text("#done-sentence").contains("reads the password from your keychain"));
    // Details opens from the keyboard too.
    app.tab_to("done-details-toggle");
    app.press_keys(ENTER);
    app.wait_for(Duration::from_secs(5), "Details to open", |s| s.property("#done-details", "open") == serde_json::json!(true));
    let files =
        std::fs::read_dir(exports.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect::<Vec<_>>();
    assert_eq!(files.len(), 1, "one file saved: {files:?}");
    assert!(app.text("#summary").contains(&files[0]), "Details says where the file went");
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", JANE).as_deref(), Some(password));
    // Focus is visible: the focused button draws an outline.
    app.tab_to("back");
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
    let walk = Walk::new("jane@icloud.com", "abcd-efgh-ijkl-mnop");
    app.walk_to(WizardStep::Address, &walk);
    app.type_into("#address-input", "johnsmith");
    app.wait_for_text("#address-status", "needs an @");
    check(&app, "address");
    app.screenshot("address-200");
    app.walk_to(WizardStep::Password, &walk);
    check(&app, "password");
    app.screenshot("password-200");
}

/// A second launch hands over to the open window and ends, instead of opening a second wizard.
#[test]
fn a_second_launch_focuses_the_open_window() {
    let app = AppSession::start("e2e_single_instance", AppOptions::default());
    app.walk_to(WizardStep::Address, &Walk::new("jane@icloud.com", "abcd-efgh-ijkl-mnop"));
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

// --- the save step's question and its paths, each on the real app from the save step to Done ---

/// One Thunderbird profile in `home`, listed in ~/.thunderbird/profiles.ini as the default (no key4.db yet: NSS
/// makes it), as Thunderbird leaves it after its first start.
fn thunderbird_profile(home: &std::path::Path) {
    let root = home.join(".thunderbird");
    std::fs::create_dir_all(root.join("abc.default-release")).unwrap();
    std::fs::write(root.join("profiles.ini"), "[Profile0]\nName=default-release\nIsRelative=1\nPath=abc.default-release\nDefault=1\n")
        .unwrap();
}

/// Every file under `dir` (relative paths, sorted), to see what a path wrote and that nothing else was.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A world at the save step after a passed connection test (Jane on the test Dovecot), `setup` run on its home
/// first; returns the world and the password.
fn at_save_step(suite: &str, setup: impl FnOnce(&std::path::Path)) -> (World, String) {
    use icloud_mail_tests::dovecot::MailUser;
    let password = icloud_mail_tests::fresh_password();
    let dovecot = Dovecot::start(&[MailUser::new(JANE, &password)]).expect("start Dovecot");
    let world = world_with(suite, dovecot, &[], Smtp::Submission, setup);
    world.app.walk_to(WizardStep::Save, &Walk::new(JANE, &password));
    (world, password)
}

/// The home folder's files besides the keyring's, the Thunderbird profile's and the app's settings: what else a
/// path may have written there (nothing).
fn stray_home_files(home: &std::path::Path) -> Vec<String> {
    files_under(home)
        .into_iter()
        .filter(|f| !f.starts_with(".local/share/keyrings") && !f.starts_with(".thunderbird") && !f.starts_with(".cache"))
        // The web view's own storage (WebKit's salts and caches under the app's identifier).
        .filter(|f| !f.starts_with(".local/share/app.icloudmailsetup.wizard/"))
        .filter(|f| f != ".config/icloud-mail-setup/settings.json")
        .collect()
}

/// The choice the app remembered in its own settings file.
fn remembered(home: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(home.join(".config/icloud-mail-setup/settings.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).expect("settings.json is JSON");
    json["mail_app"].as_str().map(str::to_owned)
}

/// Thunderbird: a profile on this computer makes it the preselected answer; "Add to Thunderbird" writes the
/// account and its password into that profile, and nothing goes to the export folder or the keychain.
#[test]
fn path_thunderbird_preselected_adds_the_account_to_the_profile_found_and_nothing_else() {
    let (World { app, keyring, exports, dovecot: _d, blocked: _b }, password) = at_save_step("e2e_path_thunderbird", thunderbird_profile);
    let walk = Walk::new(JANE, &password);
    app.wait_for(Duration::from_secs(10), "the question", |s| s.chosen_mail_app().is_some());
    assert_eq!(app.chosen_mail_app().as_deref(), Some("thunderbird"), "a Thunderbird profile exists: Thunderbird is preselected");
    app.wait_for(Duration::from_secs(10), "the profile", |s| !s.find_all("#tb-add-0").is_empty());
    assert!(app.find_all("#keychain-save, .format").is_empty(), "Thunderbird's path offers no keychain and no file");
    app.click("#tb-add-0");
    app.wait_for(Duration::from_secs(30), "Thunderbird's outcome", |s| s.text("#tb-profiles").contains("signs in without asking"));
    app.walk_to(WizardStep::Done, &walk);
    assert_eq!(app.text("#done-sentence"), "Open Thunderbird: your iCloud Mail account is there and signs in without asking.");
    assert!(app.find_all("#copy-password-done").is_empty(), "Thunderbird does not ask: no Copy password");
    assert!(app.done_details().contains("were added to Thunderbird (default-release)"));

    let profile = keyring.home().join(".thunderbird/abc.default-release");
    let prefs = std::fs::read_to_string(profile.join("prefs.js")).expect("prefs.js");
    assert!(prefs.contains(JANE), "the account is in the profile:\n{prefs}");
    // The password itself arrived, for both logins Thunderbird looks up (decrypted with its own NSS and the
    // profile's key): IMAP with the name part, SMTP with the full address, as the connection test signed in.
    assert_eq!(
        icloud_mail_tests::thunderbird::stored_logins(&profile),
        [
            ("imap://localhost".to_owned(), "jane.doe".to_owned(), password.clone()),
            ("smtp://localhost".to_owned(), JANE.to_owned(), password.clone()),
        ]
    );
    assert_eq!(files_under(exports.path()), Vec::<String>::new(), "no file was saved");
    assert_eq!(keyring.secret_tool_lookup("icloud-mail-setup", JANE), None, "nothing went to the keychain");
    assert_eq!(stray_home_files(&keyring.home()), Vec::<String>::new());
    assert_eq!(remembered(&keyring.home()).as_deref(), Some("thunderbird"), "the choice is remembered");
}

/// The file paths: choosing the app, its one Save, and Done; exactly that file in the export folder, no Thunderbird
/// profile, no keychain entry.
/// `after_save` looks at the path once the file is saved (the export folder given).
fn file_path(
    suite: &str,
    group: &str,
    format: &str,
    file_suffix: &str,
    done: &str,
    after_save: impl FnOnce(&AppSession, &std::path::Path),
) -> (World, String) {
    let (world, password) = at_save_step(suite, |_| {});
    let app = &world.app;
    app.wait_for(Duration::from_secs(10), "the question", |s| !s.find_all("#app-admin").is_empty());
    assert_eq!(app.chosen_mail_app(), None, "nothing on this computer to preselect");
    app.choose_mail_app(group, Input::Mouse);
    app.click(&format!("#save-{format}"));
    app.wait_for(Duration::from_secs(10), &format!("the {format} file"), |s| s.text("#save-path").contains("Saved to"));
    after_save(app, world.exports.path());
    app.walk_to(WizardStep::Done, &Walk::new(JANE, &password));
    assert_eq!(app.text("#done-sentence"), done);
    let files = files_under(world.exports.path());
    assert_eq!(files.len(), 1, "exactly one file: {files:?}");
    assert!(files[0].ends_with(file_suffix), "{files:?}");
    assert!(app.done_details().contains(&files[0]), "Details says where it went");
    let home = world.keyring.home();
    assert!(!home.join(".thunderbird").exists(), "no Thunderbird profile was made");
    assert_eq!(world.keyring.secret_tool_lookup("icloud-mail-setup", JANE), None, "nothing went to the keychain");
    assert_eq!(stray_home_files(&home), Vec::<String>::new());
    assert_eq!(remembered(&home).as_deref(), Some(group), "the choice is remembered");
    (world, password)
}

#[test]
fn path_outlook_saves_the_prf_and_shows_its_import_command() {
    let (world, _) = file_path(
        "e2e_path_outlook",
        "outlook",
        "outlook-prf",
        ".prf",
        "Import the profile into Outlook with the command from the last step, then open Outlook. It asks for the app-specific password once: \"Copy password\" puts it on the clipboard.",
        |app, exports| {
            // The exact command for the file saved.
            let file = exports.join(&files_under(exports)[0]);
            assert_eq!(app.text("#outlook-import-command"), format!("outlook.exe /importprf \"{}\"", file.display()));
        },
    );
    assert!(!world.app.find_all("#copy-password-done").is_empty(), "Outlook asks: Copy password is on Done");
    world.app.click("#back");
    world.app.wait_for(Duration::from_secs(10), "the save step", |s| s.step() == WizardStep::Save);
    world.app.wait_for(Duration::from_secs(10), "the path", |s| s.chosen_mail_app().as_deref() == Some("outlook"));
}

#[test]
fn path_apple_mail_saves_the_mobileconfig() {
    let (world, _) = file_path(
        "e2e_path_apple_mail",
        "apple_mail",
        "apple-mobileconfig",
        ".mobileconfig",
        "Open the configuration profile on your Mac, iPhone or iPad and install it. It asks for the app-specific password: \"Copy password\" puts it on the clipboard.",
        |app, _| {
            let path = app.text("#save-path");
            assert!(path.contains("On a Mac") && path.contains("On an iPhone or iPad"), "{path}");
        },
    );
    assert!(!world.app.find_all("#copy-password-done").is_empty());
}

#[test]
fn path_another_app_saves_the_settings_card() {
    file_path(
        "e2e_path_other_app",
        "other_app",
        "settings-html",
        "-settings.html",
        "Type the settings from the card into your mail app. When it asks for the app-specific password, \"Copy password\" puts it on the clipboard.",
        |_, _| {},
    );
}

/// "All files (for administrators)" still offers every format of the registry, each with Save and Save as…, and
/// the keychain.
#[test]
fn path_all_files_offers_every_format_and_the_keychain() {
    let (world, _) = file_path(
        "e2e_path_admin",
        "admin",
        "outlook-reg",
        ".reg",
        "The files are saved; where each one went is under Details.",
        |_, _| {},
    );
    let app = &world.app;
    app.click("#back");
    app.wait_for(Duration::from_secs(10), "the save step", |s| s.step() == WizardStep::Save);
    app.wait_for(Duration::from_secs(10), "All files", |s| !s.find_all("#save-path[data-group=\"admin\"] .format").is_empty());
    for format in icloud_mail_core::export::ExportFormat::ALL {
        assert_eq!(app.find_all(&format!("#save-{format}")).len(), 1, "All files lacks Save for {format}");
        assert_eq!(app.find_all(&format!("#save-as-{format}")).len(), 1, "All files lacks Save as… for {format}");
    }
    assert_eq!(app.find_all(".format").len(), icloud_mail_core::export::ExportFormat::ALL.len());
    assert_eq!(app.find_all("#keychain-save").len(), 1, "All files has the keychain");
}

/// The save step's question, a path with its outcome, All files, and Done fit the smallest window (560 × 520) with
/// text at 200 %: nothing is cut off sideways (content may scroll down).
#[test]
fn save_step_and_done_fit_the_smallest_window_at_double_text_size() {
    let (World { app, exports: _e, keyring: _k, dovecot: _d, blocked: _b }, password) = at_save_step("e2e_save_zoom", thunderbird_profile);
    app.set_window_size(560, 520);
    app.execute("document.documentElement.style.fontSize = '200%'; return true;", serde_json::json!([]));
    let check = |what: &str| {
        let o = app.execute(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, \
             [...document.querySelectorAll('button, input, label, p, li, h1, h2, h3, h4, legend, pre, summary')].filter(e => e.getClientRects().length && e.getBoundingClientRect().right > d.clientWidth + 1).map(e => e.id || e.className || e.tagName)];",
            serde_json::json!([]),
        );
        assert!(o[0].as_f64() <= o[1].as_f64() && o[2].as_array().is_some_and(|a| a.is_empty()), "{what} is cut off at 200 % text: {o}");
        app.screenshot(&format!("{what}-200"));
    };
    app.wait_for(Duration::from_secs(10), "the profile", |s| !s.find_all("#tb-add-0").is_empty());
    check("save-question");
    app.choose_mail_app("outlook", Input::Mouse);
    app.click("#save-outlook-prf");
    app.wait_for(Duration::from_secs(10), "the import command", |s| !s.find_all("#outlook-import-command").is_empty());
    check("save-outlook");
    app.choose_mail_app("admin", Input::Mouse);
    check("save-all-files");
    app.walk_to(WizardStep::Done, &Walk::new(JANE, &password));
    app.done_details();
    check("done");
}

// --- the wizard in German ---

/// One of the message catalogues (locales/<lang>.json), as key → text.
fn catalogue(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = icloud_mail_tests::workspace_root().join(format!("locales/{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a JSON object: {e}", path.display()))
}

/// Whether `line` is `template` with its `{placeholders}` filled in (each by at least one character).
fn fills(template: &str, line: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        parts.push(&rest[..open]);
        rest = &rest[open + close + 1..];
    }
    parts.push(rest);
    if parts.len() == 1 {
        return line == template;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    let Some(mut at) = line.strip_prefix(first).map(|_| first.len()) else { return false };
    for part in &parts[1..parts.len() - 1] {
        match line.get(at + 1..).and_then(|l| l.find(part)) {
            Some(i) => at = at + 1 + i + part.len(),
            None => return false,
        }
    }
    line.len() >= at + 1 + last.len() && line.ends_with(last)
}

/// The English catalogue's texts whose German differs: in the German wizard, seeing one (as written, or with its
/// placeholders filled in) means a word came from somewhere other than the German catalogue.
fn english_only() -> Vec<(String, String)> {
    let (en, de) = (catalogue("en"), catalogue("de"));
    en.into_iter()
        .filter_map(|(key, text)| {
            let text = text.as_str()?.to_owned();
            (de.get(&key).and_then(|t| t.as_str()) != Some(text.as_str())).then_some((key, text))
        })
        .collect()
}

/// Sentences the core made in English before the catalogue was the one place for words.
const OLD_CORE_ENGLISH: [&str; 3] =
    ["could not be reached from this network", "Classic Outlook for Windows profile", "NeoMutt settings: source the file"];

/// The lines a person reads on the screen now (`document.body.innerText`), checked against the English-only texts
/// and the old core English; returns them.
fn german_screen(app: &AppSession, screen: &str, english: &[(String, String)]) -> Vec<String> {
    let text = app.execute("return document.body.innerText;", serde_json::json!([]));
    let lines: Vec<String> =
        text.as_str().unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    assert!(lines.len() >= 5, "the {screen} screen shows almost nothing: {lines:?}");
    for line in &lines {
        for (key, en) in english {
            let literal_letters = en.split(['{', '}']).step_by(2).flat_map(str::chars).filter(|c| c.is_alphabetic()).count();
            let english_line = line == en || (en.contains('{') && literal_letters >= 4 && fills(en, line));
            assert!(!english_line, "the German {screen} screen shows English ({key}): {line:?}\nall lines: {lines:#?}");
        }
        for old in OLD_CORE_ENGLISH {
            assert!(!line.contains(old), "the German {screen} screen shows the core's old English {old:?}: {line:?}");
        }
    }
    app.screenshot(&format!("de-{screen}"));
    lines
}

#[test]
fn template_matching_for_the_german_check() {
    assert!(fills("Saved to {path}", "Saved to /tmp/x"));
    assert!(!fills("Saved to {path}", "Saved to "));
    assert!(fills("{host}:{port} refused the connection.", "localhost:25 refused the connection."));
    assert!(!fills("{host}:{port} refused the connection.", "localhost: refused the connection."));
    assert!(fills("Port {port} could not be reached", "Port 1 could not be reached"));
    assert!(!fills("Save {what}", "Speichern unter …"));
    assert!(fills("Works", "Works") && !fills("Works", "Funktioniert"));
}

/// The whole wizard under a German locale, with port 587 blocked so the outgoing side falls back to 465: every
/// screen's words come from the German catalogue (none from the English one, none the core's old English), and
/// the settings card saved from the save step is German too.
#[test]
fn german_locale_every_screen_and_the_saved_settings_card_are_german() {
    use icloud_mail_tests::dovecot::MailUser;
    let locales = std::process::Command::new("locale").arg("-a").output().expect("run locale -a");
    let locales = String::from_utf8_lossy(&locales.stdout).to_lowercase();
    assert!(
        locales.lines().any(|l| l == "de_de.utf8" || l == "de_de.utf-8"),
        "the de_DE.UTF-8 locale is missing (scripts/install.sh test generates it); locale -a: {locales}"
    );
    let english = english_only();
    let de = catalogue("de");
    let de_text = |key: &str| de[key].as_str().unwrap_or_else(|| panic!("de.json lacks {key}")).to_owned();

    let password = icloud_mail_tests::fresh_password();
    let dovecot = Dovecot::start(&[MailUser::new(JANE, &password)]).expect("start Dovecot");
    // A German desktop: LANG and LC_ALL (LANGUAGE too, which the harness otherwise sets to English for GTK).
    let german = [("LANG", "de_DE.UTF-8"), ("LC_ALL", "de_DE.UTF-8"), ("LANGUAGE", "de_DE:de")];
    let World { app, dovecot, keyring: _keyring, exports, blocked } = world("e2e_german", dovecot, &german, Smtp::BlockedThenFallback);
    let blocked = blocked.expect("a blocked port");
    let walk = Walk::new(JANE, &password);

    let lang = app.execute("return document.documentElement.lang;", serde_json::json!([]));
    assert_eq!(lang, serde_json::json!("de"), "the page did not choose German from the locale");
    assert_eq!(app.text("h1.step-title"), de_text("step.welcome.title"));
    german_screen(&app, "welcome", &english);

    app.walk_to(WizardStep::Address, &walk);
    app.type_into("#address-input", "johnsmith");
    app.wait_for(Duration::from_secs(10), "the address to be explained", |s| !s.find_all("#address-status.problem").is_empty());
    german_screen(&app, "address-invalid", &english);
    app.complete_step(&walk);
    german_screen(&app, "address", &english);

    app.walk_to(WizardStep::Password, &walk);
    app.complete_step(&walk);
    german_screen(&app, "password", &english);

    // The outgoing side: 587 refused, the fallback (Dovecot's submission over TLS) signed in, and the page says so.
    app.walk_to(WizardStep::Test, &walk);
    app.complete_step(&walk);
    let smtp = app.text("#verdict-smtp");
    assert!(smtp.contains(&format!("localhost:{}", dovecot.submissions_port)), "the fallback gave the verdict: {smtp}");
    let note = app.text("#verdict-smtp .port-blocked");
    assert_eq!(note, de_text("probe.port_blocked").replace("{port}", &blocked.port.to_string()));
    assert!(app.find_all("#verdict-imap .port-blocked").is_empty(), "only the outgoing side fell back");
    german_screen(&app, "test", &english);

    // Save: a file from every group of mail apps the step offers, both settings cards among them, with plain Save
    // (into the app's --export-dir).
    app.walk_to(WizardStep::Save, &walk);
    german_screen(&app, "save", &english);
    for group in ["thunderbird", "outlook", "apple_mail", "other_app", "terminal"] {
        app.choose_mail_app(group, Input::Mouse);
        german_screen(&app, &format!("save-{group}"), &english);
    }
    // "All files": every group's files at once.
    app.choose_mail_app("admin", Input::Mouse);
    let groups = app.execute(
        "return [...document.querySelectorAll('.save-files .client')].map(g => [g.id, \
         [...g.querySelectorAll('.format button[id^=\"save-\"]:not([id^=\"save-as-\"])')].map(b => b.id)]);",
        serde_json::json!([]),
    );
    let groups: Vec<(String, Vec<String>)> = serde_json::from_value(groups).expect("groups and their Save buttons");
    let ids: Vec<&str> = groups.iter().map(|(g, _)| g.as_str()).collect();
    for want in ["group-outlook", "group-apple_mail", "group-other_app", "group-terminal", "group-admin"] {
        assert!(ids.contains(&want), "the save step offers no {want}: {ids:?}");
    }
    let mut saved = Vec::new();
    for (group, buttons) in &groups {
        assert!(!buttons.is_empty(), "{group} offers no file");
        let chosen = if group == "group-other_app" { &buttons[..] } else { &buttons[..1] };
        for button in chosen {
            app.click(&format!("#{button}"));
            let outcome = format!("document.getElementById('{button}').closest('.format').querySelector('.outcome')");
            app.wait_for(Duration::from_secs(10), &format!("{button} to save its file"), |s| {
                let state = s.execute(&format!("const o = {outcome}; return [o.className, o.innerText];"), serde_json::json!([]));
                assert!(!state[0].as_str().unwrap_or_default().contains("problem"), "{button} failed: {}", state[1]);
                state[0].as_str().unwrap_or_default().contains("ok")
            });
            saved.push(button.trim_start_matches("save-").to_owned());
        }
    }
    assert!(saved.iter().any(|f| f == "settings-text") && saved.iter().any(|f| f == "settings-html"), "{saved:?}");
    german_screen(&app, "save-saved", &english);

    app.walk_to(WizardStep::Done, &walk);
    app.done_details();
    let done = german_screen(&app, "done", &english);
    assert!(done.iter().any(|l| l.contains(&de_text("format.settings-html.name"))), "Done lists the card: {done:?}");

    // The files: one per click, and the settings card (text and page) in German.
    let files: Vec<std::path::PathBuf> =
        std::fs::read_dir(exports.path()).expect("the export folder").map(|e| e.expect("entry").path()).collect();
    assert_eq!(files.len(), saved.len(), "{files:?} for {saved:?}");
    let (de_incoming, en_incoming) = (de_text("card.incoming"), catalogue("en")["card.incoming"].as_str().unwrap().to_owned());
    assert_eq!(de_incoming, "Eingehende E-Mails (IMAP)");
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        // Outlook's .prf and .reg files are UTF-16 (little-endian, with a byte order mark).
        let text = match bytes.strip_prefix(&[0xFF, 0xFE]) {
            Some(utf16) => String::from_utf16_lossy(&utf16.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>()),
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        for old in OLD_CORE_ENGLISH {
            assert!(!text.contains(old), "{} holds the core's old English {old:?}", file.display());
        }
        assert!(!text.contains(&password), "{} holds the password", file.display());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("-settings.txt") || name.ends_with("-settings.html") {
            assert!(text.contains(&de_incoming), "{name} is not German: {text}");
            assert!(!text.contains(&en_incoming), "{name} holds English: {text}");
            assert!(text.contains(&de_text("card.outgoing")), "{name}: {text}");
        }
    }
    let cards = files.iter().filter(|f| f.to_string_lossy().contains("-settings.")).count();
    assert_eq!(cards, 2, "both settings cards were saved: {files:?}");
}

#[test]
fn send_a_test_message_to_myself_shows_each_step_and_leaves_the_inbox_as_it_was() {
    use icloud_mail_tests::ca::TestCa;
    use icloud_mail_tests::dovecot::{MailUser, Setup};
    let password = "abcd-efgh-ijkl-mnop";
    let setup = Setup::icloud_like().refusing_foreign_senders();
    let dovecot = Dovecot::start_with(&[MailUser::new(JANE, password)], setup, TestCa::new()).expect("start Dovecot");
    dovecot.deliver(JANE, b"From: someone@example.com\r\nTo: jane.doe@icloud.com\r\nSubject: kept\r\n\r\nThis stays.\r\n").unwrap();
    let inbox = || {
        let mut messages = dovecot.messages(JANE);
        messages.sort();
        messages
    };
    let before = inbox();
    let args = dovecot.app_args();
    let app = to_connection_test("e2e_send_test", args, password);
    app.wait_for_text("#verdict-imap", "Works");
    app.wait_for_text("#verdict-smtp", "Works");

    // Offered, explained, and never started by itself.
    let offer = app.wait_for_text("#send-test", "Send a test message to myself");
    assert!(offer.contains(&format!("one message from {JANE} to {JANE}")) && offer.contains("removes it"), "{offer}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(dovecot.relay_transactions(), 0, "nothing is sent before the button is pressed");

    app.click("#send-test-button");
    let verdict = app.wait_for_text("#verdict-send", "Sending works");
    assert!(verdict.contains(&format!("the message from {JANE} arrived in your inbox after")), "{verdict}");
    let steps = app.find_all("#send-steps li");
    assert_eq!(steps.len(), 3, "{steps:?}");
    let texts = app.text("#send-steps");
    for (i, step) in ["Sent (", "Arrived in the inbox (", "Removed from the inbox ("].iter().enumerate() {
        let at = texts.find(step).unwrap_or_else(|| panic!("{step:?} missing: {texts}"));
        assert!(i == 0 || at > texts.find(["Sent (", "Arrived in the inbox ("][i - 1]).unwrap(), "out of order: {texts}");
    }
    app.screenshot("send-test-ok");
    // The message went out and came back, and the inbox is exactly as it was; Next still leads on.
    assert_eq!(dovecot.relayed(), 1);
    assert_eq!(inbox(), before, "the inbox is as it was");
    app.wait_for(Duration::from_secs(5), "Next to be enabled", AppSession::next_enabled);
    let html = app.execute("return document.documentElement.outerHTML;", serde_json::json!([]));
    assert!(!html.as_str().unwrap_or_default().contains(password), "the password is in the page's markup");
}

// --- calendars and contacts (#25): the third panel and Thunderbird's "Also add my iCloud calendars and contacts" ---

/// Dovecot and the iCloud-like DAV server (Radicale behind its service-host front) for Jane with one password, a
/// keyring session whose home has a Thunderbird profile, and the app started against both — the DAV hosts by their
/// names, resolved through a private `/etc/hosts` (as a person's app resolves caldav.icloud.com), one `--ca-file`
/// trusting both servers' CA. Keep every field alive for the whole test.
struct DavWorld {
    app: AppSession,
    dav: icloud_mail_tests::dav::DavServer,
    _dovecot: Dovecot,
    keyring: icloud_mail_tests::keyring::KeyringSession,
    _cas: tempfile::TempDir,
}

fn dav_world(suite: &str, password: &str, dav_down: bool, extra_env: &[(&str, &str)]) -> DavWorld {
    use icloud_mail_tests::dav::{DavServer, DavUser};
    use icloud_mail_tests::dovecot::MailUser;
    let dovecot = Dovecot::start(&[MailUser::new(JANE, password)]).expect("start Dovecot");
    let mut dav = DavServer::start(&[DavUser::new(JANE, password)]);
    let keyring = icloud_mail_tests::keyring::KeyringSession::with_keyring();
    thunderbird_profile(&keyring.home());
    // Two test CAs, one file: the app's --ca-file takes every certificate in it.
    let cas = tempfile::tempdir().expect("tempdir");
    let ca_file = cas.path().join("test-cas.pem");
    std::fs::write(&ca_file, format!("{}\n{}", dovecot.ca().ca_pem(), dav.ca().ca_pem())).expect("write the CA file");
    let mut args = server_args(format!("localhost:{}", dovecot.imaps_port), format!("localhost:{}", dovecot.submission_port), &ca_file);
    args.extend(["--caldav".to_owned(), dav.caldav_endpoint(), "--carddav".to_owned(), dav.carddav_endpoint()]);
    let exports = cas.path().join("exports");
    std::fs::create_dir(&exports).expect("the export folder");
    args.extend(["--export-dir".to_owned(), exports.display().to_string()]);
    if dav_down {
        dav.stop();
    }
    let mut env: Vec<(String, String)> =
        keyring.env().into_iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let hosts_file = Some(dav.hosts_file().to_path_buf());
    let app = AppSession::start(suite, AppOptions { args, env, hosts_file, ..AppOptions::default() });
    DavWorld { app, dav, _dovecot: dovecot, keyring, _cas: cas }
}

/// At the smallest window (560 × 520) with text at 200 %, nothing on the page is cut off sideways (the third panel's
/// host names and calendar names wrap); the page is put back to its usual size afterwards.
fn fits_smallest_window_at_double_text_size(app: &AppSession, what: &str) {
    app.set_window_size(560, 520);
    app.execute("document.documentElement.style.fontSize = '200%'; return true;", serde_json::json!([]));
    let o = app.execute(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, \
         [...document.querySelectorAll('body *')].filter(e => e.getClientRects().length && e.getBoundingClientRect().right > d.clientWidth + 1).map(e => e.id || e.className || e.tagName)];",
        serde_json::json!([]),
    );
    app.screenshot(&format!("{what}-200"));
    assert!(o[0].as_f64() <= o[1].as_f64() && o[2].as_array().is_some_and(|a| a.is_empty()), "{what} is cut off at 200 % text: {o}");
    app.execute("document.documentElement.style.fontSize = ''; return true;", serde_json::json!([]));
    app.set_window_size(800, 640);
}

/// Every `user_pref` of a prefs.js text, name → value.
fn prefs_of(prefs_js: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    prefs_js
        .lines()
        .filter_map(|l| l.strip_prefix("user_pref(")?.strip_suffix(");"))
        .filter_map(|l| serde_json::from_str::<(String, serde_json::Value)>(&format!("[{l}]")).ok())
        .collect()
}

/// The keys `k` of prefs `<branch><k>.<suffix>` whose value is `value`.
fn keys_with(prefs: &std::collections::BTreeMap<String, serde_json::Value>, branch: &str, suffix: &str, value: &str) -> Vec<String> {
    prefs
        .iter()
        .filter(|(name, v)| v.as_str() == Some(value) && name.starts_with(branch) && name.ends_with(&format!(".{suffix}")))
        .map(|(name, _)| name[branch.len()..name.len() - suffix.len() - 1].to_owned())
        .collect()
}

/// Issue #25's end to end: the real app finds the DAV server's calendar and address book beside mail (the third
/// panel shows each step, the VEVENT calendar with its colour and not the task list, the address book), and with
/// "Also add my iCloud calendars and contacts" ticked, "Add to Thunderbird" puts mail, the calendar and the address
/// book into the profile with their logins (the partition host's prePath, the server's realm) and the password.
#[test]
fn dav_calendars_and_contacts_found_by_the_test_are_added_to_thunderbird_with_mail() {
    use icloud_mail_tests::dav;
    let password = icloud_mail_tests::fresh_password();
    // Every part stays alive until the end (a `..` would drop Dovecot here).
    let DavWorld { app, dav: server, keyring, _dovecot, _cas } = dav_world("e2e_dav_thunderbird", &password, false, &[]);
    let walk = Walk::new(JANE, &password);
    app.walk_to(WizardStep::Test, &walk);

    // The third panel, live like the other two, ends with what was found.
    let caldav = app.wait_for_text("#verdict-caldav", "Works");
    assert!(caldav.contains(&format!("signed in as {JANE} on {}", dav::CALDAV_HOST)), "{caldav}");
    assert!(caldav.contains(dav::CALDAV_PARTITION_HOST), "the partition host is named: {caldav}");
    let carddav = app.wait_for_text("#verdict-carddav", "Works");
    assert!(carddav.contains(dav::CARDDAV_HOST), "{carddav}");
    let steps = app.text("#dav-caldav .probe-steps");
    for step in
        [format!("Connected to {}", dav::CALDAV_HOST), "Secure connection set up".into(), "Signed in".into(), "Calendars listed".into()]
    {
        assert!(steps.contains(&step), "CalDAV's steps lack {step:?}: {steps}");
    }
    assert!(app.text("#dav-carddav .probe-steps").contains("Address books listed"));
    let calendars = app.execute(
        "return [...document.querySelectorAll('#dav-found-caldav li')].map(li => [li.querySelector('.calendar-name').textContent, \
         getComputedStyle(li.querySelector('.swatch')).backgroundColor]);",
        serde_json::json!([]),
    );
    assert_eq!(
        calendars,
        serde_json::json!([[dav::EVENT_CALENDAR_NAME, "rgb(255, 41, 104)"]]),
        "the VEVENT calendar with its colour (#FF2968), the task list left out"
    );
    assert_eq!(app.text("#dav-found-carddav"), dav::ADDRESS_BOOK);
    app.complete_step(&walk);
    app.execute("document.getElementById('side-dav').scrollIntoView(); return true;", serde_json::json!([]));
    app.screenshot("connection-dav");
    fits_smallest_window_at_double_text_size(&app, "connection-dav");

    // Thunderbird's path: the box is ticked, and says what will come along.
    app.walk_to(WizardStep::Save, &walk);
    app.wait_for(Duration::from_secs(10), "the profile", |s| !s.find_all("#tb-add-0").is_empty());
    assert_eq!(app.chosen_mail_app().as_deref(), Some("thunderbird"));
    assert_eq!(app.property("#tb-with-dav", "checked"), serde_json::json!(true), "found: ticked");
    assert_eq!(app.property("#tb-with-dav", "disabled"), serde_json::json!(false));
    let note = app.text("#tb-with-dav-note");
    assert!(note.contains(dav::EVENT_CALENDAR_NAME) && note.contains(dav::ADDRESS_BOOK), "{note}");
    app.click("#tb-add-0");
    app.wait_for(Duration::from_secs(30), "what was added", |s| !s.find_all("#tb-dav-added-0").is_empty());
    let added = app.text("#tb-dav-added-0");
    assert!(added.contains("Calendar “Home” added.") && added.contains("Address book “card” added."), "{added}");
    assert!(app.text("#tb-profiles").contains("signs in without asking"));
    app.execute("document.getElementById('save-path').scrollIntoView(); return true;", serde_json::json!([]));
    app.screenshot("save-thunderbird-dav");

    // The profile: the mail account, the calendar and the address book, as the test found them.
    let profile = keyring.home().join(".thunderbird/abc.default-release");
    let prefs = prefs_of(&std::fs::read_to_string(profile.join("prefs.js")).expect("prefs.js"));
    let calendar_url = format!("{}{}/", server.calendar_home(JANE), dav::EVENT_CALENDAR);
    let book_url = format!("{}{}/", server.addressbook_home(JANE), dav::ADDRESS_BOOK);
    let calendars = keys_with(&prefs, "calendar.registry.", "uri", &calendar_url);
    assert_eq!(calendars.len(), 1, "one calendar for {calendar_url}: {prefs:#?}");
    let calendar = |suffix: &str| prefs[&format!("calendar.registry.{}.{suffix}", calendars[0])].clone();
    assert_eq!(calendar("type"), "caldav");
    assert_eq!(calendar("username"), JANE);
    assert_eq!(calendar("name"), dav::EVENT_CALENDAR_NAME);
    assert!(keys_with(&prefs, "calendar.registry.", "name", dav::TASK_CALENDAR_NAME).is_empty(), "the task list is not a calendar");
    let books = keys_with(&prefs, "ldap_2.servers.", "carddav.url", &book_url);
    assert_eq!(books.len(), 1, "one address book for {book_url}: {prefs:#?}");
    assert_eq!(prefs[&format!("ldap_2.servers.{}.carddav.username", books[0])], JANE);
    assert_eq!(prefs[&format!("ldap_2.servers.{}.dirType", books[0])], 102);

    // The logins, decrypted with Thunderbird's own NSS: mail's two and one per DAV partition host, each with the
    // password; the calendar's under the realm the server sent.
    let logins = icloud_mail_tests::thunderbird::stored_logins(&profile);
    let origin = |host: &str| format!("https://{host}:{}", server.radicale_port);
    for want in [
        ("imap://localhost".to_owned(), "jane.doe".to_owned()),
        ("smtp://localhost".to_owned(), JANE.to_owned()),
        (origin(dav::CALDAV_PARTITION_HOST), JANE.to_owned()),
        (origin(dav::CARDDAV_PARTITION_HOST), JANE.to_owned()),
    ] {
        assert!(logins.contains(&(want.0.clone(), want.1.clone(), password.clone())), "no login for {want:?} in {logins:?}");
    }
    let store: serde_json::Value = serde_json::from_slice(&std::fs::read(profile.join("logins.json")).unwrap()).unwrap();
    let realm = store["logins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["hostname"] == origin(dav::CALDAV_PARTITION_HOST).as_str())
        .map(|l| l["httpRealm"].clone());
    assert_eq!(realm, Some(serde_json::json!(dav::REALM)), "the calendar's login is under the server's realm");

    app.walk_to(WizardStep::Done, &walk);
    assert!(app.done_details().contains("Calendars and contacts were added to Thunderbird (default-release)"));
    let html = app.execute("return document.documentElement.outerHTML;", serde_json::json!([]));
    assert!(!html.as_str().unwrap_or_default().contains(&password), "the password is in the page's markup");
}

/// With the DAV server down, mail still passes (Next, the send test), the third panel says why, and Thunderbird's
/// box is disabled with the reason: "Add to Thunderbird" adds mail and no calendar.
#[test]
fn dav_server_down_mail_still_passes_and_calendars_say_why() {
    let password = icloud_mail_tests::fresh_password();
    let DavWorld { app, keyring, dav: _dav, _dovecot, _cas } = dav_world("e2e_dav_down", &password, true, &[]);
    let walk = Walk::new(JANE, &password);
    app.walk_to(WizardStep::Test, &walk);
    app.complete_step(&walk);
    app.wait_for(Duration::from_secs(30), "the calendars' verdict", |s| !s.find_all("#verdict-caldav.problem").is_empty());
    assert_eq!(app.property("#verdict-caldav", "dataset").get("kind"), Some(&serde_json::json!("connection_refused")));
    let why = app.text("#verdict-caldav");
    assert!(why.contains("refused the connection") && why.contains("This network or a firewall"), "{why}");
    assert_eq!(app.property("#verdict-carddav", "dataset").get("kind"), Some(&serde_json::json!("connection_refused")));
    assert!(app.next_enabled(), "a DAV failure never fails the mail verdict");
    assert_eq!(app.property("#send-test", "hidden"), serde_json::json!(false), "the send test is offered");
    app.screenshot("connection-dav-down");
    app.execute("document.querySelectorAll('#side-dav details').forEach(d => d.open = true); return true;", serde_json::json!([]));
    fits_smallest_window_at_double_text_size(&app, "connection-dav-down");

    app.walk_to(WizardStep::Save, &walk);
    app.wait_for(Duration::from_secs(10), "the profile", |s| !s.find_all("#tb-add-0").is_empty());
    assert_eq!(app.property("#tb-with-dav", "checked"), serde_json::json!(false));
    assert_eq!(app.property("#tb-with-dav", "disabled"), serde_json::json!(true));
    assert!(app.text("#tb-with-dav-note").contains("did not find them"));
    fits_smallest_window_at_double_text_size(&app, "save-thunderbird-dav-unavailable");
    app.click("#tb-add-0");
    app.wait_for(Duration::from_secs(30), "Thunderbird's outcome", |s| s.text("#tb-profiles").contains("signs in without asking"));
    assert!(app.find_all("#tb-dav-added-0").is_empty(), "nothing of DAV is claimed");
    let prefs = std::fs::read_to_string(keyring.home().join(".thunderbird/abc.default-release/prefs.js")).expect("prefs.js");
    assert!(prefs.contains(JANE), "mail was added");
    assert!(!prefs.contains("calendar.registry.") && !prefs.contains(".carddav.url"), "no calendar, no address book:\n{prefs}");
}

/// Records, in the page, the order in which things happen (each once until reset): Next enabled on the connection
/// step (with the third panel's state at that moment), the calendars' verdict, and Thunderbird's box on the save
/// step in each of its states. Order, not time: a `MutationObserver` notes each the moment the page shows it.
const RECORD_ORDER: &str = "\
    window.__order = []; const seen = new Set(); window.__resetOrder = () => { window.__order = []; seen.clear(); }; \
    const note = (what, extra) => { if (!seen.has(what)) { seen.add(what); window.__order.push(Object.assign({ what }, extra)); } }; \
    new MutationObserver(() => { \
      const step = document.getElementById('app').dataset.step, next = document.getElementById('next'); \
      const cal = document.getElementById('verdict-caldav'), card = document.getElementById('verdict-carddav'); \
      if (step === 'test' && next && !next.disabled && cal) note('next', { caldav: cal.className, carddav: card.className, \
        text: cal.textContent, steps: document.querySelectorAll('#dav-caldav .probe-steps li').length, \
        send_test: !document.getElementById('send-test').hidden }); \
      if (cal && /ok|problem/.test(cal.className)) note('caldav', { kind: cal.dataset.kind }); \
      const tb = document.getElementById('tb-dav'); \
      if (tb && tb.dataset.choice) note('save-' + tb.dataset.choice, { disabled: document.getElementById('tb-with-dav').disabled, \
        checked: document.getElementById('tb-with-dav').checked, note: document.getElementById('tb-with-dav-note').textContent }); \
    }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true }); \
    return true;";

/// The page's record of what happened, in order (`RECORD_ORDER`).
fn order(app: &AppSession) -> Vec<serde_json::Value> {
    app.execute("return window.__order;", serde_json::json!([])).as_array().cloned().unwrap_or_default()
}

fn whats(order: &[serde_json::Value]) -> Vec<&str> {
    order.iter().filter_map(|o| o["what"].as_str()).collect()
}

/// Issue #25: with the calendar and contacts servers accepting and never answering, the mail verdict, Next and the
/// send test come as soon as mail is known, while the third panel is still looking (its first steps shown, no
/// verdict); its verdict (`timeout`) comes later. Next leaves calendars and contacts looking: Thunderbird's box waits,
/// disabled and saying so, then says why not when their verdict comes, and "Add to Thunderbird" adds mail only.
/// Going back and testing again does the same, the panel ending with `timeout` on both halves.
#[test]
fn dav_hanging_never_holds_up_the_mail_verdict_and_the_save_step_waits_for_it() {
    use icloud_mail_tests::dav::FrontMode;
    let password = icloud_mail_tests::fresh_password();
    let DavWorld { app, keyring, dav, _dovecot, _cas } = dav_world("e2e_dav_hanging", &password, false, &[]);
    dav.set_mode(FrontMode::Hangs);
    let walk = Walk::new(JANE, &password);
    app.walk_to(WizardStep::Password, &walk);
    app.execute(RECORD_ORDER, serde_json::json!([]));

    // The mail verdict and Next, while calendars and contacts have no verdict yet.
    app.walk_to(WizardStep::Test, &walk);
    app.complete_step(&walk);
    let seen = order(&app);
    let first = &seen[0];
    assert_eq!(first["what"], "next", "Next was enabled first: {seen:#?}");
    assert_eq!((first["caldav"].as_str(), first["carddav"].as_str()), (Some("verdict"), Some("verdict")), "no DAV verdict yet: {first}");
    assert_eq!(first["text"], "Testing…");
    assert!(first["steps"].as_u64() >= Some(1), "the panel is live (connected to the service host): {first}");
    assert_eq!(first["send_test"], true, "the send test is offered with the mail verdict");

    // Next while they are looked for: the box waits, then says why not once the hanging servers time out.
    app.walk_to(WizardStep::Save, &walk);
    app.wait_for(Duration::from_secs(10), "the profile", |s| !s.find_all("#tb-add-0").is_empty());
    app.wait_for(Duration::from_secs(30), "the calendars' verdict on the save step", |s| {
        s.property("#tb-dav", "dataset").get("choice") == Some(&serde_json::json!("unavailable"))
    });
    let seen = order(&app);
    assert_eq!(whats(&seen), ["next", "save-looking", "save-unavailable"], "{seen:#?}");
    let looking = &seen[1];
    assert_eq!((looking["disabled"].as_bool(), looking["checked"].as_bool()), (Some(true), Some(false)), "{looking}");
    assert!(looking["note"].as_str().unwrap_or_default().starts_with("Still looking for your calendars and contacts"), "{looking}");
    assert!(app.text("#tb-with-dav-note").contains("did not find them"));
    assert_eq!(app.property("#tb-with-dav", "disabled"), serde_json::json!(true));
    app.click("#tb-add-0");
    app.wait_for(Duration::from_secs(30), "Thunderbird's outcome", |s| s.text("#tb-profiles").contains("signs in without asking"));
    assert!(app.find_all("#tb-dav-added-0").is_empty(), "nothing of DAV is claimed");
    let prefs = std::fs::read_to_string(keyring.home().join(".thunderbird/abc.default-release/prefs.js")).expect("prefs.js");
    assert!(prefs.contains(JANE) && !prefs.contains("calendar.registry."), "mail only:\n{prefs}");

    // Back to the test: a new test, the mail verdict first again, then the panel's own verdict, `timeout`.
    app.execute("window.__resetOrder(); return true;", serde_json::json!([]));
    app.click("#back");
    app.wait_for(Duration::from_secs(10), "the connection step", |s| s.step() == WizardStep::Test);
    app.complete_step(&walk);
    app.wait_for(Duration::from_secs(30), "the calendars' verdict", |s| !s.find_all("#verdict-caldav.problem").is_empty());
    app.wait_for(Duration::from_secs(5), "the contacts' verdict", |s| !s.find_all("#verdict-carddav.problem").is_empty());
    let seen = order(&app);
    assert_eq!(whats(&seen), ["next", "caldav"], "{seen:#?}");
    assert_eq!(seen[0]["caldav"], "verdict", "no DAV verdict when Next opened: {seen:#?}");
    for side in ["#verdict-caldav", "#verdict-carddav"] {
        assert_eq!(app.property(side, "dataset").get("kind"), Some(&serde_json::json!("timeout")), "{side}: {}", app.text(side));
    }
    assert!(app.next_enabled(), "Next stays enabled");
    app.screenshot("connection-dav-hanging");
}
