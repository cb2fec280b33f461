// The save step against a mocked core: keychain save and replace, a missing keychain that blocks nothing,
// Thunderbird profiles, files saved where the person sees, every format offered under its mail app, and every
// word in the person's language.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { ExportFormatInfo } from "../bindings/ExportFormatInfo";
import { chooseLanguage, t } from "../i18n";
import { password, setPassword } from "../secret";
import { Wizard } from "../wizard";
import { saveStep } from "./save";
import { doneStep } from "./done";
import en from "../i18n/en.json";
import de from "../i18n/de.json";

/** What `export_formats` answers: every format, by group in the save step's order, then the registry's. */
const ALL_FORMATS: ExportFormatInfo[] = [
  { format: "outlook-prf", group: "outlook", experimental: false },
  { format: "apple-mobileconfig", group: "apple_mail", experimental: false },
  { format: "settings-text", group: "other_app", experimental: false },
  { format: "settings-html", group: "other_app", experimental: false },
  { format: "neomutt", group: "terminal", experimental: false },
  { format: "aerc", group: "terminal", experimental: false },
  { format: "mbsync", group: "terminal", experimental: false },
  { format: "msmtp", group: "terminal", experimental: false },
  { format: "thunderbird-autoconfig", group: "admin", experimental: false },
  { format: "outlook-autodiscover", group: "admin", experimental: true },
  { format: "outlook-reg", group: "admin", experimental: true },
];

let keychain: "empty" | "exists" | "unavailable";
let formats: ExportFormatInfo[];
/** What the native save dialog does when the app opens it: the path chosen, or null (cancelled). */
let dialog: string | null;
let calls: { cmd: string; args: Record<string, unknown> }[];
/** What thunderbird_add answers: a refusal, or an outcome (with the password stored, or locked out by a primary
 * password). */
let tbAdd: "running" | "added_with_warning" | "added_primary_password";
const diag = (kind: string, facts = {}) => ({ kind, detail: null, facts });

