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
