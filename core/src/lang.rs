//! The languages the product speaks, and how the person's language is found (`--lang`, else the locale). Below
//! both the catalogue (`i18n`, which renders words in a language) and the diagnosis model (which names the facts):
//! it knows no words itself.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A language the product speaks. English is the fallback for anything missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    De,
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
