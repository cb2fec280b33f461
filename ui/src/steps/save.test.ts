// The save step against a mocked core: the question first (its choices the core's groups, preselected from what
// the computer has or was chosen last), one path per choice (Thunderbird profiles, Outlook's file and import
// command, Apple Mail's profile, the settings card, a terminal client's file and the keychain it reads, all files
// for administrators), keychain save and replace, a missing keychain that blocks nothing, files saved where the
// person sees, Done in a sentence with the details behind a disclosure, and every word in the person's language.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { ExportFormatInfo } from "../bindings/ExportFormatInfo";
import { chooseLanguage, t } from "../i18n";
import { password, setPassword } from "../secret";
import { Wizard } from "../wizard";
import { preselect, saveStep } from "./save";
import { doneStep } from "./done";
import { JANE } from "./testing";
import type { ClientGroup } from "../bindings/ClientGroup";

const GROUPS: ClientGroup[] = ["thunderbird", "outlook", "apple_mail", "other_app", "terminal", "admin"];
import en from "../../../locales/en.json";
import de from "../../../locales/de.json";

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
  { format: "vdirsyncer", group: "terminal", experimental: false },
  { format: "khal", group: "terminal", experimental: false },
  { format: "khard", group: "terminal", experimental: false },
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
let tbAdd: "running" | "added_with_warning" | "added_primary_password" | "broken";
/** The apps `mail_apps_present` says this computer has, and the choice `load_settings` remembers. */
let present: ClientGroup[];
let remembered: ClientGroup | null;
/** The apps the core says ask for the password themselves (`ClientGroup::asks_for_password`). */
let asking: ClientGroup[];
/** `mail_apps_present` fails outright (not with a diagnosis). */
let appsFail: boolean;

/** The Thunderbird profiles found (the default: one). */
let profiles: unknown[] | null;
const mockThunderbirdProfiles = (list: unknown[]) => (profiles = list);
const diag = (kind: string, facts = {}) => ({ kind, detail: null, facts });

beforeEach(() => {
  chooseLanguage(["en"]);
  keychain = "empty";
  formats = ALL_FORMATS;
  dialog = "/home/j/Documents/chosen.file";
  calls = [];
  tbAdd = "running";
  present = ["thunderbird"];
  remembered = null;
  asking = ["outlook", "apple_mail", "other_app"];
  appsFail = false;
  profiles = null;
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
        if (profiles) return profiles;
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
        if (tbAdd === "broken") throw new Error("the helper's answer could not be read");
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
      case "outlook_import":
        if (String(a.path).includes("missing")) throw diag("outlook_not_started", { path: a.path });
        return null;
      case "forget_password":
      case "save_choice":
        return null;
      case "mail_apps_present":
        if (appsFail) throw new Error("the IPC broke");
        return GROUPS.map((group) => ({
          group,
          present: present.includes(group),
          asks_for_password: asking.includes(group),
        }));
      case "load_settings":
        return { mail_app: remembered };
    }
    throw new Error(`unexpected ${cmd}`);
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => clearMocks());

const settle = () => new Promise((r) => setTimeout(r, 0));
const outcome = () => document.querySelector("#keychain-outcome")!.textContent ?? "";
const click = (css: string) => document.querySelector<HTMLButtonElement>(css)!.click();
/** Picks a mail app the way a person does (the radio button's change). */
async function choose(group: ClientGroup) {
  const radio = document.querySelector<HTMLInputElement>(`#app-${group}`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event("change"));
  await settle();
}
const sentence = () => document.querySelector("#done-sentence")!.textContent;

