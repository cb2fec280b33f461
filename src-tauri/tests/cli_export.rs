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

#[test]
fn thunderbird_add_twice_list_and_a_missing_profile() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join(".thunderbird");
    std::fs::create_dir_all(root.join("abc.default-esr")).unwrap();
    std::fs::write(root.join("profiles.ini"), "[Profile0]\nName=default-esr\nIsRelative=1\nPath=abc.default-esr\nDefault=1\n").unwrap();
    let prefs = root.join("abc.default-esr/prefs.js");
    std::fs::write(&prefs, "user_pref(\"mail.accountmanager.accounts\", \"account1\");\n").unwrap();

    let add = |extra: &[&str]| {
        cli(home.path()).env("HOME", home.path()).args([&["thunderbird", "add"], &CUSTOM[..], extra].concat()).output().unwrap()
    };
    let out = add(&["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "added");
    assert_eq!(v["account_key"], "account2");
    assert!(Path::new(v["backup"].as_str().unwrap()).exists());
    let out = add(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing was changed"), "{out:?}");

    let out = cli(home.path()).env("HOME", home.path()).args(["thunderbird", "list", "--json"]).output().unwrap();
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
