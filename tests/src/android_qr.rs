//! Thunderbird for Android's account QR code, read as a phone reads it: the picture decoded by a real QR reader
//! (Debian's `zbarimg`; an SVG drawn first by `rsvg-convert`) and the payload checked against the format's
//! specification (Thunderbird for Android's `feature/migration/qrcode/qr-code-format.md`, format version 1), as a
//! check of a *writer*: every property of the version is validated, and a writer may add no element the version
//! does not define, nor leave out an optional one anywhere but at the end of its array.
//!
//! Written from the specification, not from the product's code, so that the product cannot pass by agreeing with
//! itself. One rule is stricter than the text: a `null` account name or password (which the specification reads as
//! "omitted") is refused, because Thunderbird for Android's reader reads both with a string-only JSON call that
//! fails on `null`, so such a code would be rejected by the app.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// One server entry (`IncomingServer` or `OutgoingServer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// `IncomingProtocol` 0 IMAP, 1 POP3; `OutgoingProtocol` 0 SMTP.
    pub protocol: u64,
    pub host: String,
    pub port: u16,
    /// `ConnectionSecurity`: 0 plain, 2 always STARTTLS, 3 TLS.
    pub security: u64,
    /// `AuthenticationType` 0–6 (1: a password in clear text, over the secured connection).
    pub auth: u64,
    pub username: String,
    /// Incoming only; `None` when left out.
    pub account_name: Option<String>,
    /// `None` when left out.
    pub password: Option<String>,
}

/// One identity of an outgoing server group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub email: String,
    pub display_name: String,
}

/// An account: the incoming server and its outgoing server groups (each a server and its identities).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub incoming: Server,
    pub outgoing: Vec<(Server, Vec<Identity>)>,
}

/// A payload that passed every rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    pub sequence_number: u64,
    pub sequence_end: u64,
    pub accounts: Vec<Account>,
}

impl Payload {
    /// The one account of a single-account code, its one outgoing server and its one identity.
    pub fn only_account(&self) -> (&Server, &Server, &Identity) {
        assert_eq!(self.accounts.len(), 1, "one account: {self:?}");
        let account = &self.accounts[0];
        assert_eq!(account.outgoing.len(), 1, "one outgoing server group: {self:?}");
        let (smtp, identities) = &account.outgoing[0];
        assert_eq!(identities.len(), 1, "one identity: {self:?}");
        (&account.incoming, smtp, &identities[0])
    }
}

