// The message catalogue: every word the page shows comes from locales/<lang>.json (a top-level folder that neither
// the page nor the core owns). The command line reads the same files, so a diagnosis reads the same in both.
//
// English is part of the page's script (it is also the fallback for a missing key); every other language's file is
// a chunk of its own, fetched once when that language is chosen (`loadLanguage`), so the first step's script parses
// one catalogue, not all of them (docs/benchmarks.md: ~3 ms of the page's start).
import en from "../../locales/en.json";
import type { Facts } from "./bindings/Facts";
import type { Lang } from "./bindings/Lang";

export type { Lang };
export type Catalogue = Record<string, string>;

/** How to get each language's catalogue but English (the core's `Lang`, so the two cannot drift apart). */
const loaders: Record<Exclude<Lang, "en">, () => Promise<{ default: Catalogue }>> = {
  de: () => import("../../locales/de.json"),
};
const loaded: Partial<Record<Lang, Catalogue>> = { en };

let current: Catalogue = en;
let currentLang: Lang = "en";

function isLang(code: string): code is Lang {
  return code === "en" || Object.prototype.hasOwnProperty.call(loaders, code);
}

/** The first language in `preferred` (as WebKit reports the OS locale) that the product speaks, else English. */
function pick(preferred: readonly string[]): Lang {
  return preferred.map((l) => l.toLowerCase().split(/[-_]/)[0]).find(isLang) ?? "en";
}

function defaultPreferred(): readonly string[] {
  return navigator.languages ?? [navigator.language];
}

/** Fetches the catalogue the OS locale asks for (if it is not English and not fetched yet), then chooses it. A
 * catalogue that cannot be fetched leaves the page in English rather than without a first step. */
export async function loadLanguage(
  preferred: readonly string[] = defaultPreferred(),
  load: (lang: Exclude<Lang, "en">) => Promise<{ default: Catalogue }> = (lang) => loaders[lang](),
): Promise<Lang> {
  const lang = pick(preferred);
  if (lang !== "en" && loaded[lang] === undefined) {
    try {
      loaded[lang] = (await load(lang)).default;
    } catch (e) {
      console.error(`the ${lang} catalogue could not be loaded; English instead`, e);
      return chooseLanguage(["en"]);
    }
  }
  return chooseLanguage([lang]);
}

/** Chooses the catalogue from the OS locale, falling back to English. A language other than English must have
 * been fetched with `loadLanguage` first. */
export function chooseLanguage(preferred: readonly string[] = defaultPreferred()): Lang {
  const lang = pick(preferred);
  const catalogue = loaded[lang];
  if (catalogue === undefined) throw new Error(`the ${lang} catalogue was not loaded: call loadLanguage first`);
  current = catalogue;
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
