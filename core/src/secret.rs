//! The app-specific password, held in memory that is wiped when it is dropped.
//! `Secret` has no `Serialize`, no `Display` and a redacting `Debug`, so it cannot reach a log or a file by accident.

use zeroize::{Zeroize, ZeroizeOnDrop};

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// Reads one line (the password) from a reader, dropping the line ending. The buffer is wiped.
    pub fn from_line(reader: &mut impl std::io::BufRead) -> std::io::Result<Self> {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let trimmed_len = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(trimmed_len);
        Ok(Secret(line))
    }

    /// The password itself, for the few places that must hand it to a server or a keychain.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether it has the shape Apple gives app-specific passwords (`abcd-efgh-ijkl-mnop`). A soft check only:
    /// the wizard warns when it does not match, it never refuses.
    pub fn looks_app_specific(&self) -> bool {
        // No lowercase copy of the password: letters of either case are checked where they are.
        let groups: Vec<&str> = self.0.trim().split('-').collect();
        groups.len() == 4 && groups.iter().all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphabetic()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("abcd-efgh-ijkl-mnop".into());
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn reads_one_line_without_its_ending() {
        let mut input = std::io::Cursor::new(b"abcd-efgh-ijkl-mnop\r\nsecond line\n".to_vec());
        let s = Secret::from_line(&mut input).unwrap();
        assert_eq!(s.expose(), "abcd-efgh-ijkl-mnop");
    }

    #[test]
    fn app_specific_shape_is_a_soft_check() {
        assert!(Secret::new("abcd-efgh-ijkl-mnop".into()).looks_app_specific());
        assert!(Secret::new(" ABCD-efgh-ijkl-mnop ".into()).looks_app_specific());
        assert!(!Secret::new("hunter2".into()).looks_app_specific());
        assert!(!Secret::new("abcd-efgh-ijkl-mnop-qrst".into()).looks_app_specific());
        assert!(!Secret::new("abc1-efgh-ijkl-mnop".into()).looks_app_specific());
    }
}
