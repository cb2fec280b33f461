//! Exporters: one module per mail-client format behind the small `Exporter` trait, the registry that lists them,
//! and the Thunderbird profile editor beside them. Every format carries servers, ports, security and usernames;
//! none ever receives the password, so none can write it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::lang::Lang;

pub mod dav;
pub mod thunderbird_profile;
mod xml;

/// The keychain entry's service name, as the keychain module stores it (account = the login address).
pub const KEYCHAIN_SERVICE: &str = crate::keychain::SERVICE;

/// The program name terminal clients call for the password when nothing better is known.
pub const APP_PROGRAM: &str = "icloud-mail-setup";

/// One client format: what file it writes and how.
pub trait Exporter: Sync {
    fn format(&self) -> ExportFormat;
    /// Formats whose import path is not confirmed on a current client.
    fn experimental(&self) -> bool {
        false
    }
    /// The file name a person would expect (no folder).
    fn file_name(&self, account: &Account) -> String;
    /// The file's bytes. Takes no password: there is none to leak.
    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis>;
    /// Where the client reads this file when it is given none, below the XDG config folder (`xdg_config_home`):
    /// the window and the command line write it there. None for files a person places or imports themselves.
    fn config_home_path(&self) -> Option<&'static str> {
        None
    }
}

/// The folder the XDG base-directory specification names for configuration, as vdirsyncer, khal and khard look
/// for it on every system: `$XDG_CONFIG_HOME` when it is an absolute path, else `.config` in the home folder.
pub fn xdg_config_home() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").map(std::path::PathBuf::from).filter(|d| d.is_absolute()) {
        return Some(dir);
    }
    let home = std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" }).filter(|h| !h.is_empty())?;
    Some(std::path::PathBuf::from(home).join(".config"))
}

/// The mail apps a person chooses between on the save step, and the groups of the command line's format list.
/// Each format belongs to exactly one; its words are the catalogue's `group.<id>.name` and `group.<id>.how`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ClientGroup {
    Thunderbird,
    Outlook,
    AppleMail,
    /// Thunderbird for Android on a phone: the QR code it scans.
    AndroidPhone,
    /// neomutt, aerc, mbsync, msmtp.
    Terminal,
    /// Any other mail app: the settings card.
    OtherApp,
    /// Files for administrators: autoconfig, autodiscover, the registry file.
    Admin,
}

impl ClientGroup {
    /// Every group, in the order the save step offers them.
    pub const ALL: &'static [ClientGroup] = &[
        ClientGroup::Thunderbird,
        ClientGroup::Outlook,
        ClientGroup::AppleMail,
        ClientGroup::AndroidPhone,
        ClientGroup::OtherApp,
        ClientGroup::Terminal,
        ClientGroup::Admin,
    ];

    /// The snake_case id, as in JSON and the catalogue keys.
    pub fn id(self) -> &'static str {
        match self {
            ClientGroup::Thunderbird => "thunderbird",
            ClientGroup::Outlook => "outlook",
            ClientGroup::AppleMail => "apple_mail",
            ClientGroup::AndroidPhone => "android_phone",
            ClientGroup::Terminal => "terminal",
            ClientGroup::OtherApp => "other_app",
            ClientGroup::Admin => "admin",
        }
    }

    /// Whether this group's mail app asks the person for the password itself, because nothing can hand it over: no
    /// password command reads the keychain (as terminal clients' files do) and there is no profile to store it in
    /// (as Thunderbird's). Where it asks, the save and Done steps offer "Copy password" (Thunderbird joins them
    /// only when its password store could not be written). The one place this is decided; the page gets it with
    /// each `MailApp`.
    pub fn asks_for_password(self) -> bool {
        match self {
            ClientGroup::Outlook | ClientGroup::AppleMail | ClientGroup::OtherApp => true,
            // The phone gets the password in its code or asks for it itself, on the phone: nothing to paste here.
            ClientGroup::Thunderbird | ClientGroup::AndroidPhone | ClientGroup::Terminal | ClientGroup::Admin => false,
        }
    }

    /// The group's name for people, in `lang`.
    pub fn name(self, lang: Lang) -> String {
        lang.plain(&format!("group.{}.name", self.id()))
    }

    /// The formats of this group, in the registry's order.
    pub fn formats(self) -> impl Iterator<Item = ExportFormat> {
        ExportFormat::ALL.iter().copied().filter(move |f| f.group() == self)
    }
}

