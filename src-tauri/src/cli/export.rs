//! `icloud-mail-setup export`: writes one client profile or config file for an account.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use icloud_mail_core::export::outlook_reg::is_absolute_windows_path;
use icloud_mail_core::export::thunderbird_android_qr::QrImage;
use icloud_mail_core::export::{self, ClientGroup, ExportFormat, ExportOptions, PasswordCommand};
use icloud_mail_core::{Facts, Lang};

use super::args::Output;
use super::verified::SetupArgs;
use super::{EXIT_FAILED, EXIT_OK};

/// Where terminal clients get the password.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PasswordSource {
    /// `icloud-mail-setup keychain get --address LOGIN` (any OS).
    App,
    /// `secret-tool lookup service icloud-mail-setup username LOGIN` (Linux).
    SecretTool,
    /// `security find-generic-password -s icloud-mail-setup -a LOGIN -w` (macOS).
    Security,
}

fn format_parser() -> impl TypedValueParser<Value = ExportFormat> {
    let ids: Vec<&'static str> = ExportFormat::ALL.iter().map(|f| f.id()).collect();
    // clap offers only the registered ids, so the parse cannot fail; the fallback is never taken.
    PossibleValuesParser::new(ids).map(|id| id.parse::<ExportFormat>().unwrap_or(ExportFormat::SettingsText))
}

/// The format list of `export --help`, grouped by mail app, made from the registry and the English catalogue (the
/// help is parsed before --lang is known).
pub fn formats_help() -> String {
    let mut help = String::from("Formats, by mail app:\n");
    for group in ClientGroup::ALL {
        help.push_str(&format!("  {}:\n", group.name(Lang::En)));
        for format in group.formats() {
            let experimental = if format.exporter().experimental() { " (experimental)" } else { "" };
            help.push_str(&format!("    {:<24}{}{experimental}\n", format.id(), format.description(Lang::En)));
        }
    }
    help.push_str(
        "\nNo file ever holds the password. Without --output the file gets the format's usual name in the current folder; vdirsyncer, khal and khard \
         files go where those programs read them (~/.config/vdirsyncer/config, ~/.config/khal/config, \
         ~/.config/khard/khard.conf, below $XDG_CONFIG_HOME when set), their folders made. \
         An existing file is replaced only with --force; files are written atomically (on Linux and macOS readable by \
         you only). The settings card is written in the language of --lang.\n\n\
         thunderbird-android-qr writes the QR code Thunderbird for Android scans (Add account → Import settings → \
         Scan QR code) as FILE.png or FILE.svg, as --output's extension says (PNG without --output or with -). It \
         never holds the password, from here or from --verified: the phone asks for it once. A code with the password \
         exists only in the window, on screen, when the person ticks \"Include the app-specific password\".\n\n",
    );
    help.push_str(super::verified::HELP);
    help.push_str(
        "\n\n\
         Exit codes: 0 written, 1 not written (file exists, folder not writable, a format this account cannot use, \
         a --verified test that did not pass), 2 bad arguments.",
    );
    help
}

#[derive(Debug, Args)]
#[command(after_help = formats_help())]
pub struct ExportArgs {
    #[command(flatten)]
    pub setup: SetupArgs,
    /// The client format (see below).
    #[arg(long, value_name = "F", value_parser = format_parser())]
    pub format: ExportFormat,
    /// The file to write, or `-` for standard output (thunderbird-android-qr: FILE.png or FILE.svg).
    #[arg(long, value_name = "PATH|-")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// How terminal clients read the password from the keychain.
    #[arg(long, value_enum, default_value = "app")]
    pub password_command: PasswordSource,
    /// apple-mobileconfig only: also add iCloud Calendars and Contacts. Only for a device signed in to another
    /// Apple Account: one signed in to this one syncs them already.
    #[arg(long)]
    pub with_dav: bool,
    /// outlook-reg only: where the Autodiscover XML will be on the Windows computer, in a folder only that user can
    /// write to (default: %LOCALAPPDATA%\iCloud Mail Setup\autodiscover-<domain>.xml).
    #[arg(long, value_name = "WINDOWS_PATH")]
    pub autodiscover_path: Option<String>,
}

fn checked_text(flag: &str, path: &Path) -> Result<String, String> {
    let text = path.to_str().ok_or_else(|| format!("{flag} {}: the path is not valid Unicode", path.display()))?;
    if text.chars().any(char::is_control) {
        return Err(format!("{flag}: the path contains a control character"));
    }
    Ok(text.to_owned())
}

