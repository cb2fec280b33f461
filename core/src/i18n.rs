//! The message catalogue: every sentence a person reads, in every language the product speaks. The catalogues are
//! the page's own files (`ui/src/i18n/<lang>.json`), compiled in, so the window and the command line read the same
//! words. The core itself makes no sentences: it returns kinds and facts, and whoever shows them renders them here
//! (the command line) or in the page (`ui/src/i18n.ts`, same files, same placeholders).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnosis::Facts;

/// A language the product speaks. English is the fallback for anything missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    De,
}

const EN: &str = include_str!("../../ui/src/i18n/en.json");
const DE: &str = include_str!("../../ui/src/i18n/de.json");

impl Lang {
    pub const ALL: &'static [Lang] = &[Lang::En, Lang::De];

    /// The language code (`en`, `de`), as in the catalogue's file name and `--lang`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// A language from a code or a locale: `de`, `de-DE`, `de_DE.UTF-8`, `DE`. None for a language we do not speak.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary: String = tag.trim().chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
        Lang::ALL.iter().copied().find(|l| l.code() == primary)
    }

    /// The person's language from the locale (`LC_ALL`, then `LC_MESSAGES`, then `LANG`, as POSIX orders them),
    /// English when it is unset, `C`/`POSIX`, or a language we do not speak.
    pub fn from_environment() -> Lang {
        Self::from_locale_vars(|name| std::env::var(name).ok())
    }

    fn from_locale_vars(var: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| var(name))
            .find(|value| !value.is_empty())
            .and_then(|value| Lang::parse(&value))
            .unwrap_or_default()
    }

    fn catalogue(self) -> &'static HashMap<String, String> {
        static CATALOGUES: OnceLock<[HashMap<String, String>; 2]> = OnceLock::new();
        let all = CATALOGUES.get_or_init(|| [parse_catalogue(EN), parse_catalogue(DE)]);
        &all[self as usize]
    }

    /// Whether this language's catalogue has `key` (not falling back to English).
    pub fn has(self, key: &str) -> bool {
        self.catalogue().contains_key(key)
    }

    /// The text of `key` with `{fact}` placeholders filled in; English where this language lacks the key, the key
    /// itself (visibly) where English lacks it too.
    pub fn text(self, key: &str, facts: &Facts) -> String {
        let template = self.catalogue().get(key).or_else(|| Lang::En.catalogue().get(key)).map(String::as_str).unwrap_or(key);
        fill(template, facts)
    }

    /// The text of `key` with no facts.
    pub fn plain(self, key: &str) -> String {
        self.text(key, &Facts::default())
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(text: &str) -> Result<Lang, String> {
        Lang::parse(text).ok_or_else(|| {
            let codes: Vec<&str> = Lang::ALL.iter().map(|l| l.code()).collect();
            format!("'{text}' is not a language this program speaks; use one of: {}", codes.join(", "))
        })
    }
}

/// A catalogue is a flat JSON object of strings; both files are compiled in and checked by the tests below, so a
/// broken one is a build-time mistake, never input from outside.
fn parse_catalogue(json: &str) -> HashMap<String, String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Replaces `{name}` with the fact of that name; an unknown fact is left visible rather than silently dropped.
pub fn fill(template: &str, facts: &Facts) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match facts.get(name) {
                    Some(value) => out.push_str(&value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys_and_placeholders() {
        let en: HashMap<String, String> = serde_json::from_str(EN).unwrap();
        let de: HashMap<String, String> = serde_json::from_str(DE).unwrap();
        let mut en_keys: Vec<_> = en.keys().collect();
        let mut de_keys: Vec<_> = de.keys().collect();
        en_keys.sort();
        de_keys.sort();
        assert_eq!(en_keys, de_keys, "en.json and de.json must have the same keys");
        let placeholders = |s: &str| {
            let mut v: Vec<String> = s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned())).collect();
            v.sort();
            v
        };
        for (key, text) in &en {
            assert_eq!(placeholders(text), placeholders(&de[key]), "{key}: placeholders differ between en and de");
        }
    }

    #[test]
    fn languages_come_from_codes_and_locales() {
        assert_eq!(Lang::parse("de_DE.UTF-8"), Some(Lang::De));
        assert_eq!(Lang::parse("de-AT"), Some(Lang::De));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr_FR.UTF-8"), None);
        assert_eq!(Lang::parse("C"), None);
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(Lang::from_locale_vars(env(&[("LANG", "de_DE.UTF-8")])), Lang::De);
        assert_eq!(Lang::from_locale_vars(env(&[("LANG", "de_DE.UTF-8"), ("LC_ALL", "C")])), Lang::En);
        assert_eq!(Lang::from_locale_vars(env(&[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "de_CH.UTF-8")])), Lang::De);
        assert_eq!(Lang::from_locale_vars(env(&[])), Lang::En);
        assert_eq!("de".parse::<Lang>(), Ok(Lang::De));
        assert!("xx".parse::<Lang>().unwrap_err().contains("en, de"));
    }

    #[test]
    fn text_is_in_the_language_asked_for() {
        let facts = Facts { port: Some(587), ..Facts::default() };
        let en = Lang::En.text("probe.port_blocked", &facts);
        let de = Lang::De.text("probe.port_blocked", &facts);
        assert!(en.contains("587") && de.contains("587"));
        assert_ne!(en, de);
        assert_eq!(Lang::De.text("no.such.key", &facts), "no.such.key");
    }

    #[test]
    fn placeholders_are_filled_from_facts() {
        let facts = Facts { host: Some("imap.mail.me.com".into()), port: Some(993), ..Facts::default() };
        assert_eq!(fill("{host}:{port} said {nothing}", &facts), "imap.mail.me.com:993 said {nothing}");
        assert_eq!(fill("unclosed {host", &facts), "unclosed {host");
    }
}