beforeEach(() => {
  chooseLanguage(["en"]);
  keychain = "empty";
  formats = ALL_FORMATS;
  dialog = "/home/j/Documents/chosen.file";
  calls = [];
  tbAdd = "running";
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
        if (tbAdd === "running") throw diag("thunderbird_running");
        return {
          outcome: "added",
          profile: "/home/j/.thunderbird/a.default-release",
          account_key: "account3",
          server_key: "server3",
          identity_key: "id3",
          smtp_key: "smtp2",
          warnings:
            tbAdd === "added_with_warning"
              ? [
                  diag("thunderbird_user_js_account_prefs", {
                    path: "/home/j/.thunderbird/a/user.js",
                    pref: "mail.server.server1.hostname",
                  }),
                ]
              : [],
          password_stored: tbAdd !== "added_primary_password",
          password_reason:
            tbAdd === "added_primary_password"
              ? diag("thunderbird_primary_password", { path: "/home/j/.thunderbird/a.default-release" })
              : undefined,
          password_backups: [],
        };
      case "copy_password":
        return 60;
      case "export_formats":
        return formats;
      case "export_profile":
        if (a.format === "outlook-prf" && a.saveAs === false)
          throw diag("output_exists", { path: "/home/j/Downloads/icloud-mail-jane@icloud.com.prf" });
        return a.saveAs ? dialog : `/home/j/Downloads/icloud-mail-jane@icloud.com.${a.format}`;
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
const click = (css: string) => document.querySelector<HTMLButtonElement>(css)!.click();

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

/** Every piece of text a person can read or hear on the page: text nodes, labels and button names. */
function visibleWords(): string[] {
  const found: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const value = node.textContent?.trim();
    if (value) found.push(value);
  }
  for (const e of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
    for (const name of ["aria-label", "title", "placeholder"]) {
      const value = e.getAttribute(name)?.trim();
      if (value) found.push(value);
    }
  }
  return found;
}

/** The English catalogue's texts whose German differs (so seeing one in the German page is a missed translation). */
function englishOnly(): Set<string> {
  const german = de as Record<string, string>;
  return new Set(
    Object.entries(en)
      .filter(([key, text]) => german[key] !== text)
      .map(([, text]) => text),
  );
}

describe("save step", () => {
  it("saves to the keychain, forgets the password in the page, and says so on Done", async () => {
    const w = start();
    await settle();
    click("#keychain-save");
    await settle();
    expect(outcome()).toBe("Saved in your keychain.");
    expect(calls.find((c) => c.cmd === "keychain_save")!.args.replace).toBe(false);
    expect(password()).toBe("");
    click("#next");
    expect(w.current).toBe("done");
    expect(document.querySelector("#summary")!.textContent).toContain("saved in your keychain");
    expect(document.querySelector("#next-steps")!.textContent).toContain(t("done.next_terminal"));
    // The app keeps the tested password for the hand-off until the person leaves the Done step.
    expect(calls.some((c) => c.cmd === "forget_password")).toBe(false);
    click("#back");
    expect(w.current).toBe("save");
    expect(calls.some((c) => c.cmd === "forget_password")).toBe(true);
  });

  it("says Thunderbird signs in without asking when the password was stored, and so does Done", async () => {
    tbAdd = "added_with_warning";
    start();
    await settle();
    click("#tb-add-0");
    await settle();
    expect(document.querySelector("#tb-profiles")!.textContent).toContain("signs in without asking");
    expect(document.querySelector("#copy-password-tb-0")).toBeNull();
    click("#next");
    const next = document.querySelector("#next-steps")!.textContent ?? "";
    expect(next).toContain(t("done.next_thunderbird_signs_in"));
    expect(next).not.toContain(t("done.next_thunderbird_asks"));
    // Terminal clients read the keychain, where nothing was saved: the page does not claim otherwise.
    expect(next).toContain(t("done.next_terminal_unsaved"));
    expect(next).not.toContain(t("done.next_terminal"));
    expect(document.querySelector("#summary")!.textContent).toContain(
      t("done.thunderbird_with_password", { name: "default-release" }),
    );
  });

  it("says why Thunderbird did not get the password, and offers it to paste", async () => {
    tbAdd = "added_primary_password";
    start();
    await settle();
    click("#tb-add-0");
    await settle();
    const shown = document.querySelector("#tb-profiles")!.textContent ?? "";
    expect(shown).toContain(t("step.save.thunderbird_added_asks", { name: "default-release" }));
    expect(shown).toContain(
      t("diagnosis.thunderbird_primary_password.message", { path: "/home/j/.thunderbird/a.default-release" }),
    );
    click("#copy-password-tb-0");
    await settle();
    expect(calls.find((c) => c.cmd === "copy_password")!.args).toEqual({ address: "jane@icloud.com", login: null });
    expect(document.querySelector("#copy-password-tb-0-status")!.textContent).toBe(t("copy.copied", { seconds: 60 }));
    click("#next");
    expect(document.querySelector("#next-steps")!.textContent).toContain(t("done.next_thunderbird_asks"));
  });

  it("offers Copy password where the mail app asks for it, and only there", async () => {
    start();
    await settle();
    const offered = [...document.querySelectorAll(".save-files .copy-password button")].map((b) => b.id);
    expect(offered).toEqual(["copy-password-outlook", "copy-password-apple_mail", "copy-password-other_app"]);
    for (const id of offered) expect(document.getElementById(id)!.textContent).toBe(en["copy.button"]);
    click("#next");
    expect(document.querySelector("#copy-password-done")).not.toBeNull();
  });

  it("asks before replacing a saved password", async () => {
    keychain = "exists";
    start();
    await settle();
    expect(outcome()).toContain("already saved");
    expect(document.querySelector<HTMLButtonElement>("#keychain-save")!.hidden).toBe(true);
    click("#keychain-replace");
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
    click("#save-msmtp");
    await settle();
    expect(document.querySelector(".save-files")!.textContent).toContain(
      "Saved to /home/j/Downloads/icloud-mail-jane@icloud.com.msmtp",
    );
    expect(calls.find((c) => c.cmd === "export_profile")!.args).toEqual({
      address: "jane@icloud.com",
      login: null,
      name: null,
      format: "msmtp",
      lang: "en",
      saveAs: false,
    });
  });

  it("lists Thunderbird profiles and explains a running Thunderbird", async () => {
    start();
    await settle();
    expect(document.querySelector("#tb-profiles")!.textContent).toContain("default-release (the default profile)");
    click("#tb-add-0");
    await settle();
    expect(document.querySelector("#tb-profiles")!.textContent).toContain("Thunderbird is running");
  });

  it("says what in the profile deserves a look when the account was added with a warning", async () => {
    tbAdd = "added_with_warning";
    start();
    await settle();
    click("#tb-add-0");
    await settle();
    const shown = document.querySelector("#tb-profiles")!.textContent ?? "";
    expect(shown).toContain(t("step.save.thunderbird_added", { name: "default-release" }));
    expect(shown).toContain(
      t("diagnosis.thunderbird_user_js_account_prefs.message", {
        path: "/home/j/.thunderbird/a/user.js",
        pref: "mail.server.server1.hostname",
      }),
    );
  });

  it("offers every format the core lists, under its mail app's heading and words, in the core's order", async () => {
    start();
    await settle();
    const groups = [...document.querySelectorAll(".save-files .client")];
    expect(groups.map((g) => g.id)).toEqual([
      "group-outlook",
      "group-apple_mail",
      "group-other_app",
      "group-terminal",
      "group-admin",
    ]);
    for (const g of groups) {
      const id = g.id.replace("group-", "");
      expect(g.querySelector("h3")!.textContent).toBe(en[`group.${id}.name` as keyof typeof en]);
      expect(g.querySelector("h3 + .note")!.textContent).toBe(en[`group.${id}.how` as keyof typeof en]);
    }
    const offered = [...document.querySelectorAll<HTMLButtonElement>(".format button[id^='save-as-']")].map((b) =>
      b.id.replace("save-as-", ""),
    );
    expect(offered).toEqual(ALL_FORMATS.map((f) => f.format));
    const row = document.querySelector("#save-neomutt")!.closest(".format")!;
    expect(row.querySelector(".format-label")!.textContent).toBe(en["format.neomutt.name"]);
    expect(row.querySelector(".format-description")!.textContent).toBe(en["format.neomutt.description"]);
    expect(document.querySelector("#save-outlook-reg")!.getAttribute("aria-label")).toBe(
      "Save Outlook registry file (.reg) (experimental)",
    );
    expect(document.querySelector("#save-as-aerc")!.getAttribute("aria-label")).toBe("Save as… aerc");
    expect(document.body.textContent).not.toContain("format.");
    expect(document.body.textContent).not.toContain("group.");
  });

  it("skips no format: one filed under Thunderbird goes with the profiles", async () => {
    formats = [
      { format: "thunderbird-autoconfig", group: "thunderbird", experimental: false },
      ...ALL_FORMATS.slice(1),
    ];
    start();
    await settle();
    expect(document.querySelector(".save-thunderbird #save-thunderbird-autoconfig")).not.toBeNull();
    expect(document.querySelector("#group-thunderbird")).toBeNull();
    expect(document.querySelectorAll(".format")).toHaveLength(formats.length);
  });

  it("Save as… lets the app ask where; a closed dialog writes nothing, a chosen path is reported", async () => {
    start();
    await settle();
    dialog = null;
    click("#save-as-mbsync");
    await settle();
    const row = document.querySelector("#save-as-mbsync")!.closest(".format")!;
    expect(calls.filter((c) => c.cmd === "export_profile").map((c) => c.args.saveAs)).toEqual([true]);
    expect(row.querySelector(".outcome")!.textContent).toBe("");
    dialog = "/home/j/Documents/chosen.mbsyncrc";
    click("#save-as-mbsync");
    await settle();
    expect(row.querySelector(".outcome")!.textContent).toBe(
      "Saved to /home/j/Documents/chosen.mbsyncrc" +
        t("step.save.mbsync_next", { path: "/home/j/Documents/chosen.mbsyncrc" }),
    );
    expect(row.querySelector(".outcome")!.textContent).toContain('mbsync -c "/home/j/Documents/chosen.mbsyncrc" -a');
    click("#next");
    expect(document.querySelector("#summary")!.textContent).toContain(
      "mbsync (isync): /home/j/Documents/chosen.mbsyncrc",
    );
  });

  it("explains a file that could not be written", async () => {
    start();
    await settle();
    click("#save-outlook-prf");
    await settle();
    const box = document.querySelector("#save-outlook-prf")!.closest(".format")!.querySelector(".outcome")!;
    expect(box.getAttribute("data-kind")).toBe("output_exists");
    expect(box.textContent).toContain("/home/j/Downloads/icloud-mail-jane@icloud.com.prf already exists.");
  });

  it("speaks German throughout when the page does, and writes files with words in German", async () => {
    chooseLanguage(["de-DE"]);
    start();
    await settle();
    click("#keychain-save");
    click("#tb-add-0");
    click("#save-settings-html");
    click("#save-outlook-prf");
    await settle();
    const english = englishOnly();
    const shown = visibleWords();
    expect(shown.length).toBeGreaterThan(40);
    expect(shown.filter((s) => english.has(s))).toEqual([]);
    // The words built from several catalogue entries are German too.
    expect(shown).toContain(de["group.terminal.name"]);
    expect(shown).toContain(de["format.settings-html.name"]);
    expect(shown).toContain(
      de["step.save.save_file"].replace(
        "{what}",
        de["step.save.experimental"].replace("{name}", de["format.outlook-reg.name"]),
      ),
    );
    expect(shown).toContain(de["step.save.save_file_as"].replace("{what}", de["format.aerc.name"]));
    const card = calls.find((c) => c.cmd === "export_profile" && c.args.format === "settings-html")!;
    expect(card.args.lang).toBe("de");
    click("#next");
    expect(visibleWords().filter((s) => english.has(s))).toEqual([]);
    expect(document.querySelector("#summary")!.textContent).toContain(de["format.settings-html.name"]);
  });
});
