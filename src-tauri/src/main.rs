//! One binary, two faces: with a subcommand it is a command line that never touches the window toolkit;
//! without one it opens the wizard.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    use icloud_mail_setup_lib::cli::{self, Launch};
    use icloud_mail_setup_lib::console;
    icloud_mail_setup_lib::startup::mark_start();
    // Before anything holds a password: no core dumps of the window or the command line (the login helper, a
    // program of its own, does the same first: nss_helper::helper_process_main).
    let _ = icloud_mail_core::dumps::forbid();
    // A release build on Windows is a GUI program (no console window behind the wizard). Started with arguments
    // from a terminal, it borrows that terminal, so --help, --version and the subcommands' output show up there.
    if console::wants_console(std::env::args_os()) {
        console::attach_parent_console();
    }
    match cli::parse_args() {
        Launch::Cli(command, out) => cli::run(command, out),
        Launch::Window(options) => icloud_mail_setup_lib::run_window(options),
    }
}
