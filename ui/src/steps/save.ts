// Save & export, as a person sees it: one question first ("Which mail app will you use?", its choices the core's
// mail-app groups, preselected from what this computer has or what was chosen last time), then one path for the
// app chosen: the one or two actions it needs (Thunderbird: add to the profile found; Outlook: the .prf and its
// import command; Apple Mail: the .mobileconfig and how to open it; another app: the settings card; a terminal
// client: its file and the keychain it reads), how the password reaches that app, and what happens when the app
// opens. "All files (for administrators)" shows every format with Save and Save as… plus the keychain.
// Files are saved to Downloads or wherever the person chooses in the native save dialog (which the app opens);
// their words come from the catalogue (`group.<id>.*`, `format.<id>.*`, `choice.<id>.*`, `path.<id>.*`), and
// files with words in them are written in the page's language.
import type { AddReport } from "../bindings/AddReport";
import type { ClientGroup } from "../bindings/ClientGroup";
import type { Diagnosis } from "../bindings/Diagnosis";
import type { ExportFormatInfo } from "../bindings/ExportFormatInfo";
import type { MailApp } from "../bindings/MailApp";
import type { ThunderbirdProfile } from "../bindings/ThunderbirdProfile";
import { copyPasswordControl } from "../copy-password";
import { describe, failedCall } from "../diagnosis";
import { language, t } from "../i18n";
import { outlookImportControl } from "../outlook-import";
import {
  exportFormats,
  exportProfile,
  keychainSave,
  keychainStatus,
  loadSettings,
  mailAppsPresent,
  saveChoice,
  thunderbirdAdd,
  thunderbirdProfiles,
} from "../ipc";
import { osFromUserAgent, type Os } from "../platform";
import { forgetPassword } from "../secret";
import { DAV_KNOWN, el, text, type Step, type StepContext, type WizardState } from "../wizard";
import { forgetPhoneCode, phonePath } from "./phone";
import { davPassed } from "./dav-panel";

/** Thunderbird's "Also add my iCloud calendars and contacts": offered only when the connection test tested them;
 * ticked (and usable) when it found calendars or an address book, else unticked and disabled with the reason; while
 * the test still looks for them, unticked and disabled with a note saying so (until they come). */
export function davChoice(dav: WizardState["dav"]): "hidden" | "looking" | "offered" | "unavailable" {
  if (dav?.looking) return "looking";
  if (!dav || (!dav.caldav && !dav.carddav)) return "hidden";
  return davPassed(dav.caldav, dav.carddav) ? "offered" : "unavailable";
}

/** The names of what the test found, for the checkbox's note ("Home, Work and card"), in the page's language. */
function davFoundNames(dav: WizardState["dav"]): string[] {
  const names: string[] = [];
  if (dav?.caldav?.diagnosis.kind === "ok") names.push(...(dav.caldav.calendars ?? []).map((c) => c.name));
  if (dav?.carddav?.diagnosis.kind === "ok") names.push(...(dav.carddav.addressbooks ?? []).map((b) => b.name));
  return names;
}

/** The formats in the order given (the core's: by group, then registry), each group once, none left out. */
export function byGroup(formats: readonly ExportFormatInfo[]): Map<ClientGroup, ExportFormatInfo[]> {
  const groups = new Map<ClientGroup, ExportFormatInfo[]>();
  for (const info of formats) {
    const list = groups.get(info.group) ?? [];
    list.push(info);
    groups.set(info.group, list);
  }
  return groups;
}

/** The name a person reads for a format, marked when it is experimental. */
export function formatLabel(info: ExportFormatInfo): string {
  const name = t(`format.${info.format}.name`);
  return info.experimental ? t("step.save.experimental", { name }) : name;
}

function button(label: string, id: string, kind = "secondary"): HTMLButtonElement {
  const b = el("button", `button ${kind}`) as HTMLButtonElement;
  b.type = "button";
  b.id = id;
  b.textContent = label;
  return b;
}

function problem(box: HTMLElement, d: Diagnosis) {
  const w = describe(d);
  box.className = "outcome problem";
  box.dataset.kind = d.kind;
  box.replaceChildren(text("p", w.message, "message"), text("p", w.hint, "hint"));
}

function success(box: HTMLElement, message: string) {
  box.className = "outcome ok";
  delete box.dataset.kind;
  box.replaceChildren(text("p", message));
}

