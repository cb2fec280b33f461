// The message catalogue: every word the page shows comes from ui/src/i18n/<lang>.json. The command line reads the
// English file too, so a diagnosis reads the same in the window and in a terminal.
import en from "./i18n/en.json";
import de from "./i18n/de.json";
import type { Facts } from "./bindings/Facts";
import type { Lang } from "./bindings/Lang";

export type { Lang };
export type Catalogue = Record<string, string>;
/** One catalogue per language the product speaks (the core's `Lang`, so the two cannot drift apart). */
export const catalogues: Record<Lang, Catalogue> = { en, de };

let current: Catalogue = en;
let currentLang: Lang = "en";

function isLang(code: string): code is Lang {
  return Object.prototype.hasOwnProperty.call(catalogues, code);
}

/** Picks the catalogue from the OS locale (as WebKit reports it), falling back to English. */
export function chooseLanguage(preferred: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  const lang = preferred.map((l) => l.toLowerCase().split(/[-_]/)[0]).find(isLang) ?? "en";
  current = catalogues[lang];
  currentLang = lang;
  document.documentElement.lang = lang;
  return lang;
}

/** The page's language: what files with words in them (the settings card) are written in. */
export function language(): Lang {
  return currentLang;
}

/** The text for `key`, with `{name}` placeholders filled from `facts`. A missing key shows itself, visibly. */
export function t(key: string, facts: Partial<Record<string, unknown>> | Facts = {}): string {
  const template = current[key] ?? en[key as keyof typeof en] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = (facts as Record<string, unknown>)[name];
    return value === undefined || value === null ? whole : String(value);
  });
}
