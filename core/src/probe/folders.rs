//! The account's folders, read once after a successful IMAP login with `LIST "" "*"`, and matched to the roles
//! mail apps have a setting for (sent, drafts, trash, junk, archive).
//!
//! Matching, per role:
//! 1. RFC 6154 special-use flags (`\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`) where the server sets them:
//!    a flag wins over any name.
//! 2. Otherwise names, compared without regard to case: iCloud's own name first, then common variants
//!    (`Deleted Messages` wins over `Deleted Items` when both exist), each at the top level or right under INBOX
//!    (`INBOX.Sent`, as Courier and Cyrus name them).
//! 3. Otherwise the role stays `None`: no folder is invented.
//!
//! Entries that cannot be opened (`\Noselect`, `\NonExistent`), whose names are not valid modified UTF-7, or whose
//! names hold a character the text policy refuses (a line break would break every config format) are never chosen.
//! Names are decoded from IMAP's modified UTF-7 (RFC 3501 §5.1.3) and keep the server's hierarchy delimiter.
//!
//! The LIST is the last thing the IMAP side does and has its own short budget within the probe's deadline: a
//! server that never answers it still gets its `ok` verdict in time, with the folders unknown and the reason in
//! the verdict's detail.

use std::time::Duration;

use async_imap::imap_proto::NameAttribute;
use futures::TryStreamExt;

use super::{Ctx, SideReport};
use crate::account::Folders;
use crate::text_policy;

/// How long the folder list may take after the login; the probe's overall deadline caps it too.
pub(crate) const LIST_BUDGET: Duration = Duration::from_secs(3);

/// The roles, with iCloud's name first and then the variants other servers and clients use, in order of preference.
const SENT: &[&str] = &["Sent Messages", "Sent", "Sent Items", "Sent Mail"];
const DRAFTS: &[&str] = &["Drafts"];
const TRASH: &[&str] = &["Deleted Messages", "Trash", "Deleted Items", "Deleted"];
const JUNK: &[&str] = &["Junk", "Spam", "Junk E-mail", "Bulk Mail"];
const ARCHIVE: &[&str] = &["Archive", "Archives"];

/// What a folder's LIST attributes say about it, as far as matching cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// `\Noselect` or `\NonExistent`: not a folder mail can be put in.
    NotSelectable,
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
    /// Anything else (`\HasChildren`, `\Marked`, `\Flagged`, `\All`, extensions).
    Other,
}

/// One line of the LIST answer, as the server sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The name as sent (modified UTF-7).
    pub raw_name: String,
    pub delimiter: Option<String>,
    pub attributes: Vec<Attribute>,
}

impl Listed {
    pub fn new(raw_name: &str, delimiter: Option<&str>, attributes: &[Attribute]) -> Listed {
        Listed { raw_name: raw_name.to_owned(), delimiter: delimiter.map(str::to_owned), attributes: attributes.to_vec() }
    }
}

fn attribute(attr: &NameAttribute<'_>) -> Attribute {
    match attr {
        NameAttribute::NoSelect => Attribute::NotSelectable,
        NameAttribute::Sent => Attribute::Sent,
        NameAttribute::Drafts => Attribute::Drafts,
        NameAttribute::Trash => Attribute::Trash,
        NameAttribute::Junk => Attribute::Junk,
        NameAttribute::Archive => Attribute::Archive,
        NameAttribute::Extension(name) if name.trim_start_matches('\\').eq_ignore_ascii_case("NonExistent") => Attribute::NotSelectable,
        _ => Attribute::Other,
    }
}

/// Reads the folder list on a logged-in session within `LIST_BUDGET` (and the probe's deadline). An error says
/// why there is no list, for the verdict's detail.
pub(crate) async fn read<T>(ctx: &Ctx<'_>, session: &mut async_imap::Session<T>) -> Result<Folders, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let budget = LIST_BUDGET.min(ctx.remaining());
    let listing = async {
        let names = session.list(Some(""), Some("*")).await?;
        let names: Vec<_> = names.try_collect().await?;
        Ok::<_, async_imap::error::Error>(
            names
                .iter()
                .map(|n| Listed {
                    raw_name: n.name().to_owned(),
                    delimiter: n.delimiter().map(str::to_owned),
                    attributes: n.attributes().iter().map(attribute).collect(),
                })
                .collect::<Vec<_>>(),
        )
    };
    match tokio::time::timeout(budget, listing).await {
        Ok(Ok(listed)) => Ok(match_folders(&listed)),
        Ok(Err(e)) => Err(format!("the folder list could not be read (LIST): {e}")),
        Err(_) => Err(format!("the folder list could not be read: no answer to LIST within {} ms", budget.as_millis())),
    }
}

