//! A bare Tauri app: one window showing a static page. It prints the same start-up trace as the wizard (setup,
//! then the page's first painted frame with the page's own milliseconds), so the benchmark reads both alike.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

fn milestone(what: &str, detail: &str) {
    let ms = STARTED.get().map(|s| s.elapsed().as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    eprintln!("tauri-hello-baseline: {what} after {ms:.0} ms{detail}");
}

#[tauri::command]
fn page_ready(page_ms: f64) {
    milestone("first step ready", &format!(" (page: {page_ms:.0} ms)"));
}

fn main() {
    STARTED.get_or_init(Instant::now);
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![page_ready])
        .setup(|_| {
            milestone("setup", "");
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the baseline app");
}
