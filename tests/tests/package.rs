//! The Linux installers as a person gets them: the .deb and .rpm that `npx tauri build --bundles deb,rpm` makes
//! from the release build. Each package is unpacked into a throwaway root (nothing is installed on the machine);
//! its metadata, desktop entry, icons and licence are checked with the distributions' own tools, the unpacked
//! binary answers `--version`, the Thunderbird login helper lies beside it, and the unpacked app is launched under Xvfb through WebDriver: its first step, then
//! on through a real connection test against the harness's Dovecot.
//!
//! Building the release packages takes minutes, so plain `cargo test` skips these (ignored); `./scripts/test.sh`
//! builds the packages and then runs them with `--ignored`:
//!   npx tauri build --bundles deb,rpm && cargo test -p icloud-mail-tests --test package -- --ignored

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use icloud_mail_tests::webdriver::{AppOptions, AppSession, Walk, WizardStep};
use icloud_mail_tests::{assert_ok, workspace_root};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const NAME: &str = "icloud-mail-setup";
const HELPER: &str = icloud_mail_core::export::thunderbird_profile::nss_helper::HELPER_PROGRAM;
/// Debian's and rpm's limit is the person's download; the budget is 4 MB.
const MAX_PACKAGE_BYTES: u64 = 4_000_000;

/// Runs `cmd`; fails (at the caller's line) unless it succeeded.
#[track_caller]
fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert_ok(&out);
    out
}

#[track_caller]
fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).expect("UTF-8 output")
}

/// The one package file of `kind` ("deb" or "rpm") for this version, built from the current sources.
fn package(kind: &str) -> PathBuf {
    let dir = workspace_root().join("target/release/bundle").join(kind);
    let found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} — build the packages first: npx tauri build --bundles deb,rpm", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            // deb: icloud-mail-setup_0.1.0_amd64.deb; rpm: icloud-mail-setup-0.1.0-1.x86_64.rpm
            (name.starts_with(&format!("{NAME}_{VERSION}_")) || name.starts_with(&format!("{NAME}-{VERSION}-")))
                && name.ends_with(&format!(".{kind}"))
        })
        .collect();
    assert_eq!(found.len(), 1, "exactly one {NAME} {VERSION} .{kind} in {}: {found:?}", dir.display());
    let path = found.into_iter().next().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size <= MAX_PACKAGE_BYTES, "{} is {size} bytes, over the {MAX_PACKAGE_BYTES}-byte budget", path.display());
    path
}

fn unpack_deb(deb: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(root.path()));
    root
}

fn unpack_rpm(rpm: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let out = run(Command::new("sh")
        .arg("-c")
        .arg("rpm2cpio \"$1\" | cpio -idm --quiet --no-absolute-filenames")
        .arg("sh")
        .arg(rpm)
        .current_dir(root.path()));
    assert!(out.stderr.is_empty(), "cpio complained: {}", String::from_utf8_lossy(&out.stderr));
    root
}

/// The shared libraries the binary asks the dynamic loader for (ELF NEEDED entries).
fn needed_libraries(binary: &Path) -> Vec<String> {
    let dynamic = stdout(Command::new("readelf").args(["--dynamic", "--wide"]).arg(binary));
    let libs: Vec<String> = dynamic
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split_once('[').and_then(|(_, r)| r.split_once(']')).map(|(lib, _)| lib.to_owned()))
        .collect();
    assert!(libs.iter().any(|l| l.starts_with("libwebkit2gtk-4.1")), "the binary links WebKitGTK 4.1: {libs:?}");
    libs
}

/// `--version` of an unpacked binary, with no display at all (the command line never touches the toolkit).
fn assert_version(binary: &Path) {
    let out = run(Command::new(binary).arg("--version").env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{NAME} {VERSION}"));
}

/// The Thunderbird login helper (issue 23, M2) beside the app: executable, started by hand it only says what it is
/// (exit 2), and it links none of the window's libraries (the process that loads Thunderbird's NSS holds nothing
/// else foreign).
fn assert_helper(bin_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let helper = bin_dir.join(HELPER);
    let mode = std::fs::metadata(&helper).unwrap_or_else(|e| panic!("{}: {e}", helper.display())).permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "{} is executable by everyone: {mode:o}", helper.display());
    let out = Command::new(&helper).output().unwrap_or_else(|e| panic!("{}: {e}", helper.display()));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not meant to be started by hand"), "{out:?}");
    let dynamic = stdout(Command::new("readelf").args(["--dynamic", "--wide"]).arg(&helper));
    let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
    assert!(!needed.is_empty() && needed.iter().all(|l| !l.contains("webkit") && !l.contains("gtk")), "{needed:#?}");
}

