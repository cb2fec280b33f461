//! Reading and extending Thunderbird's `prefs.js`: the `user_pref("name", value);` lines it writes.
//! Existing lines are never rewritten: new lines are appended, and a later `user_pref` for the same name wins
//! when Thunderbird reads the file (as `user.js` overrides `prefs.js`), so even the two list prefs that grow
//! (`mail.accountmanager.accounts`, `mail.smtpservers`) are changed by appending a line with the longer list.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::account::Account;
use crate::probe::folders::encode_modified_utf7;
use crate::provider::Security;

/// The effective preferences of a prefs.js text: name → value, the last line for a name winning. Lines that are
/// not plain `user_pref(…);` with JSON-compatible values (a string escape Mozilla has and JSON lacks) are skipped;
/// [`not_understood`] says whether a skipped line sets a pref this editor relies on.
pub fn parse(text: &str) -> BTreeMap<String, Value> {
    let mut prefs = BTreeMap::new();
    for line in text.lines() {
        if let Some((name, value)) = parse_line(line) {
            prefs.insert(name, value);
        }
    }
    prefs
}

fn parse_line(line: &str) -> Option<(String, Value)> {
    let rest = line.trim().strip_prefix("user_pref")?.trim_start().strip_prefix('(')?;
    let (name, rest) = json_value(rest)?;
    let rest = rest.trim_start().strip_prefix(',')?;
    let (value, rest) = json_value(rest)?;
    let rest = rest.trim_start().strip_prefix(')')?.trim_start().strip_prefix(';')?.trim();
    // Anything after the `;` but a line comment could be another pref on the same line: not this reader's form.
    if !(rest.is_empty() || rest.starts_with("//")) {
        return None;
    }
    match name {
        Value::String(name) => Some((name, value)),
        _ => None,
    }
}

/// One value at the start of `text` (after blanks), and what follows it. Strings end themselves; a number or
/// boolean runs to the next `,` or `)` (serde_json's stream reader wants a JSON delimiter after those).
fn json_value(text: &str) -> Option<(Value, &str)> {
    let text = text.trim_start();
    if text.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let value = stream.next()?.ok()?;
        return Some((value, &text[stream.byte_offset()..]));
    }
    let end = text.find([',', ')'])?;
    let value: Value = serde_json::from_str(text[..end].trim()).ok()?;
    Some((value, &text[end..]))
}

/// The prefs whose values this editor reads: the two lists it extends (`mail.accountmanager.accounts`,
/// `mail.smtpservers`), the key counter and the two defaults it may set, and the per-key values that find an account
/// already there or a key already in use. A line that sets one of them in a form [`parse`] skips would give the
/// editor a wrong picture of the profile: the worst case is a new account list holding only the new account.
pub fn editor_reads(name: &str) -> bool {
    const GLOBAL: [&str; 5] = [
        "mail.accountmanager.accounts",
        "mail.accountmanager.defaultaccount",
        "mail.account.lastKey",
        "mail.smtpservers",
        "mail.smtp.defaultserver",
    ];
    const PER_KEY: [(&str, &[&str]); 4] = [
        ("mail.account.", &["server", "identities"]),
        ("mail.identity.", &["smtpServer"]),
        ("mail.server.", &["hostname", "type", "userName", "port", "socketType"]),
        ("mail.smtpserver.", &["hostname", "username", "port"]),
    ];
    GLOBAL.contains(&name)
        || PER_KEY.iter().any(|(branch, suffixes)| {
            name.strip_prefix(branch).and_then(|rest| rest.split_once('.')).is_some_and(|(_, suffix)| suffixes.contains(&suffix))
        })
        || dav_reads(name)
}

