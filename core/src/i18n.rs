//! The message catalogue: every sentence a person reads, in every language the product speaks. The catalogues are
//! the files of the top-level `locales/` folder (`locales/<lang>.json`), owned by neither the page nor the core:
//! compiled in here and bundled into the page, so the window and the command line read the same words. The core itself makes no sentences: it returns kinds and facts, and whoever shows them renders them here
//! (the command line) or in the page (`ui/src/i18n.ts`, same files, same placeholders).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::facts::Facts;
use crate::lang::Lang;

const EN: &str = include_str!("../../locales/en.json");
const DE: &str = include_str!("../../locales/de.json");

/// Words in a language: the catalogue of each `Lang`, with its facts filled in.
impl Lang {
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
