//! A bare Tauri app: one window showing a static page. It prints the same start-up trace as the wizard (the same
//! milestones, then the page's phases and its first painted frame), so the benchmark reads both alike.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static STARTED: OnceLock<(Instant, f64)> = OnceLock::new();

fn milestone(what: &str, detail: &str) {
    let ms = STARTED.get().map(|(s, _)| s.elapsed().as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    eprintln!("tauri-hello-baseline: {what} after {ms:.1} ms{detail}");
}

/// Marks the moment Tauri initialises it (plugins are initialised in the order they were added).
fn marker(name: &'static str, what: &'static str) -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri::plugin::Builder::new(name)
        .setup(move |_, _| {
            milestone(what, "");
            Ok(())
        })
        .build()
}

#[tauri::command]
fn page_ready(
    time_origin: f64,
    response_end: f64,
    dom_interactive: f64,
    script_start: f64,
    modules_run: f64,
    step_built: f64,
    first_frame: f64,
) {
    let navigation = STARTED.get().map(|(_, epoch)| time_origin - epoch).unwrap_or(f64::NAN);
    eprintln!(
        "tauri-hello-baseline: page phases navigation start {navigation:.1} ms, document received {response_end:.1} ms, \
         document parsed {dom_interactive:.1} ms, script running {script_start:.1} ms, modules run {modules_run:.1} ms, \
         step built {step_built:.1} ms, first frame {first_frame:.1} ms"
    );
    milestone("first step ready", &format!(" (page: {first_frame:.0} ms)"));
}

fn main() {
    STARTED.get_or_init(|| (Instant::now(), SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)));
    milestone("window start", "");
    tauri::Builder::default()
        .plugin(marker("startup-trace-first", "plugins begin"))
        .plugin(marker("startup-trace-last", "plugins end"))
        .invoke_handler(tauri::generate_handler![page_ready])
        .setup(|_| {
            milestone("setup", "");
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the baseline app");
}