/// The calendar and address-book prefs the editor reads (`dav::plan`): the calendar list's order it extends, each
/// calendar's URL (one calendar per URL), each address book's URL and file (one per URL, a new file), and any
/// address-book key (a new key is free of them).
fn dav_reads(name: &str) -> bool {
    let per_key = |branch: &str, suffixes: &[&str]| {
        name.strip_prefix(branch).and_then(|rest| rest.split_once('.')).is_some_and(|(_, suffix)| suffixes.contains(&suffix))
    };
    name == "calendar.list.sortOrder"
        || per_key("calendar.registry.", &["uri"])
        || per_key("ldap_2.servers.", &["carddav.url", "filename", "description", "dirType"])
}

/// The two lists this editor extends by appending a longer copy: if `user.js` sets one, the copy in prefs.js is
/// overridden at the next start and the new account (or its outgoing server) disappears.
pub const LISTS: [&str; 2] = ["mail.accountmanager.accounts", "mail.smtpservers"];

/// Prefs that only make sense with a value of one type; another type (`user_pref("mail.smtpservers", 1)`) is not
/// understood either, since extending it would replace it.
fn has_expected_type(name: &str, value: &Value) -> bool {
    match name {
        "mail.accountmanager.accounts" | "mail.smtpservers" | "mail.accountmanager.defaultaccount" | "mail.smtp.defaultserver" => {
            value.is_string()
        }
        "mail.account.lastKey" => value.is_i64(),
        "calendar.list.sortOrder" => value.is_string(),
        _ if name.starts_with("calendar.registry.") || name.ends_with(".carddav.url") || name.ends_with(".filename") => value.is_string(),
        _ => true,
    }
}

/// Every `mail.…`, `calendar.…` or `ldap_2.…` pref name a line mentions, wherever it stands (quoted either way,
/// after `pref(`, in a value split over lines…). A name starts at such a prefix not preceded by a name character
/// (so `imap.gmail.com` is no mention).
fn mentioned_names(line: &str) -> impl Iterator<Item = &str> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let starts = ["mail.", "calendar.", "ldap_2."].into_iter().flat_map(move |prefix| line.match_indices(prefix));
    starts.filter_map(move |(start, _)| {
        if line[..start].chars().next_back().is_some_and(is_name_char) {
            return None;
        }
        let rest = &line[start..];
        let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        Some(rest[..end].trim_end_matches('.'))
    })
}

/// A pref this editor reads (see [`editor_reads`]) that a text sets in a form the editor does not understand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotUnderstood {
    /// The pref's name.
    pub pref: String,
    /// The line (from 1) that mentions it.
    pub line: usize,
}

/// The first line that sets a pref the editor reads in a form [`parse`] does not take (single quotes, `pref(`
/// instead of `user_pref(`, a value split over lines, a Mozilla-only escape, two prefs on one line, a list that is
/// not a string…), or `None` when every such line is understood. Whole-line comments are no prefs.
pub fn not_understood(text: &str) -> Option<NotUnderstood> {
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") || trimmed.starts_with('#') {
            continue;
        }
        let pref = match parse_line(line) {
            Some((name, value)) => (editor_reads(&name) && !has_expected_type(&name, &value)).then_some(name),
            // Of several names on the line, a list is the one to name: it is what extending would replace.
            None => {
                let read: Vec<&str> = mentioned_names(line).filter(|name| editor_reads(name)).collect();
                read.iter().find(|name| LISTS.contains(name)).or(read.first()).map(|name| (*name).to_owned())
            }
        };
        if let Some(pref) = pref {
            return Some(NotUnderstood { pref, line: index + 1 });
        }
    }
    None
}

/// The account prefs a `user.js` sets (it overrides prefs.js at every start of Thunderbird), sorted.
pub fn account_prefs_set(user_js: &BTreeMap<String, Value>) -> Vec<String> {
    const BRANCHES: [&str; 6] =
        ["mail.accountmanager.", "mail.account.", "mail.identity.", "mail.server.", "mail.smtp.", "mail.smtpserver."];
    user_js.keys().filter(|name| *name == "mail.smtpservers" || BRANCHES.iter().any(|b| name.starts_with(b))).cloned().collect()
}