/// The registry. Each line: the enum variant, its public id (a public interface: the command line's `--format`
/// and the page use it as written), the module (one file) whose unit struct of the same name writes it, and the
/// mail-app group it is offered under. Its words are the catalogue's `format.<id>.name` and
/// `format.<id>.description` (a test checks every catalogue has them). Adding a format is one new file, one line
/// here and its words.
macro_rules! registry {
    ($($variant:ident = $id:literal => $module:ident in $group:ident,)*) => {
        $(pub mod $module;)*

        /// A client format, by its public id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        pub enum ExportFormat {
            $(#[serde(rename = $id)] $variant,)*
        }

        impl ExportFormat {
            /// Every format, in the order the registry lists them.
            pub const ALL: &'static [ExportFormat] = &[$(ExportFormat::$variant,)*];

            pub fn id(self) -> &'static str {
                match self {
                    $(ExportFormat::$variant => $id,)*
                }
            }

            pub fn exporter(self) -> &'static dyn Exporter {
                match self {
                    $(ExportFormat::$variant => &$module::$variant,)*
                }
            }

            /// The mail app this format is offered for.
            pub fn group(self) -> ClientGroup {
                match self {
                    $(ExportFormat::$variant => ClientGroup::$group,)*
                }
            }
        }
    };
}

registry! {
    ThunderbirdAutoconfig = "thunderbird-autoconfig" => thunderbird_autoconfig in Admin,
    OutlookPrf = "outlook-prf" => outlook_prf in Outlook,
    OutlookAutodiscover = "outlook-autodiscover" => outlook_autodiscover in Admin,
    OutlookReg = "outlook-reg" => outlook_reg in Admin,
    AppleMobileconfig = "apple-mobileconfig" => apple_mobileconfig in AppleMail,
    ThunderbirdAndroidQr = "thunderbird-android-qr" => thunderbird_android_qr in AndroidPhone,
    Neomutt = "neomutt" => neomutt in Terminal,
    Aerc = "aerc" => aerc in Terminal,
    Mbsync = "mbsync" => mbsync in Terminal,
    Msmtp = "msmtp" => msmtp in Terminal,
    Vdirsyncer = "vdirsyncer" => vdirsyncer in Terminal,
    Khal = "khal" => khal in Terminal,
    Khard = "khard" => khard in Terminal,
    SettingsText = "settings-text" => settings_text in OtherApp,
    SettingsHtml = "settings-html" => settings_html in OtherApp,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(id: &str) -> Result<Self, String> {
        ExportFormat::ALL.iter().copied().find(|f| f.id() == id).ok_or_else(|| {
            let ids: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.id()).collect();
            format!("unknown format '{id}'; expected one of: {}", ids.join(", "))
        })
    }
}

impl ExportFormat {
    /// The format's name for people, in `lang` ("Outlook profile (.prf)").
    pub fn name(self, lang: Lang) -> String {
        lang.plain(&format!("format.{}.name", self.id()))
    }

