//! Every export format re-parsed by a real parser of its syntax and compared field by field with what the
//! account says — and with nothing else: the parsed fields must be exactly the expected list, so an injected key,
//! element or line fails the test. Property tests run hostile names through every exporter. Apple's schema and
//! Thunderbird's ISPDB entry (fixtures/) are the oracles for the mobileconfig and the autoconfig file.
//! The terminal clients' files are read back by the clients themselves in `tests/tests/export_clients.rs`.

use std::collections::BTreeMap;

use icloud_mail_core::export::outlook_prf::read_ini_value;
use icloud_mail_core::export::outlook_reg::AUTODISCOVER_KEY;
use icloud_mail_core::export::{ExportFormat, ExportOptions};
use icloud_mail_core::provider::{Endpoint, LoginForm, Security};
use icloud_mail_core::{Account, Address, DiagnosisKind};
use proptest::prelude::*;

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

/// An iCloud+ custom-domain address that signs in with its primary iCloud address.
fn custom(name: Option<&str>) -> Account {
    Account::new(addr("jane@family.example"), Some(addr("jane.doe@icloud.com")), name.map(str::to_owned)).unwrap()
}

fn native(name: Option<&str>) -> Account {
    Account::new(addr("jane.doe@icloud.com"), None, name.map(str::to_owned)).unwrap()
}

fn render(format: ExportFormat, account: &Account) -> Vec<u8> {
    format.exporter().render(account, &ExportOptions::default()).unwrap()
}

fn utf16le(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], [0xFF, 0xFE], "UTF-16LE byte-order mark");
    let units: Vec<u16> = bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).unwrap()
}

type Fields = Vec<(String, String)>;

fn pairs(list: &[(&str, &str)]) -> Fields {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Every element's text and every attribute of an XML document, by path of local names, in document order.
fn xml_fields(xml: &str) -> Fields {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut out = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let path: Vec<&str> =
            node.ancestors().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect::<Vec<_>>().into_iter().rev().collect();
        let path = path.join("/");
        for attr in node.attributes() {
            out.push((format!("{path}@{}", attr.name()), attr.value().to_owned()));
        }
        let text: String = node.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect();
        if !text.trim().is_empty() {
            out.push((path, text));
        }
    }
    out
}

// ---------------------------------------------------------------- Thunderbird autoconfig

fn server_fields(prefix: &str, kind: &str, endpoint: &Endpoint, socket: &str, user: &str) -> Fields {
    pairs(&[
        (&format!("{prefix}@type"), kind),
        (&format!("{prefix}/hostname"), &endpoint.host),
        (&format!("{prefix}/port"), &endpoint.port.to_string()),
        (&format!("{prefix}/socketType"), socket),
        (&format!("{prefix}/username"), user),
        (&format!("{prefix}/authentication"), "password-cleartext"),
    ])
}

fn check_autoconfig(account: &Account) {
    let generic = account.address.is_icloud() && account.login == account.address;
    if !generic {
        // Published for a whole domain, the file cannot carry this person's login: refused, with the reason.
        let err = ExportFormat::ThunderbirdAutoconfig.exporter().render(account, &ExportOptions::default()).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::AutoconfigPersonalLogin);
        assert_eq!(err.facts.username.as_deref(), Some(account.login.address.as_str()));
        return;
    }
    let xml = String::from_utf8(render(ExportFormat::ThunderbirdAutoconfig, account)).unwrap();
    let p = "clientConfig/emailProvider";
    let mut want = pairs(&[("clientConfig@version", "1.1"), (&format!("{p}@id"), &account.address.domain)]);
    for d in ["icloud.com", "me.com", "mac.com"] {
        want.push((format!("{p}/domain"), d.to_owned()));
    }
    want.push((format!("{p}/displayName"), "iCloud Mail".into()));
    want.push((format!("{p}/displayShortName"), "iCloud".into()));
    let placeholder = |form: LoginForm| if form == LoginForm::NamePart { "%EMAILLOCALPART%" } else { "%EMAILADDRESS%" };
    let (imap_user, smtp_user) = (placeholder(account.provider.imap_login_forms[0]), placeholder(account.provider.smtp_login_forms[0]));
    let socket = |e: &Endpoint| if e.security == Security::Tls { "SSL" } else { "STARTTLS" };
    want.extend(server_fields(&format!("{p}/incomingServer"), "imap", &account.provider.imap, "SSL", imap_user));
    for smtp in std::iter::once(&account.provider.smtp).chain(account.provider.smtp_fallback.as_ref()) {
        want.extend(server_fields(&format!("{p}/outgoingServer"), "smtp", smtp, socket(smtp), smtp_user));
    }
    want.extend(pairs(&[
        (&format!("{p}/documentation@url"), "https://support.apple.com/102525"),
        (&format!("{p}/documentation/descr@lang"), "en"),
        (&format!("{p}/documentation/descr"), "iCloud Mail server settings. Sign in with an app-specific password."),
    ]));
    assert_eq!(xml_fields(&xml), want, "{xml}");
}

/// The settings that matter in a clientConfig: domains and, per server, type, host, port, security, username, auth.
fn autoconfig_meaning(xml: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut domains: Vec<String> = doc.descendants().filter(|n| n.has_tag_name("domain")).map(|n| n.text().unwrap().to_owned()).collect();
    domains.sort();
    let servers = doc
        .descendants()
        .filter(|n| n.has_tag_name("incomingServer") || n.has_tag_name("outgoingServer"))
        .map(|server| {
            let mut v = vec![server.tag_name().name().to_owned(), server.attribute("type").unwrap().to_owned()];
            for field in ["hostname", "port", "socketType", "username", "authentication"] {
                v.push(server.children().find(|c| c.has_tag_name(field)).and_then(|c| c.text()).unwrap().to_owned());
            }
            v
        })
        .collect();
    (domains, servers)
}

#[test]
fn autoconfig_for_icloud_means_what_thunderbirds_own_ispdb_entry_means_plus_the_465_fallback() {
    let ispdb = include_str!("fixtures/thunderbird-ispdb-me.com.xml");
    for address in ["jane.doe@icloud.com", "old@mac.com", "x@me.com"] {
        let account = Account::new(addr(address), None, Some("Jane".into())).unwrap();
        let ours = String::from_utf8(render(ExportFormat::ThunderbirdAutoconfig, &account)).unwrap();
        let (domains, mut servers) = autoconfig_meaning(&ours);
        assert_eq!(
            servers.pop().unwrap(),
            ["outgoingServer", "smtp", "smtp.mail.me.com", "465", "SSL", "%EMAILADDRESS%", "password-cleartext"],
            "the second outgoing server, which Thunderbird offers when 587 fails"
        );
        assert_eq!((domains, servers), autoconfig_meaning(ispdb), "{ours}");
        check_autoconfig(&account);
    }
}

