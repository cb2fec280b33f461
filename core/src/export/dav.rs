//! What the calendar and contact files share (vdirsyncer, khal, khard): where vdirsyncer starts on the server,
//! which collections it syncs and the local folders it syncs them into, which khal and khard then read.
//!
//! - **Where to start.** After a connection test that found them (`Account::dav`), the discovered home
//!   (`calendar-home-set`, `addressbook-home-set`, on iCloud a partition host such as `p23-caldav.icloud.com`):
//!   vdirsyncer lists it with one request. Otherwise the provider's service host (`https://caldav.icloud.com/`),
//!   from which vdirsyncer discovers the principal and the home itself.
//! - **What to sync.** After such a test, exactly the collections it found: the calendars that hold events (so
//!   task-only lists and Reminders are left out; vdirsyncer's own discovery would take every calendar) and the
//!   address books. Otherwise `["from a", "from b"]`, vdirsyncer's usual choice.
//! - **Collection names.** vdirsyncer names a collection by the last segment of its URL, percent-decoded
//!   (`_get_collection_from_url` in `vdirsyncer/storage/dav.py`), and makes a local folder of that name. A name
//!   that is not a plain folder name (`..`, a slash, a leading dot, anything but letters, digits and `._@+-`) gets
//!   a local name of its own (`icloud_1`, …) through vdirsyncer's `["local", "remote", "local"]` form.

use percent_encoding::percent_decode_str;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::provider::Endpoint;

/// Where vdirsyncer keeps the calendars (one folder per calendar, a vdir each), and khal reads them.
pub const CALENDARS_DIR: &str = "~/.local/share/vdirsyncer/icloud/calendars/";
/// Where vdirsyncer keeps the address books, and khard reads them.
pub const CONTACTS_DIR: &str = "~/.local/share/vdirsyncer/icloud/contacts/";
/// vdirsyncer's own state (what was synced when).
pub const STATUS_DIR: &str = "~/.local/share/vdirsyncer/status/";
/// iCloud's one address book, the local folder khard reads when no test said otherwise.
pub const ICLOUD_ADDRESS_BOOK: &str = "card";

/// One collection to sync: its name on the server (vdirsyncer's) and its local folder's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    pub remote: String,
    pub local: String,
}

/// What vdirsyncer is told for one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DavPlan {
    /// Where discovery starts: the found home, or the service host's root.
    pub url: String,
    pub username: String,
    /// The collections to sync; None: all that are found on either side (`["from a", "from b"]`).
    pub collections: Option<Vec<Collection>>,
}

/// The calendars' plan.
pub fn calendars(account: &Account) -> Result<DavPlan, Diagnosis> {
    match &account.dav.caldav {
        Some(found) => {
            let urls: Vec<&str> = found.calendars.iter().map(|c| c.url.as_str()).collect();
            plan_found(&found.service.home, &found.service.username, &urls)
        }
        None => plan_preset(account, &account.provider.caldav),
    }
}

/// The address books' plan.
pub fn contacts(account: &Account) -> Result<DavPlan, Diagnosis> {
    match &account.dav.carddav {
        Some(found) => {
            let urls: Vec<&str> = found.addressbooks.iter().map(|b| b.url.as_str()).collect();
            plan_found(&found.service.home, &found.service.username, &urls)
        }
        None => plan_preset(account, &account.provider.carddav),
    }
}

/// The local folders of the address books khard should read, below `CONTACTS_DIR`: those found, else iCloud's one.
pub fn address_book_folders(account: &Account) -> Result<Vec<String>, Diagnosis> {
    Ok(match contacts(account)?.collections {
        Some(found) if !found.is_empty() => found.into_iter().map(|c| c.local).collect(),
        _ => vec![ICLOUD_ADDRESS_BOOK.to_owned()],
    })
}

fn invalid(url: &str, why: &str) -> Diagnosis {
    let facts = Facts { host: Some(url.escape_debug().to_string()), ..Facts::default() };
    Diagnosis::new(DiagnosisKind::ServerInvalid, facts, Some(why.to_owned()))
}

/// An absolute `https://` URL, as the `url` crate writes it.
fn https_url(text: &str) -> Result<url::Url, Diagnosis> {
    let url = url::Url::parse(text).map_err(|e| invalid(text, &format!("not a URL: {e}")))?;
    if url.scheme() != "https" || url.host_str().is_none() {
        return Err(invalid(text, "calendars and contacts are reached over https:// only"));
    }
    Ok(url)
}

fn plan_preset(account: &Account, endpoint: &Endpoint) -> Result<DavPlan, Diagnosis> {
    let text = format!("https://{}:{}/", super::url_host(&endpoint.host), endpoint.port);
    let url = https_url(&text)?;
    Ok(DavPlan { url: url.to_string(), username: account.login.address.clone(), collections: None })
}

fn plan_found(home: &str, username: &str, urls: &[&str]) -> Result<DavPlan, Diagnosis> {
    let home = https_url(home)?;
    let mut collections = Vec::new();
    for url in urls {
        https_url(url)?;
        let remote = collection_name(url);
        let local = if is_plain_folder_name(&remote) { remote.clone() } else { format!("icloud_{}", collections.len() + 1) };
        if !collections.iter().any(|c: &Collection| c.remote == remote) {
            collections.push(Collection { remote, local });
        }
    }
    Ok(DavPlan { url: home.to_string(), username: username.to_owned(), collections: (!collections.is_empty()).then_some(collections) })
}

/// vdirsyncer's name for the collection at `url`: the last segment of the path, percent-decoded (invalid UTF-8
/// as U+FFFD, as Python's `urllib.parse.unquote` does).
pub fn collection_name(url: &str) -> String {
    let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    percent_decode_str(last).decode_utf8_lossy().into_owned()
}

/// A name that is a folder name as it is on every system and in every config syntax here: 1 to 64 letters,
/// digits and `._@+-`, not starting with a dot (vdirsyncer skips such folders; `.` and `..` are no folders).
pub fn is_plain_folder_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_named_as_vdirsyncer_names_them() {
        assert_eq!(collection_name("https://p23-caldav.icloud.com:443/123/calendars/home/"), "home");
        assert_eq!(collection_name("https://h/123/calendars/W%C3%B6rk%20%2F%20x/"), "Wörk / x");
        assert_eq!(collection_name("https://h/a/%FF/"), "\u{fffd}");
        assert!(is_plain_folder_name("2D8F6A1B-0C4E-4C7E-9F7A-1A2B3C4D5E6F"));
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", "a\"b", "Wörk", &"x".repeat(65)] {
            assert!(!is_plain_folder_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn odd_names_get_local_folders_of_their_own() {
        let plan = plan_found(
            "https://p1-caldav.example:8443/1/calendars/",
            "jane@icloud.com",
            &["https://p1-caldav.example:8443/1/calendars/home/", "https://p1-caldav.example:8443/1/calendars/..%2F..%2Fetc/"],
        )
        .unwrap();
        assert_eq!(
            plan.collections.unwrap(),
            [
                Collection { remote: "home".into(), local: "home".into() },
                Collection { remote: "../../etc".into(), local: "icloud_2".into() }
            ]
        );
        assert_eq!(plan_found("http://h/1/", "j", &[]).unwrap_err().kind, DiagnosisKind::ServerInvalid);
        assert_eq!(plan_found("https://h/1/", "j", &["file:///etc/"]).unwrap_err().kind, DiagnosisKind::ServerInvalid);
        assert_eq!(plan_found("https://h/1/", "j", &[]).unwrap().collections, None);
    }
}
