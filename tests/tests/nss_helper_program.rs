//! Issue 23, M2: on macOS only the Thunderbird login helper may load libraries another team signed. The app keeps
//! library validation; the helper, a program of its own (`icloud-mail-setup-nss-helper`), alone carries
//! `com.apple.security.cs.disable-library-validation` and checks each NSS library for Mozilla's Team ID first.
//!
//! We have no Mac, so this checks on Linux everything that decides it:
//! - the two entitlements files, parsed as property lists: the app's has no exception, the helper's exactly one;
//! - the macOS bundle config names the app's file for the hardened runtime, and the helper is a binary of the app's
//!   package (`cargo metadata`), which the Tauri bundler ships beside the app in every installer;
//! - the release job puts the codesign shim on PATH before the bundler runs and reads the entitlements back after;
//!   the shim itself, run in the order the bundler signs (helper, main binary, app), hands the real codesign the
//!   helper's file for the helper only; the read-back check fails on a helper without the exception or an app with it;
//! - the app's `thunderbird add` starts the helper program beside it (and says which file is missing without it).
//!
//! What only a Mac can show (that codesign, notarization and dyld agree) is not proven here: docs/installers.md.

use std::path::{Path, PathBuf};
use std::process::Command;

use icloud_mail_core::export::thunderbird_profile::nss_helper::HELPER_PROGRAM;
use icloud_mail_tests::{app_binary, helper_binary, run_with_stdin, workspace_root};
use serde_json::Value;

const LIBRARY_VALIDATION_OFF: &str = "com.apple.security.cs.disable-library-validation";
const APP: &str = "icloud-mail-setup";

fn src_tauri() -> PathBuf {
    workspace_root().join("src-tauri")
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An entitlements file, read by a real property-list parser.
fn entitlements(path: &Path) -> plist::Dictionary {
    plist::Value::from_file(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_dictionary()
        .unwrap_or_else(|| panic!("{} is not a dictionary", path.display()))
}

#[test]
fn the_app_keeps_library_validation_and_only_the_helpers_entitlements_disable_it() {
    let macos = json(&src_tauri().join("tauri.macos.conf.json"))["bundle"]["macOS"].clone();
    assert_eq!(macos["hardenedRuntime"], true, "notarization needs the hardened runtime: {macos}");
    // What the bundler signs the app (and every binary it knows) with.
    let app_file = macos["entitlements"].as_str().expect("bundle.macOS.entitlements");
    assert_eq!(app_file, "entitlements.plist");
    assert!(json(&src_tauri().join("tauri.conf.json"))["bundle"].get("macOS").is_none(), "macOS settings live in tauri.macos.conf.json");
    let app = entitlements(&src_tauri().join(app_file));
    assert!(!app.contains_key(LIBRARY_VALIDATION_OFF), "the app must keep library validation: {app:?}");
    let exceptions: Vec<&String> = app.keys().filter(|k| k.starts_with("com.apple.security.")).collect();
    assert!(exceptions.is_empty(), "the app needs no hardened-runtime exception: {exceptions:?}");

    let helper = entitlements(&src_tauri().join("entitlements-nss-helper.plist"));
    assert_eq!(helper.get(LIBRARY_VALIDATION_OFF), Some(&plist::Value::Boolean(true)), "{helper:?}");
    assert_eq!(helper.len(), 1, "the helper carries that one exception and nothing else: {helper:?}");
}

/// The Tauri CLI bundles every `[[bin]]` of the app's package (the one named by `default-run` as the app): into
/// Contents/MacOS of the .app, /usr/bin of the .deb, .rpm and AppImage, the install folder of NSIS and MSI. The
/// package tests check the .deb and .rpm for it.
#[test]
fn the_helper_is_a_binary_of_the_apps_package_so_every_installer_ships_it() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline", "--manifest-path"])
        .arg(src_tauri().join("Cargo.toml"))
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let package = metadata["packages"].as_array().unwrap().iter().find(|p| p["name"] == APP).expect("the app's package");
    assert_eq!(package["default_run"], APP, "the bundler takes default-run as the app, every other binary as an extra");
    let bins: Vec<&str> = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(bins.contains(&APP) && bins.contains(&HELPER_PROGRAM), "{bins:?}");
    assert_eq!(json(&src_tauri().join("tauri.conf.json"))["mainBinaryName"], APP);
}

/// The release job's steps, in order, as (name or action, `if`, `run`).
fn release_steps() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(workspace_root().join(".github/workflows/release.yml")).unwrap();
    let doc = yaml_rust2::YamlLoader::load_from_str(&text).unwrap().remove(0);
    let field = |step: &yaml_rust2::Yaml, key: &str| step[key].as_str().unwrap_or_default().to_owned();
    doc["jobs"]["bundle"]["steps"]
        .as_vec()
        .expect("jobs.bundle.steps")
        .iter()
        .map(|step| {
            let name = if step["uses"].is_badvalue() { field(step, "name") } else { field(step, "uses") };
            (name, field(step, "if"), field(step, "run"))
        })
        .collect()
}