#[test]
fn autoconfig_for_a_login_of_its_own_is_refused_with_the_reason() {
    for account in [custom(Some("Jane")), Account::new(addr("alias@icloud.com"), Some(addr("jane.doe@icloud.com")), None).unwrap()] {
        check_autoconfig(&account);
        let err = ExportFormat::ThunderbirdAutoconfig.exporter().render(&account, &ExportOptions::default()).unwrap_err();
        let message = err.message(icloud_mail_core::Lang::En);
        assert!(message.contains(&account.address.address) && message.contains("jane.doe@icloud.com"), "{message}");
        assert!(err.hint(icloud_mail_core::Lang::En).contains("thunderbird add"));
    }
}

#[test]
fn autoconfig_takes_the_verified_login_form_and_endpoints() {
    // An account that signed in with its full address over 465: the placeholder and the one outgoing server follow.
    let mut account = native(None);
    account.provider.imap_login_forms.reverse();
    account.provider.smtp = Endpoint::new("smtp.mail.me.com", 465, Security::Tls);
    account.provider.smtp_fallback = None;
    check_autoconfig(&account);
    let xml = String::from_utf8(render(ExportFormat::ThunderbirdAutoconfig, &account)).unwrap();
    let (_, servers) = autoconfig_meaning(&xml);
    assert_eq!(servers.len(), 2, "{xml}");
    assert_eq!(servers[0][5], "%EMAILADDRESS%");
    assert_eq!((servers[1][3].as_str(), servers[1][4].as_str()), ("465", "SSL"));
}

// ---------------------------------------------------------------- Outlook PRF

fn check_prf(account: &Account) {
    let text = utf16le(&render(ExportFormat::OutlookPrf, account));
    assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'), "CRLF lines only");
    let options = || ini::ParseOption { enabled_quote: false, enabled_escape: false, ..Default::default() };
    let prf = ini::Ini::load_from_str_opt(&text, options()).unwrap();
    let sections: Vec<&str> = prf.sections().flatten().collect();
    assert_eq!(
        sections,
        [
            "General",
            "Service List",
            "Internet Account List",
            "Account1",
            "Microsoft Exchange Server",
            "Exchange Global Section",
            "Microsoft Mail",
            "Personal Folders",
            "Unicode Personal Folders",
            "Outlook Address Book",
            "LDAP Directory",
            "Microsoft Outlook Client",
            "Personal Address Book",
            "I_Mail",
            "IMAP_I_Mail"
        ]
    );
    let section =
        |name: &str| -> Fields { prf.section(Some(name)).unwrap().iter().map(|(k, v)| (k.to_owned(), read_ini_value(v))).collect() };
    assert_eq!(
        section("General"),
        pairs(&[
            ("Custom", "1"),
            ("ProfileName", "Outlook"),
            ("DefaultProfile", "Yes"),
            ("OverwriteProfile", "Append"),
            ("ModifyDefaultProfileIfPresent", "TRUE"),
            ("BackupProfile", "No")
        ])
    );
    assert_eq!(section("Internet Account List"), pairs(&[("Account1", "IMAP_I_Mail")]));
    let name = account.display_name.clone().unwrap_or_else(|| account.address.address.clone());
    let (imap, smtp) = (&account.provider.imap, &account.provider.smtp);
    assert_eq!(
        section("Account1"),
        pairs(&[
            ("UniqueService", "No"),
            ("AccountName", &account.address.address),
            ("DisplayName", &name),
            ("EmailAddress", &account.address.address),
            ("IMAPServer", &imap.host),
            ("IMAPUserName", &account.imap_username()),
            ("IMAPUseSPA", "0"),
            ("IMAPPort", &imap.port.to_string()),
            ("IMAPUseSSL", "1"),
            ("SMTPServer", &smtp.host),
            ("SMTPUseAuth", "1"),
            ("SMTPAuthMethod", "1"),
            ("SMTPUserName", &account.smtp_username()),
            ("SMTPUseSPA", "0"),
            ("SMTPPort", &smtp.port.to_string()),
            ("SMTPSecureConnection", "2"),
        ])
    );
    let mapping = section("IMAP_I_Mail");
    for (key, value) in [
        ("AccountType", "IMAP"),
        ("IMAPUseSSL", "PT_LONG,0x0105"),
        ("SMTPSecureConnection", "PT_LONG,0x020A"),
        ("SMTPPort", "PT_LONG,0x0201"),
    ] {
        assert!(mapping.contains(&(key.to_owned(), value.to_owned())), "[IMAP_I_Mail] lacks {key}={value}");
    }
    // The name appears in DisplayName and nowhere else (unless it happens to equal a fixed value such as "1").
    if let Some(name) = &account.display_name {
        let values = |prf: &ini::Ini| -> Fields {
            prf.iter().flat_map(|(_, p)| p.iter().map(|(k, v)| (k.to_owned(), read_ini_value(v))).collect::<Vec<_>>()).collect()
        };
        let fixed = utf16le(&render(ExportFormat::OutlookPrf, &Account { display_name: None, ..account.clone() }));
        let fixed = values(&ini::Ini::load_from_str_opt(&fixed, options()).unwrap());
        if !fixed.iter().any(|(_, v)| v == name) {
            let holders: Fields = values(&prf).into_iter().filter(|(_, v)| v == name).collect();
            assert_eq!(holders, [("DisplayName".to_owned(), name.clone())]);
        }
    }
}

#[test]
fn prf_holds_the_account_in_octs_layout() {
    check_prf(&custom(Some("Jane Doe")));
    check_prf(&native(None));
}

// ---------------------------------------------------------------- Outlook Autodiscover + .reg

