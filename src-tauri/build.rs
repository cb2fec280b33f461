fn main() {
    // Declaring the app's commands makes each one a permission of its own, so capabilities/main.json can allow
    // exactly the commands the page uses and nothing else. The list is src/app_commands.rs, shared with lib.rs.
    macro_rules! app_commands {
        [$($name:ident),* $(,)?] => { &[$(stringify!($name)),*] };
    }
    let commands: &[&str] = include!("src/app_commands.rs");
    println!("cargo:rerun-if-changed=src/app_commands.rs");
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)))
        .expect("tauri-build failed");
}
