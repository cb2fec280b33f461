//! Thin IPC commands: each takes what the page sends, calls the core, and returns core types (or a `Diagnosis`).

use icloud_mail_core::{Address, Diagnosis};

/// Checks an address as it is typed. An address that parses but cannot be set up (another provider) comes back
/// as its diagnosis, so the page has one kind of error to render.
#[tauri::command]
pub fn check_address(input: String) -> Result<Address, Diagnosis> {
    let address = Address::parse(&input)?;
    match address.problem() {
        Some(problem) => Err(problem),
        None => Ok(address),
    }
}