/// A `user_pref` line. Strings are written as JSON strings, which are valid in prefs.js: the same escapes for `"`
/// and `\`, UTF-8 for everything else (control characters never get here).
pub fn line(name: &str, value: &Value) -> String {
    format!("user_pref({}, {});", Value::String(name.to_owned()), value)
}

fn string_pref<'a>(prefs: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    prefs.get(name).and_then(Value::as_str)
}

fn int_pref(prefs: &BTreeMap<String, Value>, name: &str) -> Option<i64> {
    prefs.get(name).and_then(Value::as_i64)
}

/// The keys a new account gets: one number for all four, free in each family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKeys {
    pub number: u64,
    pub account: String,
    pub server: String,
    pub identity: String,
    /// Either a new SMTP server or an identical one already there.
    pub smtp: String,
    pub smtp_is_new: bool,
}

const FAMILIES: [(&str, &str); 4] =
    [("mail.account.", "account"), ("mail.server.", "server"), ("mail.identity.", "id"), ("mail.smtpserver.", "smtp")];

/// Every number already used in any key family: in pref names (`mail.server.server7.…`) and in the values that
/// refer to keys (the account and SMTP lists, an account's server and identities, an identity's SMTP server), so a
/// key that is listed but has no prefs yet is not reused either.
fn used_numbers(prefs: &BTreeMap<String, Value>) -> Vec<u64> {
    let mut numbers = Vec::new();
    let mut note = |token: &str| {
        for (_, stem) in FAMILIES {
            if let Some(n) = token.strip_prefix(stem).and_then(|n| n.parse::<u64>().ok()) {
                numbers.push(n);
            }
        }
    };
    for (name, value) in prefs {
        for (branch, _) in FAMILIES {
            if let Some(key) = name.strip_prefix(branch).and_then(|rest| rest.split('.').next()) {
                note(key);
            }
        }
        let refers_to_keys = name == "mail.accountmanager.accounts"
            || name == "mail.smtpservers"
            || (name.starts_with("mail.account.") && (name.ends_with(".server") || name.ends_with(".identities")))
            || (name.starts_with("mail.identity.") && name.ends_with(".smtpServer"));
        if let (true, Some(list)) = (refers_to_keys, value.as_str()) {
            list.split(',').map(str::trim).for_each(&mut note);
        }
    }
    if let Some(last) = int_pref(prefs, "mail.account.lastKey") {
        numbers.push(last.max(0) as u64);
    }
    numbers
}

/// The port Thunderbird uses for an incoming server without an explicit `port`.
fn effective_imap_port(prefs: &BTreeMap<String, Value>, key: &str) -> i64 {
    match int_pref(prefs, &format!("mail.server.{key}.port")) {
        Some(port) if port > 0 => port,
        _ if int_pref(prefs, &format!("mail.server.{key}.socketType")) == Some(3) => 993,
        _ => 143,
    }
}

fn server_keys<'a>(prefs: &'a BTreeMap<String, Value>, branch: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    prefs.keys().filter_map(move |name| name.strip_prefix(branch)?.strip_suffix(".hostname"))
}

/// The incoming server that already is this account (same host, login and port), if any.
pub fn existing_server(prefs: &BTreeMap<String, Value>, account: &Account) -> Option<String> {
    let imap = &account.provider.imap;
    let user = account.imap_username();
    let found = server_keys(prefs, "mail.server.").find(|key| {
        let kind = string_pref(prefs, &format!("mail.server.{key}.type")).unwrap_or("imap");
        kind == "imap"
            && string_pref(prefs, &format!("mail.server.{key}.hostname")).is_some_and(|h| h.eq_ignore_ascii_case(&imap.host))
            && string_pref(prefs, &format!("mail.server.{key}.userName")) == Some(user.as_str())
            && effective_imap_port(prefs, key) == i64::from(imap.port)
    });
    found.map(str::to_owned)
}