/** Which choice to preselect: the one made last time, else the first app this computer has (Thunderbird
 * profiles, classic Outlook on Windows, Apple Mail on a Mac), else none. */
export function preselect(
  groups: readonly { group: ClientGroup; present: boolean }[],
  remembered: ClientGroup | null,
  os: Os,
): ClientGroup | null {
  if (remembered && groups.some((g) => g.group === remembered)) return remembered;
  const present = groups.filter((g) => g.present || (g.group === "apple_mail" && os === "macos"));
  return present[0]?.group ?? null;
}

function section(id: string, title: string): HTMLElement {
  const box = el("section", "path-part");
  box.setAttribute("aria-labelledby", id);
  const h = text("h3", title);
  h.id = id;
  box.append(h);
  return box;
}

/** What every part of the save step works with: the account as typed, the wizard's state, the mail apps as the core
 * describes them, and the formats by group. */
interface Parts {
  ctx: StepContext;
  address: string;
  login: string | null;
  name: string | null;
  apps: readonly MailApp[];
  formats: Map<ClientGroup, ExportFormatInfo[]>;
}

/** Records that the path of `group` did something (for what the Done step says). */
function acted(p: Parts, group: ClientGroup) {
  const list = p.ctx.state.acted ?? [];
  if (!list.includes(group)) p.ctx.state.acted = [...list, group];
}

/** Whether the core says this group's app asks for the password itself (so "Copy password" belongs beside it). */
export function asksForPassword(apps: readonly MailApp[], group: ClientGroup | undefined): boolean {
  return apps.some((a) => a.group === group && a.asks_for_password);
}

/** The keychain: save the tested password, asking before replacing an entry. */
function keychainPart(p: Parts, why: string): HTMLElement {
  const { ctx, address, login } = p;
  const keychain = el("section", "save-keychain");
  keychain.setAttribute("aria-labelledby", "keychain-title");
  const kTitle = text("h3", t("step.save.keychain_title"));
  kTitle.id = "keychain-title";
  const kOutcome = el("div", "outcome");
  kOutcome.id = "keychain-outcome";
  kOutcome.setAttribute("role", "status");
  const saveButton = button(t("step.save.keychain_save"), "keychain-save", "primary");
  const replaceButton = button(t("step.save.keychain_replace"), "keychain-replace");
  replaceButton.hidden = true;
  keychain.append(kTitle, text("p", why, "note"), saveButton, replaceButton, kOutcome);
  const doSave = async (replace: boolean) => {
    saveButton.disabled = true;
    replaceButton.disabled = true;
    const r = await keychainSave(address, login, replace).catch((e: unknown) => ({
      ok: false as const,
      error: failedCall(e),
    }));
    if (r.ok) {
      forgetPassword();
      success(kOutcome, t(r.value === "replaced" ? "step.save.keychain_replaced" : "step.save.keychain_saved"));
      if (!ctx.state.handoff?.keychain) ctx.state.done.push(t("done.keychain"));
      ctx.state.handoff = { ...ctx.state.handoff, keychain: true };
      saveButton.hidden = true;
      replaceButton.hidden = true;
    } else {
      problem(kOutcome, r.error);
      const exists = r.error.kind === "keychain_entry_exists";
      replaceButton.hidden = !exists;
      replaceButton.disabled = false;
      saveButton.hidden = exists;
      saveButton.disabled = false;
    }
  };
  saveButton.addEventListener("click", () => void doSave(false));
  replaceButton.addEventListener("click", () => void doSave(true));
  if (ctx.state.handoff?.keychain) {
    success(kOutcome, t("step.save.keychain_saved"));
    saveButton.hidden = true;
  } else
    void keychainStatus(address, login)
      .then((r) => {
        if (r.ok && r.value.exists) {
          kOutcome.className = "outcome";
          kOutcome.replaceChildren(text("p", t("step.save.keychain_exists", { username: r.value.entry.account })));
          saveButton.hidden = true;
          replaceButton.hidden = false;
        } else if (!r.ok) {
          problem(kOutcome, r.error);
        }
      })
      .catch((e: unknown) => problem(kOutcome, failedCall(e)));
  return keychain;
}

