//! Exported files read by the real clients: NeoMutt (`-Q`), msmtp (`--pretend`) and mbsync parse them and show what
//! they understood; the password comes from the real keychain (gnome-keyring on a private bus) through the
//! product's own `keychain get`, the only way the files know. No file the product writes holds the password.
//! Needs the app binary built first: `cargo build -p icloud-mail-setup`.

use std::path::{Path, PathBuf};

use icloud_mail_tests::keyring::KeyringSession;
use proptest::prelude::*;

const LOGIN: &str = "jane.doe@icloud.com";
const ADDRESS: &str = "jane@family.example";

use icloud_mail_tests::app_binary as app;

use icloud_mail_tests::fresh_password;

use icloud_mail_tests::{assert_ok, run_with_stdin as run};

/// A keyring session with the password saved for the login, through the product.
fn keyring_with_password(password: &str) -> KeyringSession {
    let session = KeyringSession::with_keyring();
    let out = run(session.command(app()).args(["keychain", "set", "--address", LOGIN, "--password-stdin"]), format!("{password}\n"));
    assert_ok(&out);
    session
}

/// `icloud-mail-setup export …` in the session, into `dir`; returns the file.
fn export(session: &KeyringSession, dir: &Path, format: &str, name: Option<&str>, extra: &[&str]) -> PathBuf {
    // Thunderbird for Android's QR code is an image: its file name says which kind (`.png` or `.svg`).
    let file = dir.join(if format == "thunderbird-android-qr" { "out.png".to_owned() } else { format!("out.{format}") });
    let mut command = session.command(app());
    command.args(["export", "--address", ADDRESS, "--login", LOGIN, "--format", format, "--force", "--output"]).arg(&file).args(extra);
    if let Some(name) = name {
        command.args(["--name", name]);
    }
    assert_ok(&run(&mut command, ""));
    file
}

