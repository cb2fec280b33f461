//! The TypeScript side of the IPC types. The page imports the files generated here from `ui/src/bindings/`;
//! a test regenerates them into a temporary folder and fails when the checked-in copy differs.
//! Refresh with `UPDATE_BINDINGS=1 cargo test -p icloud-mail-core bindings`.

use std::path::Path;

use ts_rs::{Config, ExportError, TS};

/// Writes every IPC type (and what it refers to) into `dir`, one `.ts` file per type.
pub fn export_all(dir: &Path) -> Result<(), ExportError> {
    let cfg = Config::new().with_out_dir(dir).with_large_int("number");
    crate::Address::export_all(&cfg)?;
    crate::Account::export_all(&cfg)?;
    crate::Diagnosis::export_all(&cfg)?;
    crate::export::ExportFormatInfo::export_all(&cfg)?;
    crate::export::ExportOptions::export_all(&cfg)?;
    crate::export::thunderbird_profile::ThunderbirdProfile::export_all(&cfg)?;
    crate::export::thunderbird_profile::AddOutcome::export_all(&cfg)?;
    crate::export::thunderbird_profile::logins::AddReport::export_all(&cfg)?;
    crate::keychain::KeychainStatus::export_all(&cfg)?;
    crate::mail_apps::MailApp::export_all(&cfg)?;
    crate::mail_apps::Settings::export_all(&cfg)?;
    crate::keychain::IfSaved::export_all(&cfg)?;
    crate::keychain::Saved::export_all(&cfg)?;
    crate::probe::ProbeReport::export_all(&cfg)?;
    crate::probe::ProbeEvent::export_all(&cfg)?;
    crate::probe::DavReports::export_all(&cfg)?;
    crate::probe::DomainReport::export_all(&cfg)?;
    crate::probe::send::SendReport::export_all(&cfg)?;
    crate::probe::send::SendEvent::export_all(&cfg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn read_dir(dir: &std::path::Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "ts"))
                    .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn bindings_are_fresh() {
        let checked_in = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            for stale in read_dir(&checked_in).keys() {
                std::fs::remove_file(checked_in.join(stale)).unwrap();
            }
            super::export_all(&checked_in).unwrap();
        }
        let fresh = tempfile::tempdir().unwrap();
        super::export_all(fresh.path()).unwrap();
        let want = read_dir(fresh.path());
        let have = read_dir(&checked_in);
        assert!(!want.is_empty());
        let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&have), names(&want), "ui/src/bindings is stale: run UPDATE_BINDINGS=1 cargo test -p icloud-mail-core bindings");
        for (name, text) in &want {
            assert_eq!(&have[name], text, "ui/src/bindings/{name} is stale: run UPDATE_BINDINGS=1 cargo test -p icloud-mail-core bindings");
        }
    }
}
