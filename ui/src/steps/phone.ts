// The save step's phone path: Thunderbird for Android's QR code for the verified account, shown large and dark on
// light (a white square in both themes, as phone cameras want it), the three taps in the app, and the choice to
// include the app-specific password. The code comes from the app as SVG; with the box ticked the app draws it with
// the password it holds, so the page never receives the password itself, only its picture, and only on screen:
// the code lives while the step is open (`forgetPhoneCode` drops it when the step is left), and a file is saved
// only when asked, by the app, never with the password.
import type { Diagnosis } from "../bindings/Diagnosis";
import { describe } from "../diagnosis";
import { t } from "../i18n";
import { thunderbirdAndroidQr } from "../ipc";
import { el, text, type WizardState } from "../wizard";

/** The code on screen, so that leaving the step can drop it. */
let shown: HTMLElement | null = null;

/** Drops the code from the page (the save step is left): nothing of it stays in the document. */
export function forgetPhoneCode(): void {
  shown?.replaceChildren();
  shown = null;
}

/** The SVG the app made, as an element of this document; null for anything that is not one SVG image. */
export function svgElement(svg: string): SVGSVGElement | null {
  const parsed = new DOMParser().parseFromString(svg, "image/svg+xml");
  const root = parsed.documentElement;
  if (root.nodeName !== "svg" || parsed.getElementsByTagName("parsererror").length > 0) return null;
  if (root.getElementsByTagName("script").length > 0 || root.getElementsByTagName("foreignObject").length > 0)
    return null;
  return document.importNode(root, true) as unknown as SVGSVGElement;
}

export interface PhonePath {
  address: string;
  login: string | null;
  name: string | null;
  state: WizardState;
  /** The path's "how to set it up" and "the password" sections, filled here. */
  setup: HTMLElement;
  password: HTMLElement;
  /** Save / Save as… for the code's image (written by the app, never with the password). */
  saveRows: HTMLElement[];
  /** Marks the phone path as done (for the Done step). */
  acted(): void;
}

/** Fills the phone path: the steps in the app, the code, the password choice and its warning, the save row. */
export function phonePath(p: PhonePath): void {
  const steps = el("ol", "phone-steps");
  steps.id = "phone-steps";
  steps.append(
    text("li", t("step.save.phone_step_add")),
    text("li", t("step.save.phone_step_import")),
    text("li", t("step.save.phone_step_scan")),
  );
  const code = el("figure", "phone-code");
  code.id = "phone-code";
  code.setAttribute("role", "img");
  code.setAttribute("aria-label", t("step.save.phone_code_label", { address: p.address }));
  const outcome = el("div", "outcome");
  outcome.id = "phone-outcome";
  outcome.setAttribute("role", "status");
  p.setup.append(steps, code, outcome);

  const include = el("input") as HTMLInputElement;
  include.type = "checkbox";
  include.id = "phone-include-password";
  include.checked = false;
  include.setAttribute("aria-describedby", "phone-warning");
  const label = text("label", t("step.save.phone_include_password"));
  label.setAttribute("for", include.id);
  const choice = el("div", "phone-password-choice");
  choice.append(include, label);
  const warning = text("p", t("step.save.phone_warning"), "warning");
  warning.id = "phone-warning";
  p.password.append(choice, warning, text("p", t("step.save.phone_save_note"), "note"), ...p.saveRows);

  const problem = (d: Diagnosis) => {
    const w = describe(d);
    outcome.className = "outcome problem";
    outcome.dataset.kind = d.kind;
    outcome.replaceChildren(text("p", w.message, "message"), text("p", w.hint, "hint"));
  };

  /** Asks the app for the code, with or without the password, and shows it; on a refusal, says why. */
  const draw = async (withPassword: boolean) => {
    include.disabled = true;
    const r = await thunderbirdAndroidQr(p.address, p.login, p.name, withPassword);
    include.disabled = false;
    code.replaceChildren();
    code.dataset.password = "none";
    outcome.className = "outcome";
    delete outcome.dataset.kind;
    outcome.replaceChildren();
    if (!r.ok) {
      include.checked = false;
      return problem(r.error);
    }
    const svg = svgElement(r.value);
    if (!svg) return;
    code.append(svg);
    code.dataset.password = withPassword ? "included" : "none";
    shown = code;
    if (withPassword) outcome.append(text("p", t("step.save.phone_with_password"), "warning"));
    // Once shown with the password, the phone may have scanned it so, even if the box is unticked afterwards.
    const phone = withPassword || p.state.handoff?.phone === "with_password" ? "with_password" : "without_password";
    p.state.handoff = { ...p.state.handoff, phone };
    const line = t("done.android_phone");
    if (!p.state.done.includes(line)) p.state.done.push(line);
    p.acted();
  };
  include.addEventListener("change", () => void draw(include.checked));
  void draw(false);
}