fn check_autodiscover(account: &Account) {
    let xml = String::from_utf8(render(ExportFormat::OutlookAutodiscover, account)).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().namespace(), Some("http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"));
    let response = doc.root_element().first_element_child().unwrap();
    assert_eq!(response.tag_name().namespace(), Some("http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"));
    let r = "Autodiscover/Response";
    let mut want = Fields::new();
    if let Some(name) = &account.display_name {
        want.push((format!("{r}/User/DisplayName"), name.clone()));
    }
    want.push((format!("{r}/User/AutoDiscoverSMTPAddress"), account.address.address.clone()));
    want.extend(pairs(&[(&format!("{r}/Account/AccountType"), "email"), (&format!("{r}/Account/Action"), "settings")]));
    let protocol = |kind: &str, e: &Endpoint, login: &str, ssl: &str, enc: &str| {
        let p = format!("{r}/Account/Protocol");
        let mut v = pairs(&[
            (&format!("{p}/Type"), kind),
            (&format!("{p}/Server"), &e.host),
            (&format!("{p}/Port"), &e.port.to_string()),
            (&format!("{p}/LoginName"), login),
            (&format!("{p}/DomainRequired"), "off"),
            (&format!("{p}/SPA"), "off"),
            (&format!("{p}/SSL"), ssl),
            (&format!("{p}/Encryption"), enc),
            (&format!("{p}/AuthRequired"), "on"),
        ]);
        if kind == "SMTP" {
            v.extend(pairs(&[(&format!("{p}/UsePOPAuth"), "off"), (&format!("{p}/SMTPLast"), "off")]));
        }
        v
    };
    want.extend(protocol("IMAP", &account.provider.imap, &account.imap_username(), "on", "SSL"));
    want.extend(protocol("SMTP", &account.provider.smtp, &account.smtp_username(), "off", "TLS"));
    assert_eq!(xml_fields(&xml), want, "{xml}");
}

fn check_reg(account: &Account, xml_path: Option<&str>) {
    let options = ExportOptions { autodiscover_xml_path: xml_path.map(str::to_owned), ..ExportOptions::default() };
    let text = utf16le(&ExportFormat::OutlookReg.exporter().render(account, &options).unwrap());
    assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n"));
    let registry = regashii::Registry::deserialize(&text).unwrap();
    let keys: Vec<&str> = registry.keys().keys().map(|k| k.raw()).collect();
    assert_eq!(keys, [AUTODISCOVER_KEY]);
    let values: BTreeMap<String, regashii::Value> =
        registry.keys().values().next().unwrap().values().iter().map(|(n, v)| (n.raw().to_owned(), v.clone())).collect();
    // The user's own folder, expanded by Windows (REG_EXPAND_SZ), unless a path is given.
    let path = xml_path
        .map(str::to_owned)
        .unwrap_or_else(|| format!(r"%LOCALAPPDATA%\iCloud Mail Setup\autodiscover-{}.xml", account.address.domain));
    let want: BTreeMap<String, regashii::Value> = [
        ("PreferLocalXML".to_owned(), regashii::Value::Dword(1)),
        ("ExcludeExplicitO365Endpoint".to_owned(), regashii::Value::Dword(1)),
        (account.address.domain.clone(), regashii::Value::ExpandSz(path)),
    ]
    .into_iter()
    .collect();
    assert_eq!(values, want, "{text}");
}

