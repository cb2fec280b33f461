//! Every platform's configuration makes that platform's installers. The Tauri CLI reads `tauri.conf.json` and merges
//! `tauri.<platform>.conf.json` over it (JSON merge patch, RFC 7396: tauri-utils `config::parse::read_from`, used
//! here as it is), then tauri-bundler keeps only the configured targets that belong to the platform it builds for
//! (`Settings::package_types`, mirrored in `belongs_to`). A base list of Linux targets alone made nothing at all on
//! Windows and macOS; these tests fail on such a configuration.

use std::path::{Path, PathBuf};

use tauri_utils::config::{BundleTarget, BundleType, Config};
use tauri_utils::platform::Target;

const DESKTOP: [Target; 3] = [Target::Linux, Target::Windows, Target::MacOS];

fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The configuration the Tauri CLI builds with on `target`: the base file with the platform's file merged over it.
fn merged(target: Target) -> Config {
    let (value, files) = tauri_utils::config::parse::read_from(target, &config_dir()).expect("the configuration files are read");
    let platform_file = match target {
        Target::Linux => "tauri.linux.conf.json",
        Target::Windows => "tauri.windows.conf.json",
        Target::MacOS => "tauri.macos.conf.json",
        _ => unreachable!("desktop platforms only"),
    };
    assert!(files.iter().any(|f| f.ends_with(platform_file)), "{platform_file} was not merged: {files:?}");
    // Tauri's own types: a misspelt key in any file fails here (they deny unknown fields).
    serde_json::from_value(value).unwrap_or_else(|e| panic!("the merged configuration for {target} is not valid: {e}"))
}

/// Whether tauri-bundler makes a package of this type when it runs on `target` (tauri-bundler
/// `Settings::package_types`: the types of the target's platform, all others dropped without a word).
fn belongs_to(bundle: &BundleType, target: Target) -> bool {
    matches!(
        (target, bundle),
        (Target::Linux, BundleType::Deb | BundleType::Rpm | BundleType::AppImage)
            | (Target::Windows, BundleType::Msi | BundleType::Nsis)
            | (Target::MacOS, BundleType::App | BundleType::Dmg)
    )
}

/// The installers `tauri build` (no `--bundles`) makes on `target` with this configuration.
fn installers(config: &Config, target: Target) -> Vec<String> {
    let mut made: Vec<String> = config.bundle.targets.to_vec().iter().filter(|b| belongs_to(b, target)).map(|b| b.to_string()).collect();
    made.sort();
    made
}

#[test]
fn every_platform_makes_its_own_installers() {
    let expected = |target| match target {
        Target::Linux => vec!["appimage", "deb", "rpm"],
        Target::Windows => vec!["msi", "nsis"],
        _ => vec!["app", "dmg"],
    };
    for target in DESKTOP {
        let config = merged(target);
        assert!(config.bundle.active, "{target}: bundling is switched off");
        assert_eq!(installers(&config, target), expected(target), "{target}");
    }
}

#[test]
fn a_base_list_of_linux_targets_alone_makes_nothing_elsewhere() {
    // The rule above catches the configuration this project had: targets ["deb", "rpm"] and no platform override.
    let mut config = merged(Target::Linux);
    config.bundle.targets = BundleTarget::List(vec![BundleType::Deb, BundleType::Rpm]);
    assert!(installers(&config, Target::Windows).is_empty());
    assert!(installers(&config, Target::MacOS).is_empty());
    assert_eq!(installers(&config, Target::Linux), ["deb", "rpm"]);
}

#[test]
fn the_platform_files_keep_each_platforms_settings() {
    let linux = merged(Target::Linux);
    assert_eq!(linux.product_name.as_deref(), Some("icloud-mail-setup"), "the Linux packages' name");
    assert!(linux.bundle.linux.deb.desktop_template.is_some());

    let windows = merged(Target::Windows);
    assert_eq!(windows.product_name.as_deref(), Some("iCloud Mail Setup"));
    // Never signed without a certificate: only a thumbprint or a sign command makes the bundler sign.
    assert!(windows.bundle.windows.certificate_thumbprint.is_none() && windows.bundle.windows.sign_command.is_none());
    let upgrade_code = windows.bundle.windows.wix.as_ref().and_then(|w| w.upgrade_code);
    assert!(upgrade_code.is_some(), "a fixed MSI upgrade code, so that a newer .msi replaces an older one");

    let macos = merged(Target::MacOS);
    assert!(macos.bundle.macos.signing_identity.is_none(), "the identity comes from APPLE_SIGNING_IDENTITY, when set");
    assert!(macos.bundle.macos.hardened_runtime, "notarization requires the hardened runtime");
    assert!(macos.bundle.macos.files.contains_key(Path::new("Resources/LICENSE")));
}

/// Handing a password to Thunderbird loads Thunderbird's own NSS libraries, signed by Mozilla; under the hardened
/// runtime only disabling library validation allows that. The file the bundler signs with (the app's) has no
/// exception at all; the login helper's own file has that one (issue 23, M2; its signing and the plists read by a
/// real parser: tests/tests/nss_helper_program.rs).
#[test]
fn the_macos_app_keeps_library_validation_and_only_the_helpers_file_disables_it() {
    let macos = merged(Target::MacOS);
    let file = macos.bundle.macos.entitlements.expect("bundle.macOS.entitlements is set");
    let text = std::fs::read_to_string(config_dir().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(text.matches("<key>").count(), 0, "the app needs no hardened-runtime exception: {text}");
    let helper = std::fs::read_to_string(config_dir().join("entitlements-nss-helper.plist")).unwrap();
    let compact: String = helper.split_whitespace().collect();
    assert!(compact.contains("<key>com.apple.security.cs.disable-library-validation</key><true/>"), "{helper}");
    // Only that: every other protection of the hardened runtime stays on.
    assert_eq!(helper.matches("<key>").count(), 1, "{helper}");
}

/// AppImage needs tools downloaded at build time, and this machine is offline: the test command asks for the .deb
/// and .rpm only, whatever the configuration lists.
#[test]
fn the_test_command_builds_only_the_deb_and_rpm() {
    let script = std::fs::read_to_string(config_dir().join("../scripts/test.sh")).unwrap();
    let builds: Vec<&str> = script.lines().filter(|l| l.contains("tauri build")).collect();
    assert!(!builds.is_empty(), "scripts/test.sh builds no packages");
    for line in builds {
        assert!(line.contains("--bundles deb,rpm ") || line.ends_with("--bundles deb,rpm"), "{line}");
    }
}
