// Calendars and contacts in the window, against a mocked core: the connection step's third panel (live steps for
// CalDAV and CardDAV, the calendars and address book found, or why not, never part of the mail verdict) and
// Thunderbird's "Also add my iCloud calendars and contacts" on the save step (ticked when the test found them,
// disabled with the reason when it did not, passed to the app as `withDav`, and what was added shown afterwards).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import type { DavReport } from "../bindings/DavReport";
import type { DavReports } from "../bindings/DavReports";
import type { DiagnosisKind } from "../bindings/DiagnosisKind";
import type { ProbeEvent } from "../bindings/ProbeEvent";
import type { SideReport } from "../bindings/SideReport";
import { chooseLanguage, t } from "../i18n";
import { forgetPassword, setPassword } from "../secret";
import { Wizard, type WizardState } from "../wizard";
import { connectionStep } from "./connection";
import { davPassed, safeColor } from "./dav-panel";
import { doneStep } from "./done";
import { davChoice, saveStep } from "./save";
import { JANE } from "./testing";
import { welcomeStep } from "./welcome";
import en from "../../../locales/en.json";
import de from "../../../locales/de.json";

const mail = (kind: DiagnosisKind, host: string, port: number, username: string): SideReport => ({
  diagnosis: { kind, facts: kind === "ok" ? {} : { host, port, username }, detail: null },
  host,
  port,
  security: port === 993 ? "tls" : "starttls",
  username,
  elapsed_ms: 300,
  server_text: kind === "ok" ? null : "NO [AUTHENTICATIONFAILED] Authentication failed",
  unreachable_port: null,
  attempts: [],
});

const CALENDARS = [
  { name: "Home", url: "https://p23-caldav.icloud.com:443/1234/calendars/home/", color: "#1BADF8" },
  { name: "Work <b>", url: "https://p23-caldav.icloud.com:443/1234/calendars/work/", color: null },
];
const BOOKS = [{ name: "card", url: "https://p23-contacts.icloud.com:443/1234/carddavhome/card/" }];

function dav(side: "caldav" | "carddav", kind: DiagnosisKind): DavReport {
  const host = side === "caldav" ? "caldav.icloud.com" : "contacts.icloud.com";
  const partition = side === "caldav" ? "p23-caldav.icloud.com" : "p23-contacts.icloud.com";
  const ok = kind === "ok";
  return {
    diagnosis: { kind, facts: ok ? {} : { host }, detail: ok ? null : "PROPFIND /" },
    host,
    port: 443,
    username: "jane@icloud.com",
    principal: `https://${host}/1234/principal/`,
    home: `https://${partition}:443/1234/home/`,
    realm: "MMCalDav",
    elapsed_ms: 210,
    server_text: ok ? null : "HTTP/1.1 403 Forbidden",
    requests: 4,
    redirects: [],
    ...(ok ? (side === "caldav" ? { calendars: CALENDARS } : { addressbooks: BOOKS }) : {}),
  };
}

let calls: { cmd: string; args: Record<string, unknown> }[];
let mailKind: DiagnosisKind;
let caldavKind: DiagnosisKind | null;
let carddavKind: DiagnosisKind | null;
/** Thunderbird's profile had the calendar and the address book already. */
let allThere: boolean;
/** How the mocked core hands over calendars and contacts: on their own channel before the mail verdict is answered
 * (a fast DAV server), only when the test calls `deliverDav` (a slow one, after the mail verdict), or inside the
 * mail report (as a core that waited for them would). */
let davDelivery: "channel" | "late" | "report";
let deliverDav: () => void;