/// The desktop entry: valid by desktop-file-validate, named for people, starting the packaged binary, with an
/// icon the package carries in the sizes a menu and a dock ask for.
fn assert_desktop_entry(root: &Path) {
    let desktop = root.join(format!("usr/share/applications/{NAME}.desktop"));
    let report = run(Command::new("desktop-file-validate").arg(&desktop));
    let complaints = format!("{}{}", String::from_utf8_lossy(&report.stdout), String::from_utf8_lossy(&report.stderr));
    assert!(complaints.trim().is_empty(), "desktop-file-validate: {complaints}");
    let entry = ini::Ini::load_from_file(&desktop).expect("desktop entry parses");
    let section = entry.section(Some("Desktop Entry")).expect("[Desktop Entry]");
    assert_eq!(section.get("Type"), Some("Application"));
    assert_eq!(section.get("Name"), Some("iCloud Mail Setup"));
    assert_eq!(section.get("Comment"), Some("Set up iCloud Mail in any desktop mail client"));
    assert_eq!(section.get("Exec"), Some(NAME));
    assert_eq!(section.get("Terminal"), Some("false"));
    assert!(section.get("Categories").is_some_and(|c| c.split(';').any(|c| c == "Utility")), "Categories: {section:?}");
    assert!(section.get("Keywords").is_some_and(|k| k.contains("iCloud")), "Keywords: {section:?}");
    assert!(root.join("usr/bin").join(section.get("Exec").unwrap()).is_file(), "Exec names the packaged binary");
    let icon = section.get("Icon").expect("Icon");
    for size in [32, 64, 128, 512] {
        let png = root.join(format!("usr/share/icons/hicolor/{size}x{size}/apps/{icon}.png"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        // PNG signature, then the IHDR chunk: width and height as big-endian u32 at bytes 16..24.
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", png.display());
        let (w, h) = (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
        assert_eq!((w, h), (size, size), "{} has the size its folder promises", png.display());
    }
}

fn assert_licence(file: &Path) {
    let shipped = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("licence {}: {e}", file.display()));
    let ours = std::fs::read_to_string(workspace_root().join("LICENSE")).expect("LICENSE");
    assert_eq!(shipped, ours, "{} is the project's LICENSE", file.display());
    assert!(shipped.starts_with("MIT License"));
}

/// Everything `dpkg` would install when `deps` are: the packages themselves and all they depend on, recursively.
fn dependency_closure(deps: &[String]) -> BTreeSet<String> {
    let listing = stdout(
        Command::new("apt-cache")
            .args(["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks"])
            .args(["--no-replaces", "--no-enhances"])
            .args(deps),
    );
    listing.lines().filter(|l| !l.starts_with(' ')).map(|l| l.trim().trim_matches(['<', '>']).to_owned()).collect()
}

/// The packages on this machine that ship `soname` (for example libdbus-1-3 for libdbus-1.so.3).
fn owners_of(soname: &str) -> Vec<String> {
    let out = Command::new("dpkg").arg("-S").arg(format!("*/{soname}")).output().expect("dpkg -S");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(pkgs, _)| pkgs.to_owned()))
        .flat_map(|pkgs| pkgs.split(", ").map(|p| p.split(':').next().unwrap().to_owned()).collect::<Vec<_>>())
        .collect()
}

#[test]
#[ignore = "needs the release packages: ./scripts/test.sh builds them and runs this suite with --ignored"]
fn deb_declares_the_package_and_every_library_the_binary_needs() {
    let deb = package("deb");
    let field = |name: &str| stdout(Command::new("dpkg-deb").args(["--field"]).arg(&deb).arg(name)).trim().to_owned();
    let arch = stdout(Command::new("dpkg").arg("--print-architecture")).trim().to_owned();
    assert_eq!(field("Package"), NAME, "apt install/remove {NAME} must work");
    assert_eq!(field("Version"), VERSION);
    assert_eq!(field("Architecture"), arch);
    assert_eq!(field("Section"), "mail");
    assert!(field("Maintainer").contains("iCloud Mail Setup developers"), "Maintainer: {}", field("Maintainer"));
    assert!(field("Description").starts_with("Set up iCloud Mail in any desktop mail client"));
    assert!(field("Description").contains("app-specific password"), "the long description says what it does");

    let depends: Vec<String> = field("Depends").split(',').map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect();
    let closure = dependency_closure(&depends);
    let root = unpack_deb(&deb);
    for lib in needed_libraries(&root.path().join("usr/bin").join(NAME)) {
        let owners = owners_of(&lib);
        assert!(!owners.is_empty(), "{lib}: no installed package ships it");
        assert!(owners.iter().any(|o| closure.contains(o)), "{lib} comes from {owners:?}, which Depends ({depends:?}) does not pull in");
    }
    // And dpkg itself agrees this machine can install it (no change is made: --dry-run).
    run(Command::new("dpkg").arg("--dry-run").arg("--install").arg(&deb));
}

#[test]
#[ignore = "needs the release packages: ./scripts/test.sh builds them and runs this suite with --ignored"]
fn deb_carries_the_binary_desktop_entry_icons_and_licence() {
    let root = unpack_deb(&package("deb"));
    let root = root.path();
    assert_version(&root.join("usr/bin").join(NAME));
    assert_helper(&root.join("usr/bin"));
    assert_desktop_entry(root);
    assert_licence(&root.join(format!("usr/share/doc/{NAME}/copyright")));
}

