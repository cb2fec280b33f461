//! The Tauri shell: wiring, thin commands over `icloud_mail_core`, and the command line. No product logic here.

pub mod cli;
mod commands;
pub mod startup;
mod state;

use std::process::ExitCode;

use tauri::Manager;

/// Opens the wizard window and runs until it is closed.
pub fn run_window(options: cli::WindowOptions) -> ExitCode {
    // Checked like `probe --ca-file`, before any window opens: a CA that cannot be used is bad usage, said at once.
    let extra_ca_pem = match options.ca_file.as_deref().map(icloud_mail_core::probe::tls::read_ca_file).transpose() {
        Ok(pem) => pem,
        Err(e) => {
            eprintln!("--ca-file {e}");
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    let ca_file = options.ca_file.as_ref().and_then(|p| std::fs::canonicalize(p).ok());
    let servers = state::Servers {
        imap: options.imap,
        smtp: options.smtp,
        smtp_fallback: options.smtp_fallback,
        extra_ca_pem,
        ca_file,
        export_dir: options.export_dir,
    };
    tauri::Builder::default()
        .manage(state::AppState::new(servers))
        // First, so a second launch hands over to the open window instead of starting a second wizard.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| focus_main_window(app)))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            commands::check_address,
            commands::check_domain,
            commands::run_probe,
            commands::cancel_probe,
            commands::forget_password,
            commands::keychain_status,
            commands::keychain_save,
            commands::export_formats,
            commands::export_profile,
            commands::thunderbird_profiles,
            commands::thunderbird_add,
            commands::page_ready,
        ])
        .setup(|app| {
            startup::milestone("setup", "");
            // Forget a tested password that waited too long for the save step.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(15)).await;
                    handle.state::<state::AppState>().forget_password_if_stale();
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::Destroyed = event {
                window.state::<state::AppState>().forget_password();
            }
        })
        .run(tauri::generate_context!())
        .expect("the wizard window could not be started");
    ExitCode::SUCCESS
}

fn focus_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
