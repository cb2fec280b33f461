//! No core dumps (issue 23, M3): the running window and the Thunderbird login helper, while it waits for its
//! password, have a core size limit of 0 in `/proc/PID/limits`, even when started with a higher one. The helper is
//! the program of its own the app starts (`icloud-mail-setup-nss-helper`, issue 23, M2).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use icloud_mail_core::export::thunderbird_profile::nss_helper::HELPER_SUBCOMMAND;
use icloud_mail_tests::processes::{own_group, Service};
use icloud_mail_tests::webdriver::{SessionBus, Xvfb};
use icloud_mail_tests::{app_binary, helper_binary, wait_until};

/// The "Max core file size" line of a process's limits: soft and hard, as written there.
fn core_limit(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max core file size"))?;
    let words: Vec<&str> = line["Max core file size".len()..].split_whitespace().collect();
    Some((words.first()?.to_string(), words.get(1)?.to_string()))
}

/// `command` starts with an unlimited core size (root may raise the hard limit), so a 0 afterwards is the program's
/// own doing and not an inherited limit.
fn with_core_dumps_allowed(command: &mut Command) -> &mut Command {
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let unlimited = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
            if libc::setrlimit(libc::RLIMIT_CORE, &unlimited) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

#[test]
fn the_login_helper_waiting_for_its_password_allows_no_core_dump() {
    let mut command = Command::new(helper_binary());
    with_core_dumps_allowed(own_group(&mut command)).arg(HELPER_SUBCOMMAND);
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    let profile = tempfile::tempdir().unwrap();
    // The request, announcing a password that is never sent: the helper waits for it.
    let request = serde_json::json!({"profile": profile.path(), "thunderbird_dir": null, "logins": [], "password_len": 19});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{request}").unwrap();
    let mut helper = Service::adopt("icloud-mail-setup-nss-helper", child);
    wait_until("the helper's core limit to be 0", Duration::from_secs(10), || core_limit(pid) == Some(("0".into(), "0".into())));
    assert!(helper.is_running(), "it still waits for the password");
    drop(stdin);
    helper.stop(Duration::from_secs(5));
}

#[test]
fn the_running_window_allows_no_core_dump() {
    let logs = tempfile::tempdir().unwrap();
    let xvfb = Xvfb::start(logs.path());
    let bus = SessionBus::start(logs.path());
    let log = logs.path().join("app.log");
    let mut command = Command::new(app_binary());
    with_core_dumps_allowed(&mut command)
        .env("DISPLAY", &xvfb.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("ICLOUD_MAIL_SETUP_TRACE_STARTUP", "1");
    let mut app = Service::start("icloud-mail-setup", &mut command, &log).unwrap();
    let pid = app.pid();
    wait_until("the window's set-up", Duration::from_secs(60), || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("icloud-mail-setup: setup after")
    });
    assert!(app.is_running(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    assert_eq!(core_limit(pid), Some(("0".into(), "0".into())), "/proc/{pid}/limits");
    app.stop(Duration::from_secs(5));
}
