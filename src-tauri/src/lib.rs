//! The Tauri shell: wiring, thin commands over `icloud_mail_core`, and the command line. No product logic here.

pub mod cli;
mod commands;

/// Opens the wizard window and runs until it is closed.
pub fn run_window() {
    tauri::Builder::default()
        // First, so a second launch hands over to the open window instead of starting a second wizard.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| focus_main_window(app)))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![commands::check_address])
        .run(tauri::generate_context!())
        .expect("the wizard window could not be started");
}

fn focus_main_window(app: &tauri::AppHandle) {
    use tauri::Manager;
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
