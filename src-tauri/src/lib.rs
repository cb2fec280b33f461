//! The Tauri shell: wiring, thin commands over `icloud_mail_core`, and the command line. No product logic here.

pub mod cli;
mod commands;

/// Opens the wizard window and runs until it is closed.
pub fn run_window() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::check_address])
        .run(tauri::generate_context!())
        .expect("the wizard window could not be started");
}
