//! One binary, two faces: with a subcommand it is a command line that never touches the window toolkit;
//! without one it opens the wizard.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match icloud_mail_setup_lib::cli::parse_args() {
        Some(command) => icloud_mail_setup_lib::cli::run(command),
        None => {
            icloud_mail_setup_lib::run_window();
            ExitCode::SUCCESS
        }
    }
}
