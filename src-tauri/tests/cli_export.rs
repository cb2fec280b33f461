//! `export` and `thunderbird add|list` as a script would use them: files, stdout, refusal to overwrite, exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn cli(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_icloud-mail-setup"));
    cmd.current_dir(cwd).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env_remove("DBUS_SESSION_BUS_ADDRESS");
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
        ("thunderbird-autoconfig", "config-v1.1.xml"),
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

const FORMATS: [&str; 11] = [
    "thunderbird-autoconfig",
    "outlook-prf",
    "outlook-autodiscover",
    "outlook-reg",
    "apple-mobileconfig",
    "neomutt",
    "aerc",
    "mbsync",
    "msmtp",
    "settings-text",
    "settings-html",
];

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
    let cases = FORMATS.iter().map(|f| ("--imap", *f)).chain([("--smtp", "aerc")]);
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
