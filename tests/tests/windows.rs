//! The Windows build of the app (`target/x86_64-pc-windows-gnu/debug/icloud-mail-setup.exe`) run under Wine, as a
//! Windows user runs its command line: the console, Wine's Credential Manager, Known Folders, `%APPDATA%\Thunderbird`,
//! the `.reg` through Wine's own `reg`, and a probe of the harness's Dovecot on the host's loopback.
//!
//! Every test is ignored by plain `cargo test`: they need the Windows exe and a Wine prefix, which
//! `scripts/test-windows.sh` builds and prepares (WINEPREFIX, with the ProcessPrng shim) before running
//! `cargo test -p icloud-mail-tests --test windows -- --ignored`. What Wine does not prove is in docs/windows.md.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use icloud_mail_tests::dovecot::{Dovecot, MailUser};
use icloud_mail_tests::{fresh_password, fresh_token, run_with_stdin, workspace_root};

/// Wine's 64-bit loader (Debian's `wine64`, not on PATH), unless ICLOUD_MAIL_SETUP_WINE names another.
fn wine() -> PathBuf {
    std::env::var_os("ICLOUD_MAIL_SETUP_WINE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/lib/wine/wine64"))
}

/// The prefix scripts/test-windows.sh made for this run.
fn prefix() -> PathBuf {
    let prefix = std::env::var_os("WINEPREFIX").map(PathBuf::from).expect("WINEPREFIX: run these through scripts/test-windows.sh");
    assert!(prefix.join("drive_c/windows/system32/bcryptprimitives.dll").exists(), "{} has no ProcessPrng shim", prefix.display());
    prefix
}

fn exe() -> PathBuf {
    let exe = workspace_root().join("target/x86_64-pc-windows-gnu/debug/icloud-mail-setup.exe");
    assert!(exe.exists(), "{} is missing: scripts/test-windows.sh builds it", exe.display());
    exe
}

/// A Windows program of the prefix (`reg`, `cmd`, `winepath`) or an exe by its Unix path.
fn wine_run(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(wine());
    command.env("WINEPREFIX", prefix()).env("WINEDEBUG", "-all").arg(program);
    command
}

