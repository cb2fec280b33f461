//! khal (0.10, Debian 12): the calendars vdirsyncer syncs (`vdirsyncer.rs`), read with `type = discover`, which
//! makes each folder below `dav::CALENDARS_DIR` a calendar of its own, coloured and named as vdirsyncer's
//! metadata sync (`vdirsyncer metasync`) leaves them.
//!
//! khal reads its file with ConfigObj. Every value here is fixed text of plain path characters (no quotes, `#`,
//! `,` or blanks), which ConfigObj reads as written, so nothing needs quoting and no account text reaches a value;
//! the address is in a comment line, which the text policy keeps to one line.

use super::{dav, file_stem, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

pub struct Khal;

impl Exporter for Khal {
    fn format(&self) -> ExportFormat {
        ExportFormat::Khal
    }

    fn file_name(&self, account: &Account) -> String {
        format!("{}.khal.conf", file_stem(account))
    }

    fn config_home_path(&self) -> Option<&'static str> {
        Some("khal/config")
    }

    fn render(&self, account: &Account, _options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        // The plan is checked as vdirsyncer's is, so that khal is never given a file for calendars it cannot get.
        dav::calendars(account)?;
        let text = format!(
            "# khal configuration for iCloud Calendars ({}), made by iCloud Mail Setup.\n\
             # khal reads the calendars vdirsyncer syncs (its file comes with this one): run vdirsyncer sync first.\n\
             # Each folder below the path is one calendar; khal takes its colour and name from the folder.\n\
             \n\
             [calendars]\n\
             [[icloud]]\n\
             path = {}*\n\
             type = discover\n",
            account.address.address,
            dav::CALENDARS_DIR
        );
        Ok(text.into_bytes())
    }
}