fn options(args: &ExportArgs, lang: Lang) -> Result<ExportOptions, String> {
    args.setup.servers.extra_ca_pem()?;
    let ca_file = match &args.setup.servers.ca_file {
        // Clients run from other folders: the path must be absolute, and should exist now.
        Some(path) => {
            let absolute = std::fs::canonicalize(path).map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            let absolute = export::without_verbatim_prefix(absolute);
            Some(checked_text("--ca-file", &absolute)?)
        }
        None => None,
    };
    let autodiscover_xml_path = match &args.autodiscover_path {
        Some(path) => {
            let text = checked_text("--autodiscover-path", Path::new(path))?;
            if !is_absolute_windows_path(&text) {
                return Err(format!(
                    "--autodiscover-path {text}: give an absolute Windows path (C:\\…) or one that starts with %LOCALAPPDATA%"
                ));
            }
            Some(text)
        }
        None => None,
    };
    let password_command = match args.password_command {
        PasswordSource::App => export::app_program(),
        PasswordSource::SecretTool => PasswordCommand::SecretTool,
        PasswordSource::Security => PasswordCommand::Security,
    };
    let qr_image = qr_image(args.format, args.output.as_deref())?;
    if args.with_dav && args.format != ExportFormat::AppleMobileconfig {
        return Err(format!("--with-dav is for apple-mobileconfig; {} has no calendars to add", args.format));
    }
    Ok(ExportOptions { ca_file, password_command, lang, autodiscover_xml_path, qr_image, with_dav: args.with_dav })
}

/// The image the QR code is written as: the output file's extension, `.png` or `.svg` (PNG for standard output and
/// the usual name).
fn qr_image(format: ExportFormat, output: Option<&Path>) -> Result<QrImage, String> {
    let Some(path) = output.filter(|p| *p != Path::new("-")) else { return Ok(QrImage::Png) };
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => Ok(QrImage::Svg),
        Some("png") => Ok(QrImage::Png),
        _ if format != ExportFormat::ThunderbirdAndroidQr => Ok(QrImage::Png),
        _ => Err(format!("--output {}: {format} writes FILE.png or FILE.svg", path.display())),
    }
}

pub fn run(args: ExportArgs, out: Output) -> u8 {
    let account = match args.setup.account(&out) {
        Ok(account) => account,
        Err(code) => return code,
    };
    let options = match options(&args, out.lang) {
        Ok(options) => options,
        Err(message) => return out.usage(&message),
    };
    let file = match export::export(&account, args.format, &options) {
        Ok(file) => file,
        Err(d) => return out.report(&d, EXIT_FAILED),
    };
    match args.output.as_deref() {
        Some(path) if path == Path::new("-") => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(&file.bytes).and_then(|_| stdout.flush()) {
                eprintln!("error: standard output: {e}");
                return EXIT_FAILED;
            }
        }
        target => {
            // vdirsyncer, khal and khard read their file from a fixed place: without --output it goes there.
            let own_place = args.format.exporter().config_home_path().and_then(|rel| Some(export::xdg_config_home()?.join(rel)));
            let path = target.map(Path::to_owned).or(own_place).unwrap_or_else(|| PathBuf::from(&file.file_name));
            if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty() && target.is_none()) {
                if let Err(e) = std::fs::create_dir_all(folder) {
                    let facts = Facts { path: Some(folder.display().to_string()), ..Facts::default() };
                    let d = icloud_mail_core::Diagnosis::new(icloud_mail_core::DiagnosisKind::WriteFailed, facts, Some(e.to_string()));
                    return out.report(&d, EXIT_FAILED);
                }
            }
            if let Err(d) = export::write_atomic(&path, &file.bytes, args.force) {
                return out.report(&d, EXIT_FAILED);
            }
            let wrote = out.words("cli.export_wrote", &Facts { path: Some(path.display().to_string()), ..Facts::default() });
            let experimental =
                if args.format.exporter().experimental() { format!(" ({})", out.text("step.save.experimental")) } else { String::new() };
            eprintln!("{wrote}{experimental}: {}", args.format.description(out.lang));
            if args.format == ExportFormat::Vdirsyncer {
                eprintln!("{}", out.words("cli.vdirsyncer_next", &Facts { path: Some(path.display().to_string()), ..Facts::default() }));
            }
            if args.format == ExportFormat::Mbsync {
                // mbsync works on the first run: the local folder the file names exists, and the one command is said.
                let Some(home) = home_dir() else { return EXIT_OK };
                if let Err(d) = export::mbsync::create_maildir(&home, &account) {
                    return out.report(&d, EXIT_FAILED);
                }
                eprintln!("{}", out.words("cli.mbsync_next", &Facts { path: Some(path.display().to_string()), ..Facts::default() }));
            }
        }
    }
    EXIT_OK
}

/// The home folder mbsync expands `~` to.
fn home_dir() -> Option<PathBuf> {
    std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" }).filter(|h| !h.is_empty()).map(PathBuf::from)
}
