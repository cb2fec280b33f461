//! Thin IPC commands: each takes what the page sends, calls the core, and returns core types (or a `Diagnosis`).
//! Blocking work (the keychain) runs on the blocking pool; the connection test streams its steps over a Channel.

use std::path::{Path, PathBuf};

use icloud_mail_core::diagnosis::{Diagnosis, DiagnosisKind};
use icloud_mail_core::export::thunderbird_android_qr::{self, QrImage};
use icloud_mail_core::export::thunderbird_profile::logins::AddReport;
use icloud_mail_core::export::thunderbird_profile::{self, nss_helper, ThunderbirdProfile};
use icloud_mail_core::export::{self, ClientGroup, ExportFormat, ExportFormatInfo, ExportOptions};
use icloud_mail_core::keychain::{IfSaved, Keychain, KeychainStatus, Saved};
use icloud_mail_core::mail_apps::{self, MailApp, Settings};
use icloud_mail_core::probe::send::{send_test, SendEvent, SendReport, SendRequest};
use icloud_mail_core::probe::{self, DavReports, DomainReport, ProbeEvent, ProbeReport, ProbeRequest};
use icloud_mail_core::{Address, Facts, Lang, Secret};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use crate::state::{AppState, ProbeRun};

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

/// The operating system account's full name, to prefill "Your name" (None where none is set).
#[tauri::command]
pub fn os_full_name() -> Option<String> {
    icloud_mail_core::os_account::full_name()
}

/// Checks a display name as it is typed (the same check every export makes); blank is fine: the name is optional.
#[tauri::command]
pub fn check_name(input: String) -> Result<Option<String>, Diagnosis> {
    icloud_mail_core::account::display_name_from(Some(&input))
}

/// Runs the connection test, sending each step to `on_event` as it happens: mail (IMAP, SMTP) and, beside it,
/// calendars and contacts (CalDAV, CardDAV: the window's third panel), concurrently, as one probe
/// (`probe::probe_mail_first`). Returns as soon as the mail verdict is known — never waiting for DAV — with a report
/// without DAV members; a password that passes mail is kept for the save step (and nowhere else). Calendars and
/// contacts go on in a task of their own and, when known (by the probe's deadline at the latest), are merged into
/// the account held for this test — only if no newer test has started (`AppState::dav_known`) — and sent to
/// `on_dav`. DAV never decides the verdict. `cancel_probe`, or a newer test, ends this one, DAV included; before the
/// mail verdict that is `cancelled`.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn run_probe(
    app: AppHandle,
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    password: String,
    on_event: Channel<ProbeEvent>,
    on_dav: Channel<DavReports>,
) -> Result<ProbeReport, Diagnosis> {
    let secret = Secret::new(password);
    let account = state.account(&address, login.as_deref(), None)?;
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = state.servers.extra_ca_pem.clone();
    // The third panel is live with the other two: calendars and contacts are always tested, never waited for by
    // the mail verdict (`ProbeReport::is_ok` is mail's alone).
    request.dav = true;
    let ProbeRun { generation, cancelled } = state.start_probe();
    let (mail_known, mail) = tokio::sync::oneshot::channel::<ProbeReport>();
    let (task_request, task_secret) = (request.clone(), secret.clone());
    tauri::async_runtime::spawn(async move {
        let send = move |event: ProbeEvent| {
            let _ = on_event.send(event);
        };
        let on_mail = move |report: &ProbeReport| {
            let _ = mail_known.send(report.clone());
        };
        let report = tokio::select! {
            report = probe::probe_mail_first(&task_request, &task_secret, &send, on_mail) => report,
            // Dropping the probe ends DAV (and mail, if it was still running: the command then answers `cancelled`).
            _ = cancelled => return,
        };
        drop(task_secret);
        if let (Some(caldav), Some(carddav)) = (report.caldav, report.carddav) {
            let dav = DavReports { caldav, carddav };
            if app.state::<AppState>().dav_known(generation, dav.clone()) {
                let _ = on_dav.send(dav);
            }
        }
    });
    let Ok(report) = mail.await else { return Err(Diagnosis::of(DiagnosisKind::Cancelled)) };
    if report.is_ok() {
        // What the test proved becomes the account's settings for every file and Thunderbird (calendars and
        // contacts join it when they are known).
        let verified = icloud_mail_core::verified::account_from_report(request.account.clone(), &report)?;
        state.keep_tested(generation, verified, secret);
    }
    Ok(report)
}