/// An outgoing server identical to this account's, if any, so a second identity does not get a second copy.
fn existing_smtp(prefs: &BTreeMap<String, Value>, account: &Account) -> Option<String> {
    let smtp = &account.provider.smtp;
    let user = account.smtp_username();
    let found = server_keys(prefs, "mail.smtpserver.").find(|key| {
        string_pref(prefs, &format!("mail.smtpserver.{key}.hostname")).is_some_and(|h| h.eq_ignore_ascii_case(&smtp.host))
            && string_pref(prefs, &format!("mail.smtpserver.{key}.username")) == Some(user.as_str())
            && int_pref(prefs, &format!("mail.smtpserver.{key}.port")) == Some(i64::from(smtp.port))
            && string_pref(prefs, "mail.smtpservers").is_some_and(|list| list.split(',').any(|k| k.trim() == *key))
    });
    found.map(str::to_owned)
}

pub fn new_keys(prefs: &BTreeMap<String, Value>, account: &Account) -> NewKeys {
    let number = used_numbers(prefs).into_iter().max().unwrap_or(0) + 1;
    let (smtp, smtp_is_new) = match existing_smtp(prefs, account) {
        Some(key) => (key, false),
        None => (format!("smtp{number}"), true),
    };
    NewKeys {
        number,
        account: format!("account{number}"),
        server: format!("server{number}"),
        identity: format!("id{number}"),
        smtp,
        smtp_is_new,
    }
}

fn appended(list: Option<&str>, key: &str) -> String {
    match list.map(str::trim).filter(|l| !l.is_empty()) {
        Some(list) => format!("{list},{key}"),
        None => key.to_owned(),
    }
}

/// The prefs the new account adds, name and value. Nothing Thunderbird reads for this account is left to its
/// defaults (which are plain text and no TLS for new servers), so every value is written explicitly.
pub fn account_prefs(prefs: &BTreeMap<String, Value>, account: &Account, keys: &NewKeys) -> Vec<(String, Value)> {
    let imap = &account.provider.imap;
    let smtp = &account.provider.smtp;
    let socket_type = |security: Security| match security {
        Security::Tls => 3,
        Security::Starttls => 2,
    };
    let NewKeys { account: a, server: s, identity: id, smtp: o, .. } = keys;
    let mut out: Vec<(String, Value)> = vec![
        (format!("mail.account.{a}.identities"), id.as_str().into()),
        (format!("mail.account.{a}.server"), s.as_str().into()),
        ("mail.accountmanager.accounts".into(), appended(string_pref(prefs, "mail.accountmanager.accounts"), a).into()),
    ];
    if int_pref(prefs, "mail.account.lastKey").is_some_and(|last| last < keys.number as i64) {
        out.push(("mail.account.lastKey".into(), keys.number.into()));
    }
    if string_pref(prefs, "mail.accountmanager.defaultaccount").is_none() {
        out.push(("mail.accountmanager.defaultaccount".into(), a.as_str().into()));
    }
    if let Some(name) = &account.display_name {
        out.push((format!("mail.identity.{id}.fullName"), name.as_str().into()));
    }
    out.extend([
        (format!("mail.identity.{id}.smtpServer"), o.as_str().into()),
        (format!("mail.identity.{id}.useremail"), account.address.address.as_str().into()),
        (format!("mail.identity.{id}.valid"), true.into()),
        (format!("mail.server.{s}.authMethod"), 3.into()),
        (format!("mail.server.{s}.check_new_mail"), true.into()),
        (format!("mail.server.{s}.hostname"), imap.host.as_str().into()),
        (format!("mail.server.{s}.login_at_startup"), true.into()),
        (format!("mail.server.{s}.name"), account.address.address.as_str().into()),
        (format!("mail.server.{s}.port"), imap.port.into()),
        (format!("mail.server.{s}.socketType"), socket_type(imap.security).into()),
        (format!("mail.server.{s}.type"), "imap".into()),
        (format!("mail.server.{s}.userName"), account.imap_username().into()),
    ]);
    out.extend(folder_prefs(account, keys));
    if keys.smtp_is_new {
        if string_pref(prefs, "mail.smtp.defaultserver").is_none() {
            out.push(("mail.smtp.defaultserver".into(), o.as_str().into()));
        }
        out.extend([
            (format!("mail.smtpserver.{o}.authMethod"), 3.into()),
            (format!("mail.smtpserver.{o}.description"), "iCloud Mail".into()),
            (format!("mail.smtpserver.{o}.hostname"), smtp.host.as_str().into()),
            (format!("mail.smtpserver.{o}.port"), smtp.port.into()),
            (format!("mail.smtpserver.{o}.try_ssl"), socket_type(smtp.security).into()),
            (format!("mail.smtpserver.{o}.type"), "smtp".into()),
            (format!("mail.smtpserver.{o}.username"), account.smtp_username().into()),
            ("mail.smtpservers".into(), appended(string_pref(prefs, "mail.smtpservers"), o).into()),
        ]);
    }
    out
}

