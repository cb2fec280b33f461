//! A terminal for programs that behave differently at one (a password prompt without echo, NeoMutt's and aerc's
//! screens): tmux on a private socket inside a keyring session, read with capture-pane, typed into with send-keys.

use std::time::{Duration, Instant};

use crate::keyring::KeyringSession;

/// One tmux server with one window running `command` (a shell command line), killed when dropped.
pub struct Terminal<'a> {
    session: &'a KeyringSession,
    socket: String,
}

impl<'a> Terminal<'a> {
    /// Starts `command` in a 160×40 terminal with the session's environment.
    pub fn start(session: &'a KeyringSession, command: &str) -> Terminal<'a> {
        let socket = format!("t-{}", crate::fresh_password().replace('-', ""));
        let terminal = Terminal { session, socket };
        let out = terminal.tmux(&["new-session", "-d", "-s", "main", "-x", "160", "-y", "40", &format!("TERM=xterm-256color {command}")]);
        crate::assert_ok(&out);
        terminal
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        crate::run_with_stdin(self.session.command("tmux").args(["-L", &self.socket]).args(args), b"")
    }

    /// What the terminal shows now, including its scrollback.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-S", "-", "-t", "main"]).stdout).into_owned()
    }

    /// Types `text` literally, then Enter.
    pub fn type_line(&self, text: &str) {
        crate::assert_ok(&self.tmux(&["send-keys", "-t", "main", "-l", text]));
        crate::assert_ok(&self.tmux(&["send-keys", "-t", "main", "Enter"]));
    }

    /// Sends tmux key names (`y`, `Enter`, `C-c`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        crate::assert_ok(&self.tmux(&args));
    }

    /// Waits until the screen shows `text`, failing with the screen after `timeout`.
    #[track_caller]
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(Instant::now() < deadline, "the terminal never showed {text:?} within {timeout:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Terminal<'_> {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
