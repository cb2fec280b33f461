// The step machine: which step is showing, what it needs before Next, and the frame around it (progress, Back,
// Next, focus). Each step is a module in ./steps that builds its own content.
import { t } from "./i18n";

export type StepId = "welcome" | "address" | "password" | "test" | "save" | "done";

/** What the steps learn and pass on. The password never lives here: it stays in its own step until the test. */
export interface WizardState {
  address?: import("./bindings/Address").Address;
  /** The primary iCloud address that signs in, for iCloud+ custom domains. */
  login?: string;
  /** The sender's name as people will see it (optional); undefined until the field was filled or prefilled. */
  name?: string;
  /** True while the name field holds something the core refuses. */
  nameInvalid?: boolean;
  /** What the connection test found of calendars and contacts (beside mail, never part of its verdict): the save
   * step's Thunderbird path offers to add them. `looking` while the test still looks for them (they come after the
   * mail verdict, by the test's deadline at the latest); `DAV_KNOWN` is dispatched on `document` when they come. */
  dav?: {
    looking?: boolean;
    caldav?: import("./bindings/DavReport").DavReport;
    carddav?: import("./bindings/DavReport").DavReport;
  };
  /** What the save step did, for the summary: one plain sentence each. */
  done: string[];
  /** The mail app chosen on the save step (its path is what the Done step speaks of). */
  mailApp?: import("./bindings/ClientGroup").ClientGroup;
  /** The save step's mail apps as the core describes them (which ask for the password themselves). */
  mailApps?: import("./bindings/MailApp").MailApp[];
  /** The mail apps whose path did something (a file saved, the account added). */
  acted?: import("./bindings/ClientGroup").ClientGroup[];
  /** Where the password went, for what the Done step says comes next. */
  handoff?: {
    /** Saved in the keychain (terminal clients read it there). */
    keychain?: boolean;
    /** Added to Thunderbird with the password stored (it signs in without asking) or without (it asks). */
    thunderbird?: "stored" | "asks";
    /** Thunderbird for Android's QR code was shown on screen, at some point with the password, or never with it. */
    phone?: "with_password" | "without_password";
  };
}

/** The event (on `document`) that says the connection test's calendars and contacts are now in `WizardState.dav`. */
export const DAV_KNOWN = "icloud-mail-dav-known";

export interface StepContext {
  state: WizardState;
  /** Call when what the step needs before Next may have changed. */
  changed(): void;
  /** Moves on, as if Next had been pressed (for Enter in a field). */
  next(): void;
  /** Goes back one step, as if Back had been pressed. */
  back(): void;
}

export interface Step {
  id: StepId;
  /** Builds the step's content (below its heading). Called each time the step is shown. */
  render(ctx: StepContext): HTMLElement;
  /** Whether Next may be pressed now. */
  canProceed(ctx: StepContext): boolean;
  /** Called when the step is left either way (`forward`: by Next), to cancel work and drop what it no longer needs. */
  leave?(forward: boolean): void;
}

export class Wizard {
  private index = 0;
  private readonly heading: HTMLHeadingElement;
  private readonly body: HTMLElement;
  private readonly back: HTMLButtonElement;
  private readonly nextButton: HTMLButtonElement;
  private readonly progress: HTMLOListElement;
  private readonly ctx: StepContext;

  constructor(
    private readonly root: HTMLElement,
    private readonly steps: Step[],
    readonly state: WizardState = { done: [] },
  ) {
    this.ctx = { state, changed: () => this.updateNav(), next: () => this.go(1), back: () => this.go(-1) };
    root.replaceChildren();
    const header = el("header", "app-header");
    const title = el("p", "app-title");
    title.textContent = t("app.title");
    this.progress = el("ol", "progress") as HTMLOListElement;
    this.progress.setAttribute("aria-label", t("nav.progress"));
    header.append(title, this.progress);

    const main = el("main", "step");
    this.heading = el("h1", "step-title") as HTMLHeadingElement;
    this.heading.tabIndex = -1;
    this.body = el("div", "step-body");
    main.append(this.heading, this.body);

    const nav = el("nav", "step-nav");
    nav.setAttribute("aria-label", t("nav.label"));
    this.back = button(t("nav.back"), "secondary", "back");
    this.nextButton = button(t("nav.next"), "primary", "next");
    this.back.addEventListener("click", () => this.go(-1));
    this.nextButton.addEventListener("click", () => this.go(1));
    nav.append(this.back, this.nextButton);
    root.append(header, main, nav);
    this.show();
  }

  get current(): StepId {
    return this.steps[this.index].id;
  }

  go(delta: 1 | -1): void {
    const target = this.index + delta;
    if (target < 0 || target >= this.steps.length) return;
    if (delta === 1 && !this.steps[this.index].canProceed(this.ctx)) return;
    this.steps[this.index].leave?.(delta === 1);
    this.index = target;
    this.show();
  }

  private show(): void {
    const step = this.steps[this.index];
    this.root.dataset.step = step.id;
    this.heading.textContent = t(`step.${step.id}.title`);
    this.body.replaceChildren(step.render(this.ctx));
    this.progress.replaceChildren(
      ...this.steps.map((s, i) => {
        const item = el("li", i < this.index ? "done" : i === this.index ? "current" : "todo");
        item.textContent = t(`step.${s.id}.short`);
        if (i === this.index) item.setAttribute("aria-current", "step");
        return item;
      }),
    );
    document.title = `${t(`step.${step.id}.title`)} – ${t("app.title")}`;
    this.updateNav();
    this.heading.focus();
  }

  private updateNav(): void {
    const step = this.steps[this.index];
    this.back.hidden = this.index === 0;
    this.nextButton.hidden = this.index === this.steps.length - 1;
    this.nextButton.disabled = !step.canProceed(this.ctx);
  }
}

export function el(tag: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

export function text(tag: string, content: string, className?: string): HTMLElement {
  const node = el(tag, className);
  node.textContent = content;
  return node;
}

/** A labelled text field: its label, the input (`<name>-input`), and the status box (`<name>-status`, announced
 * politely) that the step fills as the field is checked. `describedBy` adds notes read after the status. */
export function field(
  name: string,
  labelText: string,
  input: { type: string; autocomplete: string; value: string; placeholder?: string; literal?: boolean },
  describedBy: string[] = [],
): { label: HTMLElement; input: HTMLInputElement; status: HTMLElement } {
  const id = `${name}-input`;
  const label = text("label", labelText);
  label.setAttribute("for", id);
  const node = el("input", "text-input") as HTMLInputElement;
  node.id = id;
  node.type = input.type;
  node.autocomplete = input.autocomplete as AutoFill;
  if (input.literal) {
    // Addresses and passwords: no spelling fixes, no capital first letter.
    node.spellcheck = false;
    node.setAttribute("autocapitalize", "off");
  }
  if (input.placeholder) node.placeholder = input.placeholder;
  node.setAttribute("aria-describedby", [`${name}-status`, ...describedBy].join(" "));
  node.value = input.value;
  const status = el("div", "status");
  status.id = `${name}-status`;
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  return { label, input: node, status };
}

function button(label: string, kind: string, id: string): HTMLButtonElement {
  const b = el("button", `button ${kind}`) as HTMLButtonElement;
  b.type = "button";
  b.id = id;
  b.textContent = label;
  return b;
}
