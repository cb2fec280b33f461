//! The one rule for server names that come from outside: the `--imap`, `--smtp` and `--smtp-fallback` flags of
//! every subcommand and of the window, and any account handed to an exporter. A host is
//!
//! - a DNS name: IDNA (UTS 46, via the `idna` crate) turns it into ASCII (Punycode for international names, lower
//!   case); then labels of letters, digits and hyphens, 1–63 characters each, none starting or ending with a
//!   hyphen, 253 characters in all; one trailing dot (the root) is allowed and dropped. A name whose last label is
//!   a number (`1.2.3`, `256.1.1.1`, `a.0x1f`) is read as an IPv4 address by URL parsers, so it must be one;
//! - an IPv4 address in dotted-quad form (`127.0.0.1`; no leading zeros);
//! - an IPv6 address (in `HOST:PORT`, in brackets: `[::1]:993`), without a zone id (`%eth0`), which no config
//!   format carries.
//!
//! Whatever passes can be written into every client format as it is: no quoting, no escaping.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::text_policy::code_point_and_name;

pub const MAX_HOST_LEN: usize = 253;
pub const MAX_LABEL_LEN: usize = 63;

/// What is wrong with a host, in words for the command line's usage errors and a diagnosis's detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostProblem {
    Empty,
    /// A character no host name can hold (1-based position in characters).
    Character {
        character: char,
        position: usize,
    },
    /// A label with a leading or trailing hyphen.
    Hyphen {
        label: String,
    },
    /// A dot at the start, or two in a row.
    EmptyLabel,
    LabelTooLong {
        label: String,
        len: usize,
    },
    TooLong {
        len: usize,
    },
    /// International characters IDNA does not allow (or a malformed `xn--` label).
    Idna,
    /// Ends in a number, so URL parsers read it as an IPv4 address, but it is not a valid one.
    NotIpv4,
    /// Bracketed, or containing a colon, but not an IPv6 address.
    NotIpv6,
    Ipv6Zone,
    /// `fe80::1:993`: without brackets the port cannot be told from the address.
    Ipv6NeedsBrackets,
    /// Only in a checked `Endpoint`: an international name still in Unicode form.
    NotAscii,
}

impl fmt::Display for HostProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostProblem::Empty => write!(f, "the host name is empty"),
            HostProblem::Character { character, position } => {
                let shown = if character.is_control() || crate::text_policy::class_of(*character).is_some() {
                    code_point_and_name(*character)
                } else {
                    format!("'{character}' ({})", code_point_and_name(*character))
                };
                write!(f, "{shown} at character {position} cannot be part of a host name (letters, digits, hyphens and dots only)")
            }
            HostProblem::Hyphen { label } => write!(f, "the label '{label}' starts or ends with a hyphen"),
            HostProblem::EmptyLabel => write!(f, "the host name has an empty label (a dot at the start or two dots in a row)"),
            HostProblem::LabelTooLong { label, len } => {
                let start: String = label.chars().take(20).collect();
                write!(f, "the label '{start}…' is {len} characters long; a label has at most {MAX_LABEL_LEN}")
            }
            HostProblem::TooLong { len } => write!(f, "the host name is {len} characters long; at most {MAX_HOST_LEN} are allowed"),
            HostProblem::Idna => write!(f, "the host name is not a valid international domain name (IDNA)"),
            HostProblem::NotIpv4 => {
                write!(f, "the host name ends in a number, so it must be an IPv4 address: four numbers from 0 to 255, such as 127.0.0.1")
            }
            HostProblem::NotIpv6 => write!(f, "this is not an IPv6 address"),
            HostProblem::Ipv6Zone => write!(f, "IPv6 zone ids (such as %eth0) cannot be used; give a global or loopback address"),
            HostProblem::Ipv6NeedsBrackets => write!(f, "an IPv6 address goes in brackets, such as [::1]:993"),
            HostProblem::NotAscii => write!(f, "an international host name must be given in its ASCII (xn--) form"),
        }
    }
}

impl std::error::Error for HostProblem {}

/// A host as stored in an `Endpoint` (IPv6 without brackets), checked and in the form to write into files: the
/// ASCII (Punycode) lower-case name, or the address in its canonical text form.
pub fn check_host(text: &str) -> Result<String, HostProblem> {
    if text.is_empty() {
        return Err(HostProblem::Empty);
    }
    if text.contains(':') {
        return check_ipv6(text);
    }
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Ok(v4.to_string());
    }
    check_name(text)
}

/// The text between the brackets of `[…]:port`: an IPv6 address only.
pub fn check_ipv6(text: &str) -> Result<String, HostProblem> {
    if text.contains('%') {
        return Err(HostProblem::Ipv6Zone);
    }
    text.parse::<Ipv6Addr>().map(|v6| v6.to_string()).map_err(|_| HostProblem::NotIpv6)
}

