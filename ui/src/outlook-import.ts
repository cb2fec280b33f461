// "Import into Outlook": where classic Outlook is installed (registered under App Paths), a button that asks the
// app to start Outlook with the saved profile file (`outlook.exe /importprf "<path>"`, quoted by the app). The typed
// command shown beside it stays the way when Outlook is not found or cannot be started.
import { failedCall } from "./diagnosis";
import { t } from "./i18n";
import { outlookImport } from "./ipc";
import { line, problem } from "./outcome";

/** The button (`outlook-import`) and the line that says what happened (`outlook-import-status`). */
export function outlookImportControl(path: string): HTMLElement {
  const box = document.createElement("div");
  box.className = "outlook-import";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button primary";
  button.id = "outlook-import";
  button.textContent = t("step.save.outlook_import_button");
  const status = document.createElement("div");
  status.className = "outcome";
  status.id = "outlook-import-status";
  status.setAttribute("role", "status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const r = await outlookImport(path).catch((e: unknown) => ({ ok: false as const, error: failedCall(e) }));
    button.disabled = false;
    if (r.ok) {
      status.className = "outcome ok";
      delete status.dataset.kind;
      status.replaceChildren(line(t("step.save.outlook_import_started")));
    } else problem(status, r.error);
  });
  box.append(button, status);
  return box;
}