beforeEach(() => {
  chooseLanguage(["en"]);
  calls = [];
  mailKind = "ok";
  caldavKind = "ok";
  carddavKind = "ok";
  allThere = false;
  davDelivery = "channel";
  deliverDav = () => {
    throw new Error("no calendars and contacts to deliver");
  };
  setPassword("abcd-efgh-ijkl-mnop");
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "cancel_probe":
      case "save_choice":
      case "forget_password":
        return null;
      case "run_probe": {
        const channel = (a as { onEvent: Channel<ProbeEvent> }).onEvent;
        const send = (e: Partial<ProbeEvent>) =>
          channel.onmessage({ status: "ok", port: 443, elapsed_ms: 20, ...e } as ProbeEvent);
        send({ side: "imap", step: "connect", host: "imap.mail.me.com", port: 993 });
        send({ side: "caldav", step: "connect", status: "started", host: "caldav.icloud.com" });
        send({ side: "caldav", step: "connect", host: "caldav.icloud.com", elapsed_ms: 31 });
        send({ side: "carddav", step: "connect", host: "contacts.icloud.com", elapsed_ms: 32 });
        send({ side: "caldav", step: "tls", host: "caldav.icloud.com", elapsed_ms: 60 });
        send({ side: "carddav", step: "tls", host: "contacts.icloud.com", elapsed_ms: 61 });
        send({ side: "caldav", step: "auth", host: "caldav.icloud.com", elapsed_ms: 90 });
        send({
          side: "carddav",
          step: "auth",
          status: carddavKind === "auth_rejected" ? "failed" : "ok",
          host: "contacts.icloud.com",
          elapsed_ms: 91,
        });
        send({
          side: "caldav",
          step: "discover",
          status: caldavKind === "ok" ? "ok" : "failed",
          host: "caldav.icloud.com",
          elapsed_ms: 150,
        });
        if (carddavKind !== "auth_rejected")
          send({ side: "carddav", step: "discover", host: "contacts.icloud.com", elapsed_ms: 151 });
        send({ side: "caldav", step: "done", host: "caldav.icloud.com", elapsed_ms: 152 });
        const found = {
          ...(caldavKind ? { caldav: dav("caldav", caldavKind) } : {}),
          ...(carddavKind ? { carddav: dav("carddav", carddavKind) } : {}),
        };
        const onDav = (a as { onDav: Channel<DavReports> }).onDav;
        deliverDav = () => onDav.onmessage(found as DavReports);
        if (davDelivery === "channel") deliverDav();
        return {
          imap: mail(mailKind, "imap.mail.me.com", 993, "jane"),
          smtp: mail(mailKind, "smtp.mail.me.com", 587, "jane@icloud.com"),
          domain: null,
          ...(davDelivery === "report" ? found : {}),
        };
      }
      case "mail_apps_present":
        return ["thunderbird", "admin"].map((group) => ({
          group,
          present: group === "thunderbird",
          asks_for_password: false,
        }));
      case "load_settings":
        return { mail_app: null };
      case "export_formats":
        return [];
      case "thunderbird_profiles":
        return [{ name: "default-release", path: "/home/j/.tb/a", is_default: true, root: "/home/j/.tb" }];
      case "thunderbird_add":
        return {
          outcome: "already_present",
          profile: "/home/j/.tb/a",
          server_key: "server1",
          password_stored: true,
          password_backups: [],
          dav: a.withDav
            ? {
                calendars: [{ name: "Home", url: CALENDARS[0].url, added: !allThere }],
                addressbooks: [{ name: "card", url: BOOKS[0].url, added: false }],
              }
            : { calendars: [], addressbooks: [] },
        };
    }
    throw new Error(`unexpected ${cmd}`);
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  clearMocks();
  forgetPassword();
});

const settle = () => new Promise((r) => setTimeout(r, 0));
const $ = <T extends Element = HTMLElement>(css: string) => document.querySelector<T>(css)!;
const next = () => $<HTMLButtonElement>("#next");

function atTest(): Wizard {
  const w = new Wizard(document.getElementById("app")!, [welcomeStep(), connectionStep(), welcomeStep()]);
  w.state.address = { ...JANE };
  w.go(1);
  return w;
}

