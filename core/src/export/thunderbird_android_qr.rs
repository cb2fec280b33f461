//! Thunderbird for Android's account QR code ("Export for Mobile", format version 1, specified in Thunderbird for
//! Android's `feature/migration/qrcode/qr-code-format.md`): UTF-8 JSON made of nested arrays,
//! `[1, [1, 1], IncomingServer, [[OutgoingServer, Identity]]]`, as a QR code the app's "Import settings → Scan QR
//! code" reads. The payload carries exactly the account's settings (after a connection test, what it proved): IMAP
//! host, port, TLS and the username that worked; SMTP host, the port that worked, STARTTLS or TLS and its username;
//! the address and the typed name.
//!
//! No password by default, and never in a file: the registry's `render` cannot include one. Only the window may ask
//! for `svg(account, Some(password))`, to show the code on screen; then the password goes into both server entries
//! (an `AccountName` of `""` stands before the incoming one, which the format reads as "the address").
//!
//! The format allows only ASCII host names (ACE for international ones) and ASCII addresses: anything else is
//! refused with its own diagnosis rather than written as a code the app would reject. The JSON is written by
//! serde_json, the QR code by the `qrcode` crate (SVG by its renderer, PNG from its modules by the `png` crate).
//! Buffers this module owns that hold the password are wiped when dropped; the QR crate's own working buffers (the
//! encoded bits and modules) are freed without wiping, as it offers nothing else.

use serde::ser::{Serialize, SerializeSeq, Serializer};
use zeroize::Zeroizing;

use super::{file_stem, render_failed, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::host;
use crate::provider::{Endpoint, Security};
use crate::secret::Secret;

pub struct ThunderbirdAndroidQr;

/// The image a file holds: PNG (what phones and people open anywhere) unless SVG is asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum QrImage {
    #[default]
    Png,
    Svg,
}

/// The format's version, the first element of the payload.
pub const FORMAT_VERSION: u8 = 1;
/// `IncomingProtocol` IMAP, `OutgoingProtocol` SMTP.
const IMAP: u8 = 0;
const SMTP: u8 = 0;
/// `AuthenticationType` PasswordCleartext: the password over the TLS connection, as iCloud signs in.
const AUTH_PASSWORD_CLEARTEXT: u8 = 1;
/// Pixels per module (the SVG's units, which its `viewBox` scales to any size), and the light margin around the
/// code in modules (the QR standard's quiet zone).
const MODULE_PIXELS: u32 = 8;
const QUIET_ZONE_MODULES: u32 = 4;

/// `ConnectionSecurity`: 2 AlwaysStartTls, 3 Tls (0 plain and 1, the retired "STARTTLS if offered", are never
/// written: this product never connects without TLS).
pub fn security_code(security: Security) -> u8 {
    match security {
        Security::Starttls => 2,
        Security::Tls => 3,
    }
}

/// One server entry: `[protocol, host, port, security, auth, username]`, then for the incoming server an optional
/// `AccountName` and for both an optional `Password` (optional elements are left off from the end only).
struct Server<'a> {
    protocol: u8,
    host: String,
    port: u16,
    security: u8,
    username: String,
    /// Incoming only: `AccountName` must stand before the password.
    incoming: bool,
    password: Option<&'a str>,
}

impl Serialize for Server<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(&self.protocol)?;
        seq.serialize_element(&self.host)?;
        seq.serialize_element(&self.port)?;
        seq.serialize_element(&self.security)?;
        seq.serialize_element(&AUTH_PASSWORD_CLEARTEXT)?;
        seq.serialize_element(&self.username)?;
        if let Some(password) = self.password {
            if self.incoming {
                // The empty account name: the reader names the account after the identity's address.
                seq.serialize_element("")?;
            }
            seq.serialize_element(password)?;
        }
        seq.end()
    }
}