    /// One line for people: which client, how to use the file, in `lang`.
    pub fn description(self, lang: Lang) -> String {
        lang.plain(&format!("format.{}.description", self.id()))
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// What the page shows in its list of formats (its words come from the catalogue by the format's id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportFormatInfo {
    pub format: ExportFormat,
    pub group: ClientGroup,
    pub experimental: bool,
}

/// Every format, grouped by mail app in the order the save step offers the groups (`ClientGroup::ALL`), each group
/// in the registry's order.
pub fn formats() -> Vec<ExportFormatInfo> {
    ClientGroup::ALL
        .iter()
        .flat_map(|g| g.formats())
        .map(|f| ExportFormatInfo { format: f, group: f.group(), experimental: f.exporter().experimental() })
        .collect()
}

/// Choices that are not part of the account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportOptions {
    /// A PEM file with an extra certificate authority for the terminal clients that can trust one: a company CA or
    /// a test server's. mbsync and NeoMutt trust it besides the system's store; msmtp trusts only this file then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ca_file: Option<String>,
    /// How terminal clients read the password from the keychain.
    #[serde(default)]
    pub password_command: PasswordCommand,
    /// The language of the words a person reads when a file is opened: the settings card, the `.mobileconfig`'s
    /// descriptions (System Settings shows them while installing). Config-file comments are for admins and stay English.
    #[serde(default)]
    pub lang: Lang,
    /// Where the Autodiscover XML will be on the Windows computer (`outlook-reg`): an absolute path (`C:\…`,
    /// `\\server\…`) or one starting with an environment variable, in a folder only that Windows user can write
    /// to. Default `%LOCALAPPDATA%\iCloud Mail Setup\autodiscover-<domain>.xml`, expanded by Windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub autodiscover_xml_path: Option<String>,
    /// The image Thunderbird for Android's QR code is saved as (`thunderbird-android-qr`): PNG unless SVG is asked.
    #[serde(default)]
    pub qr_image: thunderbird_android_qr::QrImage,
    /// `apple-mobileconfig` only: also add iCloud Calendars and Contacts (`com.apple.caldav.account`,
    /// `com.apple.carddav.account`). Off by default: a Mac or iPhone signed in to the same Apple Account syncs
    /// them already, and a second account for them would show every calendar twice; these are for a device signed
    /// in to another Apple Account.
    #[serde(default)]
    pub with_dav: bool,
}

impl ExportOptions {
    /// Paths go into line-based config files: a line break in one would start a line of its own there.
    pub fn check(&self) -> Result<(), Diagnosis> {
        let program = match &self.password_command {
            PasswordCommand::App { program, .. } => Some(program.as_str()),
            _ => None,
        };
        for value in [self.ca_file.as_deref(), self.autodiscover_xml_path.as_deref(), program].into_iter().flatten() {
            if value.chars().any(char::is_control) {
                let facts = Facts { path: Some(value.escape_debug().to_string()), ..Facts::default() };
                return Err(Diagnosis::new(DiagnosisKind::WriteFailed, facts, Some("the path contains a control character".into())));
            }
        }
        // Outlook reads the path from any folder: a relative one would mean nothing there.
        if let Some(path) = self.autodiscover_xml_path.as_deref().filter(|p| !outlook_reg::is_absolute_windows_path(p)) {
            let facts = Facts { path: Some(path.to_owned()), ..Facts::default() };
            let why = r"the Autodiscover XML path must be absolute (C:\…) or start with %LOCALAPPDATA%";
            return Err(Diagnosis::new(DiagnosisKind::WriteFailed, facts, Some(why.into())));
        }
        Ok(())
    }
}

/// A command that prints the app-specific password on standard output, for clients that run one through `sh -c`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PasswordCommand {
    /// `icloud-mail-setup keychain get --address LOGIN`: the same on every OS; `program` is the command name or
    /// the full path of this program; `note`, when set, is a comment the file carries about it (why the bare name).
    App {
        program: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        note: Option<String>,
    },
    /// `secret-tool lookup service icloud-mail-setup username LOGIN` (Linux, libsecret-tools).
    SecretTool,
    /// `security find-generic-password -s icloud-mail-setup -a LOGIN -w` (macOS).
    Security,
}

impl Default for PasswordCommand {
    fn default() -> Self {
        PasswordCommand::App { program: APP_PROGRAM.to_owned(), note: None }
    }
}