/// NeoMutt's `-Q` output (`set var = "value"`, with `\"` and `\\` escaped) as the plain value.
fn neomutt_query(session: &KeyringSession, file: &Path, vars: &[&str]) -> Vec<(String, String)> {
    let mut command = session.command("neomutt");
    command.arg("-n").arg("-F").arg(file);
    for var in vars {
        command.args(["-Q", var]);
    }
    let out = run(&mut command, "");
    assert_ok(&out);
    assert!(out.stderr.is_empty(), "NeoMutt complained: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.strip_prefix("set ").unwrap().split_once(" = ").unwrap();
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            let mut plain = String::new();
            let mut chars = value.chars();
            while let Some(c) = chars.next() {
                plain.push(if c == '\\' { chars.next().unwrap() } else { c });
            }
            (name.to_owned(), plain)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn neomutt_reads_every_value_and_gets_the_password_from_the_keychain() {
    let password = fresh_password();
    let session = keyring_with_password(&password);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("extra ca.pem");
    // A real certificate: the command line checks a CA file holds one, as the probe and the window do.
    std::fs::write(&ca, icloud_mail_tests::ca::TestCa::new().ca_pem()).unwrap();
    let name = "Jane \"JD\" O'Brien <&> \\ $HOME `id` #1; Müller 💌";
    let file = export(&session, dir.path(), "neomutt", Some(name), &["--ca-file", ca.to_str().unwrap()]);
    let vars = [
        "real_name",
        "from",
        "folder",
        "imap_user",
        "imap_pass",
        "smtp_url",
        "smtp_user",
        "smtp_pass",
        "ssl_starttls",
        "ssl_force_tls",
        "ssl_ca_certificates_file",
        "record",
    ];
    assert_eq!(
        neomutt_query(&session, &file, &vars),
        pairs(&[
            ("real_name", name),
            ("from", ADDRESS),
            ("folder", "imaps://imap.mail.me.com:993/"),
            ("imap_user", "jane.doe"),
            ("imap_pass", &password),
            ("smtp_url", "smtp://smtp.mail.me.com:587/"),
            ("smtp_user", LOGIN),
            ("smtp_pass", &password),
            ("ssl_starttls", "yes"),
            ("ssl_force_tls", "yes"),
            ("ssl_ca_certificates_file", ca.to_str().unwrap()),
            ("record", "imaps://imap.mail.me.com:993/Sent Messages"),
        ])
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains(&password));
}

fn hostile_name() -> impl Strategy<Value = String> {
    // Random characters mixed with fragments that mean something in one of the syntaxes: quoting, escapes,
    // variable and command expansion, comments, markup, encoded words, a trailing backslash.
    // No bidi controls (U+202E): the text policy refuses them in names (core tests check that); U+200D ZERO WIDTH
    // JOINER stands in as an invisible character that is allowed.
    let fragment = prop_oneof![
        proptest::string::string_regex("[a-zA-Z0-9 \"'<>&\\\\`$#;=%:\\[\\]{}()!?*|~^.,@+/äöüßÆé漢字💌\u{200d}\u{00a0}-]{1,12}").unwrap(),
        prop::sample::select(vec![
            "$HOME",
            "${HOME}",
            "`id`",
            "$(id)",
            "\\n",
            "\\",
            "\"",
            "'",
            "\"\"\"",
            "]]>",
            "<script>",
            "&amp;",
            "#",
            ";",
            "=?UTF-8?B?SGk=?=",
            "%40",
            "^X",
            "\\x41",
            "*/",
            "-->",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(fragment, 1..8)
        .prop_map(|parts| parts.concat().trim().to_owned())
        .prop_filter("a name is not blank", |s| !s.is_empty())
}

proptest! {
    // Each case starts NeoMutt once: a few dozen cases keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn neomutt_reads_hostile_names_back_exactly(name in hostile_name()) {
        let session = KeyringSession::without_secret_service();
        let dir = tempfile::tempdir().unwrap();
        let file = export(&session, dir.path(), "neomutt", Some(&name), &["--password-command", "security"]);
        // With no `security` program here the password commands fail quietly; the names are what is checked.
        let text = std::fs::read_to_string(&file).unwrap().replace("`security", "`true");
        std::fs::write(&file, text).unwrap();
        prop_assert_eq!(neomutt_query(&session, &file, &["real_name", "from"]), pairs(&[("real_name", &name), ("from", ADDRESS)]));
    }
}

/// msmtp's own account dump (`--pretend`), as `key = value` pairs.
fn msmtp_pretend(session: &KeyringSession, file: &Path) -> Vec<(String, String)> {
    let out = run(session.command("msmtp").arg(format!("--file={}", file.display())).args(["--pretend", "someone@example.invalid"]), "");
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap().lines().filter_map(|l| l.split_once(" = ")).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[test]
fn msmtp_reads_every_value() {
    // msmtp runs passwordeval even when it only pretends: the keychain must answer.
    let session = keyring_with_password(&fresh_password());
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, icloud_mail_tests::ca::TestCa::new().ca_pem()).unwrap();
    let file = export(&session, dir.path(), "msmtp", Some("Jane \"JD\" #1"), &["--ca-file", ca.to_str().unwrap()]);
    let dump = msmtp_pretend(&session, &file);
    let get = |key: &str| dump.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {key} in {dump:?}"));
    assert_eq!(get("host"), "smtp.mail.me.com");
    assert_eq!(get("port"), "587");
    assert_eq!(get("tls"), "on");
    assert_eq!(get("tls_starttls"), "on");
    assert_eq!(get("tls_certcheck"), "on");
    assert_eq!(get("tls_trust_file"), ca.to_str().unwrap());
    assert_eq!(get("user"), LOGIN);
    assert_eq!(get("from"), ADDRESS);
    assert_eq!(get("passwordeval"), format!("{} keychain get --address {LOGIN}", expected_program()));
    assert_ne!(get("auth"), "off");
}

/// What the files call the app: its path, or its bare name where a folder above it is sticky or writable by others
/// (a checkout below /tmp), as the product decides (`export::app_program`).
fn expected_program() -> String {
    use std::os::unix::fs::PermissionsExt;
    let app = app();
    let open = app.ancestors().skip(1).any(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o1002 != 0));
    if open {
        "icloud-mail-setup".into()
    } else {
        app.display().to_string()
    }
}

#[test]
fn mbsync_accepts_the_file() {
    let session = KeyringSession::without_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let file = export(&session, dir.path(), "mbsync", None, &[]);
    // Naming a channel the file does not define makes mbsync read and check the whole file, then stop before
    // connecting anywhere: a syntax error would be reported first.
    let out = run(session.command("mbsync").arg("-c").arg(&file).arg("no-such-channel"), "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-channel"), "{stderr}");
    assert!(!stderr.contains(&*file.to_string_lossy()), "mbsync reported a problem in the file: {stderr}");
    // The same check on a spoiled copy does see the problem, so the check above can fail.
    let spoiled = dir.path().join("spoiled.mbsyncrc");
    std::fs::write(&spoiled, std::fs::read_to_string(&file).unwrap().replacen("SSLType IMAPS", "SSLType IMAPS\nBogusKeyword yes", 1))
        .unwrap();
    let out = run(session.command("mbsync").arg("-c").arg(&spoiled).arg("no-such-channel"), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("spoiled.mbsyncrc:"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn no_exported_file_holds_the_password() {
    let password = fresh_password();
    let session = keyring_with_password(&password);
    let out_dir = session.home().join("exports");
    std::fs::create_dir_all(&out_dir).unwrap();
    // Every format but the autoconfig file (below: it is published for a whole domain).
    let formats: Vec<&str> =
        icloud_mail_core::export::ExportFormat::ALL.iter().map(|f| f.id()).filter(|id| *id != "thunderbird-autoconfig").collect();
    for format in &formats {
        export(&session, &out_dir, format, Some("Jane Doe"), &[]);
    }
    // The autoconfig file is published for a whole domain: written for an iCloud address that signs in as itself
    // (a custom domain's would carry one person's login and is refused).
    let autoconfig = out_dir.join("config-v1.1.xml");
    assert_ok(&run(
        session.command(app()).args(["export", "--address", LOGIN, "--format", "thunderbird-autoconfig", "--output"]).arg(&autoconfig),
        "",
    ));
    // Thunderbird too, into a throwaway profile.
    let profile = session.home().join("tb-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let out =
        run(session.command(app()).args(["thunderbird", "add", "--address", ADDRESS, "--login", LOGIN, "--profile"]).arg(&profile), "");
    assert_ok(&out);
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), formats.len() + 1);
    // The terminal clients' command gives the password back…
    let got = run(session.command(app()).args(["keychain", "get", "--address", LOGIN]), "");
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim_end(), password);
    // …and no file under the session's home, temp and runtime folders holds it (the keyring's own file is encrypted).
    assert_eq!(session.files_containing(password.as_bytes()), Vec::<PathBuf>::new());
}