#[test]
#[ignore = "needs the release packages: ./scripts/test.sh builds them and runs this suite with --ignored"]
fn unpacked_deb_app_opens_its_first_step_and_tests_a_real_connection() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let password = icloud_mail_tests::fresh_password();
    let dovecot = Dovecot::start(&[MailUser::new("jane.doe@icloud.com", &password)]).expect("start Dovecot");
    let root = unpack_deb(&package("deb"));
    let binary = root.path().join("usr/bin").join(NAME);
    let args = dovecot.app_args();
    let app = AppSession::start("package_deb", AppOptions { application: Some(binary), args, ..AppOptions::default() });
    assert_eq!(app.text("h1.step-title"), "Set up iCloud Mail in your mail app");
    assert_eq!(app.property("#next", "disabled"), serde_json::json!(false), "the first step can be left");
    app.screenshot("installed-welcome");
    // The window is titled for people, and its X class matches the desktop entry's StartupWMClass, so a dock
    // shows the launcher's icon for it.
    let (display, _) = app.display_and_bus();
    let tree = stdout(Command::new("xwininfo").args(["-display", &display, "-root", "-tree"]));
    let desktop = ini::Ini::load_from_file(root.path().join(format!("usr/share/applications/{NAME}.desktop"))).unwrap();
    let wm_class = desktop.section(Some("Desktop Entry")).and_then(|s| s.get("StartupWMClass")).expect("StartupWMClass").to_owned();
    assert!(
        tree.lines().any(|l| l.contains("\"iCloud Mail Setup\"") && l.contains(&format!("\"{wm_class}\""))),
        "no window titled \"iCloud Mail Setup\" with class {wm_class:?}:\n{tree}"
    );
    // And it is the whole wizard, built the way the package is (release, unused plugin commands removed): the
    // address is checked by the core, and the connection test signs in to a real server over its channel.
    let walk = Walk::new("jane.doe@icloud.com", &password);
    app.walk_to(WizardStep::Address, &walk);
    app.complete_step(&walk);
    app.wait_for_text("#address-status", "is an iCloud Mail address");
    app.walk_to(WizardStep::Test, &walk);
    assert_eq!(app.text("h1.step-title"), "Test the connection");
    let imap = app.wait_for_text("#verdict-imap", "Works");
    assert!(imap.contains(&format!("signed in as jane.doe on localhost:{}", dovecot.imaps_port)), "{imap}");
    let smtp = app.wait_for_text("#verdict-smtp", "Works");
    assert!(smtp.contains(&format!("on localhost:{} with STARTTLS", dovecot.submission_port)), "{smtp}");
    app.screenshot("installed-connection-ok");
}

#[test]
#[ignore = "needs the release packages: ./scripts/test.sh builds them and runs this suite with --ignored"]
fn rpm_declares_the_package_its_libraries_and_carries_binary_entry_icons_and_licence() {
    let rpm = package("rpm");
    let query = |format: &str| stdout(Command::new("rpm").args(["--query", "--package", "--queryformat", format]).arg(&rpm));
    assert_eq!(query("%{NAME}"), NAME);
    assert_eq!(query("%{VERSION}"), VERSION);
    assert_eq!(query("%{LICENSE}"), "MIT");
    assert_eq!(query("%{SUMMARY}"), "Set up iCloud Mail in any desktop mail client");
    assert!(query("%{DESCRIPTION}").contains("app-specific password"));

    let files = stdout(Command::new("rpm").args(["--query", "--package", "--list"]).arg(&rpm));
    for path in [
        format!("/usr/bin/{NAME}"),
        format!("/usr/bin/{HELPER}"),
        format!("/usr/share/applications/{NAME}.desktop"),
        format!("/usr/share/licenses/{NAME}/LICENSE"),
        format!("/usr/share/icons/hicolor/128x128/apps/{NAME}.png"),
    ] {
        assert!(files.lines().any(|l| l == path), "{path} is not in the rpm:\n{files}");
    }

    // rpm has no Debian package names to lean on: it must require each library by its soname, the form every
    // rpm distribution provides (for example "libwebkit2gtk-4.1.so.0()(64bit)").
    let requires = stdout(Command::new("rpm").args(["--query", "--package", "--requires"]).arg(&rpm));
    let root = unpack_rpm(&rpm);
    let binary = root.path().join("usr/bin").join(NAME);
    for lib in needed_libraries(&binary) {
        let want = format!("{lib}()(64bit)");
        assert!(requires.lines().any(|l| l.trim() == want), "the rpm does not require {want}:\n{requires}");
    }
    assert_version(&binary);
    assert_helper(&root.path().join("usr/bin"));
    assert_desktop_entry(root.path());
    assert_licence(&root.path().join(format!("usr/share/licenses/{NAME}/LICENSE")));
}
