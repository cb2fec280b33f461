// App-specific password: why iCloud needs one, exactly where to make it, a button that opens Apple's page in the
// default browser, and a field with show/hide and a soft format check (it warns, it never blocks).
import { openUrl } from "@tauri-apps/plugin-opener";
import { t } from "../i18n";
import { hasPassword, looksAppSpecific, password, setPassword } from "../secret";
import { el, text, type Step, type StepContext } from "../wizard";

export const APPLE_ACCOUNT_URL = "https://account.apple.com/account/manage";

export function passwordStep(): Step {
  return {
    id: "password",
    render(ctx: StepContext) {
      const body = el("div", "password-step");
      body.append(text("p", t("step.password.why")));
      const how = el("ol", "howto");
      for (const key of ["one", "two", "three", "four"]) how.append(text("li", t(`step.password.how_${key}`)));
      const open = el("button", "button secondary") as HTMLButtonElement;
      open.type = "button";
      open.id = "open-apple";
      open.textContent = t("step.password.open");
      open.addEventListener("click", () => {
        void openUrl(APPLE_ACCOUNT_URL);
      });
      body.append(text("h2", t("step.password.how_title")), how, open);

      const label = text("label", t("step.password.label"));
      label.setAttribute("for", "password-input");
      const row = el("div", "password-row");
      const input = el("input", "text-input") as HTMLInputElement;
      input.id = "password-input";
      input.type = "password";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.setAttribute("autocapitalize", "off");
      input.setAttribute("aria-describedby", "password-status password-reminder");
      input.placeholder = "xxxx-xxxx-xxxx-xxxx";
      input.value = password();
      const toggle = el("button", "button secondary") as HTMLButtonElement;
      toggle.type = "button";
      toggle.id = "password-toggle";
      toggle.setAttribute("aria-controls", "password-input");
      const showToggle = (shown: boolean) => {
        input.type = shown ? "text" : "password";
        toggle.textContent = t(shown ? "step.password.hide" : "step.password.show");
        toggle.setAttribute("aria-pressed", String(shown));
      };
      showToggle(false);
      toggle.addEventListener("click", () => showToggle(input.type === "password"));
      row.append(input, toggle);

      const status = el("p", "status");
      status.id = "password-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      const reminder = text("p", t("step.password.reminder"), "note");
      reminder.id = "password-reminder";

      const update = () => {
        setPassword(input.value);
        const v = input.value;
        status.textContent =
          v === "" ? "" : looksAppSpecific(v) ? t("step.password.shape_ok") : t("step.password.shape_warn");
        status.className = v === "" || looksAppSpecific(v) ? "status" : "status warn";
        ctx.changed();
      };
      input.addEventListener("input", update);
      const form = el("form") as HTMLFormElement;
      form.noValidate = true;
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        ctx.next();
      });
      form.append(label, row, status, reminder);
      body.append(form);
      if (input.value) update();
      return body;
    },
    canProceed: () => hasPassword(),
  };
}
