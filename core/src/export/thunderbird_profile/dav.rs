//! The calendars and address books of `account.dav` as Thunderbird's prefs.js holds them, read in Thunderbird's
//! source (comm-central):
//!
//! - **A calendar** (calendar/base/src/CalCalendarManager.sys.mjs): every pref below `calendar.registry.<id>.`, the
//!   id a UUID without braces (`cal.getUUID()`). `assureCache` loads each id with a `.type` and a `.uri`;
//!   `registerCalendar` writes those two, and each property the calendar is given becomes `.<property>`
//!   (`setCalendarPref_`). A CalDAV calendar found through Thunderbird's own dialog
//!   (calendar/providers/caldav/CalDavProvider.sys.mjs `handleCalendar`, calendar-creation.js
//!   `prepareNetworkCalendar`) gets `name`, `color` (the server's `calendar-color`, alpha dropped), `username`
//!   (which `CalDavCalendar` uses to find its login) and `cache.enabled` (the dialog's "offline support", on by
//!   default); adding it to the calendar list (calendar/providers/composite/CalCompositeCalendar.sys.mjs
//!   `addCalendar`) sets `calendar-main-in-composite`, without which a calendar loaded from prefs is not shown.
//!   The list's order is `calendar.list.sortOrder`, the ids separated by blanks
//!   (calendar/base/content/calendar-management.js `saveSortOrder`).
//! - **An address book** (mailnews/addrbook/modules/AddrBookManager.sys.mjs `newAddressBook`, CardDAVUtils.sys.mjs
//!   `detectAddressBooks`): `ldap_2.servers.<key>.dirType` = 102 (`CARDDAV_DIRECTORY_TYPE`), `.description` (its
//!   name), `.filename` (a new file in the profile: `abook.sqlite` made unique as `abook-N.sqlite`), `.carddav.url`
//!   and `.carddav.username` (CardDAVDirectory.sys.mjs uses it to find its login). The key is the name without
//!   characters outside `[A-Za-z0-9_]` (`_nonascii` when nothing is left), made unique with `_1`, `_2`…
//!   Thunderbird starts syncing an address book 30 s after loading it.
//!
//! One calendar per URL and one address book per URL: one that the profile has already is left as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;

/// What adding did with the calendars and address books the account carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DavAdded {
    pub calendars: Vec<DavAddedItem>,
    pub addressbooks: Vec<DavAddedItem>,
}

/// One calendar or address book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DavAddedItem {
    pub name: String,
    pub url: String,
    /// False when the profile had it already (same URL): nothing was changed for it.
    pub added: bool,
}

/// The prefs to append for the calendars and address books the profile lacks, and what becomes of each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DavPlan {
    pub added: DavAdded,
    pub prefs: Vec<(String, Value)>,
}

/// The `CARDDAV_DIRECTORY_TYPE` of nsIAbManager.idl.
pub const CARDDAV_DIRECTORY_TYPE: i64 = 102;

/// Address-book keys Thunderbird's default prefs use (its personal and collected address books, and the system
/// address books of macOS and Windows): never taken for a new one.
const DEFAULT_BOOK_KEYS: [&str; 4] = ["pab", "history", "osx", "outlook"];

/// A URL's `prePath` as Mozilla spells it (`https://host` with the port only when it is not the scheme's
/// default, an IPv6 address in brackets), the origin of the logins Thunderbird looks up for it. None for a URL
/// that is not `https://` or `http://` with a host.
pub fn pre_path(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

/// A collection URL as it is compared: without a trailing `/`, so `…/home/` and `…/home` are one calendar.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn string_pref<'a>(prefs: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    prefs.get(name).and_then(Value::as_str)
}

/// The values of every pref `<branch><key>.<suffix>`, with their keys.
fn per_key<'a>(prefs: &'a BTreeMap<String, Value>, branch: &'a str, suffix: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    prefs.iter().filter_map(move |(name, value)| {
        let key = name.strip_prefix(branch)?.strip_suffix(suffix)?.strip_suffix('.')?;
        (!key.contains('.')).then_some((key, value))
    })
}