/// Stops the running connection test (the person left the step).
#[tauri::command]
pub fn cancel_probe(state: State<'_, AppState>) {
    state.cancel_probe();
}

/// Sends one test message to the address itself and waits for it to come back (`probe::send`), streaming each step
/// to `on_event`. It uses the settings and the password the passed connection test left in the app — never a
/// password from the page — so without a passed test for this account it is `password_needed`. The message's
/// words are in `lang`. `cancel_send_test`, or a newer send test, ends this one with `cancelled`.
#[tauri::command]
pub async fn run_send_test(
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    name: Option<String>,
    lang: Lang,
    on_event: Channel<SendEvent>,
) -> Result<SendReport, Diagnosis> {
    let account = state.verified_account(&address, login.as_deref(), name)?;
    let secret = state.tested_password(&account.login.address)?;
    let mut request = SendRequest::new(account, lang);
    request.extra_ca_pem = state.servers.extra_ca_pem.clone();
    let cancelled = state.start_send_test();
    let send = move |event: SendEvent| {
        let _ = on_event.send(event);
    };
    tokio::select! {
        report = send_test(&request, &secret, &send) => Ok(report),
        _ = cancelled => Err(Diagnosis::of(DiagnosisKind::Cancelled)),
    }
}

/// Stops the running send test (the person left the step).
#[tauri::command]
pub fn cancel_send_test(state: State<'_, AppState>) {
    state.cancel_send_test();
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
/// (the page asks first). The app keeps its copy and the settings the test proved: Thunderbird, "Copy password"
/// and the files saved afterwards may still need them.
#[tauri::command]
pub async fn keychain_save(state: State<'_, AppState>, address: String, login: Option<String>, replace: bool) -> Result<Saved, Diagnosis> {
    let account = state.account(&address, login.as_deref(), None)?;
    let secret = state.tested_password(&account.login.address)?;
    let if_saved = if replace { IfSaved::Replace } else { IfSaved::Refuse };
    blocking(move || Keychain::native()?.save(&account, secret, if_saved)).await
}

/// The password for the hand-off: the tested one the app still holds, else the one saved in the keychain; when
/// neither is there, `password_needed`.
async fn handoff_password(state: &AppState, account: &icloud_mail_core::Account) -> Result<Secret, Diagnosis> {
    if let Ok(secret) = state.tested_password(&account.login.address) {
        return Ok(secret);
    }
    let account = account.clone();
    match blocking(move || Keychain::native()?.get(&account)).await {
        Err(d) if d.kind == DiagnosisKind::KeychainNoEntry => {
            Err(Diagnosis::new(DiagnosisKind::PasswordNeeded, Facts::default(), Some("not held, and none in the keychain".into())))
        }
        other => other,
    }
}

/// Puts the password (the tested one still held, else the keychain's) on the clipboard, and empties the clipboard
/// after a minute if it still holds it. Returns the seconds until then. The page only asks; it never receives the
/// password.
#[tauri::command]
pub async fn copy_password(app: AppHandle, state: State<'_, AppState>, address: String, login: Option<String>) -> Result<u64, Diagnosis> {
    let account = state.account(&address, login.as_deref(), None)?;
    let secret = handoff_password(&state, &account).await?;
    let handle = app.clone();
    let copy = blocking(move || handle.state::<AppState>().clipboard.put(&secret)).await?;
    let after = state.clipboard.clear_after();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(after).await;
        let _ = tauri::async_runtime::spawn_blocking(move || app.state::<AppState>().clipboard.clear_if_ours(Some(copy))).await;
    });
    Ok(after.as_secs())
}