impl PasswordCommand {
    /// The POSIX shell command line that prints the password of `login`.
    pub fn shell_command(&self, login: &str) -> String {
        let login = sh_quote(login);
        match self {
            // NeoMutt runs the command inside backticks and cannot escape one within it; a path that holds a
            // backtick (never a real install) falls back to the program's name, found on PATH.
            PasswordCommand::App { program, .. } if program.contains('`') => format!("{APP_PROGRAM} keychain get --address {login}"),
            PasswordCommand::App { program, .. } => format!("{} keychain get --address {login}", sh_quote(program)),
            PasswordCommand::SecretTool => format!("secret-tool lookup service {KEYCHAIN_SERVICE} username {login}"),
            PasswordCommand::Security => format!("security find-generic-password -s {KEYCHAIN_SERVICE} -a {login} -w"),
        }
    }

    /// The same command as a list of words, for clients that run a program without a shell (vdirsyncer's
    /// `password.fetch = ["command", …]`): the program, then its arguments, none quoted.
    pub fn argv(&self, login: &str) -> Vec<String> {
        let words: Vec<&str> = match self {
            PasswordCommand::App { program, .. } => vec![program, "keychain", "get", "--address", login],
            PasswordCommand::SecretTool => vec!["secret-tool", "lookup", "service", KEYCHAIN_SERVICE, "username", login],
            PasswordCommand::Security => vec!["security", "find-generic-password", "-s", KEYCHAIN_SERVICE, "-a", login, "-w"],
        };
        words.into_iter().map(str::to_owned).collect()
    }

