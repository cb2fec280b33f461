//! Address rules: what a person typed becomes a validated `Address` whose domain is known to be iCloud, a custom
//! domain still to be checked (iCloud+ custom domains are recognised later by their MX records), or another
//! provider's. Syntax is checked by `email_address`, domains by IDNA (UTS 46), the iCloud rules here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::provider::is_icloud_domain;
use crate::text_policy;

/// RFC 5321 limits: a path of 256 octets less the angle brackets, a local part of 64.
pub const MAX_ADDRESS_LEN: usize = 254;
pub const MAX_LOCAL_PART_LEN: usize = 64;

/// A checked email address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Address {
    /// The address as it should be used: name part, `@`, the ASCII (Punycode) domain; lower case for iCloud.
    pub address: String,
    /// The part before the `@`.
    pub local_part: String,
    /// The domain in ASCII (Punycode for international names), lower case.
    pub domain: String,
    /// The domain as a person reads it (Unicode).
    pub domain_unicode: String,
    pub kind: DomainKind,
}

/// What the domain says about the address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainKind {
    /// `icloud.com`, `me.com` or `mac.com`.
    Icloud,
    /// Any other domain: an iCloud+ custom domain if its MX records point at iCloud, which is checked later.
    Custom,
    /// A well-known mail provider that is not iCloud (an Apple Account may use such an address, iCloud Mail cannot).
    OtherProvider { provider: String },
}

/// Well-known providers whose addresses are often typed by mistake (an Apple Account's sign-in address).
const OTHER_PROVIDERS: &[(&str, &str)] = &[
    ("gmail.com", "Gmail"),
    ("googlemail.com", "Gmail"),
    ("outlook.com", "Outlook.com"),
    ("hotmail.com", "Outlook.com"),
    ("live.com", "Outlook.com"),
    ("msn.com", "Outlook.com"),
    ("yahoo.com", "Yahoo Mail"),
    ("ymail.com", "Yahoo Mail"),
    ("aol.com", "AOL Mail"),
    ("gmx.de", "GMX"),
    ("gmx.net", "GMX"),
    ("gmx.com", "GMX"),
    ("web.de", "WEB.DE"),
    ("proton.me", "Proton Mail"),
    ("protonmail.com", "Proton Mail"),
    ("yandex.ru", "Yandex Mail"),
    ("mail.ru", "Mail.ru"),
    ("qq.com", "QQ Mail"),
    ("163.com", "NetEase Mail"),
    ("zoho.com", "Zoho Mail"),
    ("fastmail.com", "Fastmail"),
];

impl Address {
    /// Checks what a person typed. Surrounding spaces are forgiven; everything else must be right.
    pub fn parse(input: &str) -> Result<Address, Diagnosis> {
        let text = input.trim();
        if text.is_empty() {
            return Err(Diagnosis::of(DiagnosisKind::AddressEmpty));
        }
        if text.chars().count() > MAX_ADDRESS_LEN {
            let facts = Facts { limit: Some(MAX_ADDRESS_LEN as u32), ..Facts::default() };
            return Err(Diagnosis::new(DiagnosisKind::AddressTooLong, facts, Some(format!("{} characters", text.chars().count()))));
        }
        // The text policy for the whole address: the name part (which for custom domains may hold any Unicode
        // letter, RFC 6531) and the domain (which IDNA would refuse too, less precisely).
        text_policy::check(text, DiagnosisKind::AddressCharacterNotAllowed)?;
        let Some((local, domain_typed)) = text.rsplit_once('@') else {
            let facts = Facts { username: Some(text.to_owned()), ..Facts::default() };
            return Err(Diagnosis::new(DiagnosisKind::AddressMissingAt, facts, None));
        };

        let domain_trimmed = domain_typed.strip_suffix('.').unwrap_or(domain_typed);
        let domain = ascii_domain(domain_trimmed).ok_or_else(|| {
            Diagnosis::new(DiagnosisKind::AddressInvalidDomain, Facts { domain: Some(domain_typed.to_owned()), ..Facts::default() }, None)
        })?;
        let (domain_unicode, _) = idna::domain_to_unicode(&domain);
        let kind = domain_kind(&domain);

        let local = if kind == DomainKind::Icloud { local.to_ascii_lowercase() } else { local.to_owned() };
        let invalid_local = |why: &str| {
            Diagnosis::new(
                DiagnosisKind::AddressInvalidNamePart,
                Facts { username: Some(local.clone()), ..Facts::default() },
                Some(why.to_owned()),
            )
        };
        if local.is_empty() {
            return Err(invalid_local("the name part before the @ is empty"));
        }
        if local.len() > MAX_LOCAL_PART_LEN {
            return Err(invalid_local("the name part is longer than 64 characters"));
        }
        if kind == DomainKind::Icloud && !local.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+')) {
            return Err(invalid_local("iCloud addresses use only letters, digits, dots, underscores, hyphens and plus signs"));
        }
        let address = format!("{local}@{domain}");
        // email_address checks the RFC 5322 rules for the local part (quoting, dots, forbidden characters).
        let options = email_address::Options::default().without_display_text().without_domain_literal();
        if let Err(e) = email_address::EmailAddress::parse_with_options(&address, options) {
            return Err(invalid_local(&e.to_string()));
        }
        if local.starts_with('"') {
            return Err(invalid_local("quoted name parts are not supported by mail clients"));
        }

