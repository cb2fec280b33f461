// Connection test: incoming and outgoing side by side, each step appearing live with its time, and beside them
// "Calendars and contacts" (./dav-panel, never part of the mail verdict); on success the
// username and port that worked; on failure the diagnosis in plain words, the fix, the server's own words behind
// "Details", and Retry / Back to password. After a passed test, an optional "Send a test message to myself" (never
// automatic): one message to the address itself, its steps live (sent → arrived → removed), one verdict. The mail
// verdict (and with it Next and the send test) comes as soon as mail is known; calendars and contacts come when
// they are, and the third panel stays live until then. Leaving the step backwards cancels whatever is running,
// calendars and contacts too; Next leaves them looking, for the save step's Thunderbird box (`WizardState.dav`).
import type { DavReport } from "../bindings/DavReport";
import type { ProbeEvent } from "../bindings/ProbeEvent";
import type { ProbeReport } from "../bindings/ProbeReport";
import type { SendEvent } from "../bindings/SendEvent";
import type { SendReport } from "../bindings/SendReport";
import type { SideReport } from "../bindings/SideReport";
import { describe, words } from "../diagnosis";
import { language, t } from "../i18n";
import { cancelProbe, cancelSendTest, runProbe, runSendTest } from "../ipc";
import { password } from "../secret";
import { DAV_KNOWN, el, text, type Step, type StepContext } from "../wizard";
import { davPanel } from "./dav-panel";

type SideName = "imap" | "smtp";

const bothOk = (r: ProbeReport) => r.imap.diagnosis.kind === "ok" && r.smtp.diagnosis.kind === "ok";