#[test]
fn the_release_job_gives_the_helper_its_entitlements_while_bundling_and_reads_them_back() {
    let steps = release_steps();
    let position = |what: &str, found: &dyn Fn(&(String, String, String)) -> bool| {
        steps.iter().position(found).unwrap_or_else(|| panic!("no step that {what}: {steps:#?}"))
    };
    let shim = position("puts scripts/macos first on PATH on macOS", &|(_, cond, run)| {
        cond.contains("macos") && run.contains("scripts/macos") && run.contains("GITHUB_PATH")
    });
    let bundler = position("runs tauri-action", &|(name, _, _)| name.starts_with("tauri-apps/tauri-action"));
    let check = position("checks the signed app's entitlements on macOS", &|(_, cond, run)| {
        cond.contains("macos") && run.contains("scripts/macos/check-entitlements.sh") && run.contains("bundle/macos/")
    });
    assert!(shim < bundler && bundler < check, "the shim before the bundler, the check after it: {steps:#?}");
}

/// A stand-in for /usr/bin/codesign that writes each call's arguments, one a line, and a line `--` after each call.
fn recording_codesign(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("calls");
    let script = dir.join("real-codesign");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" -- >> '{}'\n", log.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

/// The shim, run as the Tauri bundler calls codesign (tauri-macos-sign: `--force -s <identity> --options runtime
/// --keychain <file> --entitlements <bundle.macOS.entitlements> <path>`, inside out), hands the real codesign the
/// helper's entitlements for the helper, and everything else as it came.
#[test]
fn the_codesign_shim_swaps_in_the_helpers_entitlements_for_the_helper_only() {
    let dir = tempfile::tempdir().unwrap();
    let (real, log) = recording_codesign(dir.path());
    let app = dir.path().join("iCloud Mail Setup.app");
    let bin = app.join("Contents/MacOS");
    let app_plist = src_tauri().join("entitlements.plist").display().to_string();
    let helper_plist = src_tauri().join("entitlements-nss-helper.plist").canonicalize().unwrap().display().to_string();
    let sign = |path: &Path, with_entitlements: bool| {
        let mut args = vec!["--force", "-s", "Developer ID Application: Jane Doe (ABCDE12345)"];
        if with_entitlements {
            args.extend(["--options", "runtime", "--keychain", "/tmp/tauri.keychain", "--entitlements", &app_plist]);
        }
        let out = Command::new(workspace_root().join("scripts/macos/codesign"))
            .args(&args)
            .arg(path)
            .env("ICLOUD_MAIL_SETUP_REAL_CODESIGN", &real)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    let helper = bin.join(HELPER_PROGRAM);
    sign(&helper, true);
    sign(&bin.join(APP), true);
    sign(&app, true);
    // A bundler that passed neither: the helper still gets its file and the hardened runtime.
    sign(&helper, false);
    // Anything but signing (here a verification) reaches codesign as it came.
    let out = Command::new(workspace_root().join("scripts/macos/codesign"))
        .args(["--verify", "--strict"])
        .arg(&helper)
        .env("ICLOUD_MAIL_SETUP_REAL_CODESIGN", &real)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    let text = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<&str>> = text.split("--\n").filter(|c| !c.is_empty()).map(|c| c.lines().collect()).collect();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    let helper = helper.display().to_string();
    let (main, app) = (bin.join(APP).display().to_string(), app.display().to_string());
    for (call, path, plist) in [(&calls[0], &helper, &helper_plist), (&calls[1], &main, &app_plist), (&calls[2], &app, &app_plist)] {
        assert_eq!(call.last(), Some(&path.as_str()), "{call:?}");
        assert_eq!(after(call, "--entitlements"), Some(plist.as_str()), "{path}: {call:?}");
        assert_eq!(after(call, "--options"), Some("runtime"), "{call:?}");
        assert_eq!(after(call, "-s"), Some("Developer ID Application: Jane Doe (ABCDE12345)"), "{call:?}");
        assert_eq!(after(call, "--keychain"), Some("/tmp/tauri.keychain"), "{call:?}");
    }
    assert_eq!(calls[3].last(), Some(&helper.as_str()));
    assert_eq!((after(&calls[3], "--entitlements"), after(&calls[3], "--options")), (Some(helper_plist.as_str()), Some("runtime")));
    assert_eq!(calls[4], vec!["--verify", "--strict", helper.as_str()]);
}

/// The argument after `flag` in one recorded call.
fn after<'a>(call: &[&'a str], flag: &str) -> Option<&'a str> {
    call.iter().position(|a| *a == flag).and_then(|i| call.get(i + 1).copied())
}

