// The catalogue: both languages carry every key, and every placeholder a message uses in English.
import { describe, expect, it } from "vitest";
import en from "./i18n/en.json";
import de from "./i18n/de.json";

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
