//! The full name of the operating system account, to prefill "Your name" in the wizard: the GECOS field on Linux
//! and macOS (its first comma-separated part, `&` standing for the capitalised login name), the display name on
//! Windows. None where no name is set or it is only the login name again.

/// The account's full name, if one is set.
pub fn full_name() -> Option<String> {
    platform::full_name()
}

/// The full name in a GECOS field: its first comma-separated part, `&` replaced by the capitalised login name;
/// None when that is empty or just the login name again (root's "root").
pub fn name_from_gecos(gecos: &str, login: &str) -> Option<String> {
    let first = gecos.split(',').next().unwrap_or_default();
    let capitalised: String = login.chars().take(1).flat_map(char::to_uppercase).chain(login.chars().skip(1)).collect();
    let name = first.replace('&', &capitalised).trim().to_owned();
    (!name.is_empty() && name != login).then_some(name)
}

#[cfg(unix)]
mod platform {
    use std::ffi::CStr;

    pub fn full_name() -> Option<String> {
        // SAFETY: getpwuid_r writes the entry into `entry` and its strings into `buffer`, both owned here and large
        // enough (it reports ERANGE otherwise, and we then give up); `result` points at `entry` or is null.
        unsafe {
            let mut entry: libc::passwd = std::mem::zeroed();
            let mut buffer = vec![0 as libc::c_char; 16 * 1024];
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwuid_r(libc::getuid(), &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut result);
            if rc != 0 || result.is_null() || entry.pw_gecos.is_null() || entry.pw_name.is_null() {
                return None;
            }
            let gecos = CStr::from_ptr(entry.pw_gecos).to_string_lossy();
            let login = CStr::from_ptr(entry.pw_name).to_string_lossy();
            super::name_from_gecos(&gecos, &login)
        }
    }
}

#[cfg(windows)]
mod platform {
    use windows_sys::Win32::Security::Authentication::Identity::{GetUserNameExW, NameDisplay};

    pub fn full_name() -> Option<String> {
        let mut buffer = vec![0u16; 512];
        let mut len = buffer.len() as u32;
        // SAFETY: the buffer holds `len` UTF-16 units; on success `len` is the number written (without the NUL).
        let ok: bool = unsafe { GetUserNameExW(NameDisplay, buffer.as_mut_ptr(), &mut len) };
        if !ok {
            return None;
        }
        let name = String::from_utf16_lossy(&buffer[..len as usize]).trim().to_owned();
        (!name.is_empty()).then_some(name)
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    pub fn full_name() -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gecos_gives_the_full_name() {
        assert_eq!(name_from_gecos("Jane Doe,Room 1,555-1234,,", "jane").as_deref(), Some("Jane Doe"));
        assert_eq!(name_from_gecos("& Smith", "john").as_deref(), Some("John Smith"));
        assert_eq!(name_from_gecos("José Müller", "jose").as_deref(), Some("José Müller"));
        assert_eq!(name_from_gecos("root", "root"), None);
        assert_eq!(name_from_gecos("", "jane"), None);
        assert_eq!(name_from_gecos(",,,", "jane"), None);
    }

    /// Every system's own call (getpwuid_r, GetUserNameExW) runs here; whatever it finds is a usable name or none.
    #[test]
    fn the_current_account_gives_a_trimmed_name_or_none() {
        if let Some(name) = full_name() {
            assert!(!name.is_empty() && name.trim() == name, "{name:?}");
        }
    }

    /// The name comes from the account database as `getent` reads it (an independent reader).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_current_account_is_read_from_the_account_database() {
        let uid = unsafe { libc::getuid() }.to_string();
        let out = std::process::Command::new("getent").args(["passwd", &uid]).output().unwrap();
        let line = String::from_utf8(out.stdout).unwrap();
        let fields: Vec<&str> = line.trim_end().split(':').collect();
        assert_eq!(full_name(), name_from_gecos(fields[4], fields[0]), "{line}");
    }
}
