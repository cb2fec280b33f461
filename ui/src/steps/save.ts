// Save & export: the password into the keychain (asking before replacing an entry; a missing keychain is explained
// and does not block), then the mail app: Thunderbird profiles found on this computer, and a file for every other
// client, saved to Downloads or wherever the person chooses in the native save dialog (which the app opens).
// Which formats there are and which mail app each is for comes from the core (`export_formats`); their words come
// from the catalogue (`group.<id>.*`, `format.<id>.*`), and files with words in them are written in the page's
// language.
import type { ClientGroup } from "../bindings/ClientGroup";
import type { Diagnosis } from "../bindings/Diagnosis";
import type { ExportFormatInfo } from "../bindings/ExportFormatInfo";
import { copyPasswordControl } from "../copy-password";
import { describe } from "../diagnosis";
import { language, t } from "../i18n";
import {
  exportFormats,
  exportProfile,
  keychainSave,
  keychainStatus,
  thunderbirdAdd,
  thunderbirdProfiles,
} from "../ipc";
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

export function saveStep(): Step {
  return {
    id: "save",
    render(ctx: StepContext) {
      const address = ctx.state.address!.address;
      const login = ctx.state.login ?? null;
      const name = ctx.state.name?.trim() ? ctx.state.name.trim() : null;
      const body = el("div", "save-step");

      // The keychain.
      const keychain = el("section", "save-keychain");
      keychain.setAttribute("aria-labelledby", "keychain-title");
      const kTitle = text("h2", t("step.save.keychain_title"));
      kTitle.id = "keychain-title";
      const kOutcome = el("div", "outcome");
      kOutcome.id = "keychain-outcome";
      kOutcome.setAttribute("role", "status");
      const saveButton = button(t("step.save.keychain_save"), "keychain-save", "primary");
      const replaceButton = button(t("step.save.keychain_replace"), "keychain-replace");
      replaceButton.hidden = true;
      keychain.append(kTitle, text("p", t("step.save.keychain_why"), "note"), saveButton, replaceButton, kOutcome);
      const doSave = async (replace: boolean) => {
        saveButton.disabled = true;
        replaceButton.disabled = true;
        const r = await keychainSave(address, login, replace);
        if (r.ok) {
          forgetPassword();
          success(kOutcome, t(r.value === "replaced" ? "step.save.keychain_replaced" : "step.save.keychain_saved"));
          ctx.state.done.push(t("done.keychain"));
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

      /** One row per format: its name and what it is for, Save (into Downloads) and Save as… (the dialog). */
      const formatRow = (info: ExportFormatInfo): HTMLElement => {
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
          ctx.state.done.push(t("done.file", { what: label, path: r.value }));
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

      // Thunderbird.
      const tb = el("section", "save-thunderbird");
      tb.setAttribute("aria-labelledby", "tb-title");
      const tbTitle = text("h2", t("group.thunderbird.name"));
      tbTitle.id = "tb-title";
      const tbList = el("div", "tb-profiles");
      tbList.id = "tb-profiles";
      const tbFiles = el("div", "client");
      tb.append(tbTitle, text("p", t("group.thunderbird.how"), "note"), tbList, tbFiles);
      void thunderbirdProfiles().then((r) => {
        if (!r.ok) return problem(tbList, r.error);
        if (r.value.length === 0) return tbList.replaceChildren(text("p", t("step.save.thunderbird_none"), "note"));
        for (const [i, profile] of r.value.entries()) {
          const row = el("div", "tb-profile");
          const outcome = el("div", "outcome");
          outcome.setAttribute("role", "status");
          const add = button(t("step.save.thunderbird_add", { name: profile.name }), `tb-add-${i}`);
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
              if (!report.password_stored) outcome.append(copyPasswordControl(`copy-password-tb-${i}`, address, login));
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

      // Files for every other mail app, one group per app, in the core's order. A format the core files under
      // Thunderbird goes with the profiles above.
      const files = el("section", "save-files");
      files.setAttribute("aria-labelledby", "files-title");
      const fTitle = text("h2", t("step.save.files_title"));
      fTitle.id = "files-title";
      files.append(fTitle, text("p", t("step.save.files_where"), "note"));
      void exportFormats().then((formats) => {
        for (const [group, infos] of byGroup(formats)) {
          if (group === "thunderbird") {
            tbFiles.append(...infos.map(formatRow));
            continue;
          }
          const box = el("div", "client");
          box.id = `group-${group}`;
          const heading = text("h3", t(`group.${group}.name`));
          heading.id = `group-${group}-title`;
          box.setAttribute("role", "group");
          box.setAttribute("aria-labelledby", heading.id);
          box.append(heading, text("p", t(`group.${group}.how`), "note"), ...infos.map(formatRow));
          // These mail apps ask for the password once: offer it for pasting there.
          if (ASKS_FOR_PASSWORD.includes(group))
            box.append(copyPasswordControl(`copy-password-${group}`, address, login));
          files.append(box);
        }
      });

      body.append(keychain, tb, files);
      return body;
    },
    canProceed: () => true,
  };
}
