// The save step against a mocked core: keychain save and replace, a missing keychain that blocks nothing,
// Thunderbird profiles, and files saved where the person sees.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { chooseLanguage } from "../i18n";
import { password, setPassword } from "../secret";
import { Wizard } from "../wizard";
import { saveStep } from "./save";
import { doneStep } from "./done";

let keychain: "empty" | "exists" | "unavailable";
let calls: { cmd: string; args: Record<string, unknown> }[];
const diag = (kind: string, facts = {}) => ({ kind, message: "", hint: "", detail: null, facts });

beforeEach(() => {
  chooseLanguage(["en"]);
  keychain = "empty";
  calls = [];
  setPassword("abcd-efgh-ijkl-mnop");
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "keychain_status":
        if (keychain === "unavailable") throw diag("keychain_unavailable", { store: "Secret Service" });
        return {
          exists: keychain === "exists",
          store: "Secret Service",
          entry: { service: "icloud-mail-setup", account: "jane@icloud.com" },
        };
      case "keychain_save":
        if (keychain === "unavailable") throw diag("keychain_unavailable", { store: "Secret Service" });
        if (keychain === "exists" && !a.replace)
          throw diag("keychain_entry_exists", { store: "Secret Service", username: "jane@icloud.com" });
        return keychain === "exists" ? "replaced" : "created";
      case "thunderbird_profiles":
        return [
          {
            name: "default-release",
            path: "/home/j/.thunderbird/a.default-release",
            is_default: true,
            root: "/home/j/.thunderbird",
          },
        ];
      case "thunderbird_add":
        throw diag("thunderbird_running");
      case "export_formats":
        return [
          { format: "outlook-prf", description: "Outlook profile", experimental: false },
          { format: "msmtp", description: "msmtp account", experimental: false },
        ];
      case "export_profile":
        return `/home/j/Downloads/icloud-mail-jane@icloud.com.${a.format}`;
      case "forget_password":
        return null;
    }
    throw new Error(`unexpected ${cmd}`);
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => clearMocks());

const settle = () => new Promise((r) => setTimeout(r, 0));
const outcome = () => document.querySelector("#keychain-outcome")!.textContent ?? "";

function start(): Wizard {
  const address = {
    address: "jane@icloud.com",
    local_part: "jane",
    domain: "icloud.com",
    domain_unicode: "icloud.com",
    kind: { type: "icloud" as const },
  };
  return new Wizard(document.getElementById("app")!, [saveStep(), doneStep()], { address, done: [] });
}

describe("save step", () => {
  it("saves to the keychain, forgets the password in the page, and says so on Done", async () => {
    const w = start();
    await settle();
    document.querySelector<HTMLButtonElement>("#keychain-save")!.click();
    await settle();
    expect(outcome()).toBe("Saved in your keychain.");
    expect(calls.find((c) => c.cmd === "keychain_save")!.args.replace).toBe(false);
    expect(password()).toBe("");
    document.querySelector<HTMLButtonElement>("#next")!.click();
    expect(w.current).toBe("done");
    expect(document.querySelector("#summary")!.textContent).toContain("saved in your keychain");
    expect(calls.some((c) => c.cmd === "forget_password")).toBe(true);
  });

  it("asks before replacing a saved password", async () => {
    keychain = "exists";
    start();
    await settle();
    expect(outcome()).toContain("already saved");
    expect(document.querySelector<HTMLButtonElement>("#keychain-save")!.hidden).toBe(true);
    document.querySelector<HTMLButtonElement>("#keychain-replace")!.click();
    await settle();
    expect(calls.find((c) => c.cmd === "keychain_save")!.args.replace).toBe(true);
    expect(outcome()).toBe("The saved password was replaced.");
  });

  it("explains a missing keychain and still exports files", async () => {
    keychain = "unavailable";
    start();
    await settle();
    expect(outcome()).toContain("No Secret Service was found to keep the password in.");
    expect(outcome()).toContain("gnome-keyring");
    document.querySelector<HTMLButtonElement>("#save-msmtp")!.click();
    await settle();
    expect(document.querySelector(".save-files")!.textContent).toContain(
      "Saved to /home/j/Downloads/icloud-mail-jane@icloud.com.msmtp",
    );
    expect(calls.find((c) => c.cmd === "export_profile")!.args).toMatchObject({
      address: "jane@icloud.com",
      format: "msmtp",
      path: null,
    });
  });

  it("lists Thunderbird profiles and explains a running Thunderbird", async () => {
    start();
    await settle();
    expect(document.querySelector("#tb-profiles")!.textContent).toContain("default-release (the default profile)");
    document.querySelector<HTMLButtonElement>("#tb-add-0")!.click();
    await settle();
    expect(document.querySelector("#tb-profiles")!.textContent).toContain("Thunderbird is running");
  });
});