/// The payload's bytes as the reader gets them: `zbarimg --quiet --raw -Sbinary` (without `-Sbinary`, UTF-8 text
/// may be re-encoded). An SVG is drawn on white by `rsvg-convert` first, as zbarimg reads raster images only.
pub fn decode(image: &Path) -> Vec<u8> {
    let raster = if image.extension().is_some_and(|e| e == "svg") {
        let png = image.with_extension("svg.png");
        let out = Command::new("rsvg-convert")
            .args(["-b", "white", "-w", "600"])
            .arg(image)
            .arg("-o")
            .arg(&png)
            .output()
            .expect("run rsvg-convert (package librsvg2-bin)");
        assert!(out.status.success(), "rsvg-convert {}: {}", image.display(), String::from_utf8_lossy(&out.stderr));
        png
    } else {
        image.to_owned()
    };
    let out =
        Command::new("zbarimg").args(["--quiet", "--raw", "-Sbinary"]).arg(&raster).output().expect("run zbarimg (package zbar-tools)");
    assert!(
        out.status.success(),
        "zbarimg found no QR code in {} ({:?}): {}",
        raster.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = out.stdout;
    // zbarimg ends each symbol's data with a line break of its own; a JSON payload never ends with one.
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

/// Checks a payload against the specification (version 1) as written by a writer; the reason for the first rule
/// broken, or what it carries.
pub fn validate(bytes: &[u8]) -> Result<Payload, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let root: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let root = array(&root, "the root element")?;
    if root.len() < 4 {
        return Err(format!(
            "the root array has {} elements; FormatVersion, MiscellaneousData and at least one account are required",
            root.len()
        ));
    }
    let version = integer(&root[0], "FormatVersion")?;
    if version != 1 {
        return Err(format!("FormatVersion {version}: only version 1 is specified"));
    }
    let misc = array(&root[1], "MiscellaneousData")?;
    if misc.len() != 2 {
        return Err(format!("MiscellaneousData has {} elements; version 1 defines SequenceNumber and SequenceEnd", misc.len()));
    }
    let sequence_number = integer(&misc[0], "SequenceNumber")?;
    let sequence_end = integer(&misc[1], "SequenceEnd")?;
    if sequence_number < 1 || sequence_end < sequence_number {
        return Err(format!("sequence {sequence_number} of {sequence_end}: the number is 1-based and at most the end"));
    }
    let pairs = &root[2..];
    if pairs.len() % 2 != 0 {
        return Err("IncomingServer and OutgoingServerGroups must come in pairs".into());
    }
    let mut accounts = Vec::new();
    for pair in pairs.chunks(2) {
        let incoming = server(&pair[0], Side::Incoming)?;
        let groups = array(&pair[1], "OutgoingServerGroups")?;
        if groups.is_empty() {
            return Err("OutgoingServerGroups is empty; it holds one or more groups".into());
        }
        let mut outgoing = Vec::new();
        for group in groups {
            let group = array(group, "OutgoingServerGroup")?;
            if group.len() < 2 {
                return Err("an OutgoingServerGroup holds an OutgoingServer and at least one Identity".into());
            }
            let smtp = server(&group[0], Side::Outgoing)?;
            let identities = group[1..].iter().map(identity).collect::<Result<Vec<_>, _>>()?;
            outgoing.push((smtp, identities));
        }
        accounts.push(Account { incoming, outgoing });
    }
    Ok(Payload { sequence_number, sequence_end, accounts })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Incoming,
    Outgoing,
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    value.as_array().ok_or_else(|| format!("{what} is not an array: {value}"))
}

/// A JSON integer (not `1.0`, not a string).
fn integer(value: &Value, what: &str) -> Result<u64, String> {
    match value {
        Value::Number(n) if n.is_u64() => Ok(n.as_u64().unwrap_or_default()),
        other => Err(format!("{what} is not a non-negative integer: {other}")),
    }
}

/// A string without a line break (the reader refuses those in every single-line property).
fn line(value: &Value, what: &str) -> Result<String, String> {
    let text = value.as_str().ok_or_else(|| format!("{what} is not a string: {value}"))?;
    if text.contains(['\r', '\n']) {
        return Err(format!("{what} holds a line break: {text:?}"));
    }
    Ok(text.to_owned())
}

fn server(value: &Value, side: Side) -> Result<Server, String> {
    let what = if side == Side::Incoming { "IncomingServer" } else { "OutgoingServer" };
    let fields = array(value, what)?;
    let protocol = integer(fields.first().ok_or(format!("{what} is empty"))?, &format!("{what}'s protocol"))?;
    let known = if side == Side::Incoming { protocol <= 1 } else { protocol == 0 };
    if !known {
        return Err(format!("{what}: protocol {protocol} is not defined in version 1"));
    }
    // Six required elements; then AccountName and Password (incoming) or Password (outgoing), optional, and left
    // out only from the end: a length says which are present.
    let optional = if side == Side::Incoming { 2 } else { 1 };
    if fields.len() < 6 || fields.len() > 6 + optional {
        return Err(format!("{what} has {} elements; version 1 defines 6 to {}: {value}", fields.len(), 6 + optional));
    }
    let host = line(&fields[1], &format!("{what}'s Hostname"))?;
    check_host(&host).map_err(|why| format!("{what}'s Hostname {host:?}: {why}"))?;
    let port = integer(&fields[2], &format!("{what}'s Port"))?;
    if !(1..=65535).contains(&port) {
        return Err(format!("{what}'s Port {port} is not 1-65535"));
    }
    let security = integer(&fields[3], &format!("{what}'s ConnectionSecurity"))?;
    if ![0, 2, 3].contains(&security) {
        return Err(format!("{what}'s ConnectionSecurity {security}: 1 is reserved (do not use), above 3 undefined"));
    }
    let auth = integer(&fields[4], &format!("{what}'s AuthenticationType"))?;
    if auth > 6 {
        return Err(format!("{what}'s AuthenticationType {auth} is not defined"));
    }
    let username = line(&fields[5], &format!("{what}'s Username"))?;
    let (account_name, password) = match (side, &fields[6..]) {
        (_, []) => (None, None),
        (Side::Incoming, [name]) => (Some(line(name, "AccountName")?), None),
        (Side::Incoming, [name, password]) => (Some(line(name, "AccountName")?), Some(line(password, "IncomingServer's Password")?)),
        (Side::Outgoing, [password]) => (None, Some(line(password, "OutgoingServer's Password")?)),
        _ => unreachable!("the length was checked"),
    };
    Ok(Server { protocol, host, port: port as u16, security, auth, username, account_name, password })
}

fn identity(value: &Value) -> Result<Identity, String> {
    let fields = array(value, "Identity")?;
    if fields.len() != 2 {
        return Err(format!("an Identity has {} elements; version 1 defines EmailAddress and DisplayName: {value}", fields.len()));
    }
    let email = line(&fields[0], "EmailAddress")?;
    check_email(&email).map_err(|why| format!("EmailAddress {email:?}: {why}"))?;
    let display_name = line(&fields[1], "DisplayName")?;
    Ok(Identity { email, display_name })
}

/// ASCII only (ACE for international names): a DNS name of letter-digit-hyphen labels, or an IP address.
fn check_host(host: &str) -> Result<(), String> {
    if !host.is_ascii() {
        return Err("not ASCII (an international name must be in its ACE form)".into());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    if host.is_empty() || host.len() > 253 {
        return Err("not a host name's length".into());
    }
    for label in host.split('.') {
        let ldh = label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if label.is_empty() || label.len() > 63 || !ldh || label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label {label:?} is not letters, digits and inner hyphens"));
        }
    }
    Ok(())
}

/// ASCII only; a plain `local@domain` (dot-atom, no quoting) with a host-name domain, as the app accepts for an
/// identity.
fn check_email(email: &str) -> Result<(), String> {
    if !email.is_ascii() {
        return Err("not ASCII".into());
    }
    let (local, domain) = email.rsplit_once('@').ok_or("no @")?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    if local.is_empty() || local.len() > 64 || local.split('.').any(|atom| atom.is_empty() || !atom.bytes().all(atext)) {
        return Err(format!("the local part {local:?} is not a dot-atom"));
    }
    if email.len() > 254 {
        return Err("longer than 254".into());
    }
    check_host(domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value) -> Result<Payload, String> {
        validate(value.to_string().as_bytes())
    }

    fn spec_example() -> Value {
        json!([
            1,
            [1, 1],
            [0, "imap.domain.example", 993, 3, 1, "user@domain.example"],
            [[[0, "smtp.domain.example", 465, 3, 1, "user@domain.example"], ["user@domain.example", "Jane Doe"]]]
        ])
    }

    #[test]
    fn the_specifications_examples_pass() {
        let payload = check(spec_example()).unwrap();
        let (imap, smtp, identity) = payload.only_account();
        assert_eq!((imap.port, imap.security, imap.auth, imap.password.as_deref()), (993, 3, 1, None));
        assert_eq!(smtp.host, "smtp.domain.example");
        assert_eq!(identity.display_name, "Jane Doe");
        let two = json!([
            1,
            [1, 2],
            [0, "imap.company.example", 993, 3, 6, "user@company.example", "user@company.example", ""],
            [[[0, "smtp.company.example", 465, 3, 6, "user@company.example", ""], ["user@company.example", "Jane Doe"]]],
            [0, "imap.domain.example", 993, 3, 1, "jane@domain.example", "Jane (Personal)", ""],
            [[[0, "smtp.domain.example", 465, 3, 1, "jane@domain.example", ""], ["jane@domain.example", "Jane"]]]
        ]);
        assert_eq!(check(two).unwrap().accounts.len(), 2);
    }

    #[test]
    fn every_rule_refuses_what_breaks_it() {
        /// What a case calls itself, and how it breaks the specification's example.
        type Breaking = (&'static str, fn(&mut Value));
        let broken: &[Breaking] = &[
            ("version 2", |v| v[0] = json!(2)),
            ("a float version", |v| v[0] = json!(1.0)),
            ("an extra MiscellaneousData element", |v| v[1] = json!([1, 1, 0])),
            ("sequence 2 of 1", |v| v[1] = json!([2, 1])),
            ("sequence 0", |v| v[1] = json!([0, 1])),
            ("POP3 is 1, 2 is nothing", |v| v[2][0] = json!(2)),
            ("a non-ASCII host", |v| v[2][1] = json!("imap.bücher.example")),
            ("a host with a space", |v| v[2][1] = json!("imap mail")),
            ("port 0", |v| v[2][2] = json!(0)),
            ("port 65536", |v| v[2][2] = json!(65536)),
            ("a port as a string", |v| v[2][2] = json!("993")),
            ("security 1 (reserved)", |v| v[2][3] = json!(1)),
            ("security 4", |v| v[2][3] = json!(4)),
            ("auth 7", |v| v[2][4] = json!(7)),
            ("a line break in the username", |v| v[2][5] = json!("user\n")),
            ("a null account name", |v| v[2] = json!([0, "imap.domain.example", 993, 3, 1, "u", null, "pw"])),
            ("a null password", |v| v[2] = json!([0, "imap.domain.example", 993, 3, 1, "u", "", null])),
            ("an element beyond the version's", |v| v[2] = json!([0, "imap.domain.example", 993, 3, 1, "u", "", "pw", 0])),
            ("a required element left out", |v| v[2] = json!([0, "imap.domain.example", 993, 3, 1])),
            ("SMTP's protocol 1", |v| v[3][0][0][0] = json!(1)),
            ("SMTP with two optional elements", |v| v[3][0][0] = json!([0, "smtp.domain.example", 465, 3, 1, "u", "pw", "x"])),
            ("no outgoing server group", |v| v[3] = json!([])),
            ("a group without an identity", |v| v[3][0] = json!([[0, "smtp.domain.example", 465, 3, 1, "u"]])),
            ("an identity with a third element", |v| v[3][0][1] = json!(["user@domain.example", "Jane", "x"])),
            ("a non-ASCII address", |v| v[3][0][1][0] = json!("jürgen@domain.example")),
            ("an address without @", |v| v[3][0][1][0] = json!("user.domain.example")),
            ("a quoted local part", |v| v[3][0][1][0] = json!("\"a b\"@domain.example")),
            ("a line break in the display name", |v| v[3][0][1][1] = json!("Jane\r\nBcc: x")),
            ("an account without its outgoing groups", |v| v.as_array_mut().unwrap().push(json!([0, "h.example", 993, 3, 1, "u"]))),
        ];
        for (what, breaks) in broken {
            let mut v = spec_example();
            breaks(&mut v);
            assert!(check(v.clone()).is_err(), "{what} passed: {v}");
        }
        assert!(validate(b"[1, [1, 1]").is_err(), "not JSON");
        assert!(validate(b"\xff").is_err(), "not UTF-8");
        // Allowed: non-ASCII display names, IP addresses, the empty account name before a password.
        let mut v = spec_example();
        v[3][0][1][1] = json!("Jürgen Müßig");
        v[2] = json!([0, "127.0.0.1", 993, 3, 1, "u", "", "pw"]);
        assert!(check(v).is_ok());
    }
}
