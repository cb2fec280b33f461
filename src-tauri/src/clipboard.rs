//! "Copy password": the app (never the page) puts the password on the system clipboard and empties it again after
//! `CLEAR_AFTER` — only if the clipboard still holds that password, so whatever the person copied since is left
//! alone. The clipboard is opened on first use, not at start-up.
//!
//! Whether it still holds ours is decided without reading what another app copied, where the system can tell
//! (`owner::mark`): on X11 by the CLIPBOARD selection's owner (arboard's window while our copy is there), on Windows
//! by `GetClipboardSequenceNumber`, on macOS by `NSPasteboard.changeCount`. Only where none answers (no X server
//! reachable) is the clipboard's text compared with the password.
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
    /// The password last put there, the number of that copy, and the clipboard's mark right after it.
    ours: Option<(u64, Secret, Option<u64>)>,
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
        inner.ours = Some((copy, password.clone(), owner::mark()));
        Ok(copy)
    }

    /// Empties the clipboard if it still holds the password of copy `copy` (any of ours with `None`, when the window
    /// closes). A newer copy keeps its own time; text copied since by anyone else stays.
    pub fn clear_if_ours(&self, copy: Option<u64>) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some((latest, password, mark)) = inner.ours.take() else { return false };
        if copy.is_some_and(|c| c != latest) {
            inner.ours = Some((latest, password, mark));
            return false;
        }
        let Some(board) = inner.board.as_mut() else { return false };
        if let Some(mark) = mark {
            // Unchanged since our copy: ours. Changed: someone else's, left alone and unread.
            return owner::mark() == Some(mark) && board.clear().is_ok();
        }
        let now = board.get_text().map(Zeroizing::new);
        match now {
            Ok(text) if text.as_str() == password.expose() => board.clear().is_ok(),
            _ => false,
        }
    }
}

/// The clipboard's state as the system tells it without handing over its contents: a value that stays the same
/// while our copy is there and changes when anyone else copies. `None` where the system cannot tell.
mod owner {
    /// X11: the window that owns the CLIPBOARD selection (arboard's, while our copy is there).
    #[cfg(all(unix, not(target_os = "macos")))]
    pub fn mark() -> Option<u64> {
        use x11rb::protocol::xproto::ConnectionExt as _;
        let (connection, _) = x11rb::connect(None).ok()?;
        let clipboard = connection.intern_atom(false, b"CLIPBOARD").ok()?.reply().ok()?.atom;
        let owner = connection.get_selection_owner(clipboard).ok()?.reply().ok()?.owner;
        // No owner (0) is nobody's copy: nothing to compare against.
        (owner != x11rb::NONE).then_some(u64::from(owner))
    }

    /// Windows: the clipboard's sequence number, which every change of its contents increments.
    #[cfg(windows)]
    pub fn mark() -> Option<u64> {
        // SAFETY: takes no arguments and only reads a counter of the window station.
        let number = unsafe { windows_sys::Win32::System::DataExchange::GetClipboardSequenceNumber() };
        (number != 0).then_some(u64::from(number))
    }

    /// macOS: the general pasteboard's change count, which every copy by anyone increments.
    #[cfg(target_os = "macos")]
    pub fn mark() -> Option<u64> {
        let count = objc2_app_kit::NSPasteboard::generalPasteboard().changeCount();
        u64::try_from(count).ok()
    }

    #[cfg(not(any(unix, windows)))]
    pub fn mark() -> Option<u64> {
        None
    }
}