/** One row per format: its name and what it is for, Save (into Downloads) and Save as… (the dialog).
 * `saved` adds what the path says after a save (Outlook's import command). */
function formatRow(
  p: Parts,
  info: ExportFormatInfo,
  group: ClientGroup,
  saved?: (path: string, box: HTMLElement) => void,
  withDav: () => boolean = () => false,
): HTMLElement {
  const { format } = info;
  const label = formatLabel(info);
  const row = el("div", "format");
  const outcome = el("div", "outcome");
  outcome.setAttribute("role", "status");
  const saveIt = button(t("step.save.save"), `save-${format}`);
  saveIt.setAttribute("aria-label", t("step.save.save_file", { what: label }));
  const saveAs = button(t("step.save.save_as"), `save-as-${format}`);
  saveAs.setAttribute("aria-label", t("step.save.save_file_as", { what: label }));
  const write = async (asked: boolean) => {
    const r = await exportProfile(p.address, p.login, p.name, format, language(), asked, withDav()).catch(
      (e: unknown) => ({
        ok: false as const,
        error: failedCall(e),
      }),
    );
    if (!r.ok) return problem(outcome, r.error);
    if (r.value === null) return; // the person closed the save dialog: nothing was written
    success(outcome, t("step.save.saved_to", { path: r.value }));
    // The app has made the mail folder the mbsync file names: one command is left.
    if (format === "mbsync") outcome.append(text("p", t("step.save.mbsync_next", { path: r.value })));
    // vdirsyncer's file is where it reads it: what is left is fetching the calendars and contacts.
    if (format === "vdirsyncer") outcome.append(text("p", t("step.save.vdirsyncer_next", { path: r.value })));
    saved?.(r.value, outcome);
    p.ctx.state.done.push(t("done.file", { what: label, path: r.value }));
    acted(p, group);
  };
  saveIt.addEventListener("click", () => void write(false));
  saveAs.addEventListener("click", () => void write(true));
  const what = el("div", "format-what");
  what.append(
    text("p", label, "format-label"),
    text("p", t(`format.${format}.description`), "note format-description"),
  );
  row.append(what, saveIt, saveAs, outcome);
  return row;
}

/** The rows of every format of `group`, each acting for `actingFor`. */
function formatRows(p: Parts, group: ClientGroup, actingFor: ClientGroup = group): HTMLElement[] {
  return (p.formats.get(group) ?? []).map((f) => formatRow(p, f, actingFor));
}

/** Outlook's import command for the file saved, ready to copy; where classic Outlook is registered with Windows
 * (App Paths), "Import into Outlook" first, the typed command staying as the fallback. */
function importCommand(outlookFound: boolean, path: string, box: HTMLElement) {
  const code = text("code", `outlook.exe /importprf "${path}"`);
  code.id = "outlook-import-command";
  const p = text("p", t("step.save.outlook_import"));
  const pre = el("pre", "command");
  pre.append(code);
  if (outlookFound) box.append(outlookImportControl(path));
  box.append(p, pre);
}

/** What "Add to Thunderbird" reports: the account added or already there, the password stored or not and why,
 * and what in the profile deserves a look. */
function showAdded(p: Parts, outcome: HTMLElement, profile: ThunderbirdProfile, i: number, report: AddReport) {
  const added = report.outcome === "added";
  const key = report.password_stored
    ? added
      ? "step.save.thunderbird_added"
      : "step.save.thunderbird_present_stored"
    : added
      ? "step.save.thunderbird_added_asks"
      : "step.save.thunderbird_present";
  success(outcome, t(key, { name: profile.name }));
  const doneKey = report.password_stored ? "done.thunderbird_with_password" : "done.thunderbird";
  p.ctx.state.done.push(t(doneKey, { name: profile.name }));
  p.ctx.state.handoff = { ...p.ctx.state.handoff, thunderbird: report.password_stored ? "stored" : "asks" };
  acted(p, "thunderbird");
  // Added, but something in the profile deserves a look (user.js sets account prefs): say what and why.
  if (added) {
    for (const warning of report.warnings) {
      const w = describe(warning);
      outcome.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
    }
  }
  // Calendars and address books: each one added, or already there (a second add changes nothing).
  const dav = report.dav;
  const lines = [
    ...(dav?.calendars ?? []).map((c) =>
      t(c.added ? "step.save.dav_calendar_added" : "step.save.dav_calendar_present", { name: c.name }),
    ),
    ...(dav?.addressbooks ?? []).map((b) =>
      t(b.added ? "step.save.dav_addressbook_added" : "step.save.dav_addressbook_present", { name: b.name }),
    ),
  ];
  if (lines.length > 0) {
    const list = el("ul", "dav-added");
    list.id = `tb-dav-added-${i}`;
    list.append(...lines.map((l) => text("li", l)));
    outcome.append(list);
    // Done speaks of calendars and contacts added, not of ones that were there already.
    const said = t("done.thunderbird_dav", { name: profile.name });
    const anyAdded = [...(dav?.calendars ?? []), ...(dav?.addressbooks ?? [])].some((item) => item.added);
    if (anyAdded && !p.ctx.state.done.includes(said)) p.ctx.state.done.push(said);
  }
  // The password could not be stored: say why, and offer it for pasting where Thunderbird asks.
  if (report.password_reason) {
    const w = describe(report.password_reason);
    outcome.dataset.kind = report.password_reason.kind;
    outcome.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
  }
  if (!report.password_stored) outcome.append(copyPasswordControl(`copy-password-tb-${i}`, p.address, p.login));
}