/// Runs `work` on the blocking pool. A panic there is a bug of ours, `internal_error` — never `write_failed` or
/// another verdict that would send the person after a fix for something that did not happen.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Diagnosis> + Send + 'static) -> Result<T, Diagnosis> {
    tauri::async_runtime::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(Diagnosis::new(
            DiagnosisKind::InternalError,
            Default::default(),
            Some(format!("a background task ended without an answer: {e}")),
        ))
    })
}

/// The formats the page offers, in the registry's order.
#[tauri::command]
pub fn export_formats() -> Vec<ExportFormatInfo> {
    export::formats()
}

/// An SVG that may hold the password: handed to the page as a plain string, wiped here when dropped.
pub struct ScreenSvg(zeroize::Zeroizing<String>);

impl serde::Serialize for ScreenSvg {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Thunderbird for Android's QR code for the verified account, as SVG for the save step's phone path, to be shown
/// on screen only (the page never saves it: a file comes from `export_profile`, which cannot hold the password).
/// With `include_password` the code carries the app-specific password in both server entries: the tested one the
/// app holds beside the verified account (both are dropped together, so without them there is no code at all:
/// `password_needed`). The page never receives the password itself, only the picture of it. Async: off the main
/// thread, which draws the window.
#[tauri::command]
pub async fn thunderbird_android_qr(
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    name: Option<String>,
    include_password: bool,
) -> Result<ScreenSvg, Diagnosis> {
    let account = state.verified_account(&address, login.as_deref(), name)?;
    let password = if include_password { Some(state.tested_password(&account.login.address)?) } else { None };
    thunderbird_android_qr::svg(&account, password.as_ref()).map(ScreenSvg)
}

/// Writes one client file and returns where. The page only chooses the format and whether to ask: with `save_as`
/// the native save dialog opens from here and the file goes exactly where the person chose there (the dialog has
/// asked about replacing); without, it goes into the export folder (Downloads) under its usual name, with " (2)",
/// " (3)" … added rather than replacing anything. A file its client reads from a fixed place (vdirsyncer, khal,
/// khard: `Exporter::config_home_path` below the XDG config folder) goes there instead, its folder made, and never
/// over a file that is there already (`output_exists`: the person keeps theirs, or chooses with Save as…).
/// `None` when the person cancelled the dialog. The settings card is written in `lang`, the window's language.
/// `with_dav` adds calendars and contacts to the `.mobileconfig` (the Apple Mail path's box, off by default).
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn export_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    name: Option<String>,
    format: ExportFormat,
    lang: Lang,
    save_as: bool,
    with_dav: bool,
) -> Result<Option<String>, Diagnosis> {
    let account = state.verified_account(&address, login.as_deref(), name)?;
    let options = ExportOptions {
        ca_file: state.servers.ca_file.as_ref().map(|p| p.display().to_string()),
        password_command: export::app_program(),
        lang,
        autodiscover_xml_path: None,
        qr_image: QrImage::Png,
        with_dav,
    };
    let file = export::export(&account, format, &options)?;
    let folder = state.servers.export_dir.clone().or_else(dirs::download_dir).or_else(dirs::home_dir).unwrap_or_else(|| PathBuf::from("."));
    blocking(move || {
        saved_with_its_folder(format, &account, dirs::home_dir().as_deref(), || {
            if let (false, Some(path)) = (save_as, config_home_target(format)) {
                return write_config_file(&path, &file.bytes).map(Some);
            }
            if !save_as {
                return write_without_replacing(&folder, &file.file_name, &file.bytes).map(Some);
            }
            let chosen =
                app.dialog().file().set_title(format.name(lang)).set_directory(&folder).set_file_name(&file.file_name).blocking_save_file();
            let Some(chosen) = chosen else { return Ok(None) };
            let path = chosen.into_path().map_err(|e| Diagnosis::new(DiagnosisKind::WriteFailed, Facts::default(), Some(e.to_string())))?;
            export::write_atomic(&path, &file.bytes, true)?;
            Ok(Some(path.display().to_string()))
        })
    })
    .await
}

