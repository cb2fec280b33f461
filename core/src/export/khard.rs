//! khard (0.18, Debian 12): the address books vdirsyncer syncs (`vdirsyncer.rs`), one `[[…]]` entry per local
//! folder below `dav::CONTACTS_DIR` (khard reads one folder per address book and has no discovery): those a
//! connection test found, else iCloud's one, `card`.
//!
//! khard reads its file with ConfigObj. Every value is a fixed path plus a folder name that `dav` keeps to
//! letters, digits and `._@+-` (a server's other names get a local name of their own), which ConfigObj reads as
//! written, so nothing needs quoting; the address is in a comment line, which the text policy keeps to one line.

use super::{dav, file_stem, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

pub struct Khard;

impl Exporter for Khard {
    fn format(&self) -> ExportFormat {
        ExportFormat::Khard
    }

    fn file_name(&self, account: &Account) -> String {
        format!("{}.khard.conf", file_stem(account))
    }

    fn config_home_path(&self) -> Option<&'static str> {
        Some("khard/khard.conf")
    }

    fn render(&self, account: &Account, _options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let mut text = format!(
            "# khard configuration for iCloud Contacts ({}), made by iCloud Mail Setup.\n\
             # khard reads the address book vdirsyncer syncs (its file comes with this one): run vdirsyncer sync first.\n\
             \n\
             [addressbooks]\n",
            account.address.address
        );
        for (index, folder) in dav::address_book_folders(account)?.iter().enumerate() {
            let name = if index == 0 { "icloud".to_owned() } else { format!("icloud_{}", index + 1) };
            text.push_str(&format!("[[{name}]]\npath = {}{folder}/\n", dav::CONTACTS_DIR));
        }
        Ok(text.into_bytes())
    }
}