describe("the connection step's third panel, calendars and contacts", () => {
  it("shows CalDAV's and CardDAV's steps live in their own halves, then the calendars and the address book", async () => {
    const w = atTest();
    expect($("#side-dav h2").textContent).toBe(en["step.test.dav_title"]);
    expect($("#side-dav").getAttribute("aria-labelledby")).toBe("side-dav-title");
    // Live: the steps are there before the report.
    const caldavSteps = () => $("#dav-caldav .probe-steps").textContent;
    expect(caldavSteps()).toContain("Connected to caldav.icloud.com:443 (31 ms)");
    expect(caldavSteps()).toContain(t("step.test.step_tls", { ms: 60 }));
    expect(caldavSteps()).toContain(t("step.test.step_auth", { ms: 90 }));
    expect(caldavSteps()).toContain(t("step.test.caldav_step_discover", { ms: 150 }));
    expect($("#dav-carddav .probe-steps").textContent).toContain("Connected to contacts.icloud.com:443 (32 ms)");
    expect($("#dav-carddav .probe-steps").textContent).toContain(t("step.test.carddav_step_discover", { ms: 151 }));
    // Not in the mail panels, and `started`/`done` are not steps.
    expect($("#side-imap .probe-steps").textContent).not.toContain("icloud.com:443");
    expect(document.querySelectorAll("#dav-caldav .probe-steps li")).toHaveLength(4);
    await settle();

    const caldav = $("#verdict-caldav");
    expect(caldav.className).toBe("verdict ok");
    expect(caldav.textContent).toContain(
      t("step.test.dav_ok", { username: "jane@icloud.com", host: "caldav.icloud.com", ms: 210 }),
    );
    expect(caldav.textContent).toContain(t("step.test.dav_home", { host: "p23-caldav.icloud.com" }));
    const items = [...document.querySelectorAll<HTMLElement>("#dav-found-caldav li")];
    expect(items.map((i) => i.querySelector(".calendar-name")!.textContent)).toEqual(["Home", "Work <b>"]);
    // The colour as a swatch (decoration, hidden from screen readers); none given: a neutral swatch.
    const swatches = items.map((i) => i.querySelector<HTMLElement>(".swatch")!);
    expect(swatches[0].style.backgroundColor).toBe("rgb(27, 173, 248)");
    expect(swatches[0].getAttribute("aria-hidden")).toBe("true");
    expect(swatches[1].classList.contains("no-color")).toBe(true);
    expect(items[1].querySelector("b")).toBeNull(); // a name is text, never markup
    expect($("#dav-found-caldav").getAttribute("aria-labelledby")).toBe("dav-found-caldav-title");
    expect($("#dav-found-carddav").textContent).toBe("card");
    expect($("#verdict-carddav").textContent).toContain(en["step.test.carddav_found"]);
    // What the save step offers Thunderbird.
    expect(w.state.dav?.caldav?.calendars).toHaveLength(2);
    expect(next().disabled).toBe(false);
  });

  it("says why not, with the fix and the server's words, and mail still passes", async () => {
    caldavKind = "dav_refused";
    carddavKind = "auth_rejected";
    const w = atTest();
    await settle();
    const caldav = $("#verdict-caldav");
    expect(caldav.dataset.kind).toBe("dav_refused");
    expect(caldav.querySelector(".message")!.textContent).toBe(
      t("diagnosis.dav_refused.message", { host: "caldav.icloud.com" }),
    );
    expect(caldav.querySelector(".hint")!.textContent).toBe(en["diagnosis.dav_refused.hint"]);
    expect(caldav.querySelector("details pre")!.textContent).toBe("HTTP/1.1 403 Forbidden\nPROPFIND /");
    expect($("#dav-caldav .probe-steps li.failed").textContent).toBe(t("step.test.failed_discover", { ms: 150 }));
    const carddav = $("#verdict-carddav");
    expect(carddav.dataset.kind).toBe("auth_rejected");
    // The report's username and host fill in what the diagnosis's facts leave out.
    expect(carddav.querySelector(".message")!.textContent).toBe(
      t("diagnosis.auth_rejected.message", { host: "contacts.icloud.com", username: "jane@icloud.com", port: 443 }),
    );
    expect(document.querySelector("#dav-found-caldav")).toBeNull();
    // The mail verdict is mail's alone: Next, no Retry, and the send test offered.
    expect($("#verdict-imap").className).toBe("verdict ok");
    expect(next().disabled).toBe(false);
    expect($(".test-actions").hidden).toBe(true);
    expect($("#send-test").hidden).toBe(false);
    expect(davPassed(w.state.dav?.caldav, w.state.dav?.carddav)).toBe(false);
  });

  it("found calendars do not make a failed mail test pass", async () => {
    mailKind = "auth_rejected";
    atTest();
    await settle();
    expect($("#verdict-caldav").className).toBe("verdict ok");
    expect(next().disabled).toBe(true);
    expect($(".test-actions").hidden).toBe(false);
  });

  it("Retry empties the panel and tests calendars and contacts again", async () => {
    mailKind = "timeout";
    caldavKind = "timeout";
    atTest();
    await settle();
    expect($("#verdict-caldav").dataset.kind).toBe("timeout");
    mailKind = "ok";
    caldavKind = "ok";
    davDelivery = "late";
    $<HTMLButtonElement>("#retry").click();
    expect($("#verdict-caldav").textContent).toBe(en["step.test.running"]);
    expect($("#verdict-caldav").dataset.kind).toBeUndefined();
    await settle();
    deliverDav();
    expect($("#verdict-caldav").className).toBe("verdict ok");
    expect(calls.filter((c) => c.cmd === "run_probe")).toHaveLength(2);
  });

  it("shows the mail verdict, Next and the send test while calendars and contacts are still looked for", async () => {
    davDelivery = "late";
    const w = atTest();
    await settle();
    expect($("#verdict-imap").className).toBe("verdict ok");
    expect($("#verdict-smtp").className).toBe("verdict ok");
    expect(next().disabled).toBe(false);
    expect($("#send-test").hidden).toBe(false);
    // The third panel is still live: its steps so far, no verdict.
    expect($("#verdict-caldav").textContent).toBe(en["step.test.running"]);
    expect($("#verdict-caldav").dataset.kind).toBeUndefined();
    expect($("#dav-caldav .probe-steps").textContent).toContain(t("step.test.step_auth", { ms: 90 }));
    expect(w.state.dav).toEqual({ looking: true });
    deliverDav();
    expect($("#verdict-caldav").className).toBe("verdict ok");
    expect($("#verdict-carddav").className).toBe("verdict ok");
    expect(w.state.dav?.looking).toBeUndefined();
    expect(w.state.dav?.caldav?.calendars).toHaveLength(2);
    expect(next().disabled).toBe(false);
  });

  it("takes calendars and contacts from the mail report where a core put them there", async () => {
    davDelivery = "report";
    const w = atTest();
    await settle();
    expect($("#verdict-caldav").className).toBe("verdict ok");
    expect(w.state.dav?.carddav?.addressbooks).toHaveLength(1);
  });

  it("going back gives calendars and contacts up: cancelled, and a late verdict is not taken", async () => {
    davDelivery = "late";
    const w = atTest();
    await settle();
    expect(calls.some((c) => c.cmd === "cancel_probe")).toBe(false);
    w.go(-1);
    expect(calls.filter((c) => c.cmd === "cancel_probe")).toHaveLength(1);
    expect(w.state.dav).toBeUndefined();
    deliverDav();
    expect(w.state.dav).toBeUndefined();
  });

  it("a retried test does not take the calendars of the test before it", async () => {
    davDelivery = "late";
    const w = atTest();
    await settle();
    const first = deliverDav;
    $<HTMLButtonElement>("#retry").click();
    await settle();
    first();
    expect(w.state.dav).toEqual({ looking: true });
    expect($("#verdict-caldav").textContent).toBe(en["step.test.running"]);
  });

  it("speaks German", async () => {
    chooseLanguage(["de"]);
    caldavKind = "no_calendars_found";
    atTest();
    await settle();
    expect($("#side-dav h2").textContent).toBe(de["step.test.dav_title"]);
    expect($("#dav-carddav h3").textContent).toBe(de["step.test.carddav_title"]);
    expect($("#verdict-caldav .hint").textContent).toBe(de["diagnosis.no_calendars_found.hint"]);
    expect($("#verdict-carddav").textContent).toContain(de["step.test.carddav_found"]);
    expect($("#dav-carddav .probe-steps").textContent).toContain("Adressbücher aufgelistet (151 ms)");
  });

  it("paints only colours of the form #RRGGBB or #RGB", () => {
    expect(safeColor("#1BADF8")).toBe("#1BADF8");
    expect(safeColor("#abc")).toBe("#abc");
    for (const bad of [null, undefined, "", "red", "#1BADF8FF", "#12345", "#1BADF8;background:url(x)", "url(x)"])
      expect(safeColor(bad), String(bad)).toBeNull();
  });
});

