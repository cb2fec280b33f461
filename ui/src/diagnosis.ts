// The one place the page turns a diagnosis into words: kind + facts through the catalogue, in the person's
// language. The server's own words (detail) are only ever shown as detail.
import type { Diagnosis } from "./bindings/Diagnosis";
import type { DiagnosisKind } from "./bindings/DiagnosisKind";
import type { Facts } from "./bindings/Facts";
import { t } from "./i18n";

export interface Words {
  message: string;
  hint: string;
  detail: string | null;
}

export function words(kind: DiagnosisKind, facts: Facts = {}, detail: string | null = null): Words {
  return { message: t(`diagnosis.${kind}.message`, facts), hint: t(`diagnosis.${kind}.hint`, facts), detail };
}

export function describe(d: Diagnosis): Words {
  return words(d.kind, d.facts, d.detail);
}

/** A call that failed without a diagnosis (the IPC itself broke, or the page's own code threw) as one, so that it is
 * shown like any other verdict instead of leaving a blank part of the page. */
export function failedCall(e: unknown): Diagnosis {
  return { kind: "internal_error", facts: {}, detail: e instanceof Error ? e.message : String(e) };
}
