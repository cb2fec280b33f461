//! One binary, two faces: with a subcommand it is a command line that never touches the window toolkit;
//! without one it opens the wizard.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    use icloud_mail_setup_lib::cli::{self, Launch};
    match cli::parse_args() {
        Launch::Cli(command) => cli::run(command),
        Launch::Window(options) => icloud_mail_setup_lib::run_window(options),
    }
}
