// The connection step's third panel, "Calendars and contacts": CalDAV and CardDAV tested beside mail with the same
// app-specific password, each step live with its time (connect, secure connection, sign-in, discovery), ending
// with the calendars found (name and colour) and the address book, or with why not (the diagnosis in the person's
// language, the fix, the server's own words behind "Details"). Never part of the mail verdict: the step's Next
// and the send test look at mail only.
import type { DavReport } from "../bindings/DavReport";
import type { Diagnosis } from "../bindings/Diagnosis";
import type { ProbeEvent } from "../bindings/ProbeEvent";
import { describe, words } from "../diagnosis";
import { t } from "../i18n";
import { el, text } from "../wizard";

export type DavSide = "caldav" | "carddav";

/** A colour the page may paint: `#RRGGBB` (or `#RGB`) only, never anything else a server might send. */
export function safeColor(color: string | null | undefined): string | null {
  return color && /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(color) ? color : null;
}

/** The host part of an absolute URL (where the calendars really are: iCloud's partition host), or null. */
function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).host || null;
  } catch {
    return null;
  }
}

export interface DavPanel {
  section: HTMLElement;
  /** Empties both halves and says "Testing…". */
  reset(): void;
  /** Shows one step of CalDAV or CardDAV as it happens. */
  event(e: ProbeEvent): void;
  /** Shows the verdicts; a side that was not tested (an older core, say) is left saying nothing. */
  verdicts(caldav: DavReport | undefined, carddav: DavReport | undefined): void;
  /** The whole test could not run: the same words as the mail panels, in both halves. */
  failed(error: Diagnosis): void;
}

export function davPanel(): DavPanel {
  const section = el("section", "side side-dav");
  section.id = "side-dav";
  section.setAttribute("aria-labelledby", "side-dav-title");
  const title = text("h2", t("step.test.dav_title"));
  title.id = "side-dav-title";
  const halves = el("div", "dav-halves");
  section.append(title, halves);
  const half = (side: DavSide) => {
    const part = el("div", `dav-half dav-${side}`);
    part.id = `dav-${side}`;
    part.setAttribute("role", "group");
    part.setAttribute("aria-labelledby", `dav-${side}-title`);
    const heading = text("h3", t(`step.test.${side}_title`));
    heading.id = `dav-${side}-title`;
    const steps = el("ol", "probe-steps");
    steps.setAttribute("aria-live", "polite");
    const verdict = el("div", "verdict");
    verdict.id = `verdict-${side}`;
    verdict.setAttribute("role", "status");
    part.append(heading, steps, verdict);
    halves.append(part);
    return { steps, verdict };
  };
  const sides = { caldav: half("caldav"), carddav: half("carddav") };

  const problem = (box: HTMLElement, message: string, hint: string, kind: string) => {
    box.className = "verdict problem";
    box.dataset.kind = kind;
    box.replaceChildren(text("p", message, "message"), text("p", hint, "hint"));
  };

  const showVerdict = (side: DavSide, r: DavReport) => {
    const box = sides[side].verdict;
    box.replaceChildren();
    const d = r.diagnosis;
    if (d.kind !== "ok") {
      // The report fills in facts the diagnosis does not carry itself, as for mail.
      const facts = { host: r.host, port: r.port, username: r.username ?? undefined, ...d.facts };
      const w = words(d.kind, facts, d.detail);
      problem(box, w.message, w.hint, d.kind);
      const detail = [r.server_text, d.detail].filter(Boolean).join("\n");
      if (detail) {
        const more = el("details");
        more.append(text("summary", t("step.test.details")), text("pre", detail));
        box.append(more);
      }
      return;
    }
    box.className = "verdict ok";
    delete box.dataset.kind;
    box.append(text("p", t("step.test.dav_ok", { username: r.username ?? "", host: r.host, ms: r.elapsed_ms })));
    const home = hostOf(r.home);
    if (home && home !== r.host) box.append(text("p", t("step.test.dav_home", { host: home }), "note dav-home"));
    const list = el("ul", "dav-found");
    list.id = `dav-found-${side}`;
    list.setAttribute("aria-labelledby", `dav-found-${side}-title`);
    const intro = text("p", t(`step.test.${side}_found`), "dav-found-title");
    intro.id = `dav-found-${side}-title`;
    if (side === "caldav") {
      for (const c of r.calendars ?? []) {
        const item = el("li", "calendar");
        const swatch = el("span", "swatch");
        swatch.setAttribute("aria-hidden", "true");
        const color = safeColor(c.color);
        if (color) swatch.style.backgroundColor = color;
        else swatch.classList.add("no-color");
        item.append(swatch, text("span", c.name, "calendar-name"));
        item.title = c.url;
        list.append(item);
      }
    } else {
      for (const b of r.addressbooks ?? []) {
        const item = text("li", b.name, "addressbook");
        item.title = b.url;
        list.append(item);
      }
    }
    box.append(intro, list);
  };

  return {
    section,
    reset() {
      for (const s of Object.values(sides)) {
        s.steps.replaceChildren();
        s.verdict.className = "verdict";
        delete s.verdict.dataset.kind;
        s.verdict.replaceChildren(text("p", t("step.test.running")));
      }
    },
    event(e: ProbeEvent) {
      if ((e.side !== "caldav" && e.side !== "carddav") || e.status === "started" || e.step === "done") return;
      const key =
        e.step === "discover"
          ? e.status === "ok"
            ? `step.test.${e.side}_step_discover`
            : "step.test.failed_discover"
          : e.status === "ok"
            ? `step.test.step_${e.step}`
            : `step.test.failed_${e.step}`;
      const item = text("li", t(key, { host: e.host, port: e.port, ms: e.elapsed_ms }));
      item.className = e.status === "ok" ? "ok" : "failed";
      item.dataset.step = e.step;
      sides[e.side].steps.append(item);
    },
    verdicts(caldav, carddav) {
      for (const [side, r] of [
        ["caldav", caldav],
        ["carddav", carddav],
      ] as const) {
        if (r) showVerdict(side, r);
        else sides[side].verdict.replaceChildren();
      }
    },
    failed(error: Diagnosis) {
      const w = describe(error);
      for (const s of Object.values(sides)) problem(s.verdict, w.message, w.hint, error.kind);
    },
  };
}

/** Whether the connection test found something Thunderbird can add: calendars or an address book that passed. */
export function davPassed(caldav: DavReport | undefined, carddav: DavReport | undefined): boolean {
  const calendars = caldav?.diagnosis.kind === "ok" && (caldav.calendars ?? []).length > 0;
  const contacts = carddav?.diagnosis.kind === "ok" && (carddav.addressbooks ?? []).length > 0;
  return calendars || contacts;
}
