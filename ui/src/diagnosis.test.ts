// Every diagnosis kind has words in both languages, with every placeholder filled from the facts.
import { describe, expect, it } from "vitest";
import type { DiagnosisKind } from "./bindings/DiagnosisKind";
import type { Facts } from "./bindings/Facts";
import { words } from "./diagnosis";
import { chooseLanguage } from "./i18n";
import en from "../../locales/en.json";

const kinds = Object.keys(en)
  .filter((k) => k.startsWith("diagnosis.") && k.endsWith(".message"))
  .map((k) => k.split(".")[1] as DiagnosisKind);

// Every fact the core can send (Required: the type-check fails when the Rust side adds one and this list lacks it).
const facts: Required<Facts> = {
  host: "imap.mail.me.com",
  port: 993,
  username: "jane",
  domain: "family.example",
  address: "jane@family.example",
  provider: "Gmail",
  limit: 254,
  path: "/tmp/x",
  store: "Secret Service",
  seconds: 60,
  pref: "mail.accountmanager.accounts",
  character: "U+202E RIGHT-TO-LEFT OVERRIDE",
  position: 5,
  command: "end of DATA",
};

describe("diagnosis words", () => {
  it("covers the whole vocabulary", () => {
    expect(kinds.length).toBeGreaterThan(30);
    expect(kinds).toContain("auth_rejected");
    expect(kinds).toContain("keychain_unavailable");
  });
  for (const lang of ["en", "de"]) {
    it(`renders every kind in ${lang} with its facts`, () => {
      chooseLanguage([lang]);
      for (const kind of kinds) {
        const w = words(kind, facts, "server said no");
        expect(w.message, kind).not.toMatch(/[{}]|^diagnosis\./);
        expect(w.hint, kind).not.toMatch(/[{}]|^diagnosis\./);
        expect(w.detail).toBe("server said no");
      }
    });
  }
});
