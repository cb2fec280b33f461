// The message catalogue: every word the page shows comes from ui/src/i18n/<lang>.json. The command line reads the
// English file too, so a diagnosis reads the same in the window and in a terminal.
import en from "./i18n/en.json";
import de from "./i18n/de.json";
import type { Facts } from "./bindings/Facts";

export type Catalogue = Record<string, string>;
export const catalogues: Record<string, Catalogue> = { en, de };
export type Lang = keyof typeof catalogues;

let current: Catalogue = en;
let currentLang = "en";

/** Picks the catalogue from the OS locale (as WebKit reports it), falling back to English. */
export function chooseLanguage(preferred: readonly string[] = navigator.languages ?? [navigator.language]): string {
  const lang = preferred.map((l) => l.toLowerCase().split("-")[0]).find((l) => l in catalogues) ?? "en";
  current = catalogues[lang];
  currentLang = lang;
  document.documentElement.lang = lang;
  return lang;
}

export function language(): string {
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