/** One Thunderbird profile and its "Add to Thunderbird", disabled while the app adds the account; `withDav` reads
 * the path's "Also add my iCloud calendars and contacts" at the click. */
function thunderbirdProfileRow(p: Parts, profile: ThunderbirdProfile, i: number, withDav: () => boolean): HTMLElement {
  const row = el("div", "tb-profile");
  const outcome = el("div", "outcome");
  outcome.setAttribute("role", "status");
  const add = button(t("step.save.thunderbird_add", { name: profile.name }), `tb-add-${i}`, "primary");
  add.addEventListener("click", () => {
    add.disabled = true;
    void thunderbirdAdd(p.address, p.login, p.name, profile.path, withDav())
      .then((a) => (a.ok ? showAdded(p, outcome, profile, i, a.value) : problem(outcome, a.error)))
      .catch((e: unknown) => problem(outcome, failedCall(e)))
      .finally(() => (add.disabled = false));
  });
  row.append(
    text("p", profile.is_default ? t("step.save.thunderbird_default", { name: profile.name }) : profile.name),
    add,
    outcome,
  );
  return row;
}

/** "Also add my iCloud calendars and contacts": the box, its label, and a note with what the test found or why
 * nothing can be added. Hidden when the test did not look for calendars and contacts. While it still looks, the box
 * waits (disabled, saying so) and is set once they come (`DAV_KNOWN`). */
function davCheckbox(p: Parts): { box: HTMLElement; checked: () => boolean } {
  const box = el("div", "tb-dav");
  box.id = "tb-dav";
  const input = el("input") as HTMLInputElement;
  input.type = "checkbox";
  input.id = "tb-with-dav";
  input.setAttribute("aria-describedby", "tb-with-dav-note");
  const label = text("label", t("step.save.thunderbird_with_dav"));
  label.setAttribute("for", input.id);
  const note = el("p", "note");
  note.id = "tb-with-dav-note";
  // The note changes when calendars and contacts come while the box is on screen: say so.
  note.setAttribute("aria-live", "polite");
  const words = el("div");
  words.append(label, note);
  box.append(input, words);
  let choice = davChoice(p.ctx.state.dav);
  const show = () => {
    choice = davChoice(p.ctx.state.dav);
    box.hidden = choice === "hidden";
    input.checked = choice === "offered";
    input.disabled = choice !== "offered";
    box.dataset.choice = choice;
    note.textContent =
      choice === "offered"
        ? t("step.save.thunderbird_with_dav_note", {
            what: new Intl.ListFormat(language(), { type: "conjunction" }).format(davFoundNames(p.ctx.state.dav)),
          })
        : choice === "looking"
          ? t("step.save.thunderbird_dav_looking")
          : t("step.save.thunderbird_dav_unavailable");
  };
  show();
  if (choice === "looking") document.addEventListener(DAV_KNOWN, show, { once: true });
  return { box, checked: () => choice === "offered" && input.checked };
}

/** Thunderbird: "Add to Thunderbird" for each profile found (with, where the test found them, the box for calendars
 * and contacts); none found: the settings card instead. */
