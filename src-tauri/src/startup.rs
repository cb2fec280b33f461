//! The start-up trace the start-to-interactive benchmark reads (`tests/benches/startup_memory.rs`). Silent unless
//! `ICLOUD_MAIL_SETUP_TRACE_STARTUP` is set; then each milestone is one line on stderr with the milliseconds since
//! `main` began.

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Called first thing in `main`.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Prints `icloud-mail-setup: <milestone> after <ms> ms<detail>` when tracing is on.
pub fn milestone(milestone: &str, detail: &str) {
    if std::env::var_os("ICLOUD_MAIL_SETUP_TRACE_STARTUP").is_some() {
        let ms = STARTED.get().map(|s| s.elapsed().as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
        eprintln!("icloud-mail-setup: {milestone} after {ms:.0} ms{detail}");
    }
}
