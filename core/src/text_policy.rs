//! The one policy for free text a person types that ends up in mail headers and client config files: display
//! names and addresses (the name part; a domain passes IDNA as well). Letters of every script, accents, quotes,
//! `<`, `&`, emoji are all fine. Refused are characters no person means in a name and that break formats or
//! mislead readers:
//!
//! - control characters, C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F): line breaks start new header
//!   lines or config lines, NUL ends strings early;
//! - noncharacters (U+FDD0–U+FDEF and the last two code points of every plane, U+xxFFFE and U+xxFFFF): XML and
//!   plists cannot hold them, so the file would not open;
//! - bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069): they reorder the text that
//!   follows them, so a name can display as something else than it says;
//! - the line and paragraph separators (U+2028, U+2029): line breaks to many readers (JavaScript, YAML, editors).

use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;

/// Why a character is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharacterClass {
    Control,
    Noncharacter,
    BidiControl,
    LineOrParagraphSeparator,
}

impl CharacterClass {
    /// A few words for the technical detail.
    pub fn describe(self) -> &'static str {
        match self {
            CharacterClass::Control => "a control character",
            CharacterClass::Noncharacter => "a Unicode noncharacter",
            CharacterClass::BidiControl => "a bidirectional text control",
            CharacterClass::LineOrParagraphSeparator => "a line or paragraph separator",
        }
    }
}

/// The class of a refused character, or None for a character that may be used.
pub fn class_of(c: char) -> Option<CharacterClass> {
    let code = c as u32;
    if c.is_control() {
        Some(CharacterClass::Control)
    } else if (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE {
        Some(CharacterClass::Noncharacter)
    } else if matches!(code, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069) {
        Some(CharacterClass::BidiControl)
    } else if matches!(code, 0x2028 | 0x2029) {
        Some(CharacterClass::LineOrParagraphSeparator)
    } else {
        None
    }
}

/// The first refused character of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub character: char,
    /// 1-based, counted in characters (not bytes).
    pub position: u32,
    pub class: CharacterClass,
}

impl Refused {
    /// `U+202E RIGHT-TO-LEFT OVERRIDE`: the code point, and the Unicode name where it is one of the usual suspects.
    pub fn character_name(&self) -> String {
        code_point_and_name(self.character)
    }
}

/// `U+XXXX`, followed by the character's Unicode name (or, for controls without one, its alias) if it is a
/// character this policy refuses often. Noncharacters have no name.
pub fn code_point_and_name(c: char) -> String {
    let name = match c as u32 {
        0x0000 => "NULL",
        0x0009 => "CHARACTER TABULATION",
        0x000A => "LINE FEED",
        0x000B => "LINE TABULATION",
        0x000C => "FORM FEED",
        0x000D => "CARRIAGE RETURN",
        0x001B => "ESCAPE",
        0x007F => "DELETE",
        0x0085 => "NEXT LINE",
        0x061C => "ARABIC LETTER MARK",
        0x200E => "LEFT-TO-RIGHT MARK",
        0x200F => "RIGHT-TO-LEFT MARK",
        0x202A => "LEFT-TO-RIGHT EMBEDDING",
        0x202B => "RIGHT-TO-LEFT EMBEDDING",
        0x202C => "POP DIRECTIONAL FORMATTING",
        0x202D => "LEFT-TO-RIGHT OVERRIDE",
        0x202E => "RIGHT-TO-LEFT OVERRIDE",
        0x2028 => "LINE SEPARATOR",
        0x2029 => "PARAGRAPH SEPARATOR",
        0x2066 => "LEFT-TO-RIGHT ISOLATE",
        0x2067 => "RIGHT-TO-LEFT ISOLATE",
        0x2068 => "FIRST STRONG ISOLATE",
        0x2069 => "POP DIRECTIONAL ISOLATE",
        _ => "",
    };
    if name.is_empty() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} {name}", c as u32)
    }
}

/// The first character of `text` the policy refuses, if any.
pub fn first_refused(text: &str) -> Option<Refused> {
    text.chars().enumerate().find_map(|(index, character)| {
        class_of(character).map(|class| Refused { character, position: u32::try_from(index + 1).unwrap_or(u32::MAX), class })
    })
}

/// Checks `text` against the policy; a refusal becomes a diagnosis of `kind` naming the character and where it is.
pub fn check(text: &str, kind: DiagnosisKind) -> Result<(), Diagnosis> {
    match first_refused(text) {
        None => Ok(()),
        Some(refused) => {
            let character = refused.character_name();
            let detail = format!("{character} ({}) at character {}", refused.class.describe(), refused.position);
            let facts = Facts { character: Some(character), position: Some(refused.position), ..Facts::default() };
            Err(Diagnosis::new(kind, facts, Some(detail)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_is_recognised_at_its_edges() {
        for c in ['\u{0}', '\u{1f}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}', '\t', '\n', '\r'] {
            assert_eq!(class_of(c), Some(CharacterClass::Control), "{:04X}", c as u32);
        }
        for code in [0xFDD0, 0xFDEF, 0xFFFE, 0xFFFF, 0x1FFFE, 0x1FFFF, 0x10FFFE, 0x10FFFF] {
            let c = char::from_u32(code).unwrap();
            assert_eq!(class_of(c), Some(CharacterClass::Noncharacter), "{code:04X}");
        }
        for code in [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069] {
            let c = char::from_u32(code).unwrap();
            assert_eq!(class_of(c), Some(CharacterClass::BidiControl), "{code:04X}");
        }
        assert_eq!(class_of('\u{2028}'), Some(CharacterClass::LineOrParagraphSeparator));
        assert_eq!(class_of('\u{2029}'), Some(CharacterClass::LineOrParagraphSeparator));
        // Neighbours that are ordinary characters.
        for c in [
            ' ',
            '~',
            '\u{a0}',
            '\u{fdcf}',
            '\u{fdf0}',
            '\u{fffd}',
            '\u{1fffd}',
            '\u{200d}',
            '\u{2027}',
            '\u{202f}',
            '\u{2065}',
            '\u{206a}',
        ] {
            assert_eq!(class_of(c), None, "{:04X}", c as u32);
        }
    }

    #[test]
    fn the_refusal_names_the_character_and_its_position() {
        let d = check("Jane\u{202e}eoD", DiagnosisKind::NameCharacterNotAllowed).unwrap_err();
        assert_eq!(d.kind, DiagnosisKind::NameCharacterNotAllowed);
        assert_eq!(d.facts.character.as_deref(), Some("U+202E RIGHT-TO-LEFT OVERRIDE"));
        assert_eq!(d.facts.position, Some(5));
        // Positions count characters, not bytes.
        let d = check("山田\u{fffe}", DiagnosisKind::NameCharacterNotAllowed).unwrap_err();
        assert_eq!(d.facts.character.as_deref(), Some("U+FFFE"));
        assert_eq!(d.facts.position, Some(3));
        assert!(d.detail.unwrap().contains("noncharacter"));
        assert!(check("José Müller \"JD\" <&> 山田太郎 💌", DiagnosisKind::NameCharacterNotAllowed).is_ok());
    }
}