function thunderbirdPart(p: Parts, setup: HTMLElement, password: HTMLElement) {
  const tbList = el("div", "tb-profiles");
  tbList.id = "tb-profiles";
  const dav = davCheckbox(p);
  setup.append(tbList, ...formatRows(p, "thunderbird"));
  void thunderbirdProfiles()
    .then((r) => {
      if (!r.ok) return problem(tbList, r.error);
      if (r.value.length === 0) {
        tbList.append(text("p", t("step.save.thunderbird_none"), "note"));
        tbList.append(...formatRows(p, "other_app", "thunderbird"));
        password.append(copyPasswordControl("copy-password-thunderbird", p.address, p.login));
        return;
      }
      tbList.append(dav.box, ...r.value.map((profile, i) => thunderbirdProfileRow(p, profile, i, dav.checked)));
    })
    .catch((e: unknown) => problem(tbList, failedCall(e)));
}

/** Every format by mail app, as administrators want it (and as the save step was before the question). */
function allFiles(p: Parts): HTMLElement {
  const files = el("div", "save-files");
  files.append(text("p", t("step.save.files_where"), "note"));
  for (const [group, infos] of p.formats) {
    const box = el("div", "client");
    box.id = `group-${group}`;
    const heading = text("h4", t(`group.${group}.name`));
    heading.id = `group-${group}-title`;
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", heading.id);
    box.append(heading, text("p", t(`group.${group}.how`), "note"), ...infos.map((f) => formatRow(p, f, "admin")));
    // These mail apps ask for the password once: offer it for pasting there.
    if (asksForPassword(p.apps, group)) box.append(copyPasswordControl(`copy-password-${group}`, p.address, p.login));
    files.append(box);
  }
  return files;
}

/** The one path for the app chosen: its title, what to set up, how the password gets there, what happens then. */
function pathParts(p: Parts, group: ClientGroup): HTMLElement[] {
  const title = text("h2", t(`choice.${group}.name`));
  title.id = "path-title";
  const setup = section("path-setup-title", t(`path.${group}.setup_title`));
  setup.append(text("p", t(`path.${group}.setup`), "note"));
  const password = section("path-password-title", t("step.save.path_password"));
  password.append(text("p", t(`path.${group}.password`), "note"));
  const then = section("path-then-title", t(`path.${group}.then_title`));
  then.append(text("p", t(`path.${group}.then`)));
  switch (group) {
    case "thunderbird":
      thunderbirdPart(p, setup, password);
      break;
    case "outlook": {
      const found = p.apps.some((a) => a.group === "outlook" && a.present);
      setup.append(
        ...(p.formats.get("outlook") ?? []).map((f) =>
          formatRow(p, f, group, (path, box) => importCommand(found, path, box)),
        ),
      );
      break;
    }
    case "apple_mail": {
      // Calendars and contacts too, only when asked: a device signed in to this Apple Account has them already.
      const dav = el("div", "dav-choice-box");
      const box = el("input") as HTMLInputElement;
      box.type = "checkbox";
      box.id = "mobileconfig-with-dav";
      box.setAttribute("aria-describedby", "mobileconfig-with-dav-note");
      const label = text("label", t("step.save.mobileconfig_with_dav"));
      label.setAttribute("for", box.id);
      const note = text("p", t("step.save.mobileconfig_with_dav_note"), "note");
      note.id = "mobileconfig-with-dav-note";
      const choice = el("div", "dav-choice");
      choice.append(box, label);
      dav.append(choice, note);
      setup.append(
        ...(p.formats.get(group) ?? []).map((f) => formatRow(p, f, group, undefined, () => box.checked)),
        dav,
      );
      const how = el("ul", "how");
      how.append(text("li", t("path.apple_mail.on_mac")), text("li", t("path.apple_mail.on_iphone")));
      setup.append(how);
      break;
    }
    case "android_phone": {
      const saveRows = formatRows(p, group);
      const { address, login, name, ctx } = p;
      phonePath({ address, login, name, state: ctx.state, setup, password, saveRows, acted: () => acted(p, group) });
      break;
    }
    case "other_app":
      setup.append(...formatRows(p, group));
      break;
    case "terminal":
      setup.append(...formatRows(p, group));
      password.append(keychainPart(p, t("step.save.keychain_why_terminal")));
      break;
    case "admin":
      setup.append(allFiles(p));
      password.append(keychainPart(p, t("step.save.keychain_why")));
      break;
  }
  // The apps that ask for the password themselves: offer it for pasting there.
  if (asksForPassword(p.apps, group))
    password.append(copyPasswordControl(`copy-password-${group}`, p.address, p.login));
  return [title, setup, password, then];
}

