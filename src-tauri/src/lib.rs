//! The Tauri shell: wiring, thin commands over `icloud_mail_core`, and the command line. No product logic here.

pub mod cli;
mod clipboard;
mod commands;
pub mod console;
pub mod startup;
mod state;

use std::process::ExitCode;

use tauri::Manager;

/// Opens the wizard window and runs until it is closed.
pub fn run_window(options: cli::WindowOptions) -> ExitCode {
    // The same check as the subcommands': a CA file that holds no certificate is refused before any window opens.
    let extra_ca_pem = match options.servers.extra_ca_pem() {
        Ok(pem) => pem,
        Err(problem) => {
            eprintln!("error: {problem}");
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    let servers = options.servers;
    let ca_file =
        servers.ca_file.as_ref().and_then(|p| std::fs::canonicalize(p).ok()).map(icloud_mail_core::export::without_verbatim_prefix);
    let servers = state::Servers {
        imap: servers.imap,
        smtp: servers.smtp,
        smtp_fallback: servers.smtp_fallback,
        caldav: servers.caldav,
        carddav: servers.carddav,
        extra_ca_pem,
        ca_file,
        export_dir: options.export_dir,
    };
    let clear_after = options.clipboard_clear_after.map(std::time::Duration::from_secs).unwrap_or(clipboard::CLEAR_AFTER);
    startup::milestone("window start", "");
    let mut builder = tauri::Builder::default();
    if let Some(marker) = startup::marker_plugin("startup-trace-first", "plugins begin") {
        builder = builder.plugin(marker);
    }
    builder = builder
        // First, so a second launch hands over to the open window instead of starting a second wizard.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| focus_main_window(app)))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init());
    if let Some(marker) = startup::marker_plugin("startup-trace-last", "plugins end") {
        builder = builder.plugin(marker);
    }
    builder
        .manage(state::AppState::new(servers).with_clipboard_clear_after(clear_after))
        .invoke_handler({
            macro_rules! app_commands {
                [$($name:ident),* $(,)?] => { tauri::generate_handler![$(commands::$name),*] };
            }
            include!("app_commands.rs")
        })
        .setup(|app| {
            startup::milestone("setup", "");
            // Forget a tested password that waited too long for the save step.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(15)).await;
                    handle.state::<state::AppState>().forget_password_if_stale();
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::Destroyed = event {
                let state = window.state::<state::AppState>();
                // A connection test still looking for calendars and contacts ends with the window.
                state.cancel_probe();
                state.forget_password();
                // A password still on the clipboard goes with the window (on X11 it would go to a clipboard manager).
                state.clipboard.clear_if_ours(None);
            }
        })
        .run(tauri::generate_context!())
        .expect("the wizard window could not be started");
    ExitCode::SUCCESS
}

fn focus_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The names in `app_commands.rs`, the one list of the page's commands.
#[cfg(test)]
const COMMANDS: &[&str] = {
    macro_rules! app_commands {
        [$($name:ident),* $(,)?] => { &[$(stringify!($name)),*] };
    }
    include!("app_commands.rs")
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::COMMANDS;

    fn read(relative: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The page's TypeScript (tests excluded), every file under ui/src.
    fn page_sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "bindings" {
                    page_sources(&path, out);
                }
            } else if name.ends_with(".ts") && !name.ends_with(".test.ts") && name != "a11y-harness.ts" {
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }

    /// Every string literal passed as the first argument of `invoke(` or `call(` (with or without type arguments).
    fn invoked(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        for opener in ["invoke", "call"] {
            let mut rest = source;
            while let Some(at) = rest.find(opener) {
                let after = &rest[at + opener.len()..];
                rest = after;
                let before_ok = source.len() - after.len() - opener.len() == 0
                    || !source.as_bytes()[source.len() - after.len() - opener.len() - 1].is_ascii_alphanumeric();
                let after = after.trim_start();
                let after = match after.strip_prefix('<') {
                    Some(generic) => match generic.find('>') {
                        Some(end) => &generic[end + 1..],
                        None => continue,
                    },
                    None => after,
                };
                let Some(args) = after.trim_start().strip_prefix('(') else { continue };
                let args = args.trim_start();
                if let (true, Some(quoted)) = (before_ok, args.strip_prefix('"')) {
                    if let Some(end) = quoted.find('"') {
                        names.push(quoted[..end].to_owned());
                    }
                }
            }
        }
        names
    }

    #[test]
    fn command_lists_agree() {
        let listed: BTreeSet<&str> = COMMANDS.iter().copied().collect();
        assert_eq!(listed.len(), COMMANDS.len(), "app_commands.rs names a command twice");

        // Permitted ⇔ registered: the capability allows exactly `allow-<command>` for each listed command.
        let capability: serde_json::Value = serde_json::from_str(&read("capabilities/main.json")).unwrap();
        let permitted: BTreeSet<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        let registered: BTreeSet<String> = listed.iter().map(|c| c.to_string()).collect();
        assert_eq!(permitted, registered, "capabilities/main.json and src/app_commands.rs disagree");

        // Called by the page ⇔ registered, under the same name.
        let mut sources = Vec::new();
        page_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src"), &mut sources);
        let mut called = BTreeSet::new();
        for (file, source) in &sources {
            for name in invoked(source) {
                assert!(listed.contains(name.as_str()), "{file} calls \"{name}\", which src/app_commands.rs does not register");
                called.insert(name);
            }
        }
        let uncalled: Vec<&&str> = listed.iter().filter(|c| !called.contains(**c)).collect();
        assert!(uncalled.is_empty(), "registered and permitted but never called by the page: {uncalled:?}");
    }

    /// The page forgets a typed password on the same timer as the app forgets a tested one.
    #[test]
    fn the_page_and_the_app_keep_the_password_equally_long() {
        let source = read("../ui/src/secret.ts");
        let line = source.lines().find(|l| l.contains("export const KEEP_PASSWORD_MS")).expect("ui/src/secret.ts names KEEP_PASSWORD_MS");
        let expression = line.split('=').nth(1).unwrap().trim().trim_end_matches(';');
        let ms: u64 = expression.split('*').map(|f| f.trim().parse::<u64>().expect("a product of numbers")).product();
        assert_eq!(std::time::Duration::from_millis(ms), crate::state::KEEP_PASSWORD_FOR);
    }

    #[test]
    fn the_invoke_scanner_finds_names() {
        let ts = r#"return call<Address>("check_address", { input }); invoke<void>("cancel_probe"); recall("x"); invoke ( "page_ready" )"#;
        let mut found = invoked(ts);
        found.sort();
        assert_eq!(found, ["cancel_probe", "check_address", "page_ready"], "`recall(` is not a call of `call(`");
    }
}
