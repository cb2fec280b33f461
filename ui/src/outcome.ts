// The line under a button that says what it did: a sentence, or a diagnosis in the person's language (its kind kept
// on the box for tests and styles). Shared by the controls that stand on their own (Copy password, Import into
// Outlook).
import type { Diagnosis } from "./bindings/Diagnosis";
import { describe } from "./diagnosis";

export function line(content: string, className?: string): HTMLElement {
  const p = document.createElement("p");
  if (className) p.className = className;
  p.textContent = content;
  return p;
}

export function problem(box: HTMLElement, d: Diagnosis): void {
  const w = describe(d);
  box.className = "outcome problem";
  box.dataset.kind = d.kind;
  box.replaceChildren(line(w.message, "message"), line(w.hint, "hint"));
}
