//! `scripts/release-signing.sh`, the release workflow's signing step, run as GitHub Actions runs it: every secret is in
//! its environment, an unset one as an empty string. Only those that are set may reach the bundler (through
//! `$GITHUB_ENV`): an empty signing variable makes tauri-bundler try to sign, and fail. (The Windows branch imports
//! a certificate with PowerShell and is not run here; without a certificate it must write nothing either.)
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SECRETS: [&str; 11] = [
    "APPLE_CERTIFICATE",
    "APPLE_CERTIFICATE_PASSWORD",
    "APPLE_SIGNING_IDENTITY",
    "APPLE_ID",
    "APPLE_PASSWORD",
    "APPLE_TEAM_ID",
    "APPLE_API_ISSUER",
    "APPLE_API_KEY",
    "APPLE_API_KEY_P8",
    "WINDOWS_CERTIFICATE",
    "WINDOWS_CERTIFICATE_PASSWORD",
];

/// Runs the script on `runner_os` with the given secrets set and every other one empty; returns what it passed on
/// through `$GITHUB_ENV`, read the way the runner reads that file (`NAME=value` and `NAME<<DELIMITER` blocks).
fn passed_on(runner_os: &str, set: &[(&str, &str)], temp: &Path) -> BTreeMap<String, String> {
    let github_env = temp.join("github_env");
    std::fs::write(&github_env, "").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/release-signing.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script).env("GITHUB_ENV", &github_env).env("RUNNER_TEMP", temp).env("RUNNER_OS", runner_os);
    for name in SECRETS {
        cmd.env(name, "");
    }
    for (name, value) in set {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");

    let text = std::fs::read_to_string(&github_env).unwrap();
    let mut vars = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            vars.insert(name.to_owned(), value.join("\n"));
        } else {
            let (name, value) = line.split_once('=').unwrap_or_else(|| panic!("not NAME=value: {line:?}"));
            vars.insert(name.to_owned(), value.to_owned());
        }
    }
    vars
}

fn names(vars: &BTreeMap<String, String>) -> Vec<&str> {
    vars.keys().map(String::as_str).collect()
}

#[test]
fn with_no_secrets_nothing_reaches_the_bundler() {
    let temp = tempfile::tempdir().unwrap();
    for os in ["macOS", "Windows", "Linux"] {
        assert_eq!(passed_on(os, &[], temp.path()), BTreeMap::new(), "{os}");
    }
}

#[test]
fn only_the_secrets_that_are_set_are_passed_on_whole() {
    let temp = tempfile::tempdir().unwrap();
    let certificate = "MIIKZQIBAzCCCi8GCSqGSIb3DQEHAaCCCiAEggocMIIKGDCCBM8GCSqGSIb3\nDQEHBqCCBMAwggS8AgEAMIIE";
    let set = [
        ("APPLE_CERTIFICATE", certificate),
        ("APPLE_CERTIFICATE_PASSWORD", "p4ss word"),
        ("APPLE_SIGNING_IDENTITY", "Developer ID Application: Jane Doe (TEAM123456)"),
    ];
    let vars = passed_on("macOS", &set, temp.path());
    assert_eq!(names(&vars), ["APPLE_CERTIFICATE", "APPLE_CERTIFICATE_PASSWORD", "APPLE_SIGNING_IDENTITY"]);
    assert_eq!(vars["APPLE_CERTIFICATE"], certificate, "a multi-line value arrives whole");
    assert_eq!(vars["APPLE_SIGNING_IDENTITY"], set[2].1);

    // Apple's secrets mean nothing to the Windows and Linux builds.
    assert!(passed_on("Windows", &set, temp.path()).is_empty());
    assert!(passed_on("Linux", &set, temp.path()).is_empty());
}

#[test]
fn an_app_store_connect_key_is_written_to_a_file_for_notarization() {
    let temp = tempfile::tempdir().unwrap();
    let p8 = "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----";
    let set = [("APPLE_API_ISSUER", "69a6de7e-0000-47e3-e053-5b8c7c11a4d1"), ("APPLE_API_KEY", "2X9R4HXF34"), ("APPLE_API_KEY_P8", p8)];
    let vars = passed_on("macOS", &set, temp.path());
    assert_eq!(names(&vars), ["APPLE_API_ISSUER", "APPLE_API_KEY", "APPLE_API_KEY_PATH"], "the key's text itself is not passed on");
    let path = Path::new(&vars["APPLE_API_KEY_PATH"]);
    assert!(path.ends_with("private_keys/AuthKey_2X9R4HXF34.p8"), "{}", path.display());
    assert_eq!(std::fs::read_to_string(path).unwrap(), format!("{p8}\n"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o077, 0, "readable by the runner's user only");

    // A key id without its key file is no use to the notary tool: nothing of it is passed on.
    let vars = passed_on("macOS", &set[..2], temp.path());
    assert!(vars.is_empty(), "{vars:?}");
}
