//! The start-up trace the start-to-interactive benchmark reads (`tests/benches/startup_memory.rs`). Silent unless
//! `ICLOUD_MAIL_SETUP_TRACE_STARTUP` is set; then each milestone is one line on stderr with the milliseconds since
//! `main` began, and the page's own phases are turned into the same clock.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// When `main` began: on the monotonic clock, and as wall-clock milliseconds since the epoch (the page's
/// `performance.timeOrigin` is on that clock, so its navigation start can be placed on ours).
static STARTED: OnceLock<(Instant, f64)> = OnceLock::new();

/// Called first thing in `main`.
pub fn mark_start() {
    STARTED.get_or_init(|| (Instant::now(), SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)));
}

/// Whether the trace is on (the benchmark sets `ICLOUD_MAIL_SETUP_TRACE_STARTUP`).
pub fn tracing() -> bool {
    std::env::var_os("ICLOUD_MAIL_SETUP_TRACE_STARTUP").is_some()
}

fn since_start() -> f64 {
    STARTED.get().map(|(s, _)| s.elapsed().as_secs_f64() * 1000.0).unwrap_or(f64::NAN)
}

/// Prints `icloud-mail-setup: <milestone> after <ms> ms<detail>` when tracing is on.
pub fn milestone(milestone: &str, detail: &str) {
    if tracing() {
        eprintln!("icloud-mail-setup: {milestone} after {:.1} ms{detail}", since_start());
    }
}

/// A plugin that does nothing but mark the moment Tauri initialises it. Plugins are initialised in the order they
/// were added, after the window toolkit started and before any window exists, so one added first and one added
/// last bracket the time the real plugins take. `None` (nothing added) unless tracing is on.
pub fn marker_plugin<R: tauri::Runtime>(name: &'static str, milestone_name: &'static str) -> Option<tauri::plugin::TauriPlugin<R>> {
    tracing().then(|| {
        tauri::plugin::Builder::new(name)
            .setup(move |_, _| {
                milestone(milestone_name, "");
                Ok(())
            })
            .build()
    })
}

/// The page's own start, as it measured it (milliseconds on its clock, from its navigation start; `time_origin` is
/// that navigation start as wall-clock milliseconds since the epoch).
#[derive(Debug, Clone, Copy)]
pub struct PageTimes {
    pub time_origin: f64,
    pub response_end: Option<f64>,
    pub dom_interactive: Option<f64>,
    pub script_start: Option<f64>,
    pub modules_run: f64,
    pub step_built: f64,
    pub first_frame: f64,
}

/// The line the benchmark waits for, after one line placing each of the page's phases on `main`'s clock.
pub fn page_ready(page: PageTimes) {
    if !tracing() {
        return;
    }
    let navigation = STARTED.get().map(|(_, epoch)| page.time_origin - epoch).unwrap_or(f64::NAN);
    eprintln!(
        "icloud-mail-setup: page phases navigation start {navigation:.1} ms, document received {:.1} ms, \
         document parsed {:.1} ms, script running {:.1} ms, modules run {:.1} ms, step built {:.1} ms, first frame {:.1} ms",
        page.response_end.unwrap_or(f64::NAN),
        page.dom_interactive.unwrap_or(f64::NAN),
        page.script_start.unwrap_or(f64::NAN),
        page.modules_run,
        page.step_built,
        page.first_frame
    );
    milestone("first step ready", &format!(" (page: {:.0} ms)", page.first_frame));
}
