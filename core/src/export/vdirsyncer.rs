//! vdirsyncer (0.19, Debian 12): iCloud Calendars and Contacts synced into local folders (vdirs) that khal and
//! khard read. One `caldav` and one `carddav` storage with the password from the keychain
//! (`password.fetch = ["command", …]`, the same command the mail files run), two `filesystem` storages and a pair
//! for each. Where discovery starts and which collections are synced: `dav.rs`.
//!
//! Quoting: vdirsyncer reads the file with Python's `RawConfigParser` (no interpolation, no inline comments) and
//! every value with `json.loads` (`cli/config.py`). So every value is JSON, written by `serde_json` (one line:
//! control characters and line breaks are escaped), and the lines by `rust-ini` with nothing escaped. Section names
//! are fixed (vdirsyncer allows only letters, digits and `_` in them). vdirsyncer runs each word of a `command`
//! through `os.path.expanduser` and `os.path.normpath`: a word those would change (a leading `~`, `//`, a `.` or
//! `..` segment, a trailing `/`) is refused rather than written to mean something else.
//!
//! TLS: always verified. `verify` is the `--ca-file` when one was given (Python's `ssl` then trusts that file
//! instead of the system's store), else left out: the system's store.

use ini::{EscapePolicy, Ini, LineSeparator, WriteOption};
use serde_json::{json, Value};

use super::dav::{self, Collection, DavPlan};
use super::{file_stem, render_failed, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

pub struct Vdirsyncer;

/// The storage and pair names (vdirsyncer: letters, digits, `_`).
pub const CALENDARS_PAIR: &str = "icloud_calendars";
pub const CONTACTS_PAIR: &str = "icloud_contacts";

/// Whether vdirsyncer's `expand_path` (`expanduser`, then `normpath`) leaves `word` as it is.
pub fn survives_expand_path(word: &str) -> bool {
    if word.starts_with('~') {
        return false;
    }
    if !word.contains('/') {
        return word != "." && word != "..";
    }
    let inner = word.strip_prefix('/').unwrap_or(word);
    !inner.is_empty() && inner.split('/').all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

fn collections_value(collections: &Option<Vec<Collection>>) -> Value {
    match collections {
        None => json!(["from a", "from b"]),
        Some(list) => Value::Array(
            list.iter()
                .map(|c| if c.local == c.remote { json!(c.remote) } else { json!([c.local, c.remote, c.local]) })
                .collect(),
        ),
    }
}

impl Exporter for Vdirsyncer {
    fn format(&self) -> ExportFormat {
        ExportFormat::Vdirsyncer
    }

    fn file_name(&self, account: &Account) -> String {
        format!("{}.vdirsyncer.conf", file_stem(account))
    }

    fn config_home_path(&self) -> Option<&'static str> {
        Some("vdirsyncer/config")
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let calendars = dav::calendars(account)?;
        let contacts = dav::contacts(account)?;
        let mut fetch = vec!["command".to_owned()];
        fetch.extend(options.password_command.argv(&account.login.address));
        if let Some(word) = fetch.iter().find(|w| !survives_expand_path(w)) {
            let why = format!("vdirsyncer would read the password command's word {word:?} as another path");
            return Err(render_failed(self.format(), account, &why));
        }
        let text = |value: &Value| value.to_string();

        let mut conf = Ini::new();
        conf.with_section(Some("general")).set("status_path", text(&json!(dav::STATUS_DIR)));
        let services: [(&str, &str, &DavPlan, &str, &str); 2] = [
            (CALENDARS_PAIR, "caldav", &calendars, dav::CALENDARS_DIR, ".ics"),
            (CONTACTS_PAIR, "carddav", &contacts, dav::CONTACTS_DIR, ".vcf"),
        ];
        for (pair, kind, plan, folder, extension) in services {
            let remote = format!("{pair}_remote");
            let local = format!("{pair}_local");
            let mut section = conf.with_section(Some(format!("pair {pair}")));
            section
                .set("a", text(&json!(remote)))
                .set("b", text(&json!(local)))
                .set("collections", text(&collections_value(&plan.collections)));
            if kind == "caldav" {
                section.set("metadata", text(&json!(["color", "displayname"])));
            } else {
                section.set("metadata", text(&json!(["displayname"])));
            }
            let mut section = conf.with_section(Some(format!("storage {remote}")));
            section
                .set("type", text(&json!(kind)))
                .set("url", text(&json!(plan.url)))
                .set("username", text(&json!(plan.username)))
                .set("password.fetch", text(&json!(fetch)));
            if let Some(ca) = &options.ca_file {
                section.set("verify", text(&json!(ca)));
            }
            if kind == "caldav" {
                // Events only: a calendar that also holds tasks gives its events, and khal reads no tasks.
                section.set("item_types", text(&json!(["VEVENT"])));
            }
            conf.with_section(Some(format!("storage {local}")))
                .set("type", text(&json!("filesystem")))
                .set("path", text(&json!(folder)))
                .set("fileext", text(&json!(extension)));
        }

        let mut out = format!(
            "# vdirsyncer configuration for iCloud Calendars and Contacts ({}), made by iCloud Mail Setup.\n\
             # The password is read from the keychain by password.fetch; this file holds none.\n\
             # First run:  vdirsyncer discover   (answer y to create the local folders), then:  vdirsyncer sync\n\
             # khal and khard read the folders below ({} and {}).\n",
            account.address.address,
            dav::CALENDARS_DIR,
            dav::CONTACTS_DIR
        );
        for line in options.password_command.comment_lines() {
            out.push_str(&line);
            out.push('\n');
        }
        for (what, plan) in [("calendars", &calendars), ("address books", &contacts)] {
            out.push_str(&match plan.collections {
                Some(_) => format!(
                    "# The {what} are those the connection test found; to sync all that appear later, write\n\
                     # collections = [\"from a\", \"from b\"] instead.\n"
                ),
                None => format!("# The {what} are found by vdirsyncer on the server (collections = from a, from b).\n"),
            });
        }
        let mut body = Vec::new();
        let write = WriteOption { escape_policy: EscapePolicy::Nothing, line_separator: LineSeparator::CR, kv_separator: " = " };
        conf.write_to_opt(&mut body, write).map_err(|e| render_failed(self.format(), account, &e))?;
        out.push('\n');
        out.push_str(&String::from_utf8(body).map_err(|e| render_failed(self.format(), account, &e))?);
        Ok(out.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words_that_vdirsyncer_would_change_are_recognised() {
        for ok in ["icloud-mail-setup", "/usr/bin/icloud-mail-setup", "jane.doe@icloud.com", "--address", "a~b@icloud.com"] {
            assert!(survives_expand_path(ok), "{ok}");
        }
        for changed in ["~/bin/x", "~jane@icloud.com", "/usr//bin/x", "a/./b", "a/../b", "/usr/bin/", ".", "..", "a//b@icloud.com"] {
            assert!(!survives_expand_path(changed), "{changed}");
        }
    }
}
