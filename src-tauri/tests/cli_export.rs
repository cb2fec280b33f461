//! `export` and `thunderbird add|list` as a script would use them: files, stdout, refusal to overwrite, exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn cli(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_icloud-mail-setup"));
    cmd.current_dir(cwd).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env_remove("DBUS_SESSION_BUS_ADDRESS");
    // vdirsyncer, khal and khard files go below the XDG config folder without --output: the test's own.
    cmd.env("XDG_CONFIG_HOME", cwd.join("xdg-config"));
    cmd
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    cli(cwd).args(args).output().unwrap()
}

const CUSTOM: [&str; 4] = ["--address", "jane@family.example", "--login", "jane.doe@icloud.com"];

#[test]
fn every_format_writes_its_file_with_its_usual_name() {
    let dir = tempfile::tempdir().unwrap();
    let formats = [
        ("outlook-prf", "icloud-mail-jane@family.example.prf"),
        ("outlook-autodiscover", "autodiscover-family.example.xml"),
        ("outlook-reg", "autodiscover-family.example.reg"),
        ("apple-mobileconfig", "icloud-mail-jane@family.example.mobileconfig"),
        ("neomutt", "icloud-mail-jane@family.example.neomuttrc"),
        ("aerc", "icloud-mail-jane@family.example.aerc-accounts.conf"),
        ("mbsync", "icloud-mail-jane@family.example.mbsyncrc"),
        ("msmtp", "icloud-mail-jane@family.example.msmtprc"),
        ("settings-text", "icloud-mail-jane@family.example-settings.txt"),
        ("settings-html", "icloud-mail-jane@family.example-settings.html"),
    ];
    for (format, file) in formats {
        let out = run(dir.path(), &[&["export"], &CUSTOM[..], &["--name", "Jane Doe", "--format", format]].concat());
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{format}: stdout stays clean when writing a file");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("Wrote {file}")), "{format}: {stderr}");
        let meta = std::fs::metadata(dir.path().join(file)).unwrap();
        assert!(meta.len() > 100, "{format}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o077, 0, "{format}: readable by the owner only");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), formats.len(), "no temporary files are left behind");
}

#[test]
fn the_autoconfig_file_is_refused_where_it_would_carry_a_persons_login() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[&["export"], &CUSTOM[..], &["--format", "thunderbird-autoconfig"]].concat());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("everyone on family.example") && stderr.contains("jane.doe@icloud.com"), "{stderr}");
    assert!(stderr.contains("autoconfig_personal_login") && stderr.contains("thunderbird add"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let out = run(dir.path(), &["export", "--address", "jane.doe@icloud.com", "--format", "thunderbird-autoconfig"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let xml = std::fs::read_to_string(dir.path().join("config-v1.1.xml")).unwrap();
    assert!(!xml.contains("jane"), "a file for a whole domain names nobody: {xml}");
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.msmtprc");
    std::fs::write(&target, "keep me").unwrap();
    let args = [&["export"], &CUSTOM[..], &["--format", "msmtp", "--output", target.to_str().unwrap()]].concat();
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists") && stderr.contains("out.msmtprc"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    let out = run(dir.path(), &[&args[..], &["--force"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&target).unwrap().contains("host \"smtp.mail.me.com\""));
}

#[test]
fn dash_writes_to_standard_output_and_servers_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "export",
            "--address",
            "jane.doe@icloud.com",
            "--format",
            "settings-text",
            "--output",
            "-",
            "--imap",
            "127.0.0.1:1993",
            "--smtp",
            "[::1]:1587",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Server: 127.0.0.1\n  Port: 1993"), "{text}");
    assert!(text.contains("Server: ::1\n  Port: 1587"), "{text}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bad_arguments_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["export", "--address", "jane@family.example", "--format", "msmtp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("family.example"), "login required: {out:?}");
    let out = run(dir.path(), &["export", "--address", "jane@icloud.com", "--format", "thunderbird"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("thunderbird-autoconfig"), "lists the formats");
    let out = run(dir.path(), &["export", "--address", "jane@icloud.com", "--format", "msmtp", "--ca-file", "/nonexistent.pem"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(dir.path(), &["export", "--address", "jane@icloud.com", "--format", "msmtp", "--imap", "nohost"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Every registered format (the registry is the one list; its ids are pinned by core's own test).
fn formats() -> impl Iterator<Item = &'static str> {
    icloud_mail_core::export::ExportFormat::ALL.iter().map(|f| f.id())
}

/// Servers no client file can hold, each with a word of the reason the command line must give.
fn hostile_servers() -> Vec<(String, &'static str)> {
    let long_label = "a".repeat(64);
    let long_name = format!("{}.{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62));
    vec![
        ("a|b:993".into(), "'|'"),
        ("a b:993".into(), "' '"),
        ("a\nb:993".into(), "LINE FEED"),
        ("-x:993".into(), "hyphen"),
        ("a..b:993".into(), "empty label"),
        ("exa_mple.com:993".into(), "'_'"),
        ("bad\u{202e}host:993".into(), "RIGHT-TO-LEFT OVERRIDE"),
        (format!("{long_label}.example:993"), "64 characters"),
        (format!("{long_name}:993"), "254 characters"),
        ("[fe80::1%eth0]:993".into(), "zone"),
        ("fe80::1:993".into(), "brackets"),
        ("[127.0.0.1]:993".into(), "not an IPv6 address"),
        ("256.1.1.1:993".into(), "IPv4"),
        ("1.2.3:993".into(), "IPv4"),
        ("imap.example:0".into(), "port 0"),
        ("imap.example:65536".into(), "port number"),
    ]
}

#[test]
fn hostile_servers_are_refused_by_every_format_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out");
    // Every server with every format through --imap; --smtp goes through the same parser, so with aerc only (whose
    // URL builder used to panic on such a host).
    let cases = formats().map(|f| ("--imap", f)).chain([("--smtp", "aerc")]);
    for (flag, format) in cases {
        for (server, reason) in hostile_servers() {
            let args = [
                "export".to_owned(),
                "--address".into(),
                "jane@icloud.com".into(),
                "--format".into(),
                format.into(),
                format!("{flag}={server}"),
                "--output".into(),
                output.display().to_string(),
            ];
            let out = cli(dir.path()).args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let case = format!("{format} {flag}={server:?}");
            assert!(!stderr.contains("panicked"), "{case}: {stderr}");
            assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
            assert!(stderr.contains(reason), "{case}: the reason ({reason}) is missing: {stderr}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{case}: a file was written");
        }
    }
}

#[test]
fn names_and_addresses_with_refused_characters_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, character) in [
        ("--name", "Jane\u{fffe}", "U+FFFE"),
        ("--name", "Jane\u{202e}eoD", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("--name", "Jane\u{2028}Doe", "U+2028 LINE SEPARATOR"),
        ("--address", "jane\u{85}@family.example", "U+0085 NEXT LINE"),
    ] {
        for format in ["apple-mobileconfig", "outlook-autodiscover", "neomutt"] {
            let account: &[&str] = match flag {
                "--address" => &["--address", value, "--login", "jane.doe@icloud.com"],
                _ => &[&CUSTOM[..], &[flag, value]].concat(),
            };
            let out = run(dir.path(), &[&["export", "--format", format], account].concat());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{format} {flag} {value:?}: {stderr}");
            assert!(stderr.contains(character) && stderr.contains("position 5"), "{format} {flag} {value:?}: {stderr}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn hosts_are_written_in_their_ascii_form() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["export", "--address", "jane@icloud.com", "--format", "settings-text", "--output", "-", "--imap", "Bücher.Example.:993"];
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Server: xn--bcher-kva.example\n  Port: 993"), "{text}");
}

#[test]
fn probe_and_the_window_refuse_hostile_servers_too() {
    let dir = tempfile::tempdir().unwrap();
    for (server, reason) in hostile_servers() {
        for args in [
            vec!["probe".to_owned(), "--address".into(), "jane@icloud.com".into(), format!("--imap={server}")],
            vec!["probe".to_owned(), "--address".into(), "jane@icloud.com".into(), format!("--smtp-fallback={server}")],
            // No subcommand: the wizard's flags, refused before any window is made.
            vec![format!("--smtp={server}")],
        ] {
            let out = cli(dir.path()).args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(reason), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn the_autodiscover_path_must_be_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["export", "--address", "jane@icloud.com", "--format", "outlook-reg", "--output", "-", "--autodiscover-path"];
    let out = run(dir.path(), &[&args[..], &["autodiscover.xml"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absolute"), "{out:?}");
    let out = run(dir.path(), &[&args[..], &[r"C:\Users\jane\AppData\Local\x.xml"]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn thunderbird_add_twice_list_and_a_missing_profile() {
    let home = tempfile::tempdir().unwrap();
    // Where this system's Thunderbird keeps profiles.ini, under a throwaway home: HOME on Linux and macOS, APPDATA
    // on Windows (both are set for every run).
    let appdata = home.path().join("AppData").join("Roaming");
    let root = if cfg!(windows) {
        appdata.join("Thunderbird")
    } else if cfg!(target_os = "macos") {
        home.path().join("Library").join("Thunderbird")
    } else {
        home.path().join(".thunderbird")
    };
    let cli = |cwd: &Path| {
        let mut cmd = cli(cwd);
        cmd.env("HOME", home.path()).env("APPDATA", &appdata);
        cmd
    };
    std::fs::create_dir_all(root.join("abc.default-esr")).unwrap();
    std::fs::write(root.join("profiles.ini"), "[Profile0]\nName=default-esr\nIsRelative=1\nPath=abc.default-esr\nDefault=1\n").unwrap();
    let prefs = root.join("abc.default-esr/prefs.js");
    std::fs::write(&prefs, "user_pref(\"mail.accountmanager.accounts\", \"account1\");\n").unwrap();

    let add = |extra: &[&str]| cli(home.path()).args([&["thunderbird", "add"], &CUSTOM[..], extra].concat()).output().unwrap();
    let out = add(&["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "added");
    assert_eq!(v["account_key"], "account2");
    assert!(Path::new(v["backup"].as_str().unwrap()).exists());
    let out = add(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing was changed"), "{out:?}");

    let out = cli(home.path()).args(["thunderbird", "list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "default-esr");
    assert_eq!(list[0]["is_default"], true);

    let out = add(&["--profile", home.path().join("nope").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not found"), "{out:?}");
}

#[test]
fn thunderbird_add_refuses_an_account_list_it_cannot_read() {
    let profile = tempfile::tempdir().unwrap();
    let prefs = profile.path().join("prefs.js");
    let text = "// Mozilla User Preferences\n\nuser_pref('mail.accountmanager.accounts', 'account1,account2');\n\
        user_pref(\"mail.account.account1.server\", \"server1\");\n";
    std::fs::write(&prefs, text).unwrap();
    let dir = profile.path().to_str().unwrap();

    let out = run(profile.path(), &[&["thunderbird", "add"], &CUSTOM[..], &["--profile", dir, "--json"]].concat());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "thunderbird_prefs_unreadable");
    assert_eq!(v["pref"], "mail.accountmanager.accounts", "the facts stand beside kind, message and hint");
    assert_eq!(v["path"], prefs.to_str().unwrap());

    let out = run(profile.path(), &[&["thunderbird", "add"], &CUSTOM[..], &["--profile", dir]].concat());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("mail.accountmanager.accounts"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&prefs).unwrap(), text, "prefs.js is untouched");
    assert_eq!(std::fs::read_dir(profile.path()).unwrap().count(), 1, "no backup, no temporary file");
}

// --------------------------------------------------------------------------- --verified

/// A report exactly as `probe --json` prints it (every field, words included), for `--verified`.
fn probe_report(address: &str, login: &str, imap_user: &str, smtp: (u16, &str, &str), smtp_kind: &str) -> serde_json::Value {
    let (smtp_port, smtp_security, smtp_user) = smtp;
    serde_json::json!({
        "address": address,
        "login": login,
        "imap": {
            "kind": "ok", "host": "imap.mail.me.com", "port": 993, "security": "tls", "username": imap_user,
            "elapsed_ms": 310, "message": "Signed in to imap.mail.me.com as someone.", "hint": "Nothing to do.",
            "server_text": null, "detail": null, "unreachable_port": null, "note": null,
            "attempts": [
                {"host": "imap.mail.me.com", "port": 993, "security": "tls", "username": "fullonly", "kind": "auth_rejected", "elapsed_ms": 200, "server_text": "a NO [AUTHENTICATIONFAILED]"},
                {"host": "imap.mail.me.com", "port": 993, "security": "tls", "username": imap_user, "kind": "ok", "elapsed_ms": 300, "server_text": null}
            ],
            "folders": {"inbox": "INBOX", "sent": "Gesendet \"alt\"", "drafts": "Entwürfe", "trash": "Deleted Messages", "junk": null, "archive": "Archiv"},
            "delimiter": "/"
        },
        "smtp": {
            "kind": smtp_kind, "host": "smtp.mail.me.com", "port": smtp_port, "security": smtp_security, "username": smtp_user,
            "elapsed_ms": 820, "message": "…", "hint": "…", "server_text": null, "detail": null,
            "unreachable_port": 587, "note": "Port 587 could not be reached from this network (it may be blocked), so the fallback port was tested instead.",
            "attempts": []
        }
    })
}

fn write_report(dir: &Path, report: &serde_json::Value) -> String {
    let path = dir.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(report).unwrap()).unwrap();
    path.display().to_string()
}

const FULLONLY: [&str; 2] = ["--address", "fullonly@icloud.com"];

#[test]
fn a_verified_report_reaches_the_exported_files() {
    let dir = tempfile::tempdir().unwrap();
    let report = write_report(
        dir.path(),
        &probe_report("fullonly@icloud.com", "fullonly@icloud.com", "fullonly@icloud.com", (465, "tls", "fullonly@icloud.com"), "ok"),
    );
    let export = |format: &str| {
        let out = run(dir.path(), &[&["export"], &FULLONLY[..], &["--verified", &report, "--format", format, "--output", "-"]].concat());
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // Without --verified the same account gets the preset's first guesses…
    let out = run(dir.path(), &[&["export"], &FULLONLY[..], &["--format", "msmtp", "--output", "-"]].concat());
    assert!(String::from_utf8_lossy(&out.stdout).contains("port 587"));
    // …with it, what the test signed in with: 465 with TLS from the first byte, the full address for IMAP too.
    let msmtp = export("msmtp");
    assert!(msmtp.contains("host \"smtp.mail.me.com\"\nport 465\ntls on\ntls_starttls off\n"), "{msmtp}");
    assert!(msmtp.contains("user \"fullonly@icloud.com\""), "{msmtp}");
    let neomutt = export("neomutt");
    for line in [
        r#"set imap_user = "fullonly@icloud.com""#,
        r#"set smtp_url = "smtps://smtp.mail.me.com:465/""#,
        r#"set record = "+Gesendet %22alt%22""#,
        r#"set postponed = "+Entw%C3%BCrfe""#,
        r#"set trash = "+Deleted Messages""#,
    ] {
        assert!(neomutt.lines().any(|l| l == line), "{line} missing:\n{neomutt}");
    }
    let aerc = export("aerc");
    assert!(aerc.contains("source = imaps://fullonly%40icloud.com@imap.mail.me.com:993\n"), "{aerc}");
    assert!(aerc.contains("outgoing = smtps+plain://fullonly%40icloud.com@smtp.mail.me.com:465\n"), "{aerc}");
    assert!(aerc.contains("copy-to = `Gesendet \"alt\"`\npostpone = Entwürfe\narchive = Archiv\n"), "{aerc}");
    assert!(!aerc.contains("smtp-starttls"), "465 is TLS from the first byte: {aerc}");
    let card = export("settings-text");
    assert!(card.contains("Port: 465\n  Security: SSL/TLS\n  Username: fullonly@icloud.com"), "{card}");
    assert!(card.contains("Sent mail: Gesendet \"alt\"") && card.contains("Junk: none on the server"), "{card}");
    assert!(card.contains("signed in with exactly these settings"), "{card}");
    assert!(card.contains("use fullonly instead"), "the other form stays the alternative: {card}");
    assert!(!card.contains("port 465 with SSL/TLS instead"), "465 is in use already, no fallback is left: {card}");
}

#[test]
fn thunderbird_add_takes_the_verified_folders_and_usernames() {
    let dir = tempfile::tempdir().unwrap();
    let report = write_report(
        dir.path(),
        &probe_report("fullonly@icloud.com", "fullonly@icloud.com", "fullonly@icloud.com", (465, "tls", "fullonly@icloud.com"), "ok"),
    );
    let profile = dir.path().join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let out = run(
        dir.path(),
        &[&["thunderbird", "add"], &FULLONLY[..], &["--verified", &report, "--profile", profile.to_str().unwrap()]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let prefs = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    for line in [
        r#"user_pref("mail.server.server1.userName", "fullonly@icloud.com");"#,
        r#"user_pref("mail.smtpserver.smtp1.port", 465);"#,
        r#"user_pref("mail.smtpserver.smtp1.try_ssl", 3);"#,
        r#"user_pref("mail.identity.id1.fcc_folder", "imap://fullonly%40icloud.com@imap.mail.me.com/Gesendet%20%22alt%22");"#,
        r#"user_pref("mail.identity.id1.fcc_folder_picker_mode", "1");"#,
        r#"user_pref("mail.identity.id1.draft_folder", "imap://fullonly%40icloud.com@imap.mail.me.com/Entw%26APw-rfe");"#,
        r#"user_pref("mail.identity.id1.archive_folder", "imap://fullonly%40icloud.com@imap.mail.me.com/Archiv");"#,
        r#"user_pref("mail.identity.id1.archives_folder_picker_mode", "1");"#,
        r#"user_pref("mail.server.server1.trash_folder_name", "Deleted Messages");"#,
    ] {
        assert!(prefs.lines().any(|l| l == line), "{line} missing:\n{prefs}");
    }
    assert!(!prefs.contains("spamActionTargetFolder"), "the server has no junk folder: none is named");
}

#[test]
fn a_report_for_another_account_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    for (address, login) in [("jane@icloud.com", "jane@icloud.com"), ("jane@family.example", "john@icloud.com")] {
        let report = write_report(dir.path(), &probe_report(address, login, "jane", (587, "starttls", "jane@icloud.com"), "ok"));
        let out = run(dir.path(), &[&["export"], &CUSTOM[..], &["--verified", &report, "--format", "msmtp", "--output", "-"]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(address) && stderr.contains("jane@family.example (jane.doe@icloud.com)"), "{stderr}");
        assert!(stderr.contains("report_other_account") && out.stdout.is_empty(), "{stderr}");
    }
    // The same with JSON from thunderbird add: the kind and both accounts as facts.
    let report =
        write_report(dir.path(), &probe_report("jane@icloud.com", "jane@icloud.com", "jane", (587, "starttls", "jane@icloud.com"), "ok"));
    let profile = dir.path().join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let args = [&["thunderbird", "add"], &CUSTOM[..], &["--verified", &report, "--profile", profile.to_str().unwrap(), "--json"]].concat();
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["kind"].as_str(), v["username"].as_str()), (Some("report_other_account"), Some("jane@icloud.com")));
    assert_eq!(std::fs::read_dir(&profile).unwrap().count(), 0, "nothing written");
}

#[test]
fn a_report_in_which_a_side_did_not_pass_is_refused_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let report = write_report(
        dir.path(),
        &probe_report("fullonly@icloud.com", "fullonly@icloud.com", "fullonly@icloud.com", (587, "starttls", "fullonly"), "auth_rejected"),
    );
    let out = run(dir.path(), &[&["export"], &FULLONLY[..], &["--verified", &report, "--format", "msmtp", "--output", "-"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("did not pass") && stderr.contains("auth_rejected") && out.stdout.is_empty(), "{stderr}");
}

#[test]
fn verified_takes_only_a_report_of_the_accounts_own_servers() {
    let dir = tempfile::tempdir().unwrap();
    let report =
        write_report(dir.path(), &probe_report("jane@icloud.com", "jane@icloud.com", "jane", (587, "starttls", "jane@icloud.com"), "ok"));
    // A report of iCloud's servers is not one of the servers named alongside.
    for flag in ["--imap=localhost:1993", "--smtp=localhost:1587"] {
        for command in [&["export", "--format", "msmtp", "--output", "-"][..], &["thunderbird", "add"][..]] {
            let args = [command, &["--address", "jane@icloud.com", "--verified", &report, flag]].concat();
            let out = run(dir.path(), &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            let named = stderr.contains("imap.mail.me.com:993") || stderr.contains("smtp.mail.me.com:587");
            assert!(stderr.contains("report_other_server") && named, "{stderr}");
            assert!(out.stdout.is_empty());
        }
    }
    // A report someone hands over that names their own servers points no file at them; named alongside, it is used.
    let theirs_report = || probe_report("jane@icloud.com", "jane@icloud.com", "jane", (587, "starttls", "jane@icloud.com"), "ok");
    let mut theirs = theirs_report();
    theirs["imap"]["host"] = "mail.attacker.example".into();
    theirs["smtp"]["host"] = "mail.attacker.example".into();
    std::fs::write(dir.path().join("theirs.json"), theirs.to_string()).unwrap();
    let theirs = dir.path().join("theirs.json").display().to_string();
    let args = ["export", "--lang", "en", "--address", "jane@icloud.com", "--verified", &theirs, "--format", "msmtp", "--output", "-"];
    let out = run(dir.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("mail.attacker.example:993") && stderr.contains("not a server this account uses"), "{stderr}");
    assert!(out.stdout.is_empty(), "no file");
    let alongside = ["--imap", "mail.attacker.example:993", "--smtp", "mail.attacker.example:587"];
    let out = run(dir.path(), &[&args[..], &alongside[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("host \"mail.attacker.example\""));
    // Text from the file reaches the terminal escaped: no escape sequence gets through.
    let (mut bad_host, mut bad_login) = (theirs_report(), theirs_report());
    bad_host["imap"]["host"] = "\u{1b}]0;owned\u{7}\u{1b}[2Jimap.example".into();
    bad_login["login"] = "\u{1b}[31mjohn@icloud.com".into();
    for (name, report) in [("host.json", bad_host), ("login.json", bad_login)] {
        let path = dir.path().join(name);
        std::fs::write(&path, report.to_string()).unwrap();
        let path = path.display().to_string();
        let out = run(dir.path(), &["export", "--address", "jane@icloud.com", "--verified", &path, "--format", "msmtp", "--output", "-"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(!out.stderr.iter().any(|b| *b == 0x1b || *b == 0x07), "{stderr:?}");
        assert!(stderr.contains("\\u{1b}"), "shown escaped: {stderr}");
    }
    // --ca-file is not a server: it goes with --verified (terminal clients trust the test's CA).
    let ca = dir.path().join("ca.pem");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&ca, params.self_signed(&key).unwrap().pem()).unwrap();
    let args = ["export", "--address", "jane@icloud.com", "--verified", &report, "--format", "msmtp", "--output", "-", "--ca-file"];
    let out = run(dir.path(), &[&args[..], &[ca.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Not a report, or no file at all: a usage error naming the file.
    std::fs::write(dir.path().join("words.json"), r#"{"message": "Signed in"}"#).unwrap();
    for file in ["words.json", "missing.json"] {
        let out = run(dir.path(), &["export", "--address", "jane@icloud.com", "--verified", file, "--format", "msmtp", "--output", "-"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(file), "{stderr}");
    }
    let out = run(dir.path(), &["export", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--verified <REPORT.json>") && help.contains("probe --json"), "{help}");
    let out = run(dir.path(), &["thunderbird", "add", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--verified"));
}

/// mbsync works on the first run: exporting its file also creates the local mail folder it names (owner-only), and
/// the command line says the one command to run.
#[test]
fn the_mbsync_export_makes_its_mail_folder_and_says_the_command() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("mbsyncrc");
    let out = Command::new(env!("CARGO_BIN_EXE_icloud-mail-setup"))
        // The home folder: HOME, and USERPROFILE on Windows.
        .env("HOME", home.path())
        .env("USERPROFILE", home.path())
        .args(["--lang", "en", "export", "--address", "jane@icloud.com", "--format", "mbsync", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Path \"~/Mail/jane@icloud.com/\""), "{text}");
    let folder = home.path().join("Mail/jane@icloud.com");
    assert!(folder.is_dir(), "the folder the file names exists");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("mbsync -c \"{}\" -a", file.display())), "{stderr}");
}

/// A copy of this program at `dir/usr/bin/icloud-mail-setup` (a hard link where the file system allows).
#[cfg(unix)]
fn program_copy_in(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("usr/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let program = bin.join("icloud-mail-setup");
    let original = Path::new(env!("CARGO_BIN_EXE_icloud-mail-setup"));
    if std::fs::hard_link(original, &program).is_err() {
        std::fs::copy(original, &program).unwrap();
    }
    program
}

/// The msmtp file `program` exports (to standard output), with `env` set and PATH not finding the program.
#[cfg(unix)]
fn msmtp_from(program: &Path, env: &[(&str, &Path)]) -> String {
    let mut command = Command::new(program);
    command.env("PATH", "/usr/bin:/bin").env_remove("APPIMAGE").env_remove("APPDIR");
    for (name, value) in env {
        command.env(name, value);
    }
    let out =
        command.args(["--lang", "en", "export", "--address", "jane@icloud.com", "--format", "msmtp", "--output", "-"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// An AppImage runs its program from a mount under /tmp that vanishes when it exits, and that another user could
/// recreate: the files name the AppImage file itself ($APPIMAGE), never the mount.
#[cfg(unix)]
#[test]
fn from_an_appimage_the_files_name_the_appimage_not_its_mount() {
    let mount = tempfile::Builder::new().prefix(".mount_icloud").tempdir_in(std::env::temp_dir()).unwrap();
    let program = program_copy_in(mount.path());
    // The AppImage itself lies in a folder only its owner can write to (a checkout may be under /tmp, which is not):
    // a throwaway folder in HOME.
    let home = std::env::var_os("HOME").expect("HOME");
    let kept = tempfile::Builder::new().prefix(".icloud-mail-setup-test").tempdir_in(home).unwrap();
    let appimage = kept.path().join("iCloud_Mail_Setup-x86_64.AppImage");
    std::fs::write(&appimage, b"an AppImage").unwrap();
    let text = msmtp_from(&program, &[("APPDIR", mount.path()), ("APPIMAGE", &appimage)]);
    let appimage = std::fs::canonicalize(&appimage).unwrap();
    assert!(text.contains(&format!("passwordeval \"{} keychain get --address jane@icloud.com\"", appimage.display())), "{text}");
    assert!(!text.contains(".mount_icloud"), "{text}");
}

/// A program in a folder other users can write to (sticky and world-writable, as /tmp) is named without its path,
/// and the file says why.
#[cfg(unix)]
#[test]
fn from_a_folder_others_can_write_to_the_files_name_the_program_only() {
    use std::os::unix::fs::PermissionsExt;
    let shared = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let program = program_copy_in(shared.path());
    let text = msmtp_from(&program, &[]);
    assert!(text.contains("passwordeval \"icloud-mail-setup keychain get --address jane@icloud.com\""), "{text}");
    let shown = shared.path().display().to_string();
    assert!(text.lines().filter(|l| !l.starts_with('#')).all(|l| !l.contains(&shown)), "{text}");
    let comment: Vec<&str> = text.lines().filter(|l| l.starts_with('#') && l.contains("other users can write to")).collect();
    assert_eq!(comment.len(), 1, "the file says why: {text}");
    assert!(comment[0].contains(&shown), "{text}");
}

/// The `.mobileconfig`'s descriptions are what System Settings shows a person while installing it: saved with
/// `--lang de`, the file carries the German words and none of the English ones (and the other way round).
#[test]
fn the_mobileconfig_speaks_the_language_it_was_saved_in() {
    let catalogue = |lang: &str| -> serde_json::Map<String, serde_json::Value> {
        let path = format!("{}/../locales/{lang}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (en, de) = (catalogue("en"), catalogue("de"));
    // The profile's words, filled in as the product fills them (`{address}`).
    let words = |catalogue: &serde_json::Map<String, serde_json::Value>, key: &str| {
        catalogue[key].as_str().unwrap().replace("{address}", "jane@family.example")
    };
    let keys = ["mobileconfig.profile_description", "mobileconfig.mail_description", "mobileconfig.account_name"];
    let dir = tempfile::tempdir().unwrap();
    for (lang, own, other) in [("de", &de, &en), ("en", &en, &de)] {
        let file = dir.path().join(format!("{lang}.mobileconfig"));
        let args = [&["--lang", lang, "export"], &CUSTOM[..], &["--format", "apple-mobileconfig", "--output", file.to_str().unwrap()]];
        let out = run(dir.path(), &args.concat());
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let xml = std::fs::read_to_string(&file).unwrap();
        for key in keys {
            assert!(xml.contains(&words(own, key)), "{lang}: {key} is missing from\n{xml}");
            if words(own, key) != words(other, key) {
                assert!(!xml.contains(&words(other, key)), "{lang}: the other language's {key} is in\n{xml}");
            }
        }
    }
    let german = std::fs::read_to_string(dir.path().join("de.mobileconfig")).unwrap();
    assert!(!german.contains("Adds the") && !german.contains("Enter an app-specific"), "no English description: {german}");
}

/// `probe_report` with the DAV members `probe --dav --json` adds, for iCloud's own service hosts.
fn dav_report(address: &str) -> serde_json::Value {
    let mut report = probe_report(address, address, address, (465, "tls", address), "ok");
    let member = |host: &str, partition: &str, collections: (&str, serde_json::Value)| {
        let mut member = serde_json::json!({
            "kind": "ok", "host": host, "port": 443, "username": address, "realm": "MMCalDav", "elapsed_ms": 400,
            "principal": format!("https://{host}/123/principal/"), "home": format!("https://{partition}:443/123/home/"),
            "message": "…", "hint": "…", "detail": null,
        });
        member[collections.0] = collections.1;
        member
    };
    report["caldav"] = member(
        "caldav.icloud.com",
        "p23-caldav.icloud.com",
        ("calendars", serde_json::json!([{"name": "Home", "url": "https://p23-caldav.icloud.com:443/123/home/", "color": "#FF2968"}])),
    );
    report["carddav"] = member(
        "contacts.icloud.com",
        "p23-contacts.icloud.com",
        ("addressbooks", serde_json::json!([{"name": "card", "url": "https://p23-contacts.icloud.com:443/123/card/"}])),
    );
    report
}

#[test]
fn thunderbird_add_with_dav_adds_the_reports_calendars_and_address_book_once() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let profile_arg = profile.to_str().unwrap();
    // --with-dav needs a report to take them from.
    let out = run(dir.path(), &[&["thunderbird", "add", "--with-dav", "--profile", profile_arg], &FULLONLY[..]].concat());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--verified"), "{out:?}");
    assert!(!profile.join("prefs.js").exists(), "nothing written");

    let report = write_report(dir.path(), &dav_report("fullonly@icloud.com"));
    let add = |extra: &[&str]| {
        let out =
            run(dir.path(), &[&["thunderbird", "add", "--verified", &report, "--profile", profile_arg], &FULLONLY[..], extra].concat());
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        out
    };
    // Without --with-dav the report's calendars are not added.
    add(&[]);
    assert!(!std::fs::read_to_string(profile.join("prefs.js")).unwrap().contains("calendar.registry."));
    // With it, to the account already there: the calendar and the address book, and the JSON says so.
    let out = add(&["--with-dav", "--json"]);
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["outcome"], "already_present", "{outcome}");
    assert_eq!(
        outcome["dav"]["calendars"][0],
        serde_json::json!({"name": "Home", "url": "https://p23-caldav.icloud.com:443/123/home/", "added": true})
    );
    assert_eq!(outcome["dav"]["addressbooks"][0]["added"], true, "{outcome}");
    let prefs = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    assert!(prefs.contains(r#"user_pref("ldap_2.servers.card.carddav.url", "https://p23-contacts.icloud.com:443/123/card/");"#), "{prefs}");
    assert!(prefs.lines().any(|l| l.ends_with(r#".uri", "https://p23-caldav.icloud.com:443/123/home/");"#)), "{prefs}");
    // Again: nothing twice, and the text says the profile has them.
    let out = add(&["--with-dav"]);
    assert_eq!(std::fs::read_to_string(profile.join("prefs.js")).unwrap(), prefs);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("already") && text.contains("<https://p23-caldav.icloud.com:443/123/home/>"), "{text}");

    // A report without calendars or contacts: the mail account alone, and a note saying why.
    let other = tempfile::tempdir().unwrap();
    let plain = write_report(
        other.path(),
        &probe_report("fullonly@icloud.com", "fullonly@icloud.com", "fullonly@icloud.com", (465, "tls", "fullonly@icloud.com"), "ok"),
    );
    let out = run(
        dir.path(),
        &[&["thunderbird", "add", "--with-dav", "--verified", &plain, "--profile", other.path().to_str().unwrap()], &FULLONLY[..]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no calendars or contacts"), "{out:?}");
    assert!(!std::fs::read_to_string(other.path().join("prefs.js")).unwrap().contains("calendar.registry."));
}

#[test]
fn calendar_and_contact_files_go_where_their_programs_read_them_and_are_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("xdg-config");
    for (format, place, holds) in [
        ("vdirsyncer", "vdirsyncer/config", "\"https://caldav.icloud.com/\""),
        ("khal", "khal/config", "type = discover"),
        ("khard", "khard/khard.conf", "contacts/card/"),
    ] {
        let args = [&["export"], &CUSTOM[..], &["--format", format]].concat();
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let file = config.join(place);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("Wrote {}", file.display())), "{format}: {stderr}");
        assert!(std::fs::read_to_string(&file).unwrap().contains(holds), "{format}");
        if format == "vdirsyncer" {
            assert!(stderr.contains(&format!("vdirsyncer -c \"{}\" discover", file.display())), "the next step: {stderr}");
        }
        // A file there already is somebody's configuration: kept, unless --force.
        std::fs::write(&file, "keep me").unwrap();
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"), "{format}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
        let out = run(dir.path(), &[&args[..], &["--force"]].concat());
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(std::fs::read_to_string(&file).unwrap().contains(holds), "{format}");
    }
    // --output still chooses the place.
    let out = run(dir.path(), &[&["export"], &CUSTOM[..], &["--format", "khal", "--output", "khal.conf"]].concat());
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("khal.conf").is_file());
}

#[test]
fn with_dav_adds_calendars_and_contacts_to_the_mobileconfig_and_nothing_else_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = [&["export"], &CUSTOM[..], &["--format", "apple-mobileconfig", "--output", "-"]].concat();
    let plain = String::from_utf8(run(dir.path(), &base).stdout).unwrap();
    assert!(plain.contains("com.apple.mail.managed") && !plain.contains("com.apple.caldav.account"), "{plain}");
    let out = run(dir.path(), &[&base[..], &["--with-dav"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let with = String::from_utf8(out.stdout).unwrap();
    for needle in
        ["com.apple.caldav.account", "com.apple.carddav.account", "caldav.icloud.com", "contacts.icloud.com", "another Apple Account"]
    {
        assert!(with.contains(needle), "{needle}: {with}");
    }
    // Only the Apple profile takes it.
    let out = run(dir.path(), &[&["export"], &CUSTOM[..], &["--format", "msmtp", "--output", "-", "--with-dav"]].concat());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--with-dav is for apple-mobileconfig"), "{out:?}");
}