        Ok(Address { address, local_part: local, domain, domain_unicode, kind })
    }

    /// The diagnosis for an address that parsed but cannot be set up as iCloud Mail, if any.
    pub fn problem(&self) -> Option<Diagnosis> {
        match &self.kind {
            DomainKind::OtherProvider { provider } => Some(Diagnosis::new(
                DiagnosisKind::AddressNotIcloud,
                Facts { domain: Some(self.domain_unicode.clone()), provider: Some(provider.clone()), ..Facts::default() },
                None,
            )),
            _ => None,
        }
    }

    pub fn is_icloud(&self) -> bool {
        self.kind == DomainKind::Icloud
    }
}

/// The domain in lower-case ASCII, or None when it is not a usable mail domain.
fn ascii_domain(domain: &str) -> Option<String> {
    if domain.is_empty() || domain.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let ascii = idna::domain_to_ascii_strict(domain).ok()?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let shape_ok = ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()));
    shape_ok.then_some(ascii)
}

fn domain_kind(domain: &str) -> DomainKind {
    if is_icloud_domain(domain) {
        return DomainKind::Icloud;
    }
    match OTHER_PROVIDERS.iter().find(|(d, _)| *d == domain) {
        Some((_, provider)) => DomainKind::OtherProvider { provider: (*provider).to_owned() },
        None => DomainKind::Custom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    fn kind_of(input: &str) -> DiagnosisKind {
        Address::parse(input).expect_err(input).kind
    }

    #[test]
    fn icloud_addresses_are_recognised() {
        for (input, expected) in [
            ("johnsmith@icloud.com", "johnsmith@icloud.com"),
            ("jane.doe@me.com", "jane.doe@me.com"),
            ("old_timer@mac.com", "old_timer@mac.com"),
            ("  JohnSmith@iCloud.COM \n", "johnsmith@icloud.com"),
            ("john.smith@icloud.com.", "john.smith@icloud.com"),
        ] {
            let a = Address::parse(input).unwrap();
            assert_eq!(a.address, expected, "{input:?}");
            assert_eq!(a.kind, DomainKind::Icloud);
            assert!(a.problem().is_none());
        }
        let a = Address::parse("JohnSmith@icloud.com").unwrap();
        assert_eq!(a.local_part, "johnsmith");
        assert_eq!(a.domain, "icloud.com");
    }

    #[test]
    fn other_domains_are_flagged_for_the_mx_check() {
        let a = Address::parse("Jane@Family.Example").unwrap();
        assert_eq!(a.kind, DomainKind::Custom);
        // Custom domains keep the name part as typed; the domain is always lower case.
        assert_eq!(a.address, "Jane@family.example");
        assert!(a.problem().is_none());
    }

    #[test]
    fn international_domains_become_punycode() {
        let a = Address::parse("anna@bücher.example").unwrap();
        assert_eq!(a.domain, "xn--bcher-kva.example");
        assert_eq!(a.domain_unicode, "bücher.example");
        assert_eq!(a.address, "anna@xn--bcher-kva.example");
        assert_eq!(a.kind, DomainKind::Custom);
    }

    #[test]
    fn other_providers_get_their_own_explanation() {
        let a = Address::parse("someone@gmail.com").unwrap();
        assert_eq!(a.kind, DomainKind::OtherProvider { provider: "Gmail".into() });
        let p = a.problem().unwrap();
        assert_eq!(p.kind, DiagnosisKind::AddressNotIcloud);
        assert!(p.message(Lang::En).contains("Gmail"), "{}", p.message(Lang::En));
    }

    #[test]
    fn empty_and_blank_input() {
        assert_eq!(kind_of(""), DiagnosisKind::AddressEmpty);
        assert_eq!(kind_of("   \t "), DiagnosisKind::AddressEmpty);
    }

    #[test]
    fn input_without_at_says_so_and_suggests_the_domain() {
        let d = Address::parse("johnsmith").unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::AddressMissingAt);
        assert!(d.hint(Lang::En).contains("johnsmith@icloud.com"), "{}", d.hint(Lang::En));
    }

    #[test]
    fn overlong_input_is_refused_with_the_limit() {
        let long = format!("{}@icloud.com", "a".repeat(289));
        assert_eq!(long.len(), 300);
        let d = Address::parse(&long).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::AddressTooLong);
        assert!(d.message(Lang::En).contains("254"), "{}", d.message(Lang::En));
        assert_eq!(kind_of(&format!("{}@icloud.com", "a".repeat(65))), DiagnosisKind::AddressInvalidNamePart);
    }

    #[test]
    fn malformed_name_parts() {
        for input in [
            "@icloud.com",
            "john smith@icloud.com",
            "john..smith@icloud.com",
            ".john@icloud.com",
            "jöhn@icloud.com",
            "\"john\"@icloud.com",
            "a@b@icloud.com",
            "john\"@family.example",
        ] {
            assert_eq!(kind_of(input), DiagnosisKind::AddressInvalidNamePart, "{input:?}");
        }
    }

    #[test]
    fn name_parts_refuse_each_class_of_character_and_say_which_and_where() {
        for (input, character, position) in [
            ("john\r\nRCPT TO:<x>@icloud.com", "U+000D CARRIAGE RETURN", 5),
            ("\u{0}@icloud.com", "U+0000 NULL", 1),
            ("ja\u{7f}ne@family.example", "U+007F DELETE", 3),
            // C1 controls, which a custom domain's Unicode name part would otherwise let through.
            ("jané\u{85}@family.example", "U+0085 NEXT LINE", 5),
            ("j\u{9f}@family.example", "U+009F", 2),
            // Noncharacters.
            ("jane\u{fffe}@family.example", "U+FFFE", 5),
            ("\u{fdef}jane@family.example", "U+FDEF", 1),
            ("jane\u{10ffff}@family.example", "U+10FFFF", 5),
            // Bidi controls.
            ("jane\u{202e}@family.example", "U+202E RIGHT-TO-LEFT OVERRIDE", 5),
            ("jane\u{200e}@icloud.com", "U+200E LEFT-TO-RIGHT MARK", 5),
            ("ja\u{2069}ne@family.example", "U+2069 POP DIRECTIONAL ISOLATE", 3),
            ("jane\u{061c}@family.example", "U+061C ARABIC LETTER MARK", 5),
            // Line and paragraph separators.
            ("ja\u{2028}ne@family.example", "U+2028 LINE SEPARATOR", 3),
            ("ja\u{2029}ne@family.example", "U+2029 PARAGRAPH SEPARATOR", 3),
            // In the domain too, named rather than "not a valid domain".
            ("a@\u{202e}moc.duolci", "U+202E RIGHT-TO-LEFT OVERRIDE", 3),
        ] {
            let d = Address::parse(input).expect_err(input);
            assert_eq!(d.kind, DiagnosisKind::AddressCharacterNotAllowed, "{input:?}");
            assert_eq!(d.facts.character.as_deref(), Some(character), "{input:?}");
            assert_eq!(d.facts.position, Some(position), "{input:?}");
        }
        // Unicode name parts of custom domains stay allowed.
        for input in ["josé.müller@family.example", "山田@family.example", "o'neil+x@family.example"] {
            assert!(Address::parse(input).is_ok(), "{input:?}");
        }
    }

    #[test]
    fn malformed_domains() {
        for input in [
            "john@",
            "john@icloud",
            "john@icloud..com",
            "john@-icloud.com",
            "john@icloud.com-",
            "john@ice cloud.com",
            "john@[127.0.0.1]",
            "john@127.0.0.1",
            "john@exa_mple.com",
            "john@icloud.com\n",
        ] {
            if input.trim() == "john@icloud.com" {
                continue;
            }
            assert_eq!(kind_of(input), DiagnosisKind::AddressInvalidDomain, "{input:?}");
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        for input in ["@", "@@", "\u{0}@icloud.com", "a@\u{202e}moc.duolci", "💌@icloud.com", "a@xn--.com", "a@.", "a@..", &"@".repeat(250)]
        {
            let _ = Address::parse(input);
        }
    }
}