/// A host as the format carries it: the one host rule's form, ASCII Compatible Encoding for international names. A
/// host with no ASCII form (IDNA refuses it) is `server_invalid`, as everywhere else; the rule's answer is checked
/// once more here, since the format has no way to carry anything else.
fn ascii_host(endpoint: &Endpoint) -> Result<String, Diagnosis> {
    let refused = |why: String| {
        let facts = Facts { host: Some(endpoint.host.escape_debug().to_string()), port: Some(endpoint.port), ..Facts::default() };
        Diagnosis::new(DiagnosisKind::ServerInvalid, facts, Some(why))
    };
    let ace = host::check_host(&endpoint.host).map_err(|e| refused(e.to_string()))?;
    if !ace.is_ascii() {
        return Err(refused(format!("not ASCII after ACE: {ace}")));
    }
    Ok(ace)
}

/// An address the format can carry (ASCII only), or `qr_code_address_not_ascii` naming the first other character.
fn ascii_address(address: &str) -> Result<(), Diagnosis> {
    match address.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        None => Ok(()),
        Some((index, character)) => {
            let facts = Facts {
                address: Some(address.to_owned()),
                character: Some(format!("\"{character}\" (U+{:04X})", character as u32)),
                position: Some(index as u32 + 1),
                ..Facts::default()
            };
            Err(Diagnosis::new(DiagnosisKind::QrCodeAddressNotAscii, facts, None))
        }
    }
}

/// The payload's bytes (UTF-8 JSON), with the password in both server entries when one is given. Wiped when
/// dropped.
pub fn payload(account: &Account, password: Option<&Secret>) -> Result<Zeroizing<Vec<u8>>, Diagnosis> {
    account.check()?;
    let address = &account.address.address;
    ascii_address(address)?;
    ascii_address(&account.login.address)?;
    let password = password.map(Secret::expose);
    let (imap, smtp) = (&account.provider.imap, &account.provider.smtp);
    let server = |protocol, endpoint: &Endpoint, username, incoming| -> Result<Server, Diagnosis> {
        let (host, port, security) = (ascii_host(endpoint)?, endpoint.port, security_code(endpoint.security));
        Ok(Server { protocol, host, port, security, username, incoming, password })
    };
    let incoming = server(IMAP, imap, account.imap_username(), true)?;
    let outgoing = server(SMTP, smtp, account.smtp_username(), false)?;
    let name = account.display_name.as_deref().unwrap_or_default();
    let identity = (address.as_str(), name);
    let root = (FORMAT_VERSION, (1u8, 1u8), incoming, [(outgoing, identity)]);
    // Room for every string escaped at its longest (`\uXXXX` per byte), so the buffer that may hold the password is
    // never reallocated (which would leave an unwiped copy behind): the login stands for the usernames, and the
    // password is there twice (both servers).
    let strings = [address.as_str(), name, &account.login.address, &imap.host, &smtp.host];
    let capacity = 256 + 6 * (strings.iter().map(|s| s.len()).sum::<usize>() + 2 * password.map_or(0, str::len));
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(&mut *bytes, &root).map_err(|e| render_failed(ExportFormat::ThunderbirdAndroidQr, account, &e))?;
    Ok(bytes)
}

/// The QR code of the payload, at error correction level M (15 % of the code may be unreadable: a screen's glare, a
/// shaky hand). A payload too long for any QR code (a very long name) is `qr_code_too_large`.
fn code(account: &Account, payload: &[u8]) -> Result<qrcode::QrCode, Diagnosis> {
    qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M).map_err(|e| match e {
        qrcode::types::QrError::DataTooLong => {
            let facts = Facts { limit: Some(MAX_PAYLOAD_BYTES as u32), ..Facts::default() };
            Diagnosis::new(DiagnosisKind::QrCodeTooLarge, facts, Some(format!("{} bytes", payload.len())))
        }
        other => render_failed(ExportFormat::ThunderbirdAndroidQr, account, &other),
    })
}

/// The most bytes a QR code holds at level M (version 40).
pub const MAX_PAYLOAD_BYTES: usize = 2331;