export function connectionStep(): Step {
  let report: ProbeReport | undefined;
  let running = false;
  let sending = false;
  let generation = 0;
  /** Counts the tests started here (and tests given up by going back): DAV verdicts of another are ignored. */
  let davRun = 0;
  let state: StepContext["state"] | undefined;

  return {
    id: "test",
    render(ctx: StepContext) {
      state = ctx.state;
      const body = el("div", "connection-step");
      const columns = el("div", "sides");
      const column = (side: SideName) => {
        const section = el("section", `side side-${side}`);
        section.id = `side-${side}`;
        section.setAttribute("aria-labelledby", `side-${side}-title`);
        const title = text("h2", t(`step.test.${side}_title`));
        title.id = `side-${side}-title`;
        const steps = el("ol", "probe-steps");
        steps.setAttribute("aria-live", "polite");
        const verdict = el("div", "verdict");
        verdict.id = `verdict-${side}`;
        verdict.setAttribute("role", "status");
        section.append(title, steps, verdict);
        columns.append(section);
        return { steps, verdict };
      };
      const sides = { imap: column("imap"), smtp: column("smtp") };
      const dav = davPanel();
      columns.append(dav.section);
      const actions = el("div", "test-actions");
      const retry = el("button", "button secondary") as HTMLButtonElement;
      retry.type = "button";
      retry.id = "retry";
      retry.textContent = t("step.test.retry");
      const toPassword = el("button", "button secondary") as HTMLButtonElement;
      toPassword.type = "button";
      toPassword.id = "back-to-password";
      toPassword.textContent = t("step.test.back_to_password");
      actions.append(retry, toPassword);
      actions.hidden = true;
      const sendTest = sendSection(
        ctx,
        () => generation,
        (on) => {
          sending = on;
          ctx.changed();
        },
      );
      body.append(text("p", t("step.test.intro"), "note"), columns, actions, sendTest.section);

      const showEvent = (e: ProbeEvent) => {
        if (e.side === "caldav" || e.side === "carddav") return dav.event(e);
        if (e.side === "domain" || e.status === "started" || e.step === "done") return;
        const list = sides[e.side].steps;
        const key = e.status === "ok" ? `step.test.step_${e.step}` : `step.test.failed_${e.step}`;
        const item = text("li", t(key, { host: e.host, port: e.port, ms: e.elapsed_ms }));
        item.className = e.status === "ok" ? "ok" : "failed";
        list.append(item);
      };
      const showVerdict = (side: SideName, r: SideReport) => {
        const box = sides[side].verdict;
        box.replaceChildren();
        const d = r.diagnosis;
        if (d.kind === "ok") {
          box.className = "verdict ok";
          delete box.dataset.kind;
          box.append(
            text(
              "p",
              t("step.test.ok", {
                username: r.username ?? "",
                host: r.host,
                port: r.port,
                security: r.security === "tls" ? "SSL/TLS" : "STARTTLS",
                ms: r.elapsed_ms,
              }),
            ),
          );
        } else {
          // The report's server fills in facts the diagnosis does not carry itself.
          const facts = { host: r.host, port: r.port, username: r.username ?? undefined, ...d.facts };
          const w = words(d.kind, facts, d.detail);
          box.className = "verdict problem";
          box.dataset.kind = d.kind;
          box.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
        }
        // The first port could not be reached, so the fallback was tried: say so, whatever came of it.
        if (r.unreachable_port !== null) {
          box.append(text("p", t("probe.port_blocked", { port: r.unreachable_port }), "note port-blocked"));
        }
        if (d.kind !== "ok") {
          const detail = [r.server_text, d.detail].filter(Boolean).join("\n");
          if (detail) {
            const more = el("details");
            more.append(text("summary", t("step.test.details")), text("pre", detail));
            box.append(more);
          }
        }
      };
      const davKnown = (caldav: DavReport | undefined, carddav: DavReport | undefined) => {
        dav.verdicts(caldav, carddav);
        // What the save step offers Thunderbird ("Also add my iCloud calendars and contacts").
        ctx.state.dav = { caldav, carddav };
        document.dispatchEvent(new Event(DAV_KNOWN));
      };
      const start = async () => {
        const mine = ++generation;
        const myDav = ++davRun;
        report = undefined;
        ctx.state.dav = { looking: true };
        running = true;
        actions.hidden = true;
        sendTest.reset(false);
        for (const s of Object.values(sides)) {
          s.steps.replaceChildren();
          s.verdict.className = "verdict";
          s.verdict.replaceChildren(text("p", t("step.test.running")));
        }
        dav.reset();
        ctx.changed();
        const address = ctx.state.address!.address;
        const result = await runProbe(
          address,
          ctx.state.login ?? null,
          password(),
          (e) => {
            if (mine === generation) showEvent(e);
          },
          // After Next too (the save step's box waits for them), but never those of a test given up or replaced.
          (d) => {
            if (myDav === davRun) davKnown(d.caldav, d.carddav);
          },
        );
        if (mine !== generation) return;
        running = false;
        if (result.ok) {
          report = result.value;
          showVerdict("imap", report.imap);
          showVerdict("smtp", report.smtp);
          // Calendars and contacts are not waited for: they come on their own (a core that put them in the mail
          // report has them known already).
          if (report.caldav || report.carddav) davKnown(report.caldav, report.carddav);
          actions.hidden = bothOk(report);
          sendTest.reset(bothOk(report));
        } else if (result.error.kind !== "cancelled") {
          const w = describe(result.error);
          for (const s of Object.values(sides)) {
            s.verdict.className = "verdict problem";
            s.verdict.replaceChildren(text("p", w.message, "message"), text("p", w.hint, "hint"));
          }
          dav.failed(result.error);
          davRun++;
          ctx.state.dav = undefined;
          actions.hidden = false;
        }
        ctx.changed();
      };
      retry.addEventListener("click", () => void start());
      toPassword.addEventListener("click", () => ctx.back());
      void start();
      return body;
    },
    canProceed: () => !running && !sending && report !== undefined && bothOk(report),
    leave(forward: boolean) {
      generation++;
      const davLooking = state?.dav?.looking === true;
      // Going back gives the test up, calendars and contacts included; Next leaves them looking for the save step.
      if (running || (!forward && davLooking)) void cancelProbe();
      if (!forward && davLooking && state) {
        davRun++;
        state.dav = undefined;
      }
      if (sending) void cancelSendTest();
      running = false;
      sending = false;
    },
  };
}

