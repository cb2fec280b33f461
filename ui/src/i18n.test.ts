// The catalogue: both languages carry every key, and every placeholder a message uses in English.
import { describe, expect, it, vi } from "vitest";
import en from "../../locales/en.json";
import de from "../../locales/de.json";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("message catalogue", () => {
  it("has the same keys in English and German", () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });
  it("uses the same placeholders in both languages", () => {
    for (const [key, text] of Object.entries(en)) {
      expect(placeholders((de as Record<string, string>)[key]), key).toEqual(placeholders(text));
    }
  });
  it("has no empty text", () => {
    for (const [key, text] of [...Object.entries(en), ...Object.entries(de)]) expect(text.trim(), key).not.toBe("");
  });
});

describe("loading a language", () => {
  it("has English at once and fetches another language before it can be chosen", async () => {
    vi.resetModules();
    const fresh = await import("./i18n");
    expect(fresh.chooseLanguage(["en-GB"])).toBe("en");
    expect(fresh.t("nav.next")).toBe(en["nav.next"]);
    expect(() => fresh.chooseLanguage(["de-DE"])).toThrow(/loadLanguage/);
    expect(await fresh.loadLanguage(["de-AT", "en"])).toBe("de");
    expect(fresh.t("nav.next")).toBe(de["nav.next"]);
    expect(document.documentElement.lang).toBe("de");
    // Once fetched, it is chosen at once; a language the product does not speak falls back to English.
    expect(fresh.chooseLanguage(["fr-FR"])).toBe("en");
    expect(fresh.chooseLanguage(["de"])).toBe("de");
  });

  it("stays in English when a catalogue cannot be fetched", async () => {
    vi.resetModules();
    const fresh = await import("./i18n");
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await fresh.loadLanguage(["de-DE"], () => Promise.reject(new Error("chunk missing")))).toBe("en");
    expect(fresh.t("nav.next")).toBe(en["nav.next"]);
    expect(document.documentElement.lang).toBe("en");
    expect(quiet).toHaveBeenCalled();
    quiet.mockRestore();
  });
});
