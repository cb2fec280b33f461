//! Reading and extending Thunderbird's `prefs.js`: the `user_pref("name", value);` lines it writes.
//! Existing lines are never rewritten: new lines are appended, and a later `user_pref` for the same name wins
//! when Thunderbird reads the file (as `user.js` overrides `prefs.js`), so even the two list prefs that grow
//! (`mail.accountmanager.accounts`, `mail.smtpservers`) are changed by appending a line with the longer list.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::account::Account;
use crate::provider::Security;

/// The effective preferences of a prefs.js text: name → value, the last line for a name winning. Lines that are
/// not plain `user_pref(…);` with JSON-compatible values (a string escape Mozilla has and JSON lacks) are skipped.
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
    let rest = rest.trim_start().strip_prefix(')')?.trim_start();
    if !rest.starts_with(';') {
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

/// Nothing Thunderbird reads for this account is left to its defaults (which are plain text and no TLS for new
/// servers), so every value is written explicitly.
pub fn account_lines(prefs: &BTreeMap<String, Value>, account: &Account, keys: &NewKeys) -> Vec<String> {
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
    out.iter().map(|(name, value)| line(name, value)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