    /// The comment lines (`# …`) a file that runs this command carries about it: why it names the program without
    /// a path, when it does. None otherwise.
    pub fn comment_lines(&self) -> Vec<String> {
        match self {
            PasswordCommand::App { note: Some(note), .. } => {
                note.lines().filter(|l| !l.chars().any(char::is_control)).map(|l| format!("# {l}")).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The program terminal clients should call for the password: the bare name when PATH finds this very program (it
/// then survives upgrades and moves), otherwise this program's full path (an app bundle, a build folder). From an
/// AppImage, whose program runs from a mount that vanishes when it exits (`$APPDIR`, under `/tmp`), it is the
/// AppImage file itself (`$APPIMAGE`). A path with a folder among its parents that other users can write to (a
/// world-writable or sticky one, as `/tmp`) is never written: another user could put a program there that the mail
/// client runs and hands the keychain's password; the bare name is written instead, with a note saying why.
pub fn app_program() -> PasswordCommand {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else { return PasswordCommand::default() };
    let file_name = format!("{APP_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(&file_name)).find(|candidate| candidate.is_file()));
    if on_path.and_then(|p| std::fs::canonicalize(p).ok()).is_some_and(|found| found == me) {
        return PasswordCommand::default();
    }
    let program = appimage_file(&me).unwrap_or(me);
    match writable_by_others(&program) {
        Some(folder) => PasswordCommand::App {
            program: APP_PROGRAM.to_owned(),
            note: Some(format!(
                "{} runs from {}, a folder other users can write to,\n\
                 so this file calls it by name: put {APP_PROGRAM} on PATH, or write its path if it moves to a folder only you can write to.",
                program.display(),
                folder.display()
            )),
        },
        None => PasswordCommand::App { program: without_verbatim_prefix(program).display().to_string(), note: None },
    }
}

/// The AppImage file this program was started from, when it runs from that AppImage's mount: `$APPIMAGE`, when
/// `$APPDIR` (the mount) holds this program and `$APPIMAGE` is a file.
fn appimage_file(me: &Path) -> Option<std::path::PathBuf> {
    let appdir = std::fs::canonicalize(std::env::var_os("APPDIR")?).ok()?;
    let appimage = std::fs::canonicalize(std::env::var_os("APPIMAGE")?).ok()?;
    (me.starts_with(&appdir) && appimage.is_file()).then_some(appimage)
}

/// The first folder among `path`'s parents that users other than its owner may write to: world-writable, or sticky
/// (`/tmp`: anyone may create a name there). None on systems without such modes (Windows: a program's folders are
/// the installer's or the person's own).
fn writable_by_others(path: &Path) -> Option<&Path> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.ancestors()
            .skip(1)
            .find(|folder| std::fs::metadata(folder).map(|meta| meta.permissions().mode() & 0o1002 != 0).unwrap_or(false))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// A canonical path as people and other programs write it. On Windows `std::fs::canonicalize` returns the verbatim
/// form (`\\?\C:\…`, `\\?\UNC\server\share\…`), which mail clients and most programs do not accept in their
/// settings; elsewhere paths have no such form and are returned as they are.
pub fn without_verbatim_prefix(path: std::path::PathBuf) -> std::path::PathBuf {
    if !cfg!(windows) {
        return path;
    }
    match path.to_str().and_then(plain_windows_path) {
        Some(plain) => plain.into(),
        None => path,
    }
}

/// `C:\…` for `\\?\C:\…` and `\\server\share\…` for `\\?\UNC\server\share\…`; None for every other path (a
/// verbatim path to a device or volume has no plain form).
fn plain_windows_path(text: &str) -> Option<String> {
    if let Some(share) = text.strip_prefix(r"\\?\UNC\") {
        return Some(format!(r"\\{share}"));
    }
    let rest = text.strip_prefix(r"\\?\")?;
    let drive = rest.as_bytes();
    (drive.len() >= 3 && drive[0].is_ascii_alphabetic() && drive[1] == b':' && drive[2] == b'\\').then(|| rest.to_owned())
}

/// POSIX shell quoting (shlex): plain words stay as they are, anything else is single-quoted.
pub(crate) fn sh_quote(word: &str) -> String {
    // shlex refuses only NUL, which neither a path from the OS nor a checked address can hold.
    shlex::try_quote(word).map(|q| q.into_owned()).unwrap_or_else(|_| "''".to_owned())
}

/// A host for a URL: IPv6 literals in brackets.
pub(crate) fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The account's name inside client configs (msmtp `-a`, the mbsync channel, the aerc section): the address,
/// with anything but letters, digits and `. _ @ + -` replaced by `-`, so that no config syntax needs quoting for it.
pub(crate) fn account_name(account: &Account) -> String {
    account
        .address
        .address
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-') { c } else { '-' })
        .collect()
}

/// `icloud-mail-<address>`, with anything a file system might refuse replaced by `_`.
pub(crate) fn file_stem(account: &Account) -> String {
    let safe: String = account
        .address
        .address
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-') { c } else { '_' })
        .collect();
    format!("icloud-mail-{safe}")
}

/// A format's own writer failed. They all write into memory, which does not fail, but what comes from outside
/// gets a diagnosis rather than a panic (a panic in the release build ends the whole app).
pub(crate) fn render_failed(format: ExportFormat, account: &Account, error: &dyn std::fmt::Display) -> Diagnosis {
    let facts = Facts { path: Some(format.exporter().file_name(account)), ..Facts::default() };
    Diagnosis::new(DiagnosisKind::WriteFailed, facts, Some(format!("{format}: {error}")))
}

/// A rendered file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedFile {
    pub format: ExportFormat,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

pub fn export(account: &Account, format: ExportFormat, options: &ExportOptions) -> Result<ExportedFile, Diagnosis> {
    account.check()?;
    options.check()?;
    let exporter = format.exporter();
    Ok(ExportedFile { format, file_name: exporter.file_name(account), bytes: exporter.render(account, options)? })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then renamed into place, and
/// the folder synced, so a reader sees the old file or the new one, never half of one, even after a power cut. An
/// existing file is replaced only when `overwrite` is set; otherwise the rename itself refuses (no window between
/// a check and the write). On Unix the file is readable by its owner only (mode 0600, the temporary file's), as
/// clients that may hold credentials expect (msmtp, aerc refuse others); on Windows it gets the folder's inherited
/// permissions (a person's own folders are theirs alone already), and nothing here claims otherwise.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), Diagnosis> {
    use std::io::Write;
    let shown = path.display().to_string();
    let failed = |e: &dyn std::fmt::Display| {
        Diagnosis::new(DiagnosisKind::WriteFailed, Facts { path: Some(shown.clone()), ..Facts::default() }, Some(e.to_string()))
    };
    let exists = || Diagnosis::new(DiagnosisKind::OutputExists, Facts { path: Some(shown.clone()), ..Facts::default() }, None);
    if !overwrite && path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new().prefix(".icloud-mail-setup-").tempfile_in(folder).map_err(|e| failed(&e))?;
    temp.write_all(bytes).and_then(|_| temp.as_file().sync_all()).map_err(|e| failed(&e))?;
    if overwrite {
        temp.persist(path).map_err(|e| failed(&e.error))?;
    } else {
        temp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                exists()
            } else {
                failed(&e.error)
            }
        })?;
    }
    sync_folder(folder).map_err(|e| failed(&e))
}

/// Replaces an existing file (or creates it) atomically, keeping the old file's permissions: a temporary file
/// beside it (`.<name>.XXXXXX`, owner only), written and synced, given the old file's permissions, renamed over it,
/// and the folder synced so that the rename itself survives a power cut. For files another program owns and reads
/// (Thunderbird's prefs.js and logins.json), where `write_atomic`'s 0600 for a new file is right but an existing
/// file's mode is the owner's choice.
pub(crate) fn replace_keeping_permissions(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    let mut temp = tempfile::Builder::new().prefix(&prefix).tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    sync_folder(folder)
}

/// Syncs a folder after a file was renamed into it: the rename is a change of the folder, and until the folder
/// reaches the disk a power cut can undo it (ext4, XFS). Unix only: Windows cannot open a folder for this, and
/// NTFS journals the rename. A file system that cannot sync a folder at all (EINVAL) is left as it is.
pub(crate) fn sync_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        match std::fs::File::open(folder).and_then(|dir| dir.sync_all()) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = folder;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_verbatim_paths_get_their_plain_form() {
        assert_eq!(
            plain_windows_path(r"\\?\C:\Program Files\iCloud Mail Setup\icloud-mail-setup.exe").as_deref(),
            Some(r"C:\Program Files\iCloud Mail Setup\icloud-mail-setup.exe")
        );
        assert_eq!(plain_windows_path(r"\\?\UNC\server\share\ca.pem").as_deref(), Some(r"\\server\share\ca.pem"));
        assert_eq!(plain_windows_path(r"\\?\Volume{1234}\ca.pem"), None);
        assert_eq!(plain_windows_path(r"C:\ca.pem"), None, "already plain");
        // Only Windows has verbatim paths; elsewhere a path is never rewritten.
        let odd = std::path::PathBuf::from(r"\\?\C:\x");
        let expected = if cfg!(windows) { std::path::PathBuf::from(r"C:\x") } else { odd.clone() };
        assert_eq!(without_verbatim_prefix(odd), expected);
    }

    #[test]
    fn ids_are_the_public_interface() {
        let ids: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.id()).collect();
        assert_eq!(
            ids,
            [
                "thunderbird-autoconfig",
                "outlook-prf",
                "outlook-autodiscover",
                "outlook-reg",
                "apple-mobileconfig",
                "thunderbird-android-qr",
                "neomutt",
                "aerc",
                "mbsync",
                "msmtp",
                "vdirsyncer",
                "khal",
                "khard",
                "settings-text",
                "settings-html"
            ]
        );
        for f in ExportFormat::ALL {
            assert_eq!(f.exporter().format(), *f, "the registry maps {f} to another exporter");
            assert_eq!(serde_json::to_value(f).unwrap(), f.id());
            assert_eq!(f.id().parse::<ExportFormat>().unwrap(), *f);
        }
        assert!("thunderbird".parse::<ExportFormat>().unwrap_err().contains("settings-html"));
    }

    #[test]
    fn every_format_has_a_group_and_words_in_every_catalogue() {
        for f in ExportFormat::ALL {
            assert!(ClientGroup::ALL.contains(&f.group()), "{f} is in a group the save step does not offer");
            for lang in Lang::ALL {
                for part in ["name", "description"] {
                    let key = format!("format.{}.{part}", f.id());
                    assert!(lang.has(&key), "{}.json has no {key}", lang.code());
                }
            }
        }
        for g in ClientGroup::ALL {
            for lang in Lang::ALL {
                for part in ["name", "how"] {
                    let key = format!("group.{}.{part}", g.id());
                    assert!(lang.has(&key), "{}.json has no {key}", lang.code());
                }
            }
            assert_eq!(serde_json::to_value(g).unwrap(), g.id());
        }
        let listed: usize = ClientGroup::ALL.iter().map(|g| g.formats().count()).sum();
        assert_eq!(listed, ExportFormat::ALL.len(), "every format is offered exactly once");
        assert_eq!(ExportFormat::SettingsHtml.name(Lang::De), Lang::De.plain("format.settings-html.name"));
    }

    #[test]
    fn password_commands_quote_for_the_shell() {
        let app =
            PasswordCommand::App { program: "/Applications/iCloud Mail Setup.app/Contents/MacOS/icloud-mail-setup".into(), note: None };
        assert_eq!(
            app.shell_command("jane.doe@icloud.com"),
            "'/Applications/iCloud Mail Setup.app/Contents/MacOS/icloud-mail-setup' keychain get --address jane.doe@icloud.com"
        );
        assert_eq!(PasswordCommand::default().shell_command("a+b@me.com"), "icloud-mail-setup keychain get --address a+b@me.com");
        assert_eq!(
            PasswordCommand::SecretTool.shell_command("jane@icloud.com"),
            "secret-tool lookup service icloud-mail-setup username jane@icloud.com"
        );
        assert_eq!(
            PasswordCommand::Security.shell_command("jane@icloud.com"),
            "security find-generic-password -s icloud-mail-setup -a jane@icloud.com -w"
        );
        assert_eq!(sh_quote("it's"), r#""it's""#);
    }

    #[test]
    fn paths_with_line_breaks_are_refused_before_any_format_sees_them() {
        let account = Account::new(crate::Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let options = ExportOptions { ca_file: Some("/tmp/ca.pem\ntls off".into()), ..ExportOptions::default() };
        let err = export(&account, ExportFormat::Msmtp, &options).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::WriteFailed);
        assert!(err.message(crate::Lang::En).contains("ca.pem\\ntls off"), "{}", err.message(crate::Lang::En));
        assert!(export(&account, ExportFormat::Msmtp, &ExportOptions::default()).is_ok());
    }

    /// Product code of the exporters (everything before a file's `#[cfg(test)]` module) neither unwraps nor
    /// expects: what comes from outside gets a diagnosis, since a panic in the release build (panic = abort) ends
    /// the whole app. A line may do so only where it says why it `cannot fail`.
    #[test]
    fn exporters_neither_unwrap_nor_expect_outside_tests() {
        let test_module = regex::Regex::new(r"#\[cfg\([^\]]*\btest\b").unwrap();
        let call = regex::Regex::new(r"\.(expect\(|unwrap\(\))").unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/export");
        let mut folders = vec![root];
        let mut files = Vec::new();
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() >= 12, "found only {files:?}");
        let mut offences = Vec::new();
        for path in &files {
            let source = std::fs::read_to_string(path).unwrap();
            let product = test_module.split(&source).next().unwrap_or_default();
            for (index, line) in product.lines().enumerate() {
                if call.is_match(line) && !line.trim_start().starts_with("//") && !line.contains("cannot fail") {
                    offences.push(format!("{}:{}: {}", path.display(), index + 1, line.trim()));
                }
            }
        }
        assert!(offences.is_empty(), "unwrap/expect in exporter product code:\n{}", offences.join("\n"));
    }

    #[test]
    fn hostile_servers_are_refused_by_every_format_not_panicked_on() {
        let account = Account::new(crate::Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let hostile = ["a|b", "a b", "a\nb", "-x", "a..b", "256.1.1.1", "fe80::1%eth0", "bücher.example", ""];
        for host in hostile {
            for (imap, smtp) in [(host, "smtp.example"), ("imap.example", host)] {
                let mut account = account.clone();
                account.provider.imap.host = imap.to_owned();
                account.provider.smtp.host = smtp.to_owned();
                for format in ExportFormat::ALL {
                    let err = export(&account, *format, &ExportOptions::default()).expect_err(&format!("{format} {host:?}"));
                    assert_eq!(err.kind, DiagnosisKind::ServerInvalid, "{format} {host:?}");
                    assert_eq!(err.facts.host.as_deref(), Some(host.escape_debug().to_string().as_str()));
                }
            }
        }
        let mut account = account.clone();
        account.provider.smtp_fallback = Some(crate::provider::Endpoint::new("imap.example", 0, crate::provider::Security::Tls));
        assert_eq!(export(&account, ExportFormat::Msmtp, &ExportOptions::default()).unwrap_err().kind, DiagnosisKind::ServerInvalid);
    }

    #[test]
    fn aerc_turns_a_host_no_url_can_hold_into_a_diagnosis() {
        // Straight to the exporter, past `export`'s check: the URL builder itself must not panic.
        let mut account = Account::new(crate::Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        account.provider.imap.host = "a|b".into();
        let err = ExportFormat::Aerc.exporter().render(&account, &ExportOptions::default()).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ServerInvalid);
        assert_eq!(err.facts.host.as_deref(), Some("a|b"));
    }

    #[test]
    fn accounts_made_without_the_checks_are_checked_before_export() {
        let base = Account::new(crate::Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let mut account = base.clone();
        account.display_name = Some("Jane\u{fffe}".into());
        let err = export(&account, ExportFormat::AppleMobileconfig, &ExportOptions::default()).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::NameCharacterNotAllowed);
        assert_eq!(err.facts.position, Some(5));
        let mut account = base.clone();
        account.address.address = "ja\u{202e}ne@icloud.com".into();
        assert_eq!(
            export(&account, ExportFormat::Neomutt, &ExportOptions::default()).unwrap_err().kind,
            DiagnosisKind::AddressCharacterNotAllowed
        );
    }

    #[test]
    fn the_autodiscover_path_must_be_absolute() {
        let account = Account::new(crate::Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        for path in ["autodiscover.xml", r"iCloud\a.xml"] {
            let options = ExportOptions { autodiscover_xml_path: Some(path.into()), ..ExportOptions::default() };
            let err = export(&account, ExportFormat::OutlookReg, &options).unwrap_err();
            assert_eq!(err.kind, DiagnosisKind::WriteFailed, "{path}");
            assert!(err.detail.unwrap().contains("absolute"));
        }
        let options = ExportOptions { autodiscover_xml_path: Some(r"%APPDATA%\x\a.xml".into()), ..ExportOptions::default() };
        assert!(export(&account, ExportFormat::OutlookReg, &options).is_ok());
    }

    #[test]
    fn atomic_write_refuses_to_overwrite_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"one", false).unwrap();
        let err = write_atomic(&path, b"two", false).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::OutputExists);
        assert!(err.message(crate::Lang::En).contains("out.txt"), "{}", err.message(crate::Lang::En));
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"two", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "temporary files left behind: {leftovers:?}");
        let err = write_atomic(&dir.path().join("missing/out.txt"), b"x", false).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::WriteFailed);
    }
}