#[test]
fn autodiscover_and_reg_point_outlook_at_the_account() {
    check_autodiscover(&custom(Some("Jane")));
    check_autodiscover(&native(None));
    check_reg(&custom(None), None);
    check_reg(&native(None), Some(r#"D:\Mail "x"\odd\path\a.xml"#));
}

// ---------------------------------------------------------------- Apple mobileconfig

/// A payload-key list from Apple's schema YAML: key → (type, required, allowed values).
type KeySpec = BTreeMap<String, (String, bool, Option<Vec<yaml_rust2::Yaml>>)>;

fn schema(yaml: &str) -> (yaml_rust2::Yaml, KeySpec) {
    let doc = yaml_rust2::YamlLoader::load_from_str(yaml).unwrap().remove(0);
    let mut keys = KeySpec::new();
    for key in doc["payloadkeys"].as_vec().unwrap() {
        let name = key["key"].as_str().unwrap().to_owned();
        let kind = key["type"].as_str().unwrap().to_owned();
        let required = key["presence"].as_str() == Some("required");
        let range = key["rangelist"].as_vec().cloned();
        keys.insert(name, (kind, required, range));
    }
    (doc, keys)
}

/// Checks a plist dictionary against a key spec: every required key present, no unknown key, types and value
/// ranges as the schema says.
fn validate(dict: &plist::Dictionary, spec: &KeySpec, what: &str) {
    for (key, (_, required, _)) in spec {
        assert!(!required || dict.contains_key(key), "{what}: required key {key} is missing");
    }
    for (key, value) in dict {
        let (kind, _, range) = spec.get(key).unwrap_or_else(|| panic!("{what}: {key} is not in Apple's schema"));
        let type_ok = match kind.as_str() {
            "<string>" => value.as_string().is_some(),
            "<integer>" => value.as_signed_integer().is_some() || value.as_unsigned_integer().is_some(),
            "<boolean>" => value.as_boolean().is_some(),
            "<array>" => value.as_array().is_some(),
            "<dictionary>" => value.as_dictionary().is_some(),
            "<data>" => value.as_data().is_some(),
            "<date>" => value.as_date().is_some(),
            "<real>" => value.as_real().is_some(),
            other => panic!("{what}: schema type {other} not handled"),
        };
        assert!(type_ok, "{what}: {key} should be {kind}, is {value:?}");
        if let Some(range) = range {
            let allowed = range.iter().any(|r| match (r, value) {
                (yaml_rust2::Yaml::String(s), plist::Value::String(v)) => s == v,
                (yaml_rust2::Yaml::Integer(i), v) => v.as_signed_integer() == Some(*i),
                _ => false,
            });
            assert!(allowed, "{what}: {key} = {value:?} is outside {range:?}");
        }
    }
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

fn check_mobileconfig(account: &Account) -> (String, String) {
    let bytes = render(ExportFormat::AppleMobileconfig, account);
    let value = plist::Value::from_reader_xml(&bytes[..]).unwrap();
    let profile = value.as_dictionary().unwrap();
    let (_, top_spec) = schema(include_str!("fixtures/apple-TopLevel.yaml"));
    let (_, common) = schema(include_str!("fixtures/apple-CommonPayloadKeys.yaml"));
    let (mail_doc, mut mail_spec) = schema(include_str!("fixtures/apple-com.apple.mail.managed.yaml"));
    mail_spec.extend(common);
    validate(profile, &top_spec, "profile");
    let content = profile["PayloadContent"].as_array().unwrap();
    assert_eq!(content.len(), 1);
    let mail = content[0].as_dictionary().unwrap();
    validate(mail, &mail_spec, "mail payload");
    assert_eq!(mail["PayloadType"].as_string(), mail_doc["payload"]["payloadtype"].as_str());

    let s = |d: &plist::Dictionary, k: &str| d.get(k).and_then(|v| v.as_string()).map(str::to_owned);
    let b = |d: &plist::Dictionary, k: &str| d.get(k).and_then(|v| v.as_boolean());
    let i = |d: &plist::Dictionary, k: &str| d.get(k).and_then(|v| v.as_signed_integer());
    let (imap, smtp) = (&account.provider.imap, &account.provider.smtp);
    assert_eq!(s(mail, "EmailAccountName"), account.display_name.clone());
    assert_eq!(s(mail, "EmailAddress").as_deref(), Some(account.address.address.as_str()));
    assert_eq!(s(mail, "EmailAccountType").as_deref(), Some("EmailTypeIMAP"));
    assert_eq!(s(mail, "IncomingMailServerHostName").as_deref(), Some(imap.host.as_str()));
    assert_eq!(i(mail, "IncomingMailServerPortNumber"), Some(i64::from(imap.port)));
    assert_eq!(b(mail, "IncomingMailServerUseSSL"), Some(true));
    assert_eq!(s(mail, "IncomingMailServerUsername"), Some(account.imap_username()));
    assert_eq!(s(mail, "IncomingMailServerAuthentication").as_deref(), Some("EmailAuthPassword"));
    assert_eq!(s(mail, "OutgoingMailServerHostName").as_deref(), Some(smtp.host.as_str()));
    assert_eq!(i(mail, "OutgoingMailServerPortNumber"), Some(i64::from(smtp.port)));
    assert_eq!(b(mail, "OutgoingMailServerUseSSL"), Some(true));
    assert_eq!(s(mail, "OutgoingMailServerUsername"), Some(account.smtp_username()));
    assert_eq!(s(mail, "OutgoingMailServerAuthentication").as_deref(), Some("EmailAuthPassword"));
    assert_eq!(b(mail, "OutgoingPasswordSameAsIncomingPassword"), Some(true));
    assert!(!mail.contains_key("IncomingPassword") && !mail.contains_key("OutgoingPassword"));
    // The name is in EmailAccountName and in no other value.
    if let Some(name) = &account.display_name {
        let holders: Vec<&String> =
            profile.iter().chain(mail.iter()).filter(|(_, v)| v.as_string() == Some(name)).map(|(k, _)| k).collect();
        assert_eq!(holders, ["EmailAccountName"]);
    }
    let (top_id, mail_id) = (s(profile, "PayloadIdentifier").unwrap(), s(mail, "PayloadIdentifier").unwrap());
    assert_ne!(top_id, mail_id, "identifiers are unique within the profile");
    let (top_uuid, mail_uuid) = (s(profile, "PayloadUUID").unwrap(), s(mail, "PayloadUUID").unwrap());
    assert!(is_uuid(&top_uuid) && is_uuid(&mail_uuid) && top_uuid != mail_uuid);
    (format!("{top_id} {mail_id}"), format!("{top_uuid} {mail_uuid}"))
}

#[test]
fn mobileconfig_is_valid_against_apples_schema_with_stable_ids_and_fresh_uuids() {
    let account = custom(Some("Jane Doe"));
    let (ids_1, uuids_1) = check_mobileconfig(&account);
    let (ids_2, uuids_2) = check_mobileconfig(&account);
    assert_eq!(ids_1, ids_2, "installing a new profile for the same address replaces the old one");
    assert_ne!(uuids_1, uuids_2, "every file gets fresh UUIDs");
    let (other_ids, _) = check_mobileconfig(&native(None));
    assert_ne!(ids_1, other_ids);
}

// ---------------------------------------------------------------- aerc

/// go-ini's reading of a value (aerc's INI library): a value in backticks is taken verbatim between the first and
/// the last backtick; a plain one is cut at `#` or `;` and loses one pair of enclosing quotes.
fn go_ini_read(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('`') {
        return inner[..inner.rfind('`').unwrap()].to_owned();
    }
    let cut = raw.find(['#', ';']).map(|i| raw[..i].trim()).unwrap_or(raw);
    let quoted = cut.len() >= 2 && ((cut.starts_with('"') && cut.ends_with('"')) || (cut.starts_with('\'') && cut.ends_with('\'')));
    if quoted {
        cut[1..cut.len() - 1].to_owned()
    } else {
        cut.to_owned()
    }
}

fn check_aerc(account: &Account) {
    let text = String::from_utf8(render(ExportFormat::Aerc, account)).unwrap();
    let options = ini::ParseOption { enabled_quote: false, enabled_escape: false, ..Default::default() };
    let conf = ini::Ini::load_from_str_opt(&text, options).unwrap();
    let sections: Vec<&str> = conf.sections().flatten().collect();
    assert_eq!(sections, [account.address.address.as_str()]);
    let fields: Fields = conf.section(Some(sections[0])).unwrap().iter().map(|(k, v)| (k.to_owned(), go_ini_read(v))).collect();
    let command = format!("icloud-mail-setup keychain get --address {}", account.login.address);
    let user = account.smtp_username().replace('@', "%40");
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    let starttls = account.provider.smtp.security == Security::Starttls;
    let mut want_keys = vec!["source", "source-cred-cmd", "outgoing", "outgoing-cred-cmd"];
    want_keys.extend(starttls.then_some("smtp-starttls"));
    want_keys.push("from");
    // A Sent name old and new aerc read differently is left out, with a comment saying so.
    let sent_writable = account.folders.sent.as_ref().is_some_and(|n| !n.contains([',', '\\']) && n.trim() == n);
    want_keys.extend(sent_writable.then_some("copy-to"));
    want_keys.extend(["postpone", "archive"]);
    assert_eq!(keys, want_keys);
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).unwrap().1.clone();
    let host = |h: &str| if h.contains(':') { format!("[{h}]") } else { h.to_owned() };
    assert_eq!(
        get("source"),
        format!("imaps://{}@{}:{}", account.imap_username(), host(&account.provider.imap.host), account.provider.imap.port)
    );
    assert_eq!(get("outgoing"), format!("smtp+plain://{user}@{}:{}", host(&account.provider.smtp.host), account.provider.smtp.port));
    assert_eq!(get("source-cred-cmd"), command);
    assert_eq!(get("outgoing-cred-cmd"), command);
    if starttls {
        assert_eq!(get("smtp-starttls"), "yes", "aerc 0.14 sends over smtp:// only with it");
    }
    if sent_writable {
        assert_eq!(Some(get("copy-to")), account.folders.sent);
    } else {
        assert!(text.contains("set copy-to by hand"), "{text}");
    }
    assert_eq!(Some(get("postpone")), account.folders.drafts);
    assert_eq!(Some(get("archive")), account.folders.archive);
    // The sender as an RFC 5322 mailbox, read by a mail parser.
    let header = format!("From: {}\r\n\r\n", get("from"));
    let message = mail_parser::MessageParser::default().parse(header.as_bytes()).unwrap();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.address.as_deref(), Some(account.address.address.as_str()));
    assert_eq!(from.name.as_deref(), account.display_name.as_deref(), "{}", get("from"));
}

#[test]
fn aerc_account_reads_back() {
    check_aerc(&custom(Some("Jane Doe")));
    check_aerc(&native(None));
}

// ---------------------------------------------------------------- settings card, text and HTML

fn check_settings_text(account: &Account) {
    let text = String::from_utf8(render(ExportFormat::SettingsText, account)).unwrap();
    // "Label: value" lines, grouped under the server headings.
    let mut fields = Fields::new();
    let mut group = String::from("account");
    for line in text.lines().skip(1) {
        if line.starts_with("Incoming") {
            group = "imap".into();
        } else if line.starts_with("Outgoing") {
            group = "smtp".into();
        } else if line == "Calendars (CalDAV)" {
            group = "caldav".into();
        } else if line == "Contacts (CardDAV)" {
            group = "carddav".into();
        } else if line == "Folders" {
            group = "folders".into();
        } else if line == "If something does not work" {
            group = "alternatives".into();
        } else if line.starts_with("  (") {
            // A note in parentheses, no field.
        } else if let Some((label, value)) = line.trim_start().split_once(": ") {
            if line.starts_with("  ") || group == "account" {
                fields.push((format!("{group}.{label}"), value.to_owned()));
            }
        }
    }
    let (imap, smtp) = (&account.provider.imap, &account.provider.smtp);
    let mut want = pairs(&[("account.Email address", &account.address.address)]);
    if let Some(name) = &account.display_name {
        want.push(("account.Your name".into(), name.clone()));
    }
    if account.login != account.address {
        want.push(("account.Sign in as".into(), account.login.address.clone()));
    }
    want.extend(pairs(&[
        ("imap.Server", &imap.host),
        ("imap.Port", &imap.port.to_string()),
        ("imap.Security", "SSL/TLS"),
        ("imap.Username", &account.imap_username()),
        ("imap.Password", "your app-specific password"),
        ("smtp.Server", &smtp.host),
        ("smtp.Port", &smtp.port.to_string()),
        ("smtp.Security", "STARTTLS"),
        ("smtp.Username", &account.smtp_username()),
        ("smtp.Password", "the same app-specific password"),
    ]));
    let homes = [account.dav.caldav.as_ref().map(|f| &f.service.home), account.dav.carddav.as_ref().map(|f| &f.service.home)];
    for ((id, endpoint), home) in [("caldav", &account.provider.caldav), ("carddav", &account.provider.carddav)].into_iter().zip(homes) {
        for (label, value) in [
            ("Server", endpoint.host.clone()),
            ("Port", endpoint.port.to_string()),
            ("Security", "SSL/TLS".into()),
            ("Username", account.login.address.clone()),
            ("Password", "the same app-specific password".into()),
        ] {
            want.push((format!("{id}.{label}"), value));
        }
        want.extend(home.map(|home| (format!("{id}.Found at"), home.clone())));
    }
    let f = &account.folders;
    for (label, name) in
        [("Sent mail", &f.sent), ("Drafts", &f.drafts), ("Deleted mail", &f.trash), ("Junk", &f.junk), ("Archive", &f.archive)]
    {
        want.push((format!("folders.{label}"), name.clone().unwrap_or_else(|| "none on the server".into())));
    }
    assert_eq!(fields, want, "{text}");
    assert!(text.contains(&format!("If the incoming mail server refuses the username, use {} instead.", account.imap_usernames()[1])));
    assert_eq!(text.contains("port 465 with SSL/TLS instead"), account.provider.smtp_fallback.is_some(), "{text}");
    assert_eq!(text.contains("signed in with exactly these settings"), account.verified);
    assert!(text.contains("Microsoft's cloud"), "the note on new Outlook");
}

fn check_settings_html(account: &Account) {
    let html = String::from_utf8(render(ExportFormat::SettingsHtml, account)).unwrap();
    let page = scraper::Html::parse_document(&html);
    assert!(page.errors.is_empty(), "HTML parse errors: {:?}", page.errors);
    let allowed_elements = ["html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "section", "dl", "dt", "dd", "code"];
    let allowed_attributes = ["lang", "charset", "http-equiv", "content", "name", "data-field", "class"];
    for node in page.tree.nodes() {
        if let Some(element) = node.value().as_element() {
            assert!(allowed_elements.contains(&element.name()), "unexpected <{}>", element.name());
            for (attr, _) in element.attrs() {
                assert!(allowed_attributes.contains(&attr), "unexpected attribute {attr} on <{}>", element.name());
            }
        }
    }
    let csp = scraper::Selector::parse(r#"meta[http-equiv="Content-Security-Policy"]"#).unwrap();
    assert_eq!(page.select(&csp).next().unwrap().value().attr("content"), Some("default-src 'none'; style-src 'unsafe-inline'"));
    let field = scraper::Selector::parse("[data-field]").unwrap();
    let fields: Fields = page.select(&field).map(|e| (e.value().attr("data-field").unwrap().to_owned(), e.text().collect())).collect();
    let (imap, smtp) = (&account.provider.imap, &account.provider.smtp);
    let mut want = pairs(&[("address", &account.address.address), ("email", &account.address.address)]);
    if let Some(name) = &account.display_name {
        want.push(("name".into(), name.clone()));
    }
    if account.login != account.address {
        want.push(("login".into(), account.login.address.clone()));
    }
    want.extend(pairs(&[
        ("imap.host", &imap.host),
        ("imap.port", &imap.port.to_string()),
        ("imap.security", "SSL/TLS"),
        ("imap.username", &account.imap_username()),
        ("smtp.host", &smtp.host),
        ("smtp.port", &smtp.port.to_string()),
        ("smtp.security", "STARTTLS"),
        ("smtp.username", &account.smtp_username()),
    ]));
    let homes = [account.dav.caldav.as_ref().map(|f| &f.service.home), account.dav.carddav.as_ref().map(|f| &f.service.home)];
    for ((id, endpoint), home) in [("caldav", &account.provider.caldav), ("carddav", &account.provider.carddav)].into_iter().zip(homes) {
        for (field, value) in [
            ("host", endpoint.host.clone()),
            ("port", endpoint.port.to_string()),
            ("security", "SSL/TLS".into()),
            ("username", account.login.address.clone()),
        ] {
            want.push((format!("{id}.{field}"), value));
        }
        want.extend(home.map(|home| (format!("{id}.home"), home.clone())));
    }
    let f = &account.folders;
    for (id, name) in [("sent", &f.sent), ("drafts", &f.drafts), ("trash", &f.trash), ("junk", &f.junk), ("archive", &f.archive)] {
        want.extend(name.iter().map(|name| (format!("folder.{id}"), name.clone())));
    }
    assert_eq!(fields, want);
    let title = scraper::Selector::parse("title").unwrap();
    assert_eq!(
        page.select(&title).next().unwrap().text().collect::<String>(),
        format!("iCloud Mail settings for {}", account.address.address)
    );
    // The name is exactly one text node (unless it happens to equal a fixed text such as "Port").
    if let Some(name) = &account.display_name {
        let texts = |page: &scraper::Html| page.tree.nodes().filter_map(|n| n.value().as_text().map(|t| t.to_string())).collect::<Vec<_>>();
        let nameless = String::from_utf8(render(ExportFormat::SettingsHtml, &Account { display_name: None, ..account.clone() })).unwrap();
        if !texts(&scraper::Html::parse_document(&nameless)).contains(name) {
            assert_eq!(texts(&page).iter().filter(|t| *t == name).count(), 1, "{name:?}");
        }
    }
}

#[test]
fn settings_card_lists_every_value() {
    for account in [custom(Some("Jane Doe")), native(None), with_dav(custom(None), &["home"])] {
        check_settings_text(&account);
        check_settings_html(&account);
    }
}

// ---------------------------------------------------------------- every format, hostile names, servers

fn check_all(account: &Account) {
    check_autoconfig(account);
    check_prf(account);
    check_autodiscover(account);
    check_reg(account, None);
    check_mobileconfig(account);
    check_aerc(account);
    check_settings_text(account);
    check_settings_html(account);
}

/// Percent-decoding, as NeoMutt's `url_pct_decode` and Mozilla's unescaping do it.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// NeoMutt's reading of a double-quoted string: a backslash makes the next character stand for itself.
fn neomutt_read(quoted: &str) -> String {
    let inner = quoted.strip_prefix('"').unwrap().strip_suffix('"').unwrap();
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap() } else { c });
    }
    out
}