/// Where Thunderbird puts sent mail, drafts, archived, deleted and junk mail for this account: the folders the
/// account names (the server's, after a connection test). Thunderbird's own account setup writes "Sent" and
/// "Drafts" and lets folder discovery correct them; these are right from the start. Picker mode "1" is "this
/// folder" (the account settings' "Other" choice), which keeps the exact folder. Junk: the target folder only
/// (`moveTargetMode` 1); whether junk is moved at all (`moveOnSpam`) stays the person's choice, off by default.
/// A role the server has no folder for is left to Thunderbird's defaults.
pub fn folder_prefs(account: &Account, keys: &NewKeys) -> Vec<(String, Value)> {
    let (id, s) = (&keys.identity, &keys.server);
    let folders = &account.folders;
    let mut out = Vec::new();
    let mut identity_folder = |name: &Option<String>, folder_pref: &str, mode_pref: &str| {
        if let Some(name) = name {
            out.push((format!("mail.identity.{id}.{folder_pref}"), folder_uri(account, name).into()));
            out.push((format!("mail.identity.{id}.{mode_pref}"), "1".into()));
        }
    };
    identity_folder(&folders.sent, "fcc_folder", "fcc_folder_picker_mode");
    identity_folder(&folders.drafts, "draft_folder", "drafts_folder_picker_mode");
    identity_folder(&folders.archive, "archive_folder", "archives_folder_picker_mode");
    if let Some(junk) = &folders.junk {
        out.push((format!("mail.server.{s}.moveTargetMode"), 1.into()));
        out.push((format!("mail.server.{s}.spamActionTargetFolder"), folder_uri(account, junk).into()));
    }
    if let Some(trash) = &folders.trash {
        out.push((format!("mail.server.{s}.trash_folder_name"), canonical_path(trash, folders.delimiter.as_deref()).into()));
    }
    out
}

/// A folder's path as Thunderbird writes it: `/` between levels whatever the server's delimiter, and on a server
/// whose delimiter is not `/` a `/` inside a name as `^` (and `^` as `^^`), as `nsImapUrl::ConvertToCanonicalFormat`.
pub fn canonical_path(name: &str, delimiter: Option<&str>) -> String {
    match delimiter.and_then(|d| d.chars().next()).filter(|d| *d != '/') {
        None => name.to_owned(),
        Some(delimiter) => name
            .chars()
            .map(|c| match c {
                '^' => "^^".to_owned(),
                '/' => "^".to_owned(),
                c if c == delimiter => "/".to_owned(),
                c => c.to_string(),
            })
            .collect(),
    }
}