function start(): Wizard {
  return new Wizard(document.getElementById("app")!, [saveStep(), doneStep()], { address: { ...JANE }, done: [] });
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

describe("the question", () => {
  it("asks which mail app first, its choices the core's groups in order, as one labelled radio group", async () => {
    present = [];
    start();
    await settle();
    const question = document.querySelector("fieldset#mail-app")!;
    expect(question.querySelector("legend")!.textContent).toBe(en["step.save.question"]);
    const radios = [...question.querySelectorAll<HTMLInputElement>("input[type=radio]")];
    expect(radios.map((r) => r.value)).toEqual(GROUPS);
    expect(new Set(radios.map((r) => r.name)).size).toBe(1);
    for (const r of radios) {
      const label = document.querySelector(`label[for="${r.id}"]`)!;
      expect(label.querySelector(".choice-name")!.textContent).toBe(en[`choice.${r.value}.name` as keyof typeof en]);
      expect(document.getElementById(r.getAttribute("aria-describedby")!)!.textContent).toBe(
        en[`choice.${r.value}.note` as keyof typeof en],
      );
    }
    // Nothing found, nothing remembered: nothing chosen, no path yet, and nothing else on the page.
    expect(radios.some((r) => r.checked)).toBe(false);
    expect(document.querySelector("#save-path")!.textContent).toBe(en["step.save.choose_first"]);
    expect(document.querySelectorAll(".format, #keychain-save, .copy-password")).toHaveLength(0);
  });

  it("preselects Thunderbird when a profile was found, and the last choice over that", async () => {
    start();
    await settle();
    expect(document.querySelector<HTMLInputElement>("#app-thunderbird")!.checked).toBe(true);
    expect(document.querySelector("#save-path")!.getAttribute("data-group")).toBe("thunderbird");
    expect(document.querySelector("#tb-add-0")).not.toBeNull();
    document.body.innerHTML = '<div id="app"></div>';
    remembered = "apple_mail";
    start();
    await settle();
    expect(document.querySelector<HTMLInputElement>("#app-apple_mail")!.checked).toBe(true);
    expect(document.querySelector("#save-apple-mobileconfig")).not.toBeNull();
  });

  it("preselects by what the computer has: Outlook where Windows has it, Apple Mail on a Mac", () => {
    const apps = (has: ClientGroup[]) => GROUPS.map((group) => ({ group, present: has.includes(group) }));
    expect(preselect(apps([]), null, "linux")).toBeNull();
    expect(preselect(apps(["outlook"]), null, "windows")).toBe("outlook");
    expect(preselect(apps([]), null, "macos")).toBe("apple_mail");
    expect(preselect(apps(["thunderbird"]), null, "macos")).toBe("thunderbird");
    expect(preselect(apps(["thunderbird"]), "terminal", "linux")).toBe("terminal");
  });

  it("remembers the choice: when it is made, and when the person goes on", async () => {
    start();
    await settle();
    await choose("terminal");
    expect(calls.filter((c) => c.cmd === "save_choice").map((c) => c.args)).toEqual([{ mailApp: "terminal" }]);
    click("#next");
    expect(calls.filter((c) => c.cmd === "save_choice")).toHaveLength(2);
    click("#back");
    await settle();
    // Back on the step, the choice made is still the one shown.
    expect(document.querySelector<HTMLInputElement>("#app-terminal")!.checked).toBe(true);
  });

  it("has words for every choice and its path in both languages", () => {
    for (const catalogue of [en, de] as Record<string, string>[])
      for (const group of GROUPS)
        for (const key of ["choice.*.name", "choice.*.note", "path.*.setup_title", "path.*.setup", "path.*.password"])
          expect(catalogue[key.replace("*", group)], key.replace("*", group)).toBeTruthy();
  });
});

describe("one path per choice", () => {
  it("Thunderbird: add to the profile found, the password stored, and Done says it signs in", async () => {
    tbAdd = "added_with_warning";
    start();
    await settle();
    expect(document.querySelector("#save-path")!.textContent).toContain(en["path.thunderbird.then"]);
    expect(document.querySelectorAll(".format, #keychain-save")).toHaveLength(0);
    click("#tb-add-0");
    await settle();
    expect(document.querySelector("#tb-profiles")!.textContent).toContain("signs in without asking");
    expect(document.querySelector("#copy-password-tb-0")).toBeNull();
    click("#next");
    expect(sentence()).toBe(t("done.say.thunderbird_stored"));
    expect(document.querySelector("#copy-password-done")).toBeNull();
    const details = document.querySelector("details#done-details")!;
    expect(details.hasAttribute("open")).toBe(false);
    expect(details.querySelector("summary")!.textContent).toBe(en["done.details"]);
    expect(details.querySelector("#summary")!.textContent).toContain(
      t("done.thunderbird_with_password", { name: "default-release" }),
    );
  });

  it("Thunderbird: Add is disabled while the app adds the account, and usable again once it answered", async () => {
    start();
    await settle();
    const add = document.querySelector<HTMLButtonElement>("#tb-add-0")!;
    add.click();
    expect(add.disabled).toBe(true);
    add.click(); // a second press while it runs does nothing
    await settle();
    expect(calls.filter((c) => c.cmd === "thunderbird_add")).toHaveLength(1);
    expect(add.disabled).toBe(false);
    expect(document.querySelector("#tb-profiles")!.textContent).toContain(t("diagnosis.thunderbird_running.message"));
  });

  it("a call that fails outright shows what happened instead of leaving the step blank", async () => {
    tbAdd = "broken";
    start();
    await settle();
    click("#tb-add-0");
    await settle();
    const outcome = document.querySelector("#tb-profiles .outcome")!;
    expect(outcome.getAttribute("data-kind")).toBe("internal_error");
    expect(outcome.textContent).toContain(en["diagnosis.internal_error.message"]);
    expect(document.querySelector<HTMLButtonElement>("#tb-add-0")!.disabled).toBe(false);

    appsFail = true;
    document.body.innerHTML = '<div id="app"></div>';
    start();
    await settle();
    expect(document.querySelector(".save-step")!.textContent).toContain(en["diagnosis.internal_error.message"]);
  });

  it("offers Copy password where the core says the app asks for it, and nowhere else", async () => {
    // Were the core to say terminal clients ask and Outlook does not, the page would follow it.
    asking = ["terminal"];
    start();
    await settle();
    await choose("terminal");
    expect(document.querySelector("#copy-password-terminal")).not.toBeNull();
    await choose("outlook");
    expect(document.querySelector("#copy-password-outlook")).toBeNull();
    click("#save-as-outlook-prf");
    await settle();
    click("#next");
    expect(document.querySelector("#copy-password-done")).toBeNull();
    expect(sentence()).toBe(t("done.say.admin"));
  });

  it("Thunderbird: says why it did not get the password, and offers it to paste, here and on Done", async () => {
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
    expect(sentence()).toBe(t("done.say.thunderbird_asks"));
    expect(document.querySelector("#copy-password-done")).not.toBeNull();
  });

  it("Outlook: the .prf, the exact import command for where it went, and Copy password", async () => {
    start();
    await settle();
    await choose("outlook");
    expect([...document.querySelectorAll(".format button[id^='save-as-']")].map((b) => b.id)).toEqual([
      "save-as-outlook-prf",
    ]);
    expect(document.querySelector("#save-path")!.textContent).toContain(en["path.outlook.setup"]);
    dialog = "C:\\Users\\jane\\Documents\\icloud.prf";
    click("#save-as-outlook-prf");
    await settle();
    expect(document.querySelector("#outlook-import-command")!.textContent).toBe(
      'outlook.exe /importprf "C:\\Users\\jane\\Documents\\icloud.prf"',
    );
    expect([...document.querySelectorAll(".copy-password button")].map((b) => b.id)).toEqual(["copy-password-outlook"]);
    click("#next");
    expect(sentence()).toBe(t("done.say.outlook"));
    expect(document.querySelector("#copy-password-done")).not.toBeNull();
    expect(document.querySelector("#summary")!.textContent).toContain("C:\\Users\\jane\\Documents\\icloud.prf");
  });

  it("Outlook installed: Import into Outlook hands the saved file to the app, the typed command stays", async () => {
    present = ["outlook"];
    start();
    await settle();
    await choose("outlook");
    dialog = "C:\\Users\\jane\\Documents\\Mail für Jörg\\icloud.prf";
    click("#save-as-outlook-prf");
    await settle();
    expect(document.querySelector("#outlook-import")!.textContent).toBe(en["step.save.outlook_import_button"]);
    expect(document.querySelector("#outlook-import-command")).not.toBeNull();
    click("#outlook-import");
    await settle();
    expect(calls.find((c) => c.cmd === "outlook_import")!.args).toEqual({ path: dialog });
    expect(document.querySelector("#outlook-import-status")!.textContent).toBe(en["step.save.outlook_import_started"]);
    // Outlook could not be started: why, and the typed command is still there.
    dialog = "C:\\missing\\icloud.prf";
    click("#save-as-outlook-prf");
    await settle();
    const buttons = document.querySelectorAll<HTMLButtonElement>("#outlook-import");
    buttons[buttons.length - 1].click();
    await settle();
    const status = document.querySelectorAll("#outlook-import-status");
    expect(status[status.length - 1].getAttribute("data-kind")).toBe("outlook_not_started");
  });

  it("Outlook not installed: only the typed command", async () => {
    start();
    await settle();
    await choose("outlook");
    click("#save-as-outlook-prf");
    await settle();
    expect(document.querySelector("#outlook-import")).toBeNull();
    expect(document.querySelector("#outlook-import-command")).not.toBeNull();
  });

  it("Apple Mail: the profile, how to open it on a Mac and an iPhone, and Copy password", async () => {
    start();
    await settle();
    await choose("apple_mail");
    const path = document.querySelector("#save-path")!.textContent ?? "";
    expect(path).toContain(en["path.apple_mail.on_mac"]);
    expect(path).toContain(en["path.apple_mail.on_iphone"]);
    click("#save-apple-mobileconfig");
    await settle();
    expect(calls.filter((c) => c.cmd === "export_profile").map((c) => c.args.format)).toEqual(["apple-mobileconfig"]);
    expect(calls.find((c) => c.cmd === "export_profile")!.args.withDav).toBe(false);
    // Calendars and contacts only when asked, with the reason beside the box.
    expect(path).toContain(en["step.save.mobileconfig_with_dav_note"]);
    click("#mobileconfig-with-dav");
    click("#save-apple-mobileconfig");
    await settle();
    expect(calls.filter((c) => c.cmd === "export_profile").map((c) => c.args.withDav)).toEqual([false, true]);
    expect(document.querySelector("#copy-password-apple_mail")).not.toBeNull();
    click("#next");
    expect(sentence()).toBe(t("done.say.apple_mail"));
  });

  it("another app: the settings card (text and page) and Copy password", async () => {
    start();
    await settle();
    await choose("other_app");
    expect([...document.querySelectorAll(".format button[id^='save-as-']")].map((b) => b.id)).toEqual([
      "save-as-settings-text",
      "save-as-settings-html",
    ]);
    expect(document.querySelector("#copy-password-other_app")).not.toBeNull();
    click("#save-settings-html");
    await settle();
    click("#next");
    expect(sentence()).toBe(t("done.say.other_app"));
  });

  it("terminal: pick the client's file, and the keychain it reads says why it is there", async () => {
    start();
    await settle();
    await choose("terminal");
    expect([...document.querySelectorAll(".format button[id^='save-as-']")].map((b) => b.id)).toEqual([
      "save-as-neomutt",
      "save-as-aerc",
      "save-as-mbsync",
      "save-as-msmtp",
      "save-as-vdirsyncer",
      "save-as-khal",
      "save-as-khard",
    ]);
    expect(document.querySelector(".save-keychain")!.textContent).toContain(en["step.save.keychain_why_terminal"]);
    expect(document.querySelectorAll(".copy-password")).toHaveLength(0);
    click("#keychain-save");
    await settle();
    expect(outcome()).toBe("Saved in your keychain.");
    expect(calls.find((c) => c.cmd === "keychain_save")!.args.replace).toBe(false);
    expect(password()).toBe("");
    click("#save-msmtp");
    await settle();
    const w = document.querySelector("#app")!;
    expect(w.textContent).toContain("Saved to /home/j/Downloads/icloud-mail-jane@icloud.com.msmtp");
    click("#next");
    expect(sentence()).toBe(t("done.say.terminal"));
    expect(document.querySelector("#summary")!.textContent).toContain("saved in your keychain");
    // The app keeps the tested password for the hand-off until the person leaves the Done step.
    expect(calls.some((c) => c.cmd === "forget_password")).toBe(false);
    click("#back");
    expect(calls.some((c) => c.cmd === "forget_password")).toBe(true);
    await settle();
    // Back on the step: the keychain says it is saved, and offers no second save.
    expect(outcome()).toBe("Saved in your keychain.");
  });

  it("terminal without the keychain: Done does not claim the client can read it", async () => {
    start();
    await settle();
    await choose("terminal");
    click("#save-neomutt");
    await settle();
    click("#next");
    expect(sentence()).toBe(t("done.say.terminal_unsaved"));
  });

  it("All files: every format the core lists under its mail app's heading and words, plus the keychain", async () => {
    start();
    await settle();
    await choose("admin");
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
      expect(g.querySelector("h4")!.textContent).toBe(en[`group.${id}.name` as keyof typeof en]);
      expect(g.querySelector("h4 + .note")!.textContent).toBe(en[`group.${id}.how` as keyof typeof en]);
    }
    const offered = [...document.querySelectorAll<HTMLButtonElement>(".format button[id^='save-as-']")].map((b) =>
      b.id.replace("save-as-", ""),
    );
    expect(offered).toEqual(ALL_FORMATS.map((f) => f.format));
    expect(document.querySelector("#keychain-save")).not.toBeNull();
    const copies = [...document.querySelectorAll(".save-files .copy-password button")].map((b) => b.id);
    expect(copies).toEqual(["copy-password-outlook", "copy-password-apple_mail", "copy-password-other_app"]);
    const row = document.querySelector("#save-neomutt")!.closest(".format")!;
    expect(row.querySelector(".format-label")!.textContent).toBe(en["format.neomutt.name"]);
    expect(row.querySelector(".format-description")!.textContent).toBe(en["format.neomutt.description"]);
    expect(document.querySelector("#save-outlook-reg")!.getAttribute("aria-label")).toBe(
      "Save Outlook registry file (.reg) (experimental)",
    );
    expect(document.querySelector("#save-as-aerc")!.getAttribute("aria-label")).toBe("Save as… aerc");
    expect(document.body.textContent).not.toContain("format.");
    expect(document.body.textContent).not.toContain("group.");
    expect(document.body.textContent).not.toContain("path.");
    expect(document.body.textContent).not.toContain("choice.");
    click("#save-thunderbird-autoconfig");
    await settle();
    click("#next");
    expect(sentence()).toBe(t("done.say.admin"));
  });

  it("skips no format: one filed under Thunderbird goes with the profiles, and into All files", async () => {
    formats = [
      { format: "thunderbird-autoconfig", group: "thunderbird", experimental: false },
      ...ALL_FORMATS.slice(1),
    ];
    start();
    await settle();
    expect(document.querySelector("#save-path #save-thunderbird-autoconfig")).not.toBeNull();
    await choose("admin");
    expect(document.querySelectorAll(".format")).toHaveLength(formats.length);
  });

  it("Thunderbird not found: says how to get a profile and offers the settings card instead", async () => {
    mockThunderbirdProfiles([]);
    start();
    await settle();
    await choose("thunderbird");
    expect(document.querySelector("#tb-profiles")!.textContent).toContain(en["step.save.thunderbird_none"]);
    expect(document.querySelector("#save-settings-text")).not.toBeNull();
    expect(document.querySelector("#copy-password-thunderbird")).not.toBeNull();
  });
});

