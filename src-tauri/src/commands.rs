//! Thin IPC commands: each takes what the page sends, calls the core, and returns core types (or a `Diagnosis`).
//! Blocking work (the keychain) runs on the blocking pool; the connection test streams its steps over a Channel.

use std::path::{Path, PathBuf};

use icloud_mail_core::diagnosis::{Diagnosis, DiagnosisKind};
use icloud_mail_core::export::thunderbird_profile::{self, AddOutcome, ThunderbirdProfile};
use icloud_mail_core::export::{self, ExportFormat, ExportFormatInfo, ExportOptions, PasswordCommand};
use icloud_mail_core::keychain::{IfSaved, Keychain, KeychainStatus, Saved};
use icloud_mail_core::probe::{self, DomainReport, ProbeEvent, ProbeReport, ProbeRequest};
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
        .unwrap_or_else(|e| Err(Diagnosis::new(DiagnosisKind::WriteFailed, Default::default(), Some(e.to_string()))))
}

/// The formats the page offers, in the registry's order.
#[tauri::command]
pub fn export_formats() -> Vec<ExportFormatInfo> {
    export::formats()
}

/// Writes one client file and returns where. With `path` (from the save dialog, which already asked about
/// replacing) that file is written; without, the file goes into the export folder (Downloads) under its usual
/// name, with " (2)", " (3)" … added rather than replacing anything.
#[tauri::command]
pub async fn export_profile(
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    name: Option<String>,
    format: ExportFormat,
    path: Option<String>,
) -> Result<String, Diagnosis> {
    let account = state.account(&address, login.as_deref(), name)?;
    let options = ExportOptions {
        ca_file: state.servers.ca_file.as_ref().map(|p| p.display().to_string()),
        password_command: PasswordCommand::App { program: crate::cli::export::app_program() },
        autodiscover_xml_path: None,
    };
    let file = export::export(&account, format, &options)?;
    let folder = state.servers.export_dir.clone().or_else(dirs::download_dir).or_else(dirs::home_dir).unwrap_or_else(|| PathBuf::from("."));
    blocking(move || match path {
        Some(path) => export::write_atomic(Path::new(&path), &file.bytes, true).map(|()| path),
        None => write_without_replacing(&folder, &file.file_name, &file.bytes),
    })
    .await
}

fn write_without_replacing(folder: &Path, file_name: &str, bytes: &[u8]) -> Result<String, Diagnosis> {
    let (stem, ext) = match file_name.rsplit_once('.') {
        Some((stem, ext)) => (stem.to_owned(), format!(".{ext}")),
        None => (file_name.to_owned(), String::new()),
    };
    for n in 1..1000 {
        let name = if n == 1 { file_name.to_owned() } else { format!("{stem} ({n}){ext}") };
        let path = folder.join(name);
        match export::write_atomic(&path, bytes, false) {
            Ok(()) => return Ok(path.display().to_string()),
            Err(d) if d.kind == DiagnosisKind::OutputExists => continue,
            Err(d) => return Err(d),
        }
    }
    Err(Diagnosis::new(DiagnosisKind::OutputExists, Default::default(), Some(folder.display().to_string())))
}

/// The Thunderbird profiles on this computer (none is not an error: the page then offers files only).
#[tauri::command]
pub async fn thunderbird_profiles() -> Result<Vec<ThunderbirdProfile>, Diagnosis> {
    blocking(|| match thunderbird_profile::list_profiles() {
        Err(d) if d.kind == DiagnosisKind::ThunderbirdNotFound => Ok(Vec::new()),
        other => other,
    })
    .await
}

/// Adds the account to a Thunderbird profile (refused while Thunderbird runs; a second add changes nothing).
#[tauri::command]
pub async fn thunderbird_add(
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    name: Option<String>,
    profile: String,
) -> Result<AddOutcome, Diagnosis> {
    let account = state.account(&address, login.as_deref(), name)?;
    blocking(move || thunderbird_profile::add_account(Path::new(&profile), &account)).await
}

/// Whether a custom domain receives its mail through iCloud (MX records), within a few seconds; offline or
/// failing DNS comes back as `dns_failure`, never a hang.
#[tauri::command]
pub async fn check_domain(domain: String) -> DomainReport {
    probe::check_domain(&domain, &probe::DnsConfig::System, std::time::Duration::from_secs(5)).await
}

/// The page calls this once its first step is on screen and usable, with the milliseconds since its navigation
/// began. It only feeds the start-up trace (silent unless `ICLOUD_MAIL_SETUP_TRACE_STARTUP` is set).
#[tauri::command]
pub fn page_ready(page_ms: f64) {
    crate::startup::milestone("first step ready", &format!(" (page: {page_ms:.0} ms)"));
}
