//! Where Thunderbird keeps its `profiles.ini` on each operating system, found from the same environment variables
//! Thunderbird's own directory service reads (`%APPDATA%` on Windows, `$HOME` elsewhere). The rule is a pure function
//! of the variables it is handed, so each system's rule is tested on every system.

use std::ffi::OsString;
use std::path::PathBuf;

/// The operating systems whose Thunderbird keeps its profiles in different places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Windows,
    MacOs,
    /// Linux and the BSDs.
    OtherUnix,
}

impl Os {
    /// The system this build runs on.
    pub const CURRENT: Os = if cfg!(windows) {
        Os::Windows
    } else if cfg!(target_os = "macos") {
        Os::MacOs
    } else {
        Os::OtherUnix
    };
}

/// Folders that may hold a `profiles.ini` on this computer: the package's own, then Flatpak's and Snap's on Linux.
pub fn profile_roots() -> Vec<PathBuf> {
    roots_for(Os::CURRENT, |name| std::env::var_os(name))
}

/// The folders for `os`, with `var` giving the environment variables. An unset or empty variable gives no folder.
pub fn roots_for(os: Os, var: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let dir = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    match os {
        // %APPDATA% is the roaming profile folder (C:\Users\<name>\AppData\Roaming), where the installer's Thunderbird
        // keeps `Thunderbird\profiles.ini`.
        Os::Windows => dir("APPDATA").map(|appdata| vec![appdata.join("Thunderbird")]).unwrap_or_default(),
        Os::MacOs => dir("HOME").map(|home| vec![home.join("Library").join("Thunderbird")]).unwrap_or_default(),
        Os::OtherUnix => dir("HOME")
            .map(|home| {
                vec![
                    home.join(".thunderbird"),
                    home.join(".var/app/org.mozilla.Thunderbird/.thunderbird"),
                    home.join("snap/thunderbird/common/.thunderbird"),
                ]
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn each_system_has_its_own_folders() {
        let both = env(&[("HOME", "/home/jane"), ("APPDATA", r"C:\Users\jane\AppData\Roaming")]);
        assert_eq!(roots_for(Os::Windows, &both), [Path::new(r"C:\Users\jane\AppData\Roaming").join("Thunderbird")]);
        assert_eq!(roots_for(Os::MacOs, &both), [Path::new("/home/jane/Library/Thunderbird")]);
        assert_eq!(
            roots_for(Os::OtherUnix, &both),
            [
                Path::new("/home/jane/.thunderbird"),
                Path::new("/home/jane/.var/app/org.mozilla.Thunderbird/.thunderbird"),
                Path::new("/home/jane/snap/thunderbird/common/.thunderbird"),
            ]
        );
    }

    #[test]
    fn a_missing_or_empty_variable_gives_no_folder() {
        // Windows never looks at HOME (Git Bash and MSYS set one), Unix never at APPDATA (Wine sets one).
        assert!(roots_for(Os::Windows, env(&[("HOME", "/home/jane")])).is_empty());
        assert!(roots_for(Os::MacOs, env(&[("APPDATA", r"C:\x")])).is_empty());
        assert!(roots_for(Os::OtherUnix, env(&[("HOME", "")])).is_empty());
        assert!(roots_for(Os::Windows, env(&[("APPDATA", "")])).is_empty());
    }

    /// This system's rule over the real environment, with the variables a test gives it.
    #[test]
    fn this_system_reads_its_own_variable() {
        let here = env(&[("HOME", "/home/jane"), ("APPDATA", r"C:\Users\jane\AppData\Roaming")]);
        let first = roots_for(Os::CURRENT, here)[0].clone();
        let expected = if cfg!(windows) {
            Path::new(r"C:\Users\jane\AppData\Roaming\Thunderbird").to_owned()
        } else if cfg!(target_os = "macos") {
            Path::new("/home/jane/Library/Thunderbird").to_owned()
        } else {
            Path::new("/home/jane/.thunderbird").to_owned()
        };
        assert_eq!(first, expected);
        assert_eq!(profile_roots(), roots_for(Os::CURRENT, |name| std::env::var_os(name)));
    }
}