#[test]
fn hostile_folder_names_reach_every_format_intact() {
    use icloud_mail_core::export::thunderbird_profile::prefs;
    use icloud_mail_core::probe::folders::decode_modified_utf7;
    for name in [
        "Sent \"quoted\" 'x'",
        "Work/Gesendet",
        "Entwürfe 💌 漢字",
        "a#b;c=d",
        "`id` $HOME ${x}",
        "100% & ^caret^",
        "back\\slash, comma",
        "?query #frag",
    ] {
        let mut account = native(None);
        for role in [&mut account.folders.sent, &mut account.folders.drafts, &mut account.folders.trash, &mut account.folders.archive] {
            *role = Some(name.to_owned());
        }
        check_aerc(&account);
        check_settings_text(&account);
        check_settings_html(&account);
        // NeoMutt: the string NeoMutt reads, `+` and `$folder`, then its URL decoding, give the name back.
        let neomutt = String::from_utf8(render(ExportFormat::Neomutt, &account)).unwrap();
        for variable in ["record", "postponed", "trash"] {
            let line = neomutt.lines().find(|l| l.starts_with(&format!("set {variable} = "))).unwrap();
            let value = neomutt_read(line.split_once(" = ").unwrap().1);
            let path = value.strip_prefix('+').unwrap();
            assert!(!path.contains(['"', '#', '?', '\\', '^', '`', '$']), "{variable}: {path}");
            assert_eq!(percent_decode(path), name, "{line}");
        }
        // Thunderbird: the prefs read back, and each folder URI names the folder (escaped path, modified UTF-7).
        let keys = prefs::NewKeys {
            number: 1,
            account: "account1".into(),
            server: "server1".into(),
            identity: "id1".into(),
            smtp: "smtp1".into(),
            smtp_is_new: true,
        };
        let written: String = prefs::folder_prefs(&account, &keys).iter().map(|(n, v)| prefs::line(n, v) + "\n").collect();
        let read = prefs::parse(&written);
        for pref in ["mail.identity.id1.fcc_folder", "mail.identity.id1.draft_folder", "mail.identity.id1.archive_folder"] {
            let uri = read[pref].as_str().unwrap();
            let path = uri.strip_prefix("imap://jane.doe@imap.mail.me.com/").unwrap();
            assert!(path.bytes().all(|b| b.is_ascii_alphanumeric() || b"%*+-./_".contains(&b)), "{uri}");
            assert_eq!(decode_modified_utf7(&percent_decode(path)).as_deref(), Some(name), "{uri}");
        }
        assert_eq!(read["mail.identity.id1.fcc_folder_picker_mode"], "1");
        assert_eq!(read["mail.server.server1.trash_folder_name"], name);
    }
}

