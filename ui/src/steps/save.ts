// Save & export, as a person sees it: one question first ("Which mail app will you use?", its choices the core's
// mail-app groups, preselected from what this computer has or what was chosen last time), then one path for the
// app chosen: the one or two actions it needs (Thunderbird: add to the profile found; Outlook: the .prf and its
// import command; Apple Mail: the .mobileconfig and how to open it; another app: the settings card; a terminal
// client: its file and the keychain it reads), how the password reaches that app, and what happens when the app
// opens. "All files (for administrators)" shows every format with Save and Save as… plus the keychain.
// Files are saved to Downloads or wherever the person chooses in the native save dialog (which the app opens);
// their words come from the catalogue (`group.<id>.*`, `format.<id>.*`, `choice.<id>.*`, `path.<id>.*`), and
// files with words in them are written in the page's language.
import type { ClientGroup } from "../bindings/ClientGroup";
import type { Diagnosis } from "../bindings/Diagnosis";
import type { ExportFormatInfo } from "../bindings/ExportFormatInfo";
import { copyPasswordControl } from "../copy-password";
import { describe } from "../diagnosis";
import { outlookImportControl } from "../outlook-import";
import { language, t } from "../i18n";
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
import { el, text, type Step, type StepContext } from "../wizard";

/** The mail-app groups whose app asks for the password itself (no keychain command, no profile to store it in). */
const ASKS_FOR_PASSWORD: readonly ClientGroup[] = ["outlook", "apple_mail", "other_app"];

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