/// Puts the outcome of `read` into an `ok` IMAP verdict: the folders, or the reason they are unknown in the detail.
pub(crate) fn apply(report: &mut SideReport, folders: Option<Result<Folders, String>>) {
    match folders {
        Some(Ok(folders)) if report.is_ok() => report.folders = Some(folders),
        Some(Err(why)) if report.is_ok() => report.diagnosis.detail = Some(why),
        _ => {}
    }
}

/// A folder the matcher may choose: selectable, its name decoded and allowed by the text policy.
struct Candidate<'a> {
    name: String,
    listed: &'a Listed,
}

/// The folders by role from a LIST answer (see the module's rules).
pub fn match_folders(listed: &[Listed]) -> Folders {
    let candidates: Vec<Candidate<'_>> = listed
        .iter()
        .filter(|l| !l.attributes.contains(&Attribute::NotSelectable))
        .filter_map(|l| decode_modified_utf7(&l.raw_name).map(|name| Candidate { name, listed: l }))
        .filter(|c| !c.name.is_empty() && text_policy::first_refused(&c.name).is_none())
        .collect();
    let inbox = candidates.iter().find(|c| c.name.eq_ignore_ascii_case("INBOX"));
    // The delimiter INBOX's children have, else the first one the server names.
    let delimiter = inbox
        .and_then(|c| c.listed.delimiter.clone())
        .or_else(|| listed.iter().find_map(|l| l.delimiter.clone()))
        .filter(|d| !d.is_empty());
    let role = |flag: Attribute, names: &[&str]| -> Option<String> {
        if let Some(flagged) = candidates.iter().find(|c| c.listed.attributes.contains(&flag)) {
            return Some(flagged.name.clone());
        }
        for wanted in names {
            let under_inbox = delimiter.as_ref().map(|d| format!("INBOX{d}{wanted}"));
            for form in std::iter::once(wanted.to_string()).chain(under_inbox) {
                if let Some(found) = candidates.iter().find(|c| c.name.to_lowercase() == form.to_lowercase()) {
                    return Some(found.name.clone());
                }
            }
        }
        None
    };
    Folders {
        // INBOX always exists (RFC 3501 §5.1); it is case-insensitive, so the canonical spelling is used.
        inbox: Some("INBOX".to_owned()),
        sent: role(Attribute::Sent, SENT),
        drafts: role(Attribute::Drafts, DRAFTS),
        trash: role(Attribute::Trash, TRASH),
        junk: role(Attribute::Junk, JUNK),
        archive: role(Attribute::Archive, ARCHIVE),
        delimiter,
    }
}

/// The modified base64 alphabet of RFC 3501 §5.1.3: base64 with `,` in place of `/`, no padding.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn sextet(byte: u8) -> Option<u32> {
    ALPHABET.iter().position(|&b| b == byte).map(|p| p as u32)
}