#[test]
fn hostile_names_of_ten_thousand_characters_pass_through_every_exporter() {
    let name: String = "\"<&>\\'`$#;é漢💌".chars().cycle().take(10_000).collect();
    assert_eq!(name.chars().count(), 10_000);
    check_all(&custom(Some(&name)));
    check_all(&native(Some(&name)));
    for name in ["\"JD\"", "'quoted'", "ends with \\", "]]></x><script>alert(1)</script>", "a=b; c#d", "=?UTF-8?B?SGk=?="] {
        check_all(&custom(Some(name)));
    }
}

#[test]
fn overridden_servers_reach_every_format() {
    let imap = Endpoint::parse_override("127.0.0.1:10993", Security::Tls).unwrap();
    let smtp = Endpoint::parse_override("[::1]:10587", Security::Starttls).unwrap();
    check_all(&custom(Some("Jane")).with_servers(Some(imap), Some(smtp), None));
}

fn hostile_name() -> impl Strategy<Value = String> {
    // Random characters mixed with fragments that mean something in one of the syntaxes: quoting, escapes,
    // variable and command expansion, comments, markup, encoded words, a trailing backslash.
    let fragment = prop_oneof![
        proptest::string::string_regex("[a-zA-Z0-9 \"'<>&\\\\`$#;=%:\\[\\]{}()!?*|~^.,@+/äöüßÆé漢字💌\u{202e}\u{00a0}-]{1,12}").unwrap(),
        prop::sample::select(vec![
            "$HOME",
            "${HOME}",
            "`id`",
            "$(id)",
            "\\n",
            "\\",
            "\"",
            "'",
            "\"\"\"",
            "]]>",
            "<script>",
            "&amp;",
            "#",
            ";",
            "=?UTF-8?B?SGk=?=",
            "%40",
            "^X",
            "\\x41",
            "*/",
            "-->",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(fragment, 1..8)
        .prop_map(|parts| parts.concat().trim().to_owned())
        .prop_filter("a name is not blank", |s| !s.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn hostile_names_read_back_exactly_in_every_format(name in hostile_name()) {
        // The generator mixes in U+202E RIGHT-TO-LEFT OVERRIDE, which the text policy refuses: such a name must be
        // refused, naming the character and where it is; every other name must read back exactly.
        match name.chars().position(|c| c == '\u{202e}') {
            Some(index) => {
                let err = Account::new(addr("jane@family.example"), Some(addr("jane.doe@icloud.com")), Some(name.clone())).unwrap_err();
                prop_assert_eq!(err.kind, DiagnosisKind::NameCharacterNotAllowed);
                prop_assert_eq!(err.facts.character.as_deref(), Some("U+202E RIGHT-TO-LEFT OVERRIDE"));
                prop_assert_eq!(err.facts.position, Some(index as u32 + 1));
            }
            None => check_all(&custom(Some(&name))),
        }
    }
}

// ---------------------------------------------------------------- calendars and contacts (vdirsyncer, khal, khard)

/// `account` as a connection test that found calendars and contacts leaves it: homes on a partition host, one
/// calendar per name in `calendars` (URL segments, as the server wrote them), iCloud's address book `card`.
fn with_dav(mut account: Account, calendars: &[&str]) -> Account {
    use icloud_mail_core::account::{AddressBook, Calendar, CalendarsFound, ContactsFound, DavFound, DavService};
    let service = |host: &str, home: &str| DavService {
        host: host.into(),
        port: 443,
        username: account.login.address.clone(),
        principal: format!("https://{host}/12345678/principal/"),
        home: home.into(),
        realm: Some("MMCalDav".into()),
    };
    let home = "https://p23-caldav.icloud.com:443/12345678/calendars/";
    let books = "https://p23-contacts.icloud.com:443/12345678/carddavhome/";
    account.dav = DavFound {
        caldav: Some(CalendarsFound {
            service: service("caldav.icloud.com", home),
            calendars: calendars.iter().map(|c| Calendar { name: c.to_string(), url: format!("{home}{c}/"), color: None }).collect(),
        }),
        carddav: Some(ContactsFound {
            service: service("contacts.icloud.com", books),
            addressbooks: vec![AddressBook { name: "card".into(), url: format!("{books}card/") }],
        }),
    };
    account.verified = true;
    account
}

/// vdirsyncer's reading of its file: Python's RawConfigParser (sections, `key = value`, no inline comments), then
/// `json.loads` of every value. rust-ini reads the same subset of INI.
fn vdirsyncer_read(text: &str) -> BTreeMap<String, BTreeMap<String, serde_json::Value>> {
    let plain = ini::ParseOption { enabled_quote: false, enabled_escape: false, ..ini::ParseOption::default() };
    let ini = ini::Ini::load_from_str_opt(text, plain).unwrap();
    let mut sections = BTreeMap::new();
    for (name, props) in ini.iter() {
        let Some(name) = name else {
            assert!(props.is_empty(), "values outside a section: {props:?}");
            continue;
        };
        let values =
            props.iter().map(|(k, v)| (k.to_owned(), serde_json::from_str(v).unwrap_or_else(|e| panic!("{k} = {v}: {e}")))).collect();
        sections.insert(name.to_owned(), values);
    }
    sections
}

fn vdirsyncer(account: &Account, options: &ExportOptions) -> (String, BTreeMap<String, BTreeMap<String, serde_json::Value>>) {
    let text = String::from_utf8(ExportFormat::Vdirsyncer.exporter().render(account, options).unwrap()).unwrap();
    let sections = vdirsyncer_read(&text);
    (text, sections)
}

#[test]
fn vdirsyncer_starts_on_the_service_hosts_with_the_keychain_command_and_no_password() {
    use serde_json::json;
    let account = custom(None);
    let program = icloud_mail_core::export::PasswordCommand::App { program: "/opt/icloud mail/icloud-mail-setup".into(), note: None };
    let options = ExportOptions { password_command: program, ..ExportOptions::default() };
    let (text, sections) = vdirsyncer(&account, &options);
    let fetch = json!(["command", "/opt/icloud mail/icloud-mail-setup", "keychain", "get", "--address", "jane.doe@icloud.com"]);
    let want = json!({
        "general": {"status_path": "~/.local/share/vdirsyncer/status/"},
        "pair icloud_calendars": {"a": "icloud_calendars_remote", "b": "icloud_calendars_local",
            "collections": ["from a", "from b"], "metadata": ["color", "displayname"]},
        "storage icloud_calendars_remote": {"type": "caldav", "url": "https://caldav.icloud.com/",
            "username": "jane.doe@icloud.com", "password.fetch": fetch, "item_types": ["VEVENT"]},
        "storage icloud_calendars_local": {"type": "filesystem", "path": "~/.local/share/vdirsyncer/icloud/calendars/", "fileext": ".ics"},
        "pair icloud_contacts": {"a": "icloud_contacts_remote", "b": "icloud_contacts_local",
            "collections": ["from a", "from b"], "metadata": ["displayname"]},
        "storage icloud_contacts_remote": {"type": "carddav", "url": "https://contacts.icloud.com/",
            "username": "jane.doe@icloud.com", "password.fetch": fetch},
        "storage icloud_contacts_local": {"type": "filesystem", "path": "~/.local/share/vdirsyncer/icloud/contacts/", "fileext": ".vcf"},
    });
    assert_eq!(serde_json::to_value(&sections).unwrap(), want, "{text}");
    assert!(text.lines().all(|l| l.is_empty() || l.starts_with('#') || l.starts_with('[') || l.contains(" = ")), "{text}");
    // The other password commands, as words.
    let options = ExportOptions { password_command: icloud_mail_core::export::PasswordCommand::SecretTool, ..ExportOptions::default() };
    assert_eq!(
        vdirsyncer(&account, &options).1["storage icloud_contacts_remote"]["password.fetch"],
        json!(["command", "secret-tool", "lookup", "service", "icloud-mail-setup", "username", "jane.doe@icloud.com"])
    );
}

#[test]
fn vdirsyncer_after_a_test_starts_on_the_found_homes_and_syncs_exactly_the_found_collections() {
    use serde_json::json;
    let account = with_dav(native(None), &["home", "work", "Wörk%20%22x%22", "..%2F..%2Fetc"]);
    let (text, sections) = vdirsyncer(&account, &ExportOptions::default());
    let remote = &sections["storage icloud_calendars_remote"];
    assert_eq!(remote["url"], "https://p23-caldav.icloud.com/12345678/calendars/", "the found home, on the partition host");
    assert_eq!(sections["storage icloud_contacts_remote"]["url"], "https://p23-contacts.icloud.com/12345678/carddavhome/");
    // Names that are no plain folder name get a local one of their own.
    assert_eq!(
        sections["pair icloud_calendars"]["collections"],
        json!(["home", "work", ["icloud_3", "Wörk \"x\"", "icloud_3"], ["icloud_4", "../../etc", "icloud_4"]]),
        "{text}"
    );
    assert_eq!(sections["pair icloud_contacts"]["collections"], json!(["card"]));
    let khard = String::from_utf8(render(ExportFormat::Khard, &account)).unwrap();
    assert!(khard.contains("[[icloud]]\npath = ~/.local/share/vdirsyncer/icloud/contacts/card/\n"), "{khard}");
}

#[test]
fn vdirsyncer_verifies_tls_with_the_ca_file_and_writes_hostile_paths_intact() {
    let account = custom(None);
    for ca in ["/home/jane/certs/company ca.pem", "/tmp/a \"b\" #c ;d\\e/ca.pem", "/tmp/ü/🔒/ca.pem"] {
        let options = ExportOptions { ca_file: Some(ca.into()), ..ExportOptions::default() };
        let (text, sections) = vdirsyncer(&account, &options);
        for storage in ["storage icloud_calendars_remote", "storage icloud_contacts_remote"] {
            assert_eq!(sections[storage]["verify"], ca, "{text}");
        }
        assert!(!text.contains("verify = false") && !text.contains("verify_fingerprint"), "{text}");
    }
    let (text, sections) = vdirsyncer(&account, &ExportOptions::default());
    assert!(!sections["storage icloud_calendars_remote"].contains_key("verify"), "without --ca-file: the system's store\n{text}");
}

#[test]
fn vdirsyncer_refuses_a_command_word_it_would_read_as_another_path() {
    let account = custom(None);
    let program = icloud_mail_core::export::PasswordCommand::App { program: "~/bin/icloud-mail-setup".into(), note: None };
    let options = ExportOptions { password_command: program, ..ExportOptions::default() };
    let err = ExportFormat::Vdirsyncer.exporter().render(&account, &options).unwrap_err();
    assert_eq!(err.kind, DiagnosisKind::WriteFailed);
    assert!(err.detail.unwrap().contains("~/bin/icloud-mail-setup"));
}

#[test]
fn khal_and_khard_read_the_folders_vdirsyncer_writes() {
    let account = custom(Some("Jane"));
    let khal = String::from_utf8(render(ExportFormat::Khal, &account)).unwrap();
    let settings: Vec<&str> = khal.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert_eq!(settings, ["[calendars]", "[[icloud]]", "path = ~/.local/share/vdirsyncer/icloud/calendars/*", "type = discover"]);
    let khard = String::from_utf8(render(ExportFormat::Khard, &account)).unwrap();
    let settings: Vec<&str> = khard.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert_eq!(settings, ["[addressbooks]", "[[icloud]]", "path = ~/.local/share/vdirsyncer/icloud/contacts/card/"]);
    let (_, sections) = vdirsyncer(&account, &ExportOptions::default());
    assert!(settings[2].ends_with(&format!("{}card/", sections["storage icloud_contacts_local"]["path"].as_str().unwrap())));
    for format in [ExportFormat::Vdirsyncer, ExportFormat::Khal, ExportFormat::Khard] {
        assert_eq!(format.group(), icloud_mail_core::export::ClientGroup::Terminal);
        assert!(format.exporter().config_home_path().is_some(), "{format} goes where its client reads it");
    }
}

fn mobileconfig_with(account: &Account, with_dav: bool) -> plist::Dictionary {
    let options = ExportOptions { with_dav, ..ExportOptions::default() };
    let bytes = ExportFormat::AppleMobileconfig.exporter().render(account, &options).unwrap();
    plist::Value::from_reader_xml(&bytes[..]).unwrap().into_dictionary().unwrap()
}

#[test]
fn mobileconfig_adds_calendars_and_contacts_only_when_asked_valid_against_apples_schema() {
    let account = with_dav(custom(None), &["home"]);
    let content = |profile: &plist::Dictionary| profile["PayloadContent"].as_array().unwrap().clone();
    assert_eq!(content(&mobileconfig_with(&account, false)).len(), 1, "off by default");
    let profile = mobileconfig_with(&account, true);
    let payloads = content(&profile);
    assert_eq!(payloads.len(), 3);
    let (_, common) = schema(include_str!("fixtures/apple-CommonPayloadKeys.yaml"));
    let mut ids = vec![profile["PayloadIdentifier"].as_string().unwrap().to_owned()];
    for (payload, yaml, kind, host) in [
        (&payloads[1], include_str!("fixtures/apple-com.apple.caldav.account.yaml"), "CalDAV", "caldav.icloud.com"),
        (&payloads[2], include_str!("fixtures/apple-com.apple.carddav.account.yaml"), "CardDAV", "contacts.icloud.com"),
    ] {
        let payload = payload.as_dictionary().unwrap();
        let (doc, mut spec) = schema(yaml);
        spec.extend(common.clone());
        validate(payload, &spec, kind);
        assert_eq!(payload["PayloadType"].as_string(), doc["payload"]["payloadtype"].as_str());
        assert_eq!(payload[&format!("{kind}HostName")].as_string(), Some(host));
        assert_eq!(payload[&format!("{kind}Port")].as_signed_integer(), Some(443));
        assert_eq!(payload[&format!("{kind}UseSSL")].as_boolean(), Some(true));
        assert_eq!(payload[&format!("{kind}Username")].as_string(), Some("jane.doe@icloud.com"), "the primary iCloud address");
        assert_eq!(payload[&format!("{kind}PrincipalURL")].as_string(), Some(format!("https://{host}/12345678/principal/").as_str()));
        assert!(!payload.contains_key(&format!("{kind}Password")));
        assert!(payload["PayloadDescription"].as_string().unwrap().contains("another Apple Account"));
        ids.push(payload["PayloadIdentifier"].as_string().unwrap().to_owned());
    }
    ids.push(payloads[0].as_dictionary().unwrap()["PayloadIdentifier"].as_string().unwrap().to_owned());
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    // Without a test, no principal: the device finds it from the host.
    let payloads = content(&mobileconfig_with(&custom(None), true));
    assert!(!payloads[1].as_dictionary().unwrap().contains_key("CalDAVPrincipalURL"));
}