/// Runs `write` (which saves the file, or returns `None` when the person cancelled the save dialog) and then, for
/// mbsync only and only once its file was written, makes the local mail folder that file names in `home`, so that
/// the first `mbsync` run works. A cancelled dialog or a failed write leaves nothing behind.
fn saved_with_its_folder(
    format: ExportFormat,
    account: &icloud_mail_core::Account,
    home: Option<&Path>,
    write: impl FnOnce() -> Result<Option<String>, Diagnosis>,
) -> Result<Option<String>, Diagnosis> {
    let written = write()?;
    if let (Some(_), ExportFormat::Mbsync, Some(home)) = (&written, format, home) {
        export::mbsync::create_maildir(home, account)?;
    }
    Ok(written)
}

/// Where the client of `format` reads its file when given none, for the formats that have such a place.
pub(crate) fn config_home_target(format: ExportFormat) -> Option<PathBuf> {
    Some(export::xdg_config_home()?.join(format.exporter().config_home_path()?))
}

/// Writes a client's own config file where it reads it: its folder made if missing, an existing file kept.
fn write_config_file(path: &Path, bytes: &[u8]) -> Result<String, Diagnosis> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|e| {
            Diagnosis::new(
                DiagnosisKind::WriteFailed,
                Facts { path: Some(folder.display().to_string()), ..Facts::default() },
                Some(e.to_string()),
            )
        })?;
    }
    export::write_atomic(path, bytes, false)?;
    Ok(path.display().to_string())
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

/// The Thunderbird profiles on this computer (none is not an error: the page then offers files only). The app
/// remembers them: `thunderbird_add` changes only a profile handed out here.
#[tauri::command]
pub async fn thunderbird_profiles(state: State<'_, AppState>) -> Result<Vec<ThunderbirdProfile>, Diagnosis> {
    let profiles = blocking(|| match thunderbird_profile::list_profiles() {
        Err(d) if d.kind == DiagnosisKind::ThunderbirdNotFound => Ok(Vec::new()),
        other => other,
    })
    .await?;
    state.offer_profiles(&profiles);
    Ok(profiles)
}

/// Adds the account to a Thunderbird profile (refused while Thunderbird runs; a second add changes nothing to the
/// account) and stores the password in the profile's login store (the tested one still held, else the keychain's),
/// so that Thunderbird signs in without asking. With `with_dav` ("Also add my iCloud calendars and contacts") the
/// calendars and address book the connection test found go in too; without, none do. The report says what was
/// added, and why the password could not be stored if it could not.
#[tauri::command]
pub async fn thunderbird_add(
    state: State<'_, AppState>,
    address: String,
    login: Option<String>,
    name: Option<String>,
    profile: String,
    with_dav: bool,
) -> Result<AddReport, Diagnosis> {
    let account = with_or_without_dav(state.verified_account(&address, login.as_deref(), name)?, with_dav);
    let profile = state.offered_profile(&profile)?;
    let password = handoff_password(&state, &account).await;
    blocking(move || match password {
        Ok(password) => nss_helper::add_with_password(&profile, &account, Some(&password), None, nss_helper::helper_program()),
        Err(why) => {
            let outcome = thunderbird_profile::add_account(&profile, &account)?;
            Ok(AddReport::new(outcome, Some(Err(why))))
        }
    })
    .await
}

/// The account as Thunderbird gets it: the core adds whatever calendars and address books `account.dav` holds, so
/// without the person's tick there are none.
fn with_or_without_dav(mut account: icloud_mail_core::Account, with_dav: bool) -> icloud_mail_core::Account {
    if !with_dav {
        account.dav = Default::default();
    }
    account
}