/// The code as SVG: dark modules on a light square with its quiet zone, scaling to any size (`viewBox`). With a
/// password only for the window, on screen; the string is wiped when dropped.
pub fn svg(account: &Account, password: Option<&Secret>) -> Result<Zeroizing<String>, Diagnosis> {
    let payload = payload(account, password)?;
    let code = code(account, &payload)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .module_dimensions(MODULE_PIXELS, MODULE_PIXELS)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Ok(Zeroizing::new(svg))
}

/// The code as a PNG without a password: black modules on white, 8 pixels each, with the quiet zone.
pub fn png(account: &Account) -> Result<Vec<u8>, Diagnosis> {
    let payload = payload(account, None)?;
    let code = code(account, &payload)?;
    let modules = code.width() as u32;
    let side = (modules + 2 * QUIET_ZONE_MODULES) * MODULE_PIXELS;
    let colors = code.to_colors();
    let mut pixels = vec![u8::MAX; (side * side) as usize];
    for (index, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = ((index as u32 % modules + QUIET_ZONE_MODULES), (index as u32 / modules + QUIET_ZONE_MODULES));
        for row in y * MODULE_PIXELS..(y + 1) * MODULE_PIXELS {
            let start = (row * side + x * MODULE_PIXELS) as usize;
            pixels[start..start + MODULE_PIXELS as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    let failed = |e: png::EncodingError| render_failed(ExportFormat::ThunderbirdAndroidQr, account, &e);
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

impl Exporter for ThunderbirdAndroidQr {
    fn format(&self) -> ExportFormat {
        ExportFormat::ThunderbirdAndroidQr
    }

    fn file_name(&self, account: &Account) -> String {
        format!("{}-thunderbird-android.png", file_stem(account))
    }

    /// The file: PNG, or SVG when `options.qr_image` asks for it. Never with a password.
    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        match options.qr_image {
            QrImage::Png => png(account),
            QrImage::Svg => Ok(svg(account, None)?.as_bytes().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::LoginForm;
    use crate::Address;
    use serde_json::{json, Value};

    fn jane() -> Account {
        Account::new(Address::parse("jane.doe@icloud.com").unwrap(), None, Some("Jane Doe".into())).unwrap()
    }

    fn parsed(account: &Account, password: Option<&Secret>) -> Value {
        serde_json::from_slice(&payload(account, password).unwrap()).unwrap()
    }

    #[test]
    fn the_preset_is_the_specs_one_account_example_for_icloud() {
        assert_eq!(
            parsed(&jane(), None),
            json!([
                1,
                [1, 1],
                [0, "imap.mail.me.com", 993, 3, 1, "jane.doe"],
                [[[0, "smtp.mail.me.com", 587, 2, 1, "jane.doe@icloud.com"], ["jane.doe@icloud.com", "Jane Doe"]]]
            ])
        );
    }

    #[test]
    fn what_the_test_proved_is_what_the_code_carries() {
        let mut account = jane();
        account.provider.smtp = Endpoint::new("smtp.mail.me.com", 465, Security::Tls);
        account.provider.imap_login_forms = vec![LoginForm::FullAddress, LoginForm::NamePart];
        account.display_name = None;
        let v = parsed(&account, None);
        assert_eq!(v[2], json!([0, "imap.mail.me.com", 993, 3, 1, "jane.doe@icloud.com"]));
        assert_eq!(v[3][0][0], json!([0, "smtp.mail.me.com", 465, 3, 1, "jane.doe@icloud.com"]));
        assert_eq!(v[3][0][1], json!(["jane.doe@icloud.com", ""]), "no name: the empty display name");
    }

    #[test]
    fn a_password_goes_into_both_servers_only_when_given() {
        let secret = Secret::new("abcd-efgh-ijkl-mnop".into());
        let v = parsed(&jane(), Some(&secret));
        assert_eq!(v[2], json!([0, "imap.mail.me.com", 993, 3, 1, "jane.doe", "", "abcd-efgh-ijkl-mnop"]));
        assert_eq!(v[3][0][0], json!([0, "smtp.mail.me.com", 587, 2, 1, "jane.doe@icloud.com", "abcd-efgh-ijkl-mnop"]));
        let file = ThunderbirdAndroidQr.render(&jane(), &ExportOptions { qr_image: QrImage::Svg, ..ExportOptions::default() }).unwrap();
        assert!(!String::from_utf8(file).unwrap().contains("abcd"), "a file never carries it");
    }

    #[test]
    fn a_custom_domain_sends_as_itself_and_signs_in_with_the_primary_login() {
        let login = Address::parse("jane.doe@icloud.com").unwrap();
        let account = Account::new(Address::parse("Jane@Family.Example").unwrap(), Some(login), Some("Jäne Müller".into())).unwrap();
        let v = parsed(&account, None);
        assert_eq!(v[2][5], "jane.doe");
        assert_eq!(v[3][0][0][5], "jane.doe@icloud.com");
        assert_eq!(v[3][0][1], json!(["Jane@family.example", "Jäne Müller"]), "names may hold any letter");
    }

    #[test]
    fn what_the_format_cannot_carry_is_refused_by_name() {
        let login = Address::parse("jane.doe@icloud.com").unwrap();
        let account = Account::new(Address::parse("jürgen@familie.example").unwrap(), Some(login), None).unwrap();
        let err = payload(&account, None).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::QrCodeAddressNotAscii);
        assert_eq!(err.facts.position, Some(2));
        assert!(err.message(crate::Lang::En).contains("jürgen@familie.example"), "{}", err.message(crate::Lang::En));
        assert!(err.message(crate::Lang::De).contains("U+00FC"), "{}", err.message(crate::Lang::De));
        // An international domain is written in its ASCII form already, and may be sent as.
        let login = Address::parse("jane.doe@icloud.com").unwrap();
        let idn = Account::new(Address::parse("jane@bücher.example").unwrap(), Some(login), None).unwrap();
        assert_eq!(parsed(&idn, None)[3][0][1][0], "jane@xn--bcher-kva.example");
        // A host written in Unicode: the account check refuses it (hosts are kept in their ASCII form), and the
        // format carries the ACE form; one with no ASCII form at all is refused by the host rule.
        let mut account = jane();
        account.provider.imap.host = "imap.bücher.example".into();
        assert_eq!(payload(&account, None).unwrap_err().kind, DiagnosisKind::ServerInvalid);
        assert_eq!(ascii_host(&account.provider.imap).unwrap(), "imap.xn--bcher-kva.example");
        account.provider.imap.host = "imap.\u{0BCD}bad.example".into();
        let err = ascii_host(&account.provider.imap).unwrap_err();
        assert_eq!((err.kind, err.facts.port), (DiagnosisKind::ServerInvalid, Some(993)));
    }

    #[test]
    fn a_name_too_long_for_any_qr_code_is_said_so() {
        let mut account = jane();
        // Lower case: upper-case letters would go into the QR code's denser alphanumeric mode.
        account.display_name = Some("j".repeat(MAX_PAYLOAD_BYTES));
        let err = svg(&account, None).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::QrCodeTooLarge);
        assert_eq!(err.facts.limit, Some(MAX_PAYLOAD_BYTES as u32));
        account.display_name = Some("j".repeat(MAX_PAYLOAD_BYTES - 200));
        assert!(svg(&account, None).is_ok(), "just below the limit fits");
    }

    #[test]
    fn the_images_are_dark_on_light_with_a_quiet_zone() {
        let png = png(&jane()).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width % MODULE_PIXELS, 0);
        let margin = (QUIET_ZONE_MODULES * MODULE_PIXELS) as usize;
        assert!(buf[..margin * info.width as usize].iter().all(|&p| p == u8::MAX), "the top margin is light");
        assert_eq!(buf[margin * info.width as usize + margin], 0, "the finder pattern's corner is dark");
        let svg = svg(&jane(), None).unwrap();
        assert!(svg.contains(r##"fill="#ffffff""##) && svg.contains(r##"fill="#000000""##), "{}", &svg[..300]);
        assert!(svg.contains("viewBox"));
    }
}