/// Every key used below `branch` (`ldap_2.servers.<key>.…`).
fn keys_below(prefs: &BTreeMap<String, Value>, branch: &str) -> BTreeSet<String> {
    prefs.keys().filter_map(|name| name.strip_prefix(branch)?.split_once('.').map(|(key, _)| key.to_owned())).collect()
}

/// A URL `add_account` may write: `https://` with a host (what a connection test discovered).
fn checked_url(url: &str) -> Result<(), Diagnosis> {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme() == "https" && parsed.host_str().is_some() => Ok(()),
        _ => Err(Diagnosis::new(DiagnosisKind::ServerInvalid, Facts { host: Some(url.to_owned()), ..Facts::default() }, None)),
    }
}

/// The address-book key Thunderbird would make for `name` (AddrBookManager's `ensureUniquePrefName`).
fn book_key(name: &str, taken: &BTreeSet<String>) -> String {
    let mut leaf: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if leaf.is_empty() {
        leaf = "_nonascii".into();
    }
    let free = |key: &str| !taken.contains(key) && !DEFAULT_BOOK_KEYS.contains(&key);
    if free(&leaf) {
        return leaf;
    }
    (1..).map(|n| format!("{leaf}_{n}")).find(|key| free(key)).unwrap_or_default()
}

/// A new `abook-N.sqlite`: named by no address book's `.filename` and not in the profile folder.
fn book_file(prefs: &BTreeMap<String, Value>, profile: &Path, planned: &[String]) -> String {
    let used: BTreeSet<&str> = per_key(prefs, "ldap_2.servers.", "filename").filter_map(|(_, v)| v.as_str()).collect();
    (1..)
        .map(|n| format!("abook-{n}.sqlite"))
        .find(|name| !used.contains(name.as_str()) && !planned.contains(name) && !profile.join(name).exists())
        .unwrap_or_default()
}

