// Address: live validation in the core as the person types. iCloud domains are recognised at once; other
// domains are accepted for the custom-domain check; other providers and mistakes get their own explanation.
import { describe } from "../diagnosis";
import { t } from "../i18n";
import { checkAddress } from "../ipc";
import { el, text, type Step, type StepContext } from "../wizard";

/** How long typing must pause before the address is checked. */
export const CHECK_DELAY_MS = 150;

export function addressStep(): Step {
  let input: HTMLInputElement | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  return {
    id: "address",
    render(ctx: StepContext) {
      const form = el("form", "address-form") as HTMLFormElement;
      form.noValidate = true;
      const label = text("label", t("step.address.label"));
      label.setAttribute("for", "address-input");
      input = el("input", "text-input") as HTMLInputElement;
      input.id = "address-input";
      input.type = "email";
      input.autocomplete = "email";
      input.spellcheck = false;
      input.setAttribute("autocapitalize", "off");
      input.placeholder = t("step.address.placeholder");
      input.setAttribute("aria-describedby", "address-status");
      input.value = ctx.state.address?.address ?? "";
      const status = el("div", "status");
      status.id = "address-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      form.append(label, input, status, text("p", t("step.address.help"), "note"));

      const check = async () => {
        const mine = ++generation;
        const value = input!.value;
        const result = await checkAddress(value);
        if (mine !== generation) return; // a newer keystroke has been checked since
        status.replaceChildren();
        if (result.ok) {
          ctx.state.address = result.value;
          const key = result.value.kind.type === "icloud" ? "step.address.ok_icloud" : "step.address.ok_custom";
          status.className = "status ok";
          status.append(text("p", t(key, { address: result.value.address, domain: result.value.domain_unicode })));
          input!.removeAttribute("aria-invalid");
        } else {
          ctx.state.address = undefined;
          const words = describe(result.error);
          const quiet = result.error.kind === "address_empty";
          status.className = quiet ? "status" : "status problem";
          status.append(text("p", words.message, "message"), text("p", words.hint, "hint"));
          if (quiet) input!.removeAttribute("aria-invalid");
          else input!.setAttribute("aria-invalid", "true");
        }
        ctx.changed();
      };
      input.addEventListener("input", () => {
        ctx.state.address = undefined;
        ctx.changed();
        clearTimeout(timer);
        timer = setTimeout(check, CHECK_DELAY_MS);
      });
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        ctx.next();
      });
      if (input.value) void check();
      return form;
    },
    canProceed: (ctx) => ctx.state.address !== undefined,
    leave() {
      clearTimeout(timer);
      generation++;
    },
  };
}