/// The app, as `icloud-mail-setup.exe ARGS` at a Windows prompt.
fn app(args: &[&str]) -> Command {
    let mut command = wine_run(exe());
    command.args(args);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn exit_code(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
}

/// A Windows environment variable as a program in the prefix sees it (`%APPDATA%`, `%LOCALAPPDATA%`, …).
fn windows_env(name: &str) -> String {
    let out = wine_run("cmd").args(["/c", "echo", &format!("%{name}%")]).output().expect("run cmd");
    exit_code(&out, 0);
    let value = text(&out.stdout).trim_end().to_owned();
    assert!(!value.contains('%'), "{name} is not set in the prefix: {value}");
    value
}

/// The Unix path of a Windows path, as Wine maps it.
fn unix_path(windows: &str) -> PathBuf {
    let out = wine_run("winepath").args(["-u", windows]).output().expect("run winepath");
    exit_code(&out, 0);
    PathBuf::from(text(&out.stdout).trim_end())
}

/// The Windows path of a Unix path (`Z:\…` outside the prefix), as Wine maps it.
fn windows_path(unix: &Path) -> String {
    let out = wine_run("winepath").arg("-w").arg(unix).output().expect("run winepath");
    exit_code(&out, 0);
    text(&out.stdout).trim_end().to_owned()
}

/// A fresh folder in the Windows user's own Documents, named with a space and letters beyond ASCII.
fn user_folder(what: &str) -> String {
    let folder = format!(r"{}\Documents\{what} für Jörg Ødegård {}", windows_env("USERPROFILE"), fresh_token());
    std::fs::create_dir_all(unix_path(&folder)).expect("create the user folder");
    folder
}

#[test]
#[ignore = "needs the Windows exe and a Wine prefix: scripts/test-windows.sh"]
fn version_and_help_reach_the_caller_with_their_exit_codes() {
    let out = app(&["--version"]).output().unwrap();
    exit_code(&out, 0);
    assert_eq!(text(&out.stdout).trim_end(), format!("icloud-mail-setup {}", env!("CARGO_PKG_VERSION")));

    let out = app(&["--help"]).output().unwrap();
    exit_code(&out, 0);
    let help = text(&out.stdout);
    for subcommand in ["probe", "export", "keychain", "thunderbird"] {
        assert!(help.contains(subcommand), "--help does not name {subcommand}: {help}");
    }
    // A usage error: exit 2, said on standard error.
    let out = app(&["--no-such-flag"]).output().unwrap();
    exit_code(&out, 2);
    assert!(text(&out.stderr).contains("--no-such-flag"), "{}", text(&out.stderr));

    // Started by Windows' own cmd (a console program, whose console the exe borrows), output and exit code arrive
    // through cmd.
    let out = wine_run("cmd").args(["/c"]).arg(windows_path(&exe())).arg("--version").output().unwrap();
    exit_code(&out, 0);
    assert!(text(&out.stdout).contains(&format!("icloud-mail-setup {}", env!("CARGO_PKG_VERSION"))), "{}", text(&out.stdout));
    let out = wine_run("cmd").args(["/c"]).arg(windows_path(&exe())).arg("--no-such-flag").output().unwrap();
    exit_code(&out, 2);
}

#[test]
#[ignore = "needs the Windows exe and a Wine prefix: scripts/test-windows.sh"]
fn the_keychain_is_wines_credential_manager() {
    let login = format!("jane.{}@icloud.com", fresh_token().to_lowercase());
    let password = fresh_password();
    let who = ["--address", login.as_str()];
    let with = |sub: &str, more: &[&str]| {
        let mut args = vec!["keychain", sub];
        args.extend(who);
        args.extend(more);
        app(&args)
    };

    let out = with("status", &["--json"]).output().unwrap();
    exit_code(&out, 1);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["exists"], false, "{status}");

    exit_code(&run_with_stdin(&mut with("set", &["--password-stdin"]), format!("{password}\n")), 0);
    let out = with("status", &["--json"]).output().unwrap();
    exit_code(&out, 0);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["exists"], true, "{status}");
    assert_eq!(status["entry"]["service"], "icloud-mail-setup", "{status}");

    // Wine keeps generic credentials in the registry, under the target name Windows' Credential Manager shows.
    let out = wine_run("reg").args(["query", r"HKCU\Software\Wine\Credential Manager"]).output().unwrap();
    exit_code(&out, 0);
    assert!(text(&out.stdout).contains(&format!("{login}.icloud-mail-setup")), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains(&password), "the password is in the registry in clear");

    // A second process reads it back (a pipe: no --force needed).
    let out = with("get", &[]).output().unwrap();
    exit_code(&out, 0);
    assert_eq!(text(&out.stdout), format!("{password}\n"));

    // Saving again without --replace keeps the entry.
    let out = run_with_stdin(&mut with("set", &["--password-stdin"]), "other\n");
    exit_code(&out, 1);
    assert!(text(&out.stderr).contains("keychain_entry_exists"), "{}", text(&out.stderr));

    exit_code(&with("delete", &[]).output().unwrap(), 0);
    let out = with("get", &[]).output().unwrap();
    exit_code(&out, 1);
    assert!(text(&out.stderr).contains("keychain_no_entry"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    exit_code(&with("delete", &[]).output().unwrap(), 1);
}

#[test]
#[ignore = "needs the Windows exe and a Wine prefix: scripts/test-windows.sh"]
fn every_format_is_written_to_a_user_folder_with_a_space_and_letters_beyond_ascii() {
    let folder = user_folder("Mail-Exporte");
    for format in icloud_mail_core::export::ExportFormat::ALL {
        // The autoconfig file is for a whole domain: an address that signs in as itself.
        let account: &[&str] = if format.id() == "thunderbird-autoconfig" {
            &["--address", "jane.doe@icloud.com"]
        } else {
            &["--address", "jane@family.example", "--login", "jane.doe@icloud.com", "--name", "Jörg Ødegård"]
        };
        // The QR code is written as an image, named by its extension.
        let extension = if format.id() == "thunderbird-android-qr" { "png" } else { "out" };
        let target = format!(r"{folder}\{}.{extension}", format.id());
        let mut args = vec!["export", "--format", format.id(), "--output", target.as_str()];
        args.extend(account);
        let out = app(&args).output().unwrap();
        exit_code(&out, 0);
        assert!(text(&out.stderr).contains(&target), "{} does not name {target}: {}", format.id(), text(&out.stderr));
        let written = std::fs::read(unix_path(&target)).unwrap_or_else(|e| panic!("{}: {target}: {e}", format.id()));
        // The same text the exe prints to standard output (a .mobileconfig's payload UUIDs are new each time):
        // nothing was lost on the way to the file.
        let mut args = vec!["export", "--format", format.id(), "--output", "-"];
        args.extend(account);
        let printed = app(&args).output().unwrap();
        exit_code(&printed, 0);
        assert!(!written.is_empty(), "{}", format.id());
        let (written, printed) = (text(&written), text(&printed.stdout));
        assert_eq!(written.lines().count(), printed.lines().count(), "{}", format.id());
        for (a, b) in written.lines().zip(printed.lines()) {
            let uuid = |line: &str| {
                line.trim()
                    .strip_prefix("<string>")
                    .and_then(|l| l.strip_suffix("</string>"))
                    .is_some_and(|v| v.len() == 36 && v.chars().all(|c| c == '-' || c.is_ascii_hexdigit()))
            };
            assert!(a == b || (uuid(a) && uuid(b)), "{}: {a:?} != {b:?}", format.id());
        }
    }
    // An existing file is kept without --force.
    let target = format!(r"{folder}\neomutt.out");
    let out = app(&["export", "--format", "neomutt", "--address", "jane.doe@icloud.com", "--output", &target]).output().unwrap();
    exit_code(&out, 1);
    assert!(text(&out.stderr).contains("output_exists"), "{}", text(&out.stderr));
}

#[test]
#[ignore = "needs the Windows exe and a Wine prefix: scripts/test-windows.sh"]
fn the_reg_file_is_imported_by_reg_as_an_expandable_path_into_the_users_own_folder() {
    let domain = format!("{}.example", fresh_token().to_lowercase());
    let address = format!("jane@{domain}");
    let file = format!(r"{}\autodiscover.reg", user_folder("Registry"));
    let out = app(&["export", "--format", "outlook-reg", "--address", &address, "--login", "jane.doe@icloud.com", "--output", &file])
        .output()
        .unwrap();
    exit_code(&out, 0);

    let out = wine_run("reg").args(["import", &file]).output().unwrap();
    exit_code(&out, 0);
    let key = r"HKCU\Software\Microsoft\Office\16.0\Outlook\AutoDiscover";
    let out = wine_run("reg").args(["query", key, "/v", &domain]).output().unwrap();
    exit_code(&out, 0);
    let listing = text(&out.stdout);
    let line = listing.lines().find(|l| l.trim_start().starts_with(&domain)).unwrap_or_else(|| panic!("{domain} not in {listing}"));
    let (kind, value) = line.trim_start()[domain.len()..].trim_start().split_once(char::is_whitespace).expect("type and data");
    assert_eq!(kind, "REG_EXPAND_SZ", "{listing}");
    let value = value.trim();
    assert!(value.starts_with("%LOCALAPPDATA%"), "{value}");

    // Expanded as Windows expands it for this user: into the user's own local application data.
    let out = wine_run("cmd").args(["/c", "echo", value]).output().unwrap();
    exit_code(&out, 0);
    // (cmd echoes the quotes the argument needed for its spaces.)
    let expanded = text(&out.stdout).trim_end().trim_matches('"').to_owned();
    let local = windows_env("LOCALAPPDATA");
    assert_eq!(expanded, format!(r"{local}\iCloud Mail Setup\autodiscover-{domain}.xml"));
    let local_unix = std::fs::canonicalize(unix_path(&local)).unwrap();
    assert!(local_unix.starts_with(std::fs::canonicalize(prefix().join("drive_c/users")).unwrap()), "{local}: {}", local_unix.display());

    for flag in ["PreferLocalXML", "ExcludeExplicitO365Endpoint"] {
        let out = wine_run("reg").args(["query", key, "/v", flag]).output().unwrap();
        exit_code(&out, 0);
        assert!(text(&out.stdout).contains("REG_DWORD") && text(&out.stdout).contains("0x1"), "{}", text(&out.stdout));
    }
}

#[test]
#[ignore = "needs the Windows exe and a Wine prefix: scripts/test-windows.sh"]
fn thunderbird_add_finds_the_default_profile_under_appdata() {
    let root = unix_path(&format!(r"{}\Thunderbird", windows_env("APPDATA")));
    let profile = root.join("Profiles").join("x7k2m9qa.default-release");
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::write(
        root.join("profiles.ini"),
        "[Install6F193CCC56814779]\r\nDefault=Profiles/x7k2m9qa.default-release\r\nLocked=1\r\n\r\n\
         [Profile0]\r\nName=default-release\r\nIsRelative=1\r\nPath=Profiles/x7k2m9qa.default-release\r\nDefault=1\r\n\r\n\
         [General]\r\nStartWithLastProfile=1\r\nVersion=2\r\n",
    )
    .unwrap();
    std::fs::write(profile.join("prefs.js"), "user_pref(\"mail.shell.checkDefaultClient\", false);\n").unwrap();

    let out = app(&["thunderbird", "list", "--json"]).output().unwrap();
    exit_code(&out, 0);
    let listed = text(&out.stdout);
    assert!(listed.contains("x7k2m9qa.default-release"), "{listed}");

    // With a password and no Windows Thunderbird: the account is added, the password is not stored, and why.
    let address = format!("jane.{}@icloud.com", fresh_token().to_lowercase());
    let out = run_with_stdin(
        &mut app(&["thunderbird", "add", "--address", &address, "--password-stdin", "--json"]),
        format!("{}\n", fresh_password()),
    );
    exit_code(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!(report["outcome"], "added", "{report}");
    assert_eq!(report["password_stored"], false, "{report}");
    assert_eq!(report["password_reason"]["kind"], "thunderbird_nss_unavailable", "{report}");
    let prefs = std::fs::read_to_string(profile.join("prefs.js")).unwrap();
    assert!(prefs.contains(&address) && prefs.contains("imap.mail.me.com"), "{prefs}");
    assert!(prefs.contains("mail.shell.checkDefaultClient"), "the existing line was lost: {prefs}");
    assert!(!profile.join("logins.json").exists());
}

#[test]
#[ignore = "needs the Windows exe and a Wine prefix: scripts/test-windows.sh"]
fn probe_passes_against_dovecot_on_the_hosts_loopback_with_a_windows_ca_path() {
    let address = "jane@icloud.com";
    let password = fresh_password();
    let server = Dovecot::start(&[MailUser::new(address, &password)]).expect("start Dovecot");
    let mut args: Vec<String> = server.app_args();
    let ca = args.iter().position(|a| a == "--ca-file").expect("--ca-file") + 1;
    args[ca] = windows_path(server.ca_path());
    assert!(args[ca].starts_with(r"Z:\"), "{}", args[ca]);
    let mut all = vec!["probe", "--address", address, "--password-stdin", "--json"];
    all.extend(args.iter().map(String::as_str));
    let out = run_with_stdin(&mut app(&all), format!("{password}\n"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!((report["imap"]["kind"].as_str(), report["smtp"]["kind"].as_str()), (Some("ok"), Some("ok")), "{report}\n{}", server.log());
    exit_code(&out, 0);

    // A wrong password is the server's verdict, reached over the same verified TLS.
    let out = run_with_stdin(&mut app(&all), "wrong-password\n");
    exit_code(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imap"]["kind"], "auth_rejected", "{report}");

    // Without the CA file the certificate is not trusted: TLS is verified on Windows too.
    let mut plain: Vec<&str> = all.clone();
    plain.truncate(plain.len() - 2);
    let out = run_with_stdin(&mut app(&plain), format!("{password}\n"));
    exit_code(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(report["imap"]["kind"], "ok", "{report}");
}