/// The prefs that add the account's calendars and address books the profile (`prefs`: prefs.js with user.js over
/// it) does not have yet; `new_id` makes a calendar id. Refused (`server_invalid`) when a URL is not `https://`.
pub fn plan(
    prefs: &BTreeMap<String, Value>,
    profile: &Path,
    account: &Account,
    mut new_id: impl FnMut() -> String,
) -> Result<DavPlan, Diagnosis> {
    let mut plan = DavPlan::default();
    if let Some(found) = &account.dav.caldav {
        let existing: Vec<&str> = per_key(prefs, "calendar.registry.", "uri").filter_map(|(_, v)| v.as_str()).collect();
        let mut order: Vec<String> = string_pref(prefs, "calendar.list.sortOrder")
            .map(|o| o.split(' ').filter(|id| !id.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let order_before = order.len();
        for calendar in &found.calendars {
            checked_url(&calendar.url)?;
            let there =
                existing.iter().any(|u| same_url(u, &calendar.url)) || plan.added.calendars.iter().any(|c| same_url(&c.url, &calendar.url));
            plan.added.calendars.push(DavAddedItem { name: calendar.name.clone(), url: calendar.url.clone(), added: !there });
            if there {
                continue;
            }
            let id = new_id();
            let branch = format!("calendar.registry.{id}.");
            plan.prefs
                .extend([(format!("{branch}cache.enabled"), true.into()), (format!("{branch}calendar-main-in-composite"), true.into())]);
            if let Some(color) = &calendar.color {
                plan.prefs.push((format!("{branch}color"), color.as_str().into()));
            }
            plan.prefs.extend([
                (format!("{branch}name"), calendar.name.as_str().into()),
                (format!("{branch}type"), "caldav".into()),
                (format!("{branch}uri"), calendar.url.as_str().into()),
                (format!("{branch}username"), found.service.username.as_str().into()),
            ]);
            order.push(id);
        }
        if order.len() > order_before {
            plan.prefs.push(("calendar.list.sortOrder".into(), order.join(" ").into()));
        }
    }
    if let Some(found) = &account.dav.carddav {
        let existing: Vec<&str> = per_key(prefs, "ldap_2.servers.", "carddav.url").filter_map(|(_, v)| v.as_str()).collect();
        let mut taken = keys_below(prefs, "ldap_2.servers.");
        let mut files: Vec<String> = Vec::new();
        for book in &found.addressbooks {
            checked_url(&book.url)?;
            let there =
                existing.iter().any(|u| same_url(u, &book.url)) || plan.added.addressbooks.iter().any(|b| same_url(&b.url, &book.url));
            plan.added.addressbooks.push(DavAddedItem { name: book.name.clone(), url: book.url.clone(), added: !there });
            if there {
                continue;
            }
            let key = book_key(&book.name, &taken);
            let file = book_file(prefs, profile, &files);
            let branch = format!("ldap_2.servers.{key}.");
            plan.prefs.extend([
                (format!("{branch}carddav.url"), book.url.as_str().into()),
                (format!("{branch}carddav.username"), found.service.username.as_str().into()),
                (format!("{branch}description"), book.name.as_str().into()),
                (format!("{branch}dirType"), CARDDAV_DIRECTORY_TYPE.into()),
                (format!("{branch}filename"), file.as_str().into()),
            ]);
            taken.insert(key);
            files.push(file);
        }
    }
    Ok(plan)
}

/// A calendar id as `cal.getUUID()` makes it: a random UUID, lower case, without braces.
pub fn new_calendar_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{AddressBook, Calendar, CalendarsFound, ContactsFound, DavFound, DavService};

    fn service(host: &str) -> DavService {
        DavService {
            host: host.into(),
            port: 443,
            username: "jane.doe@icloud.com".into(),
            principal: format!("https://p23-{host}/123/principal/"),
            home: format!("https://p23-{host}/123/home/"),
            realm: Some("MMCalDav".into()),
        }
    }

    fn account() -> Account {
        let mut account = Account::new(crate::Address::parse("jane.doe@icloud.com").unwrap(), None, None).unwrap();
        account.dav = DavFound {
            caldav: Some(CalendarsFound {
                service: service("caldav.icloud.com"),
                calendars: vec![
                    Calendar {
                        name: "Home".into(),
                        url: "https://p23-caldav.icloud.com:443/123/calendars/home/".into(),
                        color: Some("#FF2968".into()),
                    },
                    Calendar { name: "Work".into(), url: "https://p23-caldav.icloud.com:443/123/calendars/work/".into(), color: None },
                ],
            }),
            carddav: Some(ContactsFound {
                service: service("contacts.icloud.com"),
                addressbooks: vec![AddressBook {
                    name: "card".into(),
                    url: "https://p23-contacts.icloud.com:443/123/carddavhome/card/".into(),
                }],
            }),
        };
        account
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id-{n}")
        }
    }

    #[test]
    fn a_fresh_profile_gets_each_calendar_and_the_address_book_as_thunderbird_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(&BTreeMap::new(), dir.path(), &account(), ids()).unwrap();
        let prefs: BTreeMap<String, Value> = plan.prefs.iter().cloned().collect();
        assert_eq!(prefs["calendar.registry.id-1.type"], "caldav");
        assert_eq!(prefs["calendar.registry.id-1.uri"], "https://p23-caldav.icloud.com:443/123/calendars/home/");
        assert_eq!(prefs["calendar.registry.id-1.name"], "Home");
        assert_eq!(prefs["calendar.registry.id-1.color"], "#FF2968");
        assert_eq!(prefs["calendar.registry.id-1.username"], "jane.doe@icloud.com");
        assert_eq!(prefs["calendar.registry.id-1.cache.enabled"], true);
        assert_eq!(prefs["calendar.registry.id-1.calendar-main-in-composite"], true);
        assert!(!prefs.contains_key("calendar.registry.id-2.color"), "no colour from the server: Thunderbird picks one");
        assert_eq!(prefs["calendar.list.sortOrder"], "id-1 id-2");
        assert_eq!(prefs["ldap_2.servers.card.dirType"], 102);
        assert_eq!(prefs["ldap_2.servers.card.description"], "card");
        assert_eq!(prefs["ldap_2.servers.card.filename"], "abook-1.sqlite");
        assert_eq!(prefs["ldap_2.servers.card.carddav.url"], "https://p23-contacts.icloud.com:443/123/carddavhome/card/");
        assert_eq!(prefs["ldap_2.servers.card.carddav.username"], "jane.doe@icloud.com");
        assert!(plan.added.calendars.iter().chain(&plan.added.addressbooks).all(|i| i.added));
        assert_eq!(plan.added.calendars.len(), 2);
    }

    #[test]
    fn what_the_profile_has_is_left_and_new_names_avoid_its_keys_and_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("abook-2.sqlite"), b"").unwrap();
        let prefs = crate::export::thunderbird_profile::prefs::parse(
            "user_pref(\"calendar.registry.aaa.uri\", \"https://p23-caldav.icloud.com:443/123/calendars/home\");\n\
             user_pref(\"calendar.registry.aaa.type\", \"caldav\");\n\
             user_pref(\"calendar.list.sortOrder\", \"bbb aaa\");\n\
             user_pref(\"ldap_2.servers.card.description\", \"card\");\n\
             user_pref(\"ldap_2.servers.card.filename\", \"abook-1.sqlite\");\n\
             user_pref(\"ldap_2.servers.card.carddav.url\", \"https://elsewhere.example/card/\");\n",
        );
        let plan = plan(&prefs, dir.path(), &account(), ids()).unwrap();
        let new: BTreeMap<String, Value> = plan.prefs.iter().cloned().collect();
        assert_eq!(plan.added.calendars.iter().map(|c| c.added).collect::<Vec<_>>(), [false, true], "one calendar per URL");
        assert!(!new.keys().any(|k| k.contains("id-2")), "{new:?}");
        assert_eq!(new["calendar.registry.id-1.name"], "Work");
        assert_eq!(new["calendar.list.sortOrder"], "bbb aaa id-1");
        assert_eq!(new["ldap_2.servers.card_1.filename"], "abook-3.sqlite");
        assert!(plan.added.addressbooks[0].added);

        // Everything there: nothing to write.
        let mut all = prefs.clone();
        all.extend(plan.prefs);
        let again = super::plan(&all, dir.path(), &account(), ids()).unwrap();
        assert!(again.prefs.is_empty(), "{:?}", again.prefs);
        assert!(again.added.calendars.iter().chain(&again.added.addressbooks).all(|i| !i.added));
    }

    #[test]
    fn keys_are_made_as_thunderbird_makes_them() {
        let taken: BTreeSet<String> = ["Kontakte".to_owned()].into();
        assert_eq!(book_key("Kontakte", &taken), "Kontakte_1");
        assert_eq!(book_key("Adressbuch für Jane", &taken), "AdressbuchfrJane");
        assert_eq!(book_key("連絡先", &taken), "_nonascii");
        assert_eq!(book_key("pab", &taken), "pab_1", "Thunderbird's own Personal Address Book");
        assert_eq!(pre_path("https://p23-caldav.icloud.com:443/1/calendars/home/").as_deref(), Some("https://p23-caldav.icloud.com"));
        assert_eq!(pre_path("https://dav.localhost:8443/a/").as_deref(), Some("https://dav.localhost:8443"));
        assert_eq!(pre_path("https://[::1]:8443/a/").as_deref(), Some("https://[::1]:8443"));
        assert_eq!(pre_path("mailto:x@y"), None);
    }

    #[test]
    fn a_url_that_is_not_https_is_refused() {
        let mut account = account();
        account.dav.caldav.as_mut().unwrap().calendars[0].url = "http://p23-caldav.icloud.com/123/".into();
        let err = plan(&BTreeMap::new(), Path::new("/nonexistent"), &account, ids()).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ServerInvalid);
    }

    #[test]
    fn an_account_without_dav_adds_nothing() {
        let mut account = account();
        account.dav = DavFound::default();
        assert_eq!(plan(&BTreeMap::new(), Path::new("/nonexistent"), &account, ids()).unwrap(), DavPlan::default());
    }
}
