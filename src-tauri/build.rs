fn main() {
    // Declaring the app's commands makes each one a permission of its own, so capabilities/main.json can allow
    // exactly the commands the page uses and nothing else.
    let commands: &[&str] = &[
        "check_address",
        "check_domain",
        "run_probe",
        "cancel_probe",
        "forget_password",
        "keychain_status",
        "keychain_save",
        "export_formats",
        "export_profile",
        "thunderbird_profiles",
        "thunderbird_add",
        "page_ready",
    ];
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)))
        .expect("tauri-build failed");
}