describe("Thunderbird's Also add my iCloud calendars and contacts", () => {
  const found = { caldav: dav("caldav", "ok"), carddav: dav("carddav", "ok") };

  it("is offered when the test found calendars or an address book, unavailable when not, hidden when not tested", () => {
    expect(davChoice(found)).toBe("offered");
    expect(davChoice({ caldav: dav("caldav", "ok"), carddav: dav("carddav", "auth_rejected") })).toBe("offered");
    expect(davChoice({ caldav: dav("caldav", "timeout"), carddav: dav("carddav", "ok") })).toBe("offered");
    expect(davChoice({ caldav: { ...dav("caldav", "ok"), calendars: [] } })).toBe("unavailable");
    expect(davChoice({ caldav: dav("caldav", "no_calendars_found"), carddav: dav("carddav", "dav_refused") })).toBe(
      "unavailable",
    );
    expect(davChoice({ looking: true })).toBe("looking");
    expect(davChoice(undefined)).toBe("hidden");
    expect(davChoice({})).toBe("hidden");
  });

  function atSave(state: Partial<WizardState>): Wizard {
    return new Wizard(document.getElementById("app")!, [saveStep(), doneStep()], {
      address: { ...JANE },
      done: [],
      ...state,
    });
  }
  const box = () => $<HTMLInputElement>("#tb-with-dav");

  it("is ticked when the test found them, says what, sends withDav and shows what was added or already there", async () => {
    atSave({ dav: found });
    await settle();
    expect(box().checked).toBe(true);
    expect(box().disabled).toBe(false);
    expect($("label[for=tb-with-dav]").textContent).toBe(en["step.save.thunderbird_with_dav"]);
    expect($("#tb-with-dav-note").textContent).toBe(
      t("step.save.thunderbird_with_dav_note", { what: "Home, Work <b>, and card" }),
    );
    expect(box().getAttribute("aria-describedby")).toBe("tb-with-dav-note");
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect(calls.find((c) => c.cmd === "thunderbird_add")!.args.withDav).toBe(true);
    const added = [...document.querySelectorAll("#tb-dav-added-0 li")].map((l) => l.textContent);
    expect(added).toEqual([
      t("step.save.dav_calendar_added", { name: "Home" }),
      t("step.save.dav_addressbook_present", { name: "card" }),
    ]);
    next().click();
    expect($("#summary").textContent).toContain(t("done.thunderbird_dav", { name: "default-release" }));
  });

  it("Done says calendars and contacts were added only when one was", async () => {
    allThere = true;
    atSave({ dav: found });
    await settle();
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect($("#tb-dav-added-0").textContent).toContain(t("step.save.dav_calendar_present", { name: "Home" }));
    next().click();
    expect($("#summary").textContent).not.toContain(t("done.thunderbird_dav", { name: "default-release" }));
  });

  it("unticked, asks the app for mail only and claims no calendars", async () => {
    atSave({ dav: found });
    await settle();
    box().click();
    expect(box().checked).toBe(false);
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect(calls.find((c) => c.cmd === "thunderbird_add")!.args.withDav).toBe(false);
    expect(document.querySelector("#tb-dav-added-0")).toBeNull();
    next().click();
    expect($("#summary").textContent).not.toContain(t("done.thunderbird_dav", { name: "default-release" }));
  });

  it("is disabled, unticked and says why when the test found none; withDav stays false", async () => {
    atSave({ dav: { caldav: dav("caldav", "no_calendars_found"), carddav: dav("carddav", "timeout") } });
    await settle();
    expect(box().checked).toBe(false);
    expect(box().disabled).toBe(true);
    expect($("#tb-dav").hidden).toBe(false);
    expect($("#tb-with-dav-note").textContent).toBe(en["step.save.thunderbird_dav_unavailable"]);
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect(calls.find((c) => c.cmd === "thunderbird_add")!.args.withDav).toBe(false);
  });

  /** The connection step, then the save step, with calendars and contacts still looked for when Next is pressed. */
  async function toSaveWhileLooking(): Promise<Wizard> {
    davDelivery = "late";
    const w = new Wizard(document.getElementById("app")!, [welcomeStep(), connectionStep(), saveStep(), doneStep()]);
    w.state.address = { ...JANE };
    w.go(1);
    await settle();
    next().click();
    await settle();
    expect(w.current).toBe("save");
    return w;
  }

  it("waits, disabled and saying so, while the test still looks for them, and is ticked when they come", async () => {
    await toSaveWhileLooking();
    expect(calls.some((c) => c.cmd === "cancel_probe")).toBe(false);
    expect($("#tb-dav").hidden).toBe(false);
    expect(box().checked).toBe(false);
    expect(box().disabled).toBe(true);
    expect($("#tb-with-dav-note").textContent).toBe(en["step.save.thunderbird_dav_looking"]);
    expect($("#tb-with-dav-note").getAttribute("aria-live")).toBe("polite");
    deliverDav();
    expect(box().checked).toBe(true);
    expect(box().disabled).toBe(false);
    expect($("#tb-with-dav-note").textContent).toBe(
      t("step.save.thunderbird_with_dav_note", { what: "Home, Work <b>, and card" }),
    );
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect(calls.find((c) => c.cmd === "thunderbird_add")!.args.withDav).toBe(true);
  });

  it("added while still looking, Thunderbird gets mail only; found none, the box says why", async () => {
    caldavKind = "timeout";
    carddavKind = "timeout";
    await toSaveWhileLooking();
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect(calls.find((c) => c.cmd === "thunderbird_add")!.args.withDav).toBe(false);
    deliverDav();
    expect(box().disabled).toBe(true);
    expect(box().checked).toBe(false);
    expect($("#tb-with-dav-note").textContent).toBe(en["step.save.thunderbird_dav_unavailable"]);
  });

  it("says it is still looking in German", async () => {
    chooseLanguage(["de"]);
    await toSaveWhileLooking();
    expect($("#tb-with-dav-note").textContent).toBe(de["step.save.thunderbird_dav_looking"]);
  });

  it("is hidden when the test did not look for calendars and contacts", async () => {
    atSave({});
    await settle();
    expect($("#tb-dav").hidden).toBe(true);
    $<HTMLButtonElement>("#tb-add-0").click();
    await settle();
    expect(calls.find((c) => c.cmd === "thunderbird_add")!.args.withDav).toBe(false);
  });
});
