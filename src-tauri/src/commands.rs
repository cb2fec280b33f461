//! Thin IPC commands: each takes what the page sends, calls the core, and returns core types (or a `Diagnosis`).
//! Blocking work (the keychain) runs on the blocking pool; the connection test streams its steps over a Channel.

use icloud_mail_core::diagnosis::{Diagnosis, DiagnosisKind};
use icloud_mail_core::keychain::{IfSaved, Keychain, KeychainStatus, Saved};
use icloud_mail_core::probe::{self, ProbeEvent, ProbeReport, ProbeRequest};
use icloud_mail_core::{Address, Secret};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::AppState;

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

/// Runs the connection test, sending each step to `on_event` as it happens. A password that passes is kept for
/// the save step (and nowhere else); `cancel_probe`, or a newer test, ends this one with `cancelled`.
#[tauri::command]
pub async fn run_probe(
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    password: String,
    on_event: Channel<ProbeEvent>,
) -> Result<ProbeReport, Diagnosis> {
    let secret = Secret::new(password);
    let account = state.account(&address, login.as_deref(), None)?;
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = state.servers.extra_ca_pem.clone();
    let cancelled = state.start_probe();
    let send = move |event: ProbeEvent| {
        let _ = on_event.send(event);
    };
    let report = tokio::select! {
        report = probe::probe(&request, &secret, &send) => report,
        _ = cancelled => return Err(Diagnosis::of(DiagnosisKind::Cancelled)),
    };
    if report.is_ok() {
        state.keep_password(&request.account.login.address, secret);
    }
    Ok(report)
}

/// Stops the running connection test (the person left the step).
#[tauri::command]
pub fn cancel_probe(state: State<'_, AppState>) {
    state.cancel_probe();
}

/// Drops the tested password from the app (the page no longer needs it).
#[tauri::command]
pub fn forget_password(state: State<'_, AppState>) {
    state.forget_password();
}

/// Whether a password is already saved for this account, never the password itself.
#[tauri::command]
pub async fn keychain_status(state: State<'_, AppState>, address: String, login: Option<String>) -> Result<KeychainStatus, Diagnosis> {
    let account = state.account(&address, login.as_deref(), None)?;
    blocking(move || Keychain::native()?.status(&account)).await
}

/// Saves the password that passed the connection test. An existing entry is replaced only with `replace`
/// (the page asks first); the app forgets the password once it is saved.
#[tauri::command]
pub async fn keychain_save(state: State<'_, AppState>, address: String, login: Option<String>, replace: bool) -> Result<Saved, Diagnosis> {
    let account = state.account(&address, login.as_deref(), None)?;
    let secret = state.tested_password(&account.login.address)?;
    let if_saved = if replace { IfSaved::Replace } else { IfSaved::Refuse };
    let saved = blocking(move || Keychain::native()?.save(&account, secret, if_saved)).await?;
    state.forget_password();
    Ok(saved)
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Diagnosis> + Send + 'static) -> Result<T, Diagnosis> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(Diagnosis::new(DiagnosisKind::KeychainError, Default::default(), Some(e.to_string()))))
}
