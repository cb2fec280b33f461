// Save & export: the password into the keychain (asking before replacing an entry; a missing keychain is explained
// and does not block), then the mail app: Thunderbird profiles found on this computer, and a file for every other
// client, saved to Downloads or wherever the person chooses in the native save dialog.
import { save as saveDialog } from "@tauri-apps/plugin-dialog";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { Diagnosis } from "../bindings/Diagnosis";
import { describe } from "../diagnosis";
import { t } from "../i18n";
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

/** The formats offered, grouped by client, in the order people look for them. */
const CLIENTS: { id: string; formats: ExportFormat[] }[] = [
  { id: "outlook", formats: ["outlook-prf", "outlook-autodiscover", "outlook-reg"] },
  { id: "apple", formats: ["apple-mobileconfig"] },
  { id: "terminal", formats: ["neomutt", "aerc", "mbsync", "msmtp"] },
  { id: "thunderbird_file", formats: ["thunderbird-autoconfig"] },
  { id: "card", formats: ["settings-html", "settings-text"] },
];

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

      // Thunderbird.
      const tb = el("section", "save-thunderbird");
      tb.setAttribute("aria-labelledby", "tb-title");
      const tbTitle = text("h2", t("step.save.thunderbird_title"));
      tbTitle.id = "tb-title";
      const tbList = el("div", "tb-profiles");
      tbList.id = "tb-profiles";
      tb.append(tbTitle, tbList);
      void thunderbirdProfiles().then((r) => {
        if (!r.ok) return problem(tbList, r.error);
        if (r.value.length === 0) return tbList.replaceChildren(text("p", t("step.save.thunderbird_none"), "note"));
        for (const [i, profile] of r.value.entries()) {
          const row = el("div", "tb-profile");
          const outcome = el("div", "outcome");
          outcome.setAttribute("role", "status");
          const add = button(t("step.save.thunderbird_add", { name: profile.name }), `tb-add-${i}`);
          add.addEventListener("click", async () => {
            const a = await thunderbirdAdd(address, login, null, profile.path);
            if (a.ok) {
              success(
                outcome,
                t(a.value.outcome === "added" ? "step.save.thunderbird_added" : "step.save.thunderbird_present", {
                  name: profile.name,
                }),
              );
              ctx.state.done.push(t("done.thunderbird", { name: profile.name }));
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

      // Files for every other client.
      const files = el("section", "save-files");
      files.setAttribute("aria-labelledby", "files-title");
      const fTitle = text("h2", t("step.save.files_title"));
      fTitle.id = "files-title";
      files.append(fTitle, text("p", t("step.save.files_where"), "note"));
      void exportFormats().then((formats) => {
        for (const client of CLIENTS) {
          const group = el("div", "client");
          group.append(
            text("h3", t(`step.save.client_${client.id}`)),
            text("p", t(`step.save.client_${client.id}_how`), "note"),
          );
          for (const format of client.formats) {
            const info = formats.find((f) => f.format === format);
            if (!info) continue;
            const row = el("div", "format");
            const outcome = el("div", "outcome");
            outcome.setAttribute("role", "status");
            const label = info.experimental ? `${info.description} (${t("step.save.experimental")})` : info.description;
            const saveIt = button(t("step.save.save"), `save-${format}`);
            saveIt.setAttribute("aria-label", t("step.save.save_file", { what: label }));
            const saveAs = button(t("step.save.save_as"), `save-as-${format}`);
            saveAs.setAttribute("aria-label", `${t("step.save.save_as")} ${label}`);
            const write = async (path: string | null) => {
              const r = await exportProfile(address, login, null, format, path);
              if (r.ok) {
                success(outcome, t("step.save.saved_to", { path: r.value }));
                ctx.state.done.push(t("done.file", { what: label, path: r.value }));
              } else problem(outcome, r.error);
            };
            saveIt.addEventListener("click", () => void write(null));
            saveAs.addEventListener("click", async () => {
              const path = await saveDialog({ title: label });
              if (path) await write(path);
            });
            row.append(text("p", label, "format-label"), saveIt, saveAs, outcome);
            group.append(row);
          }
          files.append(group);
        }
      });

      body.append(keychain, tb, files);
      return body;
    },
    canProceed: () => true,
  };
}
