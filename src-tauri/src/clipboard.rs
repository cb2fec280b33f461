//! "Copy password": the app (never the page) puts the password on the system clipboard and empties it again after
//! `CLEAR_AFTER` — only if the clipboard still holds that password, so whatever the person copied since is left
//! alone. The clipboard is opened on first use, not at start-up.
//!
//! arboard (1Password's clipboard crate; the Tauri clipboard plugin is a thin wrapper over it that opens the
//! clipboard when the app starts and gives the page clipboard permissions we do not want). On Linux/X11 a copy
//! lives only as long as the program that owns it: the `arboard::Clipboard` is kept in the app's state, and its
//! thread serves paste requests while the window is open. Each copy is marked for clipboard managers not to keep
//! (`x-kde-passwordManagerHint` on Linux, the concealed type on macOS, the history/cloud exclusions on Windows).

use std::sync::Mutex;
use std::time::Duration;

use icloud_mail_core::{Diagnosis, DiagnosisKind, Facts, Secret};
use zeroize::Zeroizing;

/// How long a copied password stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Inner {
    board: Option<arboard::Clipboard>,
    /// The password last put there, and the number of that copy.
    ours: Option<(u64, Secret)>,
    copies: u64,
}

pub struct Clipboard {
    clear_after: Duration,
    inner: Mutex<Inner>,
}

impl Default for Clipboard {
    fn default() -> Self {
        Clipboard::new(CLEAR_AFTER)
    }
}

fn unavailable(e: arboard::Error) -> Diagnosis {
    Diagnosis::new(DiagnosisKind::ClipboardUnavailable, Facts::default(), Some(e.to_string()))
}

impl Clipboard {
    pub fn new(clear_after: Duration) -> Clipboard {
        Clipboard { clear_after, inner: Mutex::new(Inner::default()) }
    }

    /// How long a copy stays.
    pub fn clear_after(&self) -> Duration {
        self.clear_after
    }

    /// Puts `password` on the clipboard, opening it on first use. Returns the copy's number, for `clear_if_ours`.
    pub fn put(&self, password: &Secret) -> Result<u64, Diagnosis> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.board.is_none() {
            inner.board = Some(arboard::Clipboard::new().map_err(unavailable)?);
        }
        let board = inner.board.as_mut().expect("opened above");
        let set = board.set();
        #[cfg(all(unix, not(target_os = "macos")))]
        let set = arboard::SetExtLinux::exclude_from_history(set);
        #[cfg(target_os = "macos")]
        let set = arboard::SetExtApple::exclude_from_history(set);
        #[cfg(windows)]
        let set = arboard::SetExtWindows::exclude_from_cloud(arboard::SetExtWindows::exclude_from_history(set));
        set.text(password.expose()).map_err(unavailable)?;
        inner.copies += 1;
        let copy = inner.copies;
        inner.ours = Some((copy, password.clone()));
        Ok(copy)
    }

    /// Empties the clipboard if it still holds the password of copy `copy` (any of ours with `None`, when the window
    /// closes). A newer copy keeps its own time; text copied since by anyone else stays.
    pub fn clear_if_ours(&self, copy: Option<u64>) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some((latest, password)) = inner.ours.take() else { return false };
        if copy.is_some_and(|c| c != latest) {
            inner.ours = Some((latest, password));
            return false;
        }
        let Some(board) = inner.board.as_mut() else { return false };
        let now = board.get_text().map(Zeroizing::new);
        match now {
            Ok(text) if text.as_str() == password.expose() => board.clear().is_ok(),
            _ => false,
        }
    }
}