describe("save step", () => {
  it("asks before replacing a saved password", async () => {
    keychain = "exists";
    start();
    await settle();
    await choose("terminal");
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
    await choose("terminal");
    expect(outcome()).toContain("No Secret Service was found to keep the password in.");
    expect(outcome()).toContain("gnome-keyring");
    click("#save-msmtp");
    await settle();
    expect(document.querySelector("#save-path")!.textContent).toContain(
      "Saved to /home/j/Downloads/icloud-mail-jane@icloud.com.msmtp",
    );
    expect(calls.find((c) => c.cmd === "export_profile")!.args).toEqual({
      address: "jane@icloud.com",
      login: null,
      name: null,
      format: "msmtp",
      lang: "en",
      saveAs: false,
      withDav: false,
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

  it("Save as… lets the app ask where; a closed dialog writes nothing, a chosen path is reported", async () => {
    start();
    await settle();
    await choose("terminal");
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

  it("terminal: calendars and contacts beside the mail files, and vdirsyncer's next step", async () => {
    start();
    await settle();
    await choose("terminal");
    for (const format of ["vdirsyncer", "khal", "khard"])
      expect(document.querySelector(`#save-${format}`)).not.toBeNull();
    click("#save-vdirsyncer");
    await settle();
    const row = document.querySelector("#save-vdirsyncer")!.closest(".format")!;
    const path = "/home/j/Downloads/icloud-mail-jane@icloud.com.vdirsyncer";
    expect(row.querySelector(".outcome")!.textContent).toBe(
      `Saved to ${path}` + t("step.save.vdirsyncer_next", { path }),
    );
    expect(row.querySelector(".outcome")!.textContent).toContain(`vdirsyncer -c "${path}" discover`);
  });

  it("explains a file that could not be written", async () => {
    start();
    await settle();
    await choose("outlook");
    click("#save-outlook-prf");
    await settle();
    const box = document.querySelector("#save-outlook-prf")!.closest(".format")!.querySelector(".outcome")!;
    expect(box.getAttribute("data-kind")).toBe("output_exists");
    expect(box.textContent).toContain("/home/j/Downloads/icloud-mail-jane@icloud.com.prf already exists.");
    expect(document.querySelector("#outlook-import-command")).toBeNull();
  });

  it("speaks German throughout when the page does, and writes files with words in German", async () => {
    chooseLanguage(["de-DE"]);
    start();
    await settle();
    click("#tb-add-0");
    await settle();
    const english = englishOnly();
    let shown = visibleWords();
    expect(shown).toContain(de["step.save.question"]);
    expect(shown).toContain(de["choice.admin.name"]);
    expect(shown.filter((s) => english.has(s))).toEqual([]);
    await choose("admin");
    click("#keychain-save");
    click("#save-settings-html");
    click("#save-outlook-prf");
    await settle();
    shown = visibleWords();
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
    for (const group of ["outlook", "apple_mail", "other_app", "terminal"] as const) {
      await choose(group);
      expect(visibleWords().filter((s) => english.has(s))).toEqual([]);
    }
    click("#next");
    expect(visibleWords().filter((s) => english.has(s))).toEqual([]);
    expect(document.querySelector("#summary")!.textContent).toContain(de["format.settings-html.name"]);
  });
});
