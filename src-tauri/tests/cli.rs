//! The command line runs without a display and without initialising the window toolkit.

use std::process::Command;

fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_icloud-mail-setup"));
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env_remove("DBUS_SESSION_BUS_ADDRESS");
    cmd
}

#[test]
fn version_runs_without_a_display() {
    let out = cli().arg("--version").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("icloud-mail-setup {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_lists_the_subcommands() {
    let out = cli().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for sub in ["probe", "keychain", "export", "thunderbird", "check-address"] {
        assert!(help.contains(sub), "--help does not mention {sub}:\n{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
}

#[test]
fn bad_usage_exits_2() {
    let out = cli().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_address_reports_kinds_and_exit_codes() {
    let out = cli().args(["check-address", "--json", " JohnSmith@iCloud.com "]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["address"], "johnsmith@icloud.com");
    assert_eq!(v["kind"]["type"], "icloud");

    let out = cli().args(["check-address", "--json", "johnsmith"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "address_missing_at");
    assert!(v["hint"].as_str().unwrap().contains("johnsmith@icloud.com"));
}

/// The words come from the catalogue in the language of `--lang`, else the locale, else English.
#[test]
fn words_follow_lang_then_the_locale() {
    let catalogue = |lang: &str| -> serde_json::Value {
        let path = format!("{}/../locales/{lang}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (en, de) = (catalogue("en"), catalogue("de"));
    let german = de["diagnosis.address_missing_at.message"].as_str().unwrap();
    let english = en["diagnosis.address_missing_at.message"].as_str().unwrap();
    assert_ne!(german, english);

    let stderr = |args: &[&str], lang_env: Option<&str>| {
        let mut cmd = cli();
        cmd.env_remove("LC_ALL").env_remove("LC_MESSAGES").env_remove("LANG");
        if let Some(lang) = lang_env {
            cmd.env("LANG", lang);
        }
        let out = cmd.args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(stderr(&["check-address", "johnsmith"], None).contains(english));
    assert!(stderr(&["check-address", "johnsmith"], Some("de_DE.UTF-8")).contains(german));
    assert!(stderr(&["--lang", "de", "check-address", "johnsmith"], Some("en_US.UTF-8")).contains(german));
    // --lang is global: it may follow the subcommand too, and JSON carries the words in that language.
    let out = cli().args(["check-address", "--json", "--lang", "de", "johnsmith"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["message"], german);
    assert_eq!(v["kind"], "address_missing_at");

    let out = cli().args(["--lang", "xx", "check-address", "johnsmith"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown language is bad usage");
}