/// The save step's question: every mail app it offers (the export registry's groups, in order), each marked when
/// this computer has it (Thunderbird profiles found; classic Outlook registered with Windows).
#[tauri::command]
pub async fn mail_apps_present() -> Result<Vec<MailApp>, Diagnosis> {
    blocking(|| Ok(mail_apps::mail_apps())).await
}

/// "Import into Outlook": starts classic Outlook (found under App Paths) with the saved profile file, `outlook.exe
/// /importprf "<path>"`. Only a `.prf` file that exists is handed over; Outlook then asks the person to confirm.
#[tauri::command]
pub async fn outlook_import(path: String) -> Result<(), Diagnosis> {
    blocking(move || {
        let prf = PathBuf::from(&path);
        let is_prf = prf.extension().is_some_and(|e| e.eq_ignore_ascii_case("prf"));
        if !is_prf || !prf.is_file() {
            let facts = Facts { path: Some(path), ..Facts::default() };
            return Err(Diagnosis::new(DiagnosisKind::OutlookNotStarted, facts, Some("not a saved .prf file".to_owned())));
        }
        // Outlook keeps running after the app is closed: the process is not waited for.
        mail_apps::import_into_outlook(&prf).map(drop)
    })
    .await
}

/// The app's own settings file: `<config dir>/icloud-mail-setup/settings.json`.
fn settings_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| mail_apps::settings_path(&dir))
}

/// What the app remembers from last time (the defaults when nothing is saved or the file cannot be read).
#[tauri::command]
pub async fn load_settings() -> Result<Settings, Diagnosis> {
    blocking(|| Ok(settings_path().map(|p| mail_apps::load_settings(&p)).unwrap_or_default())).await
}

/// Remembers the mail app chosen on the save step for next time.
#[tauri::command]
pub async fn save_choice(mail_app: ClientGroup) -> Result<(), Diagnosis> {
    blocking(move || {
        let Some(path) = settings_path() else { return Ok(()) };
        let mut settings = mail_apps::load_settings(&path);
        if settings.mail_app == Some(mail_app) {
            return Ok(());
        }
        settings.mail_app = Some(mail_app);
        mail_apps::save_settings(&path, &settings)
    })
    .await
}

/// Whether the domain of `address` (a custom domain) receives its mail through iCloud (MX records), within a few
/// seconds; offline or failing DNS comes back as `dns_failure`, never a hang. Only the domain of a valid address is
/// ever looked up, never a string the page chose.
#[tauri::command]
pub async fn check_domain(address: String) -> Result<DomainReport, Diagnosis> {
    let address = Address::parse(&address)?;
    Ok(probe::check_domain(&address.domain, &probe::DnsConfig::System, std::time::Duration::from_secs(5)).await)
}

