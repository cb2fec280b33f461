//! A bare Tauri app: one window showing a static page. The page calls `page_ready` after its first frame, and the
//! app prints the same finish line the wizard prints with `ICLOUD_MAIL_SETUP_TRACE_STARTUP` set.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[tauri::command]
fn page_ready() {
    eprintln!("tauri-hello-baseline: first step ready");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![page_ready])
        .run(tauri::generate_context!())
        .expect("error while running the baseline app");
}
