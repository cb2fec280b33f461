// Served only by the dev server for the accessibility audit (scripts/a11y.mjs): the real wizard with its IPC
// mocked, so every step can be audited in headless Chromium. Never part of the app build.
import { mockIPC } from "@tauri-apps/api/mocks";
import { chooseLanguage } from "./i18n";
import { Wizard } from "./wizard";
import { steps } from "./steps";

mockIPC((cmd, args) => {
  const a = args as Record<string, string>;
  if (cmd === "check_address") {
    const input = a.input.trim();
    if (!input.includes("@"))
      throw { kind: "address_missing_at", message: "", hint: "", detail: null, facts: { username: input } };
    if (input.endsWith("@gmail.com"))
      throw {
        kind: "address_not_icloud",
        message: "",
        hint: "",
        detail: null,
        facts: { domain: "gmail.com", provider: "Gmail" },
      };
    return {
      address: input.toLowerCase(),
      local_part: input.split("@")[0],
      domain: "icloud.com",
      domain_unicode: "icloud.com",
      kind: { type: "icloud" },
    };
  }
  if (cmd === "plugin:opener|open_url") return null;
  throw new Error(`a11y harness: no mock for ${cmd}`);
});

const params = new URLSearchParams(location.search);
chooseLanguage([params.get("lang") ?? "en"]);
const wizard = new Wizard(document.getElementById("app")!, steps());
(window as unknown as { wizard: Wizard }).wizard = wizard;