/// Thunderbird's URI of a folder of this account's IMAP server, as it names the folder itself:
/// `imap://<user>@<host>/<path>`, the user escaped as `nsMsgIncomingServer::GetServerURI` does (`@` as `%40`), the
/// path in canonical form and in modified UTF-7 (the online name of a server without UTF8=ACCEPT), escaped as
/// `MsgEscapeString(…, ESCAPE_URL_PATH)` does (`Sent Messages` as `Sent%20Messages`).
pub fn folder_uri(account: &Account, name: &str) -> String {
    let user = mozilla_escape(&account.imap_username(), |b| b.is_ascii_alphanumeric() || b"*-._".contains(&b));
    let path_safe = |b: u8| b.is_ascii_alphanumeric() || b"*+-./_".contains(&b);
    let host = mozilla_escape(&account.provider.imap.host, path_safe);
    let path = canonical_path(&encode_modified_utf7(name), account.folders.delimiter.as_deref());
    format!("imap://{user}@{host}/{}", mozilla_escape(&path, path_safe))
}

/// Mozilla's `NS_Escape`: every byte that `keep` does not allow as `%XX` (upper-case hex).
fn mozilla_escape(text: &str, keep: impl Fn(u8) -> bool) -> String {
    text.bytes().map(|b| if keep(b) { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_uris_are_written_as_thunderbird_writes_them() {
        let mut account = crate::Account::new(crate::Address::parse("jane.doe@icloud.com").unwrap(), None, None).unwrap();
        assert_eq!(folder_uri(&account, "Sent Messages"), "imap://jane.doe@imap.mail.me.com/Sent%20Messages");
        account.provider.imap_login_forms.reverse();
        assert_eq!(folder_uri(&account, "Drafts"), "imap://jane.doe%40icloud.com@imap.mail.me.com/Drafts");
        // Quotes, percent signs, a `^`, non-ASCII (modified UTF-7 first, then escaped), a level below.
        assert_eq!(
            folder_uri(&account, "Work/\"Q\" 100% ^ Entwürfe"),
            "imap://jane.doe%40icloud.com@imap.mail.me.com/Work/%22Q%22%20100%25%20%5E%20Entw%26APw-rfe"
        );
        // A server with `.` between levels: levels become `/`, a `/` inside a name becomes `^`.
        account.folders.delimiter = Some(".".into());
        assert_eq!(folder_uri(&account, "INBOX.Sent"), "imap://jane.doe%40icloud.com@imap.mail.me.com/INBOX/Sent");
        assert_eq!(folder_uri(&account, "INBOX.a/b^c"), "imap://jane.doe%40icloud.com@imap.mail.me.com/INBOX/a%5Eb%5E%5Ec");
        account.provider.imap.host = "::1".into();
        assert_eq!(folder_uri(&account, "Junk"), "imap://jane.doe%40icloud.com@%3A%3A1/Junk");
        assert_eq!(canonical_path("INBOX.Trash", Some(".")), "INBOX/Trash");
        assert_eq!(canonical_path("Deleted Messages", Some("/")), "Deleted Messages");
        assert_eq!(canonical_path("Gelöscht", None), "Gelöscht");
    }

    #[test]
    fn lines_parse_with_the_last_one_winning() {
        let text = "// Mozilla User Preferences\n\
            user_pref(\"mail.server.server2.hostname\", \"imap.example.com\");\n\
            user_pref(\"a.b\", 1);\n  user_pref( \"a.b\" , 2 ) ;\n\
            user_pref(\"odd\", \"\\x01\");\n\
            user_pref(\"quote\", \"say \\\"hi\\\" \\\\ ok\");\n";
        let prefs = parse(text);
        assert_eq!(prefs["a.b"], 2);
        assert_eq!(prefs["mail.server.server2.hostname"], "imap.example.com");
        assert_eq!(parse("user_pref(\"b\", true);\nuser_pref(\"n\", -1);")["b"], true);
        assert_eq!(prefs["quote"], "say \"hi\" \\ ok");
        assert!(!prefs.contains_key("odd"), "a Mozilla-only escape is skipped, not misread");
        assert_eq!(parse_line(&line("x", &Value::from("a\"b\\c 💌"))), Some(("x".into(), Value::from("a\"b\\c 💌"))));
    }

    #[test]
    fn prefs_the_editor_reads_in_a_form_it_skips_are_not_understood() {
        let understood = "// user_pref('mail.smtpservers', 'a');\n# pref(\"mail.smtpservers\", \"b\");\n\
            user_pref(\"mail.accountmanager.accounts\", \"account1\"); // trailing comment\n\
            user_pref( \"mail.smtpservers\" ,\t\"smtp1\" ) ;\n\
            user_pref(\"mail.identity.id1.htmlSigText\", \"imap.gmail.com, a Mozilla-only escape: \\x41\");\n\
            pref(\"browser.startup.page\", 1);\n";
        assert_eq!(not_understood(understood), None);
        let cases = [
            ("user_pref('mail.accountmanager.accounts', 'account1,account2');", "mail.accountmanager.accounts"),
            ("pref(\"mail.accountmanager.accounts\", \"account1\");", "mail.accountmanager.accounts"),
            ("sticky_pref(\"mail.smtpservers\", \"smtp1\");", "mail.smtpservers"),
            ("user_pref(\"mail.accountmanager.accounts\",\n  \"account1,account2\");", "mail.accountmanager.accounts"),
            ("user_pref(\"mail.smtp.defaultserver\", \"smtp1\");\nuser_pref(\n\"mail.smtpservers\", \"smtp1\");", "mail.smtpservers"),
            ("user_pref(\"mail.accountmanager.accounts\", \"account1\\x2caccount2\");", "mail.accountmanager.accounts"),
            ("user_pref(\"a\", 1); user_pref(\"mail.smtpservers\", \"smtp1\");", "mail.smtpservers"),
            ("user_pref(\"mail.accountmanager.accounts\", 7);", "mail.accountmanager.accounts"),
            ("user_pref(\"mail.account.lastKey\", \"7\");", "mail.account.lastKey"),
            ("/* old */ user_pref(\"mail.smtp.defaultserver\", \"smtp1\");", "mail.smtp.defaultserver"),
            ("user_pref(\"mail.server.server2.hostname\", 'imap.gmail.com');", "mail.server.server2.hostname"),
            ("user_pref(\"mail.account.account2.identities\" \"id1\");", "mail.account.account2.identities"),
            ("user_pref('calendar.list.sortOrder', 'a b');", "calendar.list.sortOrder"),
            ("user_pref(\"calendar.registry.abc.uri\", 'https://x/');", "calendar.registry.abc.uri"),
            ("pref(\"ldap_2.servers.card.carddav.url\", \"https://x/\");", "ldap_2.servers.card.carddav.url"),
            ("user_pref(\"ldap_2.servers.card.filename\", 1);", "ldap_2.servers.card.filename"),
        ];
        for (text, pref) in cases {
            let text = format!("user_pref(\"x\", 1);\n{text}\n");
            let line = if text.contains("\nuser_pref(\n") { 4 } else { 2 };
            assert_eq!(not_understood(&text), Some(NotUnderstood { pref: pref.into(), line }), "{text}");
        }
    }

    #[test]
    fn new_keys_avoid_every_family_and_listed_keys() {
        let prefs = parse(
            "user_pref(\"mail.accountmanager.accounts\", \"account1,account9\");\n\
             user_pref(\"mail.server.server3.hostname\", \"x\");\n\
             user_pref(\"mail.identity.id4.useremail\", \"x\");\n\
             user_pref(\"mail.smtpservers\", \"smtp2\");\n",
        );
        let account = crate::Account::new(crate::Address::parse("jane@icloud.com").unwrap(), None, None).unwrap();
        let keys = new_keys(&prefs, &account);
        assert_eq!(
            (keys.account.as_str(), keys.server.as_str(), keys.identity.as_str(), keys.smtp.as_str()),
            ("account10", "server10", "id10", "smtp10")
        );
    }
}