/// A signed .app of stand-in files, and a stand-in codesign that reports a Developer ID signature with the hardened
/// runtime and, for `--entitlements`, the file next to each binary named `<binary>.entitlements`.
fn signed_app(dir: &Path, app_entitlements: &Path, helper_entitlements: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let app = dir.join("iCloud Mail Setup.app");
    let bin = app.join("Contents/MacOS");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, plist) in [(APP, app_entitlements), (HELPER_PROGRAM, helper_entitlements)] {
        std::fs::write(bin.join(name), b"").unwrap();
        std::fs::copy(plist, bin.join(format!("{name}.entitlements"))).unwrap();
    }
    let codesign = dir.join("codesign");
    let script = "#!/bin/sh\nfor last; do :; done\ncase \"$*\" in\n  *--entitlements*) cat \"$last.entitlements\" ;;\n  \
                  *) echo 'Authority=Developer ID Application: Jane Doe (ABCDE12345)' >&2\n     \
                  echo 'CodeDirectory v=20500 size=1 flags=0x10000(runtime) hashes=1+7 location=embedded' >&2 ;;\nesac\n";
    std::fs::write(&codesign, script).unwrap();
    std::fs::set_permissions(&codesign, std::fs::Permissions::from_mode(0o755)).unwrap();
    (app, codesign)
}

#[test]
fn the_read_back_check_fails_unless_only_the_helper_disables_library_validation() {
    let app_plist = src_tauri().join("entitlements.plist");
    let helper_plist = src_tauri().join("entitlements-nss-helper.plist");
    let check = |app: &Path, helper: &Path| {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, codesign) = signed_app(dir.path(), app, helper);
        let out = Command::new("bash")
            .arg(workspace_root().join("scripts/macos/check-entitlements.sh"))
            .arg(&bundle)
            .env("CODESIGN", codesign)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (ok, text) = check(&app_plist, &helper_plist);
    assert!(ok && text.contains("only the helper disables it"), "{text}");
    // The bundler's one file on both (what happens without the shim): the helper could not load NSS.
    let (ok, text) = check(&app_plist, &app_plist);
    assert!(!ok && text.contains("lacks com.apple.security.cs.disable-library-validation"), "{text}");
    // The helper's file on the app too: the finding itself.
    let (ok, text) = check(&helper_plist, &helper_plist);
    assert!(!ok && text.contains("must keep library validation"), "{text}");
}

/// The app's `thunderbird add` starts the helper program that lies beside it: a copy of the app alone (hard links
/// in a folder of their own) reports the helper missing by its full path and stores nothing; with the helper put
/// beside it, the answer is the helper's own (it looked for NSS in the given folder).
#[test]
fn thunderbird_add_starts_the_helper_program_beside_the_app() {
    let app = app_binary();
    let dir = tempfile::tempdir_in(app.parent().unwrap()).unwrap();
    let bin = dir.path().join("bin");
    let profile = dir.path().join("profile");
    let nowhere = dir.path().join("no-thunderbird");
    for folder in [&bin, &profile, &nowhere] {
        std::fs::create_dir(folder).unwrap();
    }
    std::fs::hard_link(&app, bin.join(APP)).unwrap();
    let add = || {
        let mut command = Command::new(bin.join(APP));
        command.args(["thunderbird", "add", "--address", "jane.doe@icloud.com", "--password-stdin", "--json", "--profile"]);
        command.arg(&profile).arg("--thunderbird-dir").arg(&nowhere);
        let out = run_with_stdin(&mut command, b"not-a-real-password\n");
        assert_eq!(out.status.code(), Some(1), "the password was not stored: {out:?}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        assert_eq!(report["password_stored"], false, "{report}");
        assert_eq!(report["password_reason"]["kind"], "thunderbird_nss_unavailable", "{report}");
        report["password_reason"]["detail"].as_str().unwrap_or_default().to_owned()
    };
    let missing = bin.join(HELPER_PROGRAM);
    let detail = add();
    assert!(detail.contains(&format!("the helper program {} is missing", missing.display())), "{detail}");

    std::fs::hard_link(helper_binary(), &missing).unwrap();
    let detail = add();
    assert_eq!(detail, format!("{} has no libnss3.so", nowhere.display()), "the helper's own answer");
    assert!(!profile.join("logins.json").exists() && !profile.join("key4.db").exists());
}