/** The optional send test: its explanation, the button, the live steps and one verdict. */
function sendSection(ctx: StepContext, currentGeneration: () => number, setSending: (on: boolean) => void) {
  const section = el("section", "send-test");
  section.id = "send-test";
  section.setAttribute("aria-labelledby", "send-test-title");
  const title = text("h2", t("step.test.send_title"));
  title.id = "send-test-title";
  const note = text("p", "", "note");
  const button = el("button", "button secondary") as HTMLButtonElement;
  button.type = "button";
  button.id = "send-test-button";
  button.textContent = t("step.test.send_button");
  const steps = el("ol", "probe-steps");
  steps.id = "send-steps";
  steps.setAttribute("aria-live", "polite");
  const verdict = el("div", "verdict");
  verdict.id = "verdict-send";
  verdict.setAttribute("role", "status");
  section.append(title, note, button, steps, verdict);
  section.hidden = true;

  const showEvent = (e: SendEvent) => {
    const key = e.status === "ok" ? `step.test.send_step_${e.step}` : `step.test.send_failed_${e.step}`;
    const item = text("li", t(key, { ms: e.elapsed_ms }));
    item.className = e.status === "ok" ? "ok" : "failed";
    item.dataset.step = e.step;
    steps.append(item);
  };
  const showVerdict = (r: SendReport) => {
    const d = r.diagnosis;
    verdict.replaceChildren();
    if (d.kind === "ok") {
      verdict.className = "verdict ok";
      delete verdict.dataset.kind;
      verdict.append(
        text("p", t("step.test.send_ok", { address: d.facts.address ?? "", ms: r.arrived_ms ?? r.elapsed_ms })),
      );
      return;
    }
    const w = words(d.kind, d.facts, d.detail);
    verdict.className = "verdict problem";
    verdict.dataset.kind = d.kind;
    verdict.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
    const detail = [r.server_text, d.detail].filter(Boolean).join("\n");
    if (detail) {
      const more = el("details");
      more.append(text("summary", t("step.test.details")), text("pre", detail));
      verdict.append(more);
    }
  };
  button.addEventListener("click", () => {
    void (async () => {
      const mine = currentGeneration();
      button.disabled = true;
      steps.replaceChildren();
      verdict.className = "verdict";
      verdict.replaceChildren(text("p", t("step.test.send_running")));
      setSending(true);
      const state = ctx.state;
      const result = await runSendTest(
        state.address!.address,
        state.login ?? null,
        state.name ?? null,
        language(),
        (e) => {
          if (mine === currentGeneration()) showEvent(e);
        },
      );
      if (mine !== currentGeneration()) return;
      if (result.ok) {
        showVerdict(result.value);
      } else if (result.error.kind !== "cancelled") {
        const w = describe(result.error);
        verdict.className = "verdict problem";
        verdict.dataset.kind = result.error.kind;
        verdict.replaceChildren(text("p", w.message, "message"), text("p", w.hint, "hint"));
      }
      button.disabled = false;
      setSending(false);
      // The verdict sits below the fold on small windows: bring it into view (jsdom has no scrolling).
      verdict.scrollIntoView?.({ block: "nearest" });
    })();
  });

  return {
    section,
    /** Hidden and emptied; shown again (ready for a click) after a test that passed. */
    reset(show: boolean) {
      section.hidden = !show;
      steps.replaceChildren();
      verdict.className = "verdict";
      verdict.replaceChildren();
      button.disabled = false;
      note.textContent = t("step.test.send_note", { address: ctx.state.address?.address ?? "" });
    },
  };
}