/// The page calls this once its first step is on screen and usable, with its own start: its navigation start
/// (wall-clock ms) and, in ms from there, when the document was received and parsed, when its script began to run
/// and when its modules had run, when the step was built and when the first frame with it was painted (`None`: the
/// web view could not say). It only feeds the start-up trace (silent unless `ICLOUD_MAIL_SETUP_TRACE_STARTUP` is set).
#[tauri::command]
pub fn page_ready(
    time_origin: f64,
    response_end: Option<f64>,
    dom_interactive: Option<f64>,
    script_start: Option<f64>,
    modules_run: f64,
    step_built: f64,
    first_frame: f64,
) {
    crate::startup::page_ready(crate::startup::PageTimes {
        time_origin,
        response_end,
        dom_interactive,
        script_start,
        modules_run,
        step_built,
        first_frame,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_own_file_goes_to_its_place_made_if_missing_and_never_over_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/vdirsyncer/config");
        assert_eq!(write_config_file(&path, b"one").unwrap(), path.display().to_string());
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(write_config_file(&path, b"two").unwrap_err().kind, DiagnosisKind::OutputExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one", "somebody's configuration is kept");
        let places: Vec<_> = [ExportFormat::Vdirsyncer, ExportFormat::Khal, ExportFormat::Khard, ExportFormat::Msmtp]
            .into_iter()
            .map(|f| config_home_target(f).map(|p| p.ends_with(f.exporter().config_home_path().unwrap_or("-"))))
            .collect();
        assert_eq!(places, [Some(true), Some(true), Some(true), None], "only the calendar and contact files have a place");
    }

    #[test]
    fn a_panic_in_blocking_work_is_an_internal_error() {
        let answer = tauri::async_runtime::block_on(blocking(|| -> Result<(), Diagnosis> { panic!("a bug") }));
        let d = answer.unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::InternalError, "{d:?}");
        assert!(d.detail.unwrap_or_default().contains("panic"), "the detail says what happened");
    }

    #[test]
    fn thunderbird_gets_the_calendars_and_contacts_found_only_when_the_box_is_ticked() {
        use icloud_mail_core::account::{AddressBook, Calendar, CalendarsFound, ContactsFound, DavFound, DavService};
        let mut account = icloud_mail_core::Account::new(Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let service = |host: &str, home: &str| DavService {
            host: host.into(),
            port: 443,
            username: "jane@icloud.com".into(),
            principal: format!("https://{host}/1234/principal/"),
            home: home.into(),
            realm: Some("MMCalDav".into()),
        };
        let found = DavFound {
            caldav: Some(CalendarsFound {
                service: service("caldav.icloud.com", "https://p23-caldav.icloud.com/1234/calendars/"),
                calendars: vec![Calendar {
                    name: "Home".into(),
                    url: "https://p23-caldav.icloud.com/1234/calendars/home/".into(),
                    color: None,
                }],
            }),
            carddav: Some(ContactsFound {
                service: service("contacts.icloud.com", "https://p23-contacts.icloud.com/1234/carddavhome/"),
                addressbooks: vec![AddressBook {
                    name: "card".into(),
                    url: "https://p23-contacts.icloud.com/1234/carddavhome/card/".into(),
                }],
            }),
        };
        account.dav = found.clone();
        assert_eq!(with_or_without_dav(account.clone(), true).dav, found, "ticked: everything the test found");
        let without = with_or_without_dav(account.clone(), false);
        assert_eq!(without.dav, DavFound::default(), "not ticked: no calendar, no address book");
        assert_eq!(without.provider, account.provider, "the mail settings are untouched");
    }

    #[test]
    fn mbsyncs_mail_folder_is_made_only_once_its_file_was_written() {
        let home = tempfile::tempdir().unwrap();
        let account = icloud_mail_core::Account::new(Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let folder = export::mbsync::maildir_in(home.path(), &account);

        // The save dialog cancelled, or the write failed: nothing is created.
        assert_eq!(saved_with_its_folder(ExportFormat::Mbsync, &account, Some(home.path()), || Ok(None)).unwrap(), None);
        let failed =
            saved_with_its_folder(ExportFormat::Mbsync, &account, Some(home.path()), || Err(Diagnosis::of(DiagnosisKind::WriteFailed)));
        assert_eq!(failed.unwrap_err().kind, DiagnosisKind::WriteFailed);
        assert!(!home.path().join("Mail").exists(), "no ~/Mail after a cancelled or failed save");

        // Another format never makes a mail folder.
        saved_with_its_folder(ExportFormat::Msmtp, &account, Some(home.path()), || Ok(Some("/x/msmtprc".into()))).unwrap();
        assert!(!home.path().join("Mail").exists());

        // Written: the folder the file names is there for the first run.
        let written = saved_with_its_folder(ExportFormat::Mbsync, &account, Some(home.path()), || {
            assert!(!folder.exists(), "the folder is made after the file, not before");
            Ok(Some("/x/mbsyncrc".into()))
        });
        assert_eq!(written.unwrap().as_deref(), Some("/x/mbsyncrc"));
        assert!(folder.is_dir(), "{}", folder.display());
    }
}
