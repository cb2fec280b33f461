//! The keychain round trip through the operating system's own store, `Keychain::native()`: save, status, get,
//! refuse, replace, delete. It writes to the person's real keychain, so it is `#[ignore]`d: `cargo test` lists it as
//! ignored (never as passed) and it runs only when asked for with `--ignored`, as the Windows job (Credential
//! Manager) and the macOS job (a throwaway keychain made the default) of .github/workflows/test.yml do. On Linux
//! the same round trip, and much more, runs against a private gnome-keyring in tests/tests/keychain.rs.

use icloud_mail_core::keychain::{IfSaved, Keychain, Saved, STORE_NAME};
use icloud_mail_core::{Account, Address, DiagnosisKind, Secret};

/// Deletes the test's entry however the test ends, so that no run leaves a password behind.
struct Cleanup<'a>(&'a Keychain, &'a Account);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.delete(self.1);
    }
}

#[test]
#[ignore = "writes to this computer's real keychain: run with --ignored where the store is a throwaway one (CI)"]
fn a_password_makes_the_round_trip_through_the_native_store() {
    // A login of its own per run: parallel or earlier runs never meet, and a real entry is never touched.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let login = format!("round-trip-{}-{nanos}@icloud.com", std::process::id());
    let account = Account::new(Address::parse(&login).unwrap(), None, None).unwrap();
    let keychain = Keychain::native().expect("this build's store keeps passwords");
    let _cleanup = Cleanup(&keychain, &account);

    let before = keychain.status(&account).unwrap();
    assert!(!before.exists, "{before:?}");
    assert_eq!(before.store, STORE_NAME);
    assert_eq!(before.entry.service, "icloud-mail-setup");
    assert_eq!(before.entry.account, login);

    assert_eq!(keychain.save(&account, Secret::new("abcd-efgh-ijkl-mnop".into()), IfSaved::Refuse).unwrap(), Saved::Created);
    assert!(keychain.status(&account).unwrap().exists);
    assert_eq!(keychain.get(&account).unwrap().expose(), "abcd-efgh-ijkl-mnop");

    // A second keychain value of the same store sees it: it is in the store, not in this value.
    assert_eq!(Keychain::native().unwrap().get(&account).unwrap().expose(), "abcd-efgh-ijkl-mnop");

    let refused = keychain.save(&account, Secret::new("qrst-uvwx-yzab-cdef".into()), IfSaved::Refuse).unwrap_err();
    assert_eq!(refused.kind, DiagnosisKind::KeychainEntryExists, "{refused:?}");
    assert_eq!(keychain.get(&account).unwrap().expose(), "abcd-efgh-ijkl-mnop", "a refused save keeps the old one");
    assert_eq!(keychain.save(&account, Secret::new("qrst-uvwx-yzab-cdef".into()), IfSaved::Replace).unwrap(), Saved::Replaced);
    assert_eq!(keychain.get(&account).unwrap().expose(), "qrst-uvwx-yzab-cdef");

    // Non-ASCII passwords up to the product's limit survive the store's own encoding (UTF-16 on Windows).
    let long = "🔑ä".repeat(icloud_mail_core::keychain::MAX_PASSWORD_CHARS / 2);
    keychain.save(&account, Secret::new(long.clone()), IfSaved::Replace).unwrap();
    assert_eq!(keychain.get(&account).unwrap().expose(), long);

    keychain.delete(&account).unwrap();
    assert!(!keychain.status(&account).unwrap().exists);
    assert_eq!(keychain.get(&account).unwrap_err().kind, DiagnosisKind::KeychainNoEntry);
    assert_eq!(keychain.delete(&account).unwrap_err().kind, DiagnosisKind::KeychainNoEntry);
}
