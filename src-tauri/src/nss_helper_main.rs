//! The Thunderbird login helper (`icloud_mail_core::export::thunderbird_profile::nss_helper`): started by the app's
//! `thunderbird add` and the wizard's "Add to Thunderbird" with the request and the password on standard input; it
//! loads Thunderbird's NSS, stores the login and answers with one marked JSON line. A program of its own so that, on
//! macOS, only it carries the exception that lets a signed app load Mozilla's libraries (issue 23, M2).
// Started by the window with its output piped: a release build on Windows opens no console window of its own.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(icloud_mail_core::export::thunderbird_profile::nss_helper::helper_process_main(std::env::args_os()))
}
