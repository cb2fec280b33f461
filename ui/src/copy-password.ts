// "Copy password": a button that asks the app to put the password on the clipboard (the tested one it still holds,
// else the one saved in the keychain) and to empty the clipboard again after a minute. The page never receives the
// password; it only says what happened. Offered wherever a mail app will ask for the password.
import { failedCall } from "./diagnosis";
import { t } from "./i18n";
import { copyPassword } from "./ipc";
import { line, problem } from "./outcome";

/** The button (`id`) and the line that says what it did (`<id>-status`). */
export function copyPasswordControl(id: string, address: string, login: string | null): HTMLElement {
  const box = document.createElement("div");
  box.className = "copy-password";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary";
  button.id = id;
  button.textContent = t("copy.button");
  button.setAttribute("aria-label", t("copy.label"));
  const status = document.createElement("div");
  status.className = "outcome";
  status.id = `${id}-status`;
  status.setAttribute("role", "status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const r = await copyPassword(address, login).catch((e: unknown) => ({ ok: false as const, error: failedCall(e) }));
    button.disabled = false;
    if (r.ok) {
      status.className = "outcome ok";
      delete status.dataset.kind;
      status.replaceChildren(line(t("copy.copied", { seconds: r.value })));
    } else problem(status, r.error);
  });
  box.append(button, status);
  return box;
}