/** The question: one radio card per mail app, `chosen` checked; `onChoose` when the person picks another. */
function questionCards(
  apps: readonly MailApp[],
  chosen: ClientGroup | null,
  onChoose: (group: ClientGroup, card: HTMLElement, cards: HTMLElement[]) => void,
): HTMLElement[] {
  const cards: HTMLElement[] = [];
  for (const { group } of apps) {
    const card = el("div", "choice");
    const input = el("input") as HTMLInputElement;
    input.type = "radio";
    input.name = "mail-app";
    input.id = `app-${group}`;
    input.value = group;
    input.checked = group === chosen;
    input.setAttribute("aria-describedby", `app-${group}-note`);
    const label = el("label");
    label.setAttribute("for", input.id);
    label.append(text("span", t(`choice.${group}.name`), "choice-name"));
    const note = text("span", t(`choice.${group}.note`), "choice-note");
    note.id = `app-${group}-note`;
    label.append(note);
    card.append(input, label);
    card.classList.toggle("chosen", input.checked);
    input.addEventListener("change", () => {
      if (input.checked) onChoose(group, card, cards);
    });
    cards.push(card);
  }
  return cards;
}

export function saveStep(): Step {
  let chosen: ClientGroup | null = null;
  return {
    id: "save",
    render(ctx: StepContext) {
      const address = ctx.state.address!.address;
      const login = ctx.state.login ?? null;
      const name = ctx.state.name?.trim() ? ctx.state.name.trim() : null;
      const body = el("div", "save-step");

      // The one path for the app chosen.
      const path = el("section", "save-path");
      path.id = "save-path";
      path.setAttribute("aria-labelledby", "path-title");
      const showPath = (p: Parts, group: ClientGroup | null) => {
        path.dataset.group = group ?? "";
        path.replaceChildren(...(group ? pathParts(p, group) : [text("p", t("step.save.choose_first"), "note")]));
      };

      // The question.
      const question = el("fieldset", "mail-app-question");
      question.id = "mail-app";
      const legend = text("legend", t("step.save.question"));
      legend.id = "mail-app-legend";
      const choices = el("div", "choices");
      question.append(legend, choices);
      const loading = el("div", "outcome");
      loading.setAttribute("role", "status");
      body.append(question, path, loading);

      void Promise.all([mailAppsPresent(), loadSettings(), exportFormats()])
        .then(([apps, settings, list]) => {
          // Without the core's list of apps (it could not be read), the groups of the formats, none said to ask.
          const mailApps: MailApp[] = apps.ok
            ? apps.value
            : [...new Set(list.map((f) => f.group))].map((group) => ({
                group,
                present: false,
                asks_for_password: false,
              }));
          if (!apps.ok) problem(loading, apps.error);
          ctx.state.mailApps = mailApps;
          const p: Parts = { ctx, address, login, name, apps: mailApps, formats: byGroup(list) };
          if (chosen === null || !mailApps.some((g) => g.group === chosen)) {
            const remembered = settings.ok ? (settings.value.mail_app ?? null) : null;
            chosen = ctx.state.mailApp ?? preselect(mailApps, remembered, osFromUserAgent(navigator.userAgent));
          }
          ctx.state.mailApp = chosen ?? undefined;
          choices.replaceChildren(
            ...questionCards(mailApps, chosen, (group, card, cards) => {
              chosen = group;
              ctx.state.mailApp = group;
              for (const c of cards) c.classList.toggle("chosen", c === card);
              showPath(p, group);
              void saveChoice(group).catch(() => undefined); // only a preselection for next time
            }),
          );
          showPath(p, chosen);
        })
        .catch((e: unknown) => problem(loading, failedCall(e)));
      return body;
    },
    canProceed: () => true,
    leave() {
      // The choice the person went on with is the one to offer next time.
      if (chosen) void saveChoice(chosen).catch(() => undefined);
      forgetPhoneCode();
    },
  };
}
