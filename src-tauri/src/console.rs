//! The terminal a command line run writes to. A release build on Windows is a GUI program (no console window behind
//! the wizard), so started with arguments from a terminal it borrows that terminal; everywhere else a program
//! already writes to the terminal it was started from, and this does nothing.

/// What `attach_parent_console` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// The parent's console is now this program's (Windows).
    Attached,
    /// This program already has a console: a console build, or attached before (Windows).
    AlreadyAttached,
    /// The parent has no console, say Explorer; output goes wherever the inherited handles point (Windows).
    NoneToAttach,
    /// Not Windows: standard output and error already are the terminal's, or what they were redirected to.
    NotNeeded,
}

/// Whether these arguments run the command line (any argument at all), which writes to a terminal.
pub fn wants_console(args: impl ExactSizeIterator) -> bool {
    args.len() > 1
}

/// Borrows the console of the process that started this one, if it has one. Redirected handles (pipes, files) are
/// inherited either way and keep working.
pub fn attach_parent_console() -> Console {
    imp::attach_parent_console()
}

#[cfg(windows)]
mod imp {
    use super::Console;
    use windows_sys::Win32::Foundation::{GetLastError, ERROR_ACCESS_DENIED};
    use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};

    pub fn attach_parent_console() -> Console {
        // SAFETY: AttachConsole takes a process id and touches no memory of ours; on failure nothing changes.
        if unsafe { AttachConsole(ATTACH_PARENT_PROCESS) } != 0 {
            return Console::Attached;
        }
        // SAFETY: reads the calling thread's last-error value, set by the failed call above.
        match unsafe { GetLastError() } {
            ERROR_ACCESS_DENIED => Console::AlreadyAttached,
            // ERROR_INVALID_HANDLE: the parent has no console; ERROR_INVALID_PARAMETER: it has exited.
            _ => Console::NoneToAttach,
        }
    }
}

#[cfg(not(windows))]
mod imp {
    pub fn attach_parent_console() -> super::Console {
        super::Console::NotNeeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_command_line_asks_for_a_console() {
        assert!(!wants_console(["icloud-mail-setup"].into_iter()));
        assert!(wants_console(["icloud-mail-setup", "--version"].into_iter()));
    }

    #[test]
    fn attaching_is_harmless_and_idempotent() {
        let first = attach_parent_console();
        let second = attach_parent_console();
        if cfg!(windows) {
            // A test binary is a console program, so it has a console already, or (started detached) none to
            // borrow; either way a second call never attaches again.
            assert_ne!(first, Console::NotNeeded);
            assert!(matches!(second, Console::AlreadyAttached | Console::NoneToAttach), "{first:?} then {second:?}");
        } else {
            assert_eq!((first, second), (Console::NotNeeded, Console::NotNeeded));
        }
        // Writing still works after the call.
        use std::io::Write;
        writeln!(std::io::stderr(), "console: {first:?}, {second:?}").unwrap();
    }
}