/// Decodes an IMAP mailbox name from modified UTF-7 (RFC 3501 §5.1.3): `&-` is `&`, `&…-` is UTF-16BE in modified
/// base64. `None` for a name that is not valid: an unterminated shift, a character outside the alphabet, bits
/// left over that are not zero, or a UTF-16 surrogate without its pair. Characters outside a shift pass through as
/// they are (servers that send UTF-8 names are read as they mean them).
pub fn decode_modified_utf7(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('-')?;
        let encoded = &after.as_bytes()[..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            let (mut bits, mut count, mut units) = (0u32, 0u32, Vec::new());
            for &byte in encoded {
                bits = (bits << 6) | sextet(byte)?;
                count += 6;
                if count >= 16 {
                    count -= 16;
                    units.push((bits >> count) as u16);
                    bits &= (1 << count) - 1;
                }
            }
            // What is left must be padding: fewer than six bits, all zero.
            if count >= 6 || bits != 0 || units.is_empty() {
                return None;
            }
            for c in char::decode_utf16(units) {
                out.push(c.ok()?);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Encodes a name in modified UTF-7, as a server without UTF8=ACCEPT knows it: printable ASCII as it is (`&` as
/// `&-`), everything else as UTF-16BE in modified base64 between `&` and `-`.
pub fn encode_modified_utf7(name: &str) -> String {
    fn flush(out: &mut String, pending: &mut Vec<u16>) {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out.push('-');
        pending.clear();
    }
    let mut out = String::with_capacity(name.len());
    let mut pending = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut out, &mut pending);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Attribute::*;

    fn list(entries: &[(&str, &[Attribute])]) -> Vec<Listed> {
        entries.iter().map(|(name, attrs)| Listed::new(name, Some("/"), attrs)).collect()
    }

    #[test]
    fn icloud_names_are_found_without_flags() {
        let folders = match_folders(&list(&[
            ("INBOX", &[]),
            ("Sent Messages", &[]),
            ("Drafts", &[]),
            ("Deleted Messages", &[]),
            ("Junk", &[]),
            ("Archive", &[]),
            ("Notes", &[]),
        ]));
        assert_eq!(folders, Folders::default(), "iCloud's own folders are the defaults");
    }

    #[test]
    fn special_use_flags_win_over_names() {
        let folders = match_folders(&list(&[
            ("INBOX", &[]),
            ("Sent Messages", &[]),
            ("Gesendet", &[Sent]),
            ("Drafts", &[]),
            ("Entwürfe", &[Drafts]),
            ("Trash", &[]),
            ("Papierkorb", &[Trash]),
            ("Junk", &[]),
            ("Spam", &[Other, Junk]),
            ("Archive", &[]),
            ("Alle Nachrichten", &[Archive]),
        ]));
        assert_eq!(folders.sent.as_deref(), Some("Gesendet"));
        assert_eq!(folders.drafts.as_deref(), Some("Entwürfe"));
        assert_eq!(folders.trash.as_deref(), Some("Papierkorb"));
        assert_eq!(folders.junk.as_deref(), Some("Spam"));
        assert_eq!(folders.archive.as_deref(), Some("Alle Nachrichten"));
    }

    #[test]
    fn variants_are_matched_without_regard_to_case() {
        let folders = match_folders(&list(&[
            ("inbox", &[]),
            ("SENT ITEMS", &[]),
            ("drafts", &[]),
            ("Deleted Items", &[]),
            ("Junk E-mail", &[]),
            ("Archives", &[]),
        ]));
        assert_eq!(folders.inbox.as_deref(), Some("INBOX"));
        assert_eq!(folders.sent.as_deref(), Some("SENT ITEMS"), "the server's spelling is kept");
        assert_eq!(folders.drafts.as_deref(), Some("drafts"));
        assert_eq!(folders.trash.as_deref(), Some("Deleted Items"));
        assert_eq!(folders.junk.as_deref(), Some("Junk E-mail"));
        assert_eq!(folders.archive.as_deref(), Some("Archives"));
        let folders = match_folders(&list(&[("Sent Mail", &[]), ("Deleted", &[]), ("Bulk Mail", &[])]));
        assert_eq!((folders.sent.as_deref(), folders.trash.as_deref()), (Some("Sent Mail"), Some("Deleted")));
        assert_eq!(folders.junk.as_deref(), Some("Bulk Mail"));
    }

    #[test]
    fn icloud_names_win_over_variants() {
        // Listed in the "wrong" order on purpose: the preference, not the server's order, decides.
        let folders = match_folders(&list(&[
            ("Deleted Items", &[]),
            ("Trash", &[]),
            ("Deleted Messages", &[]),
            ("Sent", &[]),
            ("Sent Messages", &[]),
            ("Spam", &[]),
            ("Junk", &[]),
        ]));
        assert_eq!(folders.trash.as_deref(), Some("Deleted Messages"));
        assert_eq!(folders.sent.as_deref(), Some("Sent Messages"));
        assert_eq!(folders.junk.as_deref(), Some("Junk"));
    }

    #[test]
    fn nothing_is_invented() {
        let folders = match_folders(&list(&[("INBOX", &[]), ("Projects", &[]), ("Sent-old", &[]), ("My Drafts", &[])]));
        assert_eq!(
            folders,
            Folders {
                inbox: Some("INBOX".into()),
                sent: None,
                drafts: None,
                trash: None,
                junk: None,
                archive: None,
                delimiter: Some("/".into())
            }
        );
        // An empty answer still knows INBOX, which every IMAP server has.
        assert_eq!(match_folders(&[]), Folders::unknown());
    }

    #[test]
    fn folders_that_cannot_be_selected_are_skipped() {
        let folders = match_folders(&list(&[
            ("Sent Messages", &[NotSelectable]),
            ("Sent", &[]),
            ("[Gmail]", &[NotSelectable]),
            ("Trash", &[NotSelectable, Trash]),
            ("Drafts", &[NotSelectable, Drafts]),
        ]));
        assert_eq!(folders.sent.as_deref(), Some("Sent"));
        assert_eq!(folders.trash, None);
        assert_eq!(folders.drafts, None);
    }

    #[test]
    fn names_the_text_policy_refuses_or_that_do_not_decode_are_skipped() {
        let folders =
            match_folders(&list(&[("Sent\r\nMessages", &[Sent]), ("Sent", &[]), ("Drafts&", &[Drafts]), ("Trash\u{202e}", &[Trash])]));
        assert_eq!(folders.sent.as_deref(), Some("Sent"));
        assert_eq!((folders.drafts, folders.trash), (None, None));
    }

    #[test]
    fn folders_under_inbox_are_found_with_the_servers_delimiter() {
        let listed: Vec<Listed> = ["INBOX", "INBOX.Sent", "INBOX.Drafts", "INBOX.Trash", "INBOX.spam"]
            .iter()
            .map(|name| Listed::new(name, Some("."), &[]))
            .collect();
        let folders = match_folders(&listed);
        assert_eq!(folders.delimiter.as_deref(), Some("."));
        assert_eq!(folders.sent.as_deref(), Some("INBOX.Sent"), "the delimiter is kept as the server gives it");
        assert_eq!(folders.drafts.as_deref(), Some("INBOX.Drafts"));
        assert_eq!(folders.trash.as_deref(), Some("INBOX.Trash"));
        assert_eq!(folders.junk.as_deref(), Some("INBOX.spam"));
        // A top-level folder wins over one under INBOX of the same name.
        let mut listed = listed;
        listed.push(Listed::new("Sent", Some("."), &[]));
        assert_eq!(match_folders(&listed).sent.as_deref(), Some("Sent"));
    }

    #[test]
    fn names_are_decoded_from_modified_utf7() {
        let folders = match_folders(&list(&[("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", &[Sent]), ("Entw&APw-rfe", &[Drafts])]));
        assert_eq!(folders.sent.as_deref(), Some("Отправленные"));
        assert_eq!(folders.drafts.as_deref(), Some("Entwürfe"));
    }

    #[test]
    fn modified_utf7_decodes_as_rfc_3501_says() {
        for (raw, decoded) in [
            ("INBOX", "INBOX"),
            ("&-", "&"),
            ("Tom &- Jerry", "Tom & Jerry"),
            ("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "Отправленные"),
            // RFC 3501's own example.
            ("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語"),
            ("Entw&APw-rfe", "Entwürfe"),
            // A character outside the BMP: a surrogate pair.
            ("&2D3cjA-", "💌"),
            ("a&AOQ-b&AOQ-", "aäbä"),
            ("Sent \"Quoted\" / 'x'", "Sent \"Quoted\" / 'x'"),
            // Lenient where nothing is ambiguous: UTF-8 from a server that sends it.
            ("Entwürfe", "Entwürfe"),
        ] {
            assert_eq!(decode_modified_utf7(raw).as_deref(), Some(decoded), "{raw}");
            if raw.is_ascii() {
                assert_eq!(encode_modified_utf7(decoded), raw, "{decoded} encodes back");
            }
        }
        for bad in ["&", "a&b", "&AOQ", "&A-", "&AOQ*-", "&AOR-", "&2D0-", "&3Iw-", "&AOQA5A-x&-&", "&/wA-"] {
            assert_eq!(decode_modified_utf7(bad), None, "{bad}");
        }
    }

    #[test]
    fn modified_utf7_round_trips() {
        for name in ["", "&&&", "Отправленные & 台北", "a💌b", "ü", "üü", "üüü", "Entwürfe/Alt", "~!@#$%^*()_+{}|:\"<>?"]
        {
            let encoded = encode_modified_utf7(name);
            assert!(encoded.bytes().all(|b| (0x20..0x7f).contains(&b)), "{encoded}");
            assert_eq!(decode_modified_utf7(&encoded).as_deref(), Some(name), "{encoded}");
        }
    }
}