export function saveStep(): Step {
  let chosen: ClientGroup | null = null;
  /** Classic Outlook is registered with Windows (App Paths): its path offers "Import into Outlook". */
  let outlookFound = false;
  return {
    id: "save",
    render(ctx: StepContext) {
      const address = ctx.state.address!.address;
      const login = ctx.state.login ?? null;
      const name = ctx.state.name?.trim() ? ctx.state.name.trim() : null;
      const body = el("div", "save-step");
      const acted = (group: ClientGroup) => {
        const list = ctx.state.acted ?? [];
        if (!list.includes(group)) ctx.state.acted = [...list, group];
      };

      /** The keychain: save the tested password, asking before replacing an entry. */
      const keychainPart = (why: string): HTMLElement => {
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
          const r = await keychainSave(address, login, replace);
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
          void keychainStatus(address, login).then((r) => {
            if (r.ok && r.value.exists) {
              kOutcome.className = "outcome";
              kOutcome.replaceChildren(text("p", t("step.save.keychain_exists", { username: r.value.entry.account })));
              saveButton.hidden = true;
              replaceButton.hidden = false;
            } else if (!r.ok) {
              problem(kOutcome, r.error);
            }
          });
        return keychain;
      };

      /** One row per format: its name and what it is for, Save (into Downloads) and Save as… (the dialog).
       * `saved` adds what the path says after a save (Outlook's import command). */
      const formatRow = (
        info: ExportFormatInfo,
        group: ClientGroup,
        saved?: (path: string, box: HTMLElement) => void,
      ): HTMLElement => {
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
          const r = await exportProfile(address, login, name, format, language(), asked);
          if (!r.ok) return problem(outcome, r.error);
          if (r.value === null) return; // the person closed the save dialog: nothing was written
          success(outcome, t("step.save.saved_to", { path: r.value }));
          // The app has made the mail folder the mbsync file names: one command is left.
          if (format === "mbsync") outcome.append(text("p", t("step.save.mbsync_next", { path: r.value })));
          saved?.(r.value, outcome);
          ctx.state.done.push(t("done.file", { what: label, path: r.value }));
          acted(group);
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
      };

      /** Outlook's import command for the file saved, ready to copy. */
      const importCommand = (path: string, box: HTMLElement) => {
        const code = text("code", `outlook.exe /importprf "${path}"`);
        code.id = "outlook-import-command";
        const p = text("p", t("step.save.outlook_import"));
        const pre = el("pre", "command");
        pre.append(code);
        // Classic Outlook found (App Paths): one click; the typed command stays below as the fallback.
        if (outlookFound) box.append(outlookImportControl(path));
        box.append(p, pre);
      };

      /** Thunderbird: "Add to Thunderbird" for each profile found; none found: the settings card instead. */
      const thunderbirdPart = (
        formats: Map<ClientGroup, ExportFormatInfo[]>,
        setup: HTMLElement,
        password: HTMLElement,
      ) => {
        const tbList = el("div", "tb-profiles");
        tbList.id = "tb-profiles";
        setup.append(tbList, ...(formats.get("thunderbird") ?? []).map((f) => formatRow(f, "thunderbird")));
        void thunderbirdProfiles().then((r) => {
          if (!r.ok) return problem(tbList, r.error);
          if (r.value.length === 0) {
            tbList.append(text("p", t("step.save.thunderbird_none"), "note"));
            tbList.append(...(formats.get("other_app") ?? []).map((f) => formatRow(f, "thunderbird")));
            password.append(copyPasswordControl("copy-password-thunderbird", address, login));
            return;
          }
          for (const [i, profile] of r.value.entries()) {
            const row = el("div", "tb-profile");
            const outcome = el("div", "outcome");
            outcome.setAttribute("role", "status");
            const add = button(t("step.save.thunderbird_add", { name: profile.name }), `tb-add-${i}`, "primary");
            add.addEventListener("click", async () => {
              const a = await thunderbirdAdd(address, login, name, profile.path);
              if (a.ok) {
                const report = a.value;
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
                ctx.state.done.push(t(doneKey, { name: profile.name }));
                ctx.state.handoff = { ...ctx.state.handoff, thunderbird: report.password_stored ? "stored" : "asks" };
                acted("thunderbird");
                // Added, but something in the profile deserves a look (user.js sets account prefs): say what and why.
                if (report.outcome === "added") {
                  for (const warning of report.warnings) {
                    const w = describe(warning);
                    outcome.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
                  }
                }
                // The password could not be stored: say why, and offer it for pasting where Thunderbird asks.
                if (report.password_reason) {
                  const w = describe(report.password_reason);
                  outcome.dataset.kind = report.password_reason.kind;
                  outcome.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
                }
                if (!report.password_stored)
                  outcome.append(copyPasswordControl(`copy-password-tb-${i}`, address, login));
              } else problem(outcome, a.error);
            });
            row.append(
              text("p", profile.is_default ? t("step.save.thunderbird_default", { name: profile.name }) : profile.name),
              add,
              outcome,
            );
            tbList.append(row);
          }
        });
      };

      /** Every format by mail app, as administrators want it (and as the save step was before the question). */
      const allFiles = (formats: Map<ClientGroup, ExportFormatInfo[]>): HTMLElement => {
        const files = el("div", "save-files");
        files.append(text("p", t("step.save.files_where"), "note"));
        for (const [group, infos] of formats) {
          const box = el("div", "client");
          box.id = `group-${group}`;
          const heading = text("h4", t(`group.${group}.name`));
          heading.id = `group-${group}-title`;
          box.setAttribute("role", "group");
          box.setAttribute("aria-labelledby", heading.id);
          box.append(heading, text("p", t(`group.${group}.how`), "note"), ...infos.map((f) => formatRow(f, "admin")));
          // These mail apps ask for the password once: offer it for pasting there.
          if (ASKS_FOR_PASSWORD.includes(group))
            box.append(copyPasswordControl(`copy-password-${group}`, address, login));
          files.append(box);
        }
        return files;
      };

      // The one path for the app chosen.
      const path = el("section", "save-path");
      path.id = "save-path";
      path.setAttribute("aria-labelledby", "path-title");
      const showPath = (group: ClientGroup | null, formats: Map<ClientGroup, ExportFormatInfo[]>) => {
        path.dataset.group = group ?? "";
        if (!group) {
          path.replaceChildren(text("p", t("step.save.choose_first"), "note"));
          return;
        }
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
            thunderbirdPart(formats, setup, password);
            break;
          case "outlook":
            setup.append(...(formats.get("outlook") ?? []).map((f) => formatRow(f, group, importCommand)));
            password.append(copyPasswordControl("copy-password-outlook", address, login));
            break;
          case "apple_mail": {
            setup.append(...(formats.get("apple_mail") ?? []).map((f) => formatRow(f, group)));
            const how = el("ul", "how");
            how.append(text("li", t("path.apple_mail.on_mac")), text("li", t("path.apple_mail.on_iphone")));
            setup.append(how);
            password.append(copyPasswordControl("copy-password-apple_mail", address, login));
            break;
          }
          case "other_app":
            setup.append(...(formats.get("other_app") ?? []).map((f) => formatRow(f, group)));
            password.append(copyPasswordControl("copy-password-other_app", address, login));
            break;
          case "terminal":
            setup.append(...(formats.get("terminal") ?? []).map((f) => formatRow(f, group)));
            password.append(keychainPart(t("step.save.keychain_why_terminal")));
            break;
          case "admin":
            setup.append(allFiles(formats));
            password.append(keychainPart(t("step.save.keychain_why")));
            break;
        }
        path.replaceChildren(title, setup, password, then);
      };

      // The question.
      const question = el("fieldset", "mail-app-question");
      question.id = "mail-app";
      const legend = text("legend", t("step.save.question"));
      legend.id = "mail-app-legend";
      const choices = el("div", "choices");
      question.append(legend, choices);
      body.append(question, path);

      void Promise.all([mailAppsPresent(), loadSettings(), exportFormats()]).then(([apps, settings, list]) => {
        const formats = byGroup(list);
        outlookFound = apps.ok && apps.value.some((a) => a.group === "outlook" && a.present);
        const groups = apps.ok
          ? apps.value
          : [...new Set(list.map((f) => f.group))].map((group) => ({ group, present: false }));
        if (chosen === null || !groups.some((g) => g.group === chosen)) {
          const remembered = settings.ok ? (settings.value.mail_app ?? null) : null;
          chosen = ctx.state.mailApp ?? preselect(groups, remembered, osFromUserAgent(navigator.userAgent));
        }
        ctx.state.mailApp = chosen ?? undefined;
        const cards: HTMLElement[] = [];
        for (const { group } of groups) {
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
            if (!input.checked) return;
            chosen = group;
            ctx.state.mailApp = group;
            for (const c of cards) c.classList.toggle("chosen", c === card);
            showPath(group, formats);
            void saveChoice(group);
          });
          cards.push(card);
        }
        choices.replaceChildren(...cards);
        showPath(chosen, formats);
      });
      return body;
    },
    canProceed: () => true,
    leave() {
      // The choice the person went on with is the one to offer next time.
      if (chosen) void saveChoice(chosen);
    },
  };
}
