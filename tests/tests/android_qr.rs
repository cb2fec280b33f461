//! Thunderbird for Android's QR code from the command line (#26), read back as the phone reads it: every image the
//! product writes (`export --format thunderbird-android-qr --output FILE.png|FILE.svg`) is decoded by a real QR
//! reader (`zbarimg`) and its payload checked by the harness's validator, written from the format's specification
//! (`icloud_mail_tests::android_qr`). The verified case runs the product's own connection test against an
//! iCloud-like Dovecot on random loopback ports with 587 closed and only the full address accepted, so a code that
//! carries anything but what that test found cannot pass.
//!
//! Needs the app binary built first: `cargo build -p icloud-mail-setup`.

use std::path::{Path, PathBuf};

use icloud_mail_tests::android_qr::{decode, validate, Payload};
use icloud_mail_tests::ca::TestCa;
use icloud_mail_tests::dovecot::{Accepts, Dovecot, MailUser, Setup};
use icloud_mail_tests::{app_binary as app, assert_ok, fresh_password, run_with_stdin as run};
use serde_json::json;

/// `export --format thunderbird-android-qr` with `args`, into `output`; the program's output.
fn export(args: &[&str], output: &Path) -> std::process::Output {
    let mut command = std::process::Command::new(app());
    command.args(["--lang", "en", "export", "--format", "thunderbird-android-qr"]).args(args).arg("--output").arg(output);
    run(&mut command, b"")
}

/// Writes the code as PNG and as SVG, decodes both with zbarimg, checks both payloads are the same and valid.
fn both_images(dir: &Path, args: &[&str]) -> (Payload, Vec<u8>) {
    let mut decoded = Vec::new();
    for extension in ["png", "svg"] {
        let file = dir.join(format!("code.{extension}"));
        assert_ok(&export(args, &file));
        let bytes = std::fs::read(&file).unwrap();
        match extension {
            "png" => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG"),
            _ => assert!(String::from_utf8_lossy(&bytes).contains("<svg"), "not an SVG"),
        }
        decoded.push(decode(&file));
    }
    assert_eq!(decoded[0], decoded[1], "the PNG and the SVG carry the same payload");
    let payload = validate(&decoded[0]).unwrap_or_else(|why| panic!("{why}: {}", String::from_utf8_lossy(&decoded[0])));
    (payload, decoded.remove(0))
}

fn json_of(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn the_preset_decodes_to_icloud_settings_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, bytes) = both_images(dir.path(), &["--address", "jane.doe@icloud.com", "--name", "Jane Doe"]);
    assert_eq!(
        json_of(&bytes),
        json!([
            1,
            [1, 1],
            [0, "imap.mail.me.com", 993, 3, 1, "jane.doe"],
            [[[0, "smtp.mail.me.com", 587, 2, 1, "jane.doe@icloud.com"], ["jane.doe@icloud.com", "Jane Doe"]]]
        ])
    );
    let (imap, smtp, _) = payload.only_account();
    assert_eq!((imap.password.as_ref(), imap.account_name.as_ref(), smtp.password.as_ref()), (None, None, None));
    assert_eq!((payload.sequence_number, payload.sequence_end), (1, 1));
}

#[test]
fn a_verified_account_carries_465_and_the_full_address_login_the_test_found() {
    let password = fresh_password();
    let address = "sam.items@icloud.com";
    let user = MailUser::new(address, &password).accepting(Accepts::FullAddressOnly);
    let server = Dovecot::start_with(&[user], Setup::icloud_like().without_starttls_submission(), TestCa::new()).expect("start Dovecot");
    let dir = tempfile::tempdir().unwrap();
    let mut probe = std::process::Command::new(app());
    probe.args(["probe", "--address", address, "--password-stdin", "--json"]).args(server.app_args_with_fallback());
    let out = run(&mut probe, format!("{password}\n"));
    assert_ok(&out);
    let report: PathBuf = dir.path().join("report.json");
    std::fs::write(&report, &out.stdout).unwrap();

    let report_arg = report.to_str().unwrap();
    let (payload, _) = both_images(dir.path(), &["--address", address, "--name", "Sam Items", "--verified", report_arg]);
    let (imap, smtp, identity) = payload.only_account();
    assert_eq!((imap.protocol, imap.host.as_str(), imap.port), (0, server.host(), server.imaps_port));
    assert_eq!((imap.security, imap.auth, imap.username.as_str()), (3, 1, address), "TLS, a password, the full address");
    assert_eq!((smtp.protocol, smtp.host.as_str(), smtp.port), (0, server.host(), server.submissions_port), "465 where 587 was closed");
    assert_eq!((smtp.security, smtp.auth, smtp.username.as_str()), (3, 1, address));
    assert_eq!((identity.email.as_str(), identity.display_name.as_str()), (address, "Sam Items"));
    assert_eq!((imap.password.as_ref(), smtp.password.as_ref()), (None, None), "never a password from the command line");
    for file in ["code.png", "code.svg"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap();
        assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "{file} holds the password");
    }
}

#[test]
fn a_custom_domain_sends_as_itself_and_signs_in_with_the_primary_login() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--address", "jane@family.example", "--login", "jane.doe@icloud.com", "--name", "Jane"];
    let (payload, _) = both_images(dir.path(), &args);
    let (imap, smtp, identity) = payload.only_account();
    assert_eq!((imap.username.as_str(), smtp.username.as_str()), ("jane.doe", "jane.doe@icloud.com"));
    assert_eq!(identity.email, "jane@family.example");
}

#[test]
fn a_german_name_keeps_its_letters() {
    let dir = tempfile::tempdir().unwrap();
    let name = "Jürgen Müßig-Öztürk";
    let (payload, bytes) = both_images(dir.path(), &["--address", "juergen@icloud.com", "--name", name]);
    assert_eq!(payload.only_account().2.display_name, name);
    assert!(String::from_utf8(bytes).unwrap().contains(name), "UTF-8, as the format says");
}

#[test]
fn a_non_ascii_address_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("code.png");
    let out = export(&["--address", "jürgen@familie.example", "--login", "jane.doe@icloud.com"], &file);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("qr_code_address_not_ascii"), "{stderr}");
    assert!(stderr.contains("jürgen@familie.example") && stderr.contains("U+00FC"), "{stderr}");
    assert!(!file.exists());
    // Any other image type is a usage error.
    let out = export(&["--address", "jane@icloud.com"], &dir.path().join("code.jpg"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("FILE.png or FILE.svg"));
}

#[test]
fn the_help_says_the_code_never_holds_the_password() {
    let out = std::process::Command::new(app()).args(["export", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("thunderbird-android-qr"), "{help}");
    assert!(help.contains("never holds the password"), "{help}");
}