/// A DNS name (not an address): IDNA to ASCII, then the LDH and length rules.
fn check_name(text: &str) -> Result<String, HostProblem> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() {
        return Err(HostProblem::EmptyLabel);
    }
    // Characters first, so the answer names the one that is wrong ('|', '_', a space, a control, U+202E …);
    // anything else non-ASCII is for IDNA to judge.
    for (index, character) in name.chars().enumerate() {
        let ldh = character.is_ascii_alphanumeric() || character == '-' || character == '.';
        if (character.is_ascii() && !ldh) || crate::text_policy::class_of(character).is_some() {
            return Err(HostProblem::Character { character, position: index + 1 });
        }
    }
    labels_ok(name)?;
    let ascii = Uts46::new()
        .to_ascii(name.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast, DnsLength::Ignore)
        .map_err(|_| HostProblem::Idna)?
        .into_owned();
    // Again on the ASCII form: IDNA maps other full stops (。．｡) to dots, and Unicode labels grow as Punycode.
    labels_ok(&ascii)?;
    if ascii.len() > MAX_HOST_LEN {
        return Err(HostProblem::TooLong { len: ascii.len() });
    }
    if ascii.rsplit('.').next().is_some_and(is_url_number) {
        return Err(HostProblem::NotIpv4);
    }
    Ok(ascii)
}

fn labels_ok(name: &str) -> Result<(), HostProblem> {
    for label in name.split('.') {
        if label.is_empty() {
            return Err(HostProblem::EmptyLabel);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostProblem::Hyphen { label: label.to_owned() });
        }
        let len = label.chars().count();
        if label.is_ascii() && len > MAX_LABEL_LEN {
            return Err(HostProblem::LabelTooLong { label: label.to_owned(), len });
        }
    }
    Ok(())
}

/// The WHATWG URL standard's "ends in a number" test for a last label: digits only, or `0x` and hex digits.
fn is_url_number(label: &str) -> bool {
    let hex = label.strip_prefix("0x").or_else(|| label.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_hosts_come_back_in_the_form_to_write() {
        for (input, expected) in [
            ("imap.mail.me.com", "imap.mail.me.com"),
            ("IMAP.Mail.Me.COM.", "imap.mail.me.com"),
            ("localhost", "localhost"),
            ("mail-1.example", "mail-1.example"),
            ("r3---sn.example", "r3---sn.example"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("mail。example", "mail.example"),
            ("127.0.0.1", "127.0.0.1"),
            ("255.255.255.255", "255.255.255.255"),
            ("::1", "::1"),
            ("fe80:0:0:0:0:0:0:1", "fe80::1"),
            ("1.example", "1.example"),
            ("123abc", "123abc"),
        ] {
            assert_eq!(check_host(input).as_deref(), Ok(expected), "{input:?}");
        }
        let longest_label = "a".repeat(63);
        assert!(check_host(&format!("{longest_label}.example")).is_ok());
        let longest = format!("{}.{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61));
        assert_eq!(longest.len(), 253);
        assert!(check_host(&longest).is_ok());
    }

    #[test]
    fn bad_hosts_say_what_is_wrong() {
        let character = |c: char, position: usize| HostProblem::Character { character: c, position };
        for (input, expected) in [
            ("", HostProblem::Empty),
            ("a|b", character('|', 2)),
            ("a b", character(' ', 2)),
            ("a\nb", character('\n', 2)),
            ("exa_mple.com", character('_', 4)),
            ("a/b", character('/', 2)),
            ("jane@host", character('@', 5)),
            ("bücher\u{202e}.example", character('\u{202e}', 7)),
            ("a\u{85}b", character('\u{85}', 2)),
            ("-x", HostProblem::Hyphen { label: "-x".into() }),
            ("x-.example", HostProblem::Hyphen { label: "x-".into() }),
            ("a..b", HostProblem::EmptyLabel),
            (".a", HostProblem::EmptyLabel),
            (".", HostProblem::EmptyLabel),
            ("a。。b", HostProblem::EmptyLabel),
            ("256.1.1.1", HostProblem::NotIpv4),
            ("1.2.3", HostProblem::NotIpv4),
            ("01.2.3.4", HostProblem::NotIpv4),
            ("1.2.3.4.5", HostProblem::NotIpv4),
            ("a.0x1f", HostProblem::NotIpv4),
            ("4294967295", HostProblem::NotIpv4),
            ("fe80::1%eth0", HostProblem::Ipv6Zone),
            ("a:b", HostProblem::NotIpv6),
            ("xn--a.example", HostProblem::Idna),
            ("a\u{fe0f}\u{e0001}.example", HostProblem::Idna),
        ] {
            assert_eq!(check_host(input), Err(expected), "{input:?}");
        }
        let label = "a".repeat(64);
        assert_eq!(check_host(&format!("{label}.example")), Err(HostProblem::LabelTooLong { label: label.clone(), len: 64 }));
        // A Unicode label that becomes too long only as Punycode.
        assert!(matches!(check_host(&format!("{}.example", "ü".repeat(60))), Err(HostProblem::LabelTooLong { .. })));
        let too_long = format!("{}.{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62));
        assert_eq!(check_host(&too_long), Err(HostProblem::TooLong { len: 254 }));
    }

    #[test]
    fn problems_read_as_sentences() {
        let text = HostProblem::Character { character: '|', position: 2 }.to_string();
        assert!(text.contains("'|' (U+007C)") && text.contains("character 2"), "{text}");
        let text = HostProblem::Character { character: '\n', position: 2 }.to_string();
        assert!(text.starts_with("U+000A LINE FEED") && !text.contains('\n'), "{text}");
    }
}
