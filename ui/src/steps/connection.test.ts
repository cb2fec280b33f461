// The connection test step against a mocked core: live steps, verdicts in the page's words, retry, cancel.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import type { ProbeEvent } from "../bindings/ProbeEvent";
import type { SideReport } from "../bindings/SideReport";
import type { DiagnosisKind } from "../bindings/DiagnosisKind";
import { chooseLanguage } from "../i18n";
import { forgetPassword, setPassword } from "../secret";
import type { Wizard } from "../wizard";
import { wizardAtConnectionTest } from "./testing";
import en from "../../../locales/en.json";
import de from "../../../locales/de.json";

const side = (
  kind: DiagnosisKind,
  host: string,
  port: number,
  username: string,
  unreachable_port: number | null = null,
): SideReport => ({
  diagnosis: { kind, facts: kind === "ok" ? {} : { host, port, username }, detail: null },
  host,
  port,
  security: port === 993 ? "tls" : port === 465 ? "tls" : "starttls",
  username,
  elapsed_ms: 321,
  server_text: kind === "ok" ? null : "NO [AUTHENTICATIONFAILED] Authentication failed",
  unreachable_port,
  attempts: [],
});

let calls: { cmd: string; args: Record<string, unknown> }[] = [];
let verdict: DiagnosisKind = "ok";
let hold: Promise<void> | undefined;
/** Set: SMTP port 587 was not reachable and the fallback (465) gave the verdict. */
let fellBack = false;

beforeEach(() => {
  chooseLanguage(["en"]);
  calls = [];
  verdict = "ok";
  hold = undefined;
  fellBack = false;
  setPassword("abcd-efgh-ijkl-mnop");
  mockIPC(async (cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    if (cmd === "cancel_probe") return null;
    if (cmd !== "run_probe") throw new Error(`unexpected ${cmd}`);
    const channel = (args as { onEvent: Channel<ProbeEvent> }).onEvent;
    const send = (e: Partial<ProbeEvent>) =>
      channel.onmessage({
        side: "imap",
        step: "connect",
        status: "ok",
        host: "imap.mail.me.com",
        port: 993,
        elapsed_ms: 12,
        ...e,
      } as ProbeEvent);
    send({ step: "connect" });
    send({ step: "tls", elapsed_ms: 40 });
    send({ side: "smtp", step: "connect", host: "smtp.mail.me.com", port: 587 });
    if (hold) await hold;
    return {
      imap: side(verdict, "imap.mail.me.com", 993, "jane"),
      smtp: fellBack
        ? side(verdict, "smtp.mail.me.com", 465, "jane@icloud.com", 587)
        : side(verdict, "smtp.mail.me.com", 587, "jane@icloud.com"),
      domain: null,
    };
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  clearMocks();
  forgetPassword();
});

function start(): Wizard {
  return wizardAtConnectionTest();
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const next = () => document.querySelector<HTMLButtonElement>("#next")!;

describe("connection test step", () => {
  it("sends the address and password, shows each step live, then both verdicts", async () => {
    start();
    expect(next().disabled).toBe(true);
    await settle();
    const probe = calls.find((c) => c.cmd === "run_probe")!;
    expect(probe.args.address).toBe("jane@icloud.com");
    expect(probe.args.password).toBe("abcd-efgh-ijkl-mnop");
    expect(document.querySelector("#side-imap .probe-steps")!.textContent).toContain(
      "Connected to imap.mail.me.com:993 (12 ms)",
    );
    expect(document.querySelector("#side-smtp .probe-steps")!.textContent).toContain("smtp.mail.me.com:587");
    expect(document.querySelector("#verdict-imap")!.textContent).toContain(
      "signed in as jane on imap.mail.me.com:993 with SSL/TLS",
    );
    expect(document.querySelector("#verdict-smtp")!.textContent).toContain(
      "jane@icloud.com on smtp.mail.me.com:587 with STARTTLS",
    );
    expect(next().disabled).toBe(false);
    expect((document.querySelector(".test-actions") as HTMLElement).hidden).toBe(true);
    expect(document.querySelector(".port-blocked")).toBeNull();
  });

  it("says when port 587 was blocked and the fallback port gave the verdict, in the person's language", async () => {
    fellBack = true;
    start();
    await settle();
    const smtp = document.querySelector("#verdict-smtp")!;
    expect(smtp.textContent).toContain("jane@icloud.com on smtp.mail.me.com:465 with SSL/TLS");
    expect(smtp.querySelector(".port-blocked")!.textContent).toBe(en["probe.port_blocked"].replace("{port}", "587"));
    expect(document.querySelector("#verdict-imap .port-blocked")).toBeNull();
    expect(next().disabled).toBe(false);

    chooseLanguage(["de"]);
    document.body.innerHTML = '<div id="app"></div>';
    start();
    await settle();
    const note = document.querySelector("#verdict-smtp .port-blocked")!.textContent!;
    expect(note).toBe(de["probe.port_blocked"].replace("{port}", "587"));
    expect(note).not.toBe(en["probe.port_blocked"].replace("{port}", "587"));
  });

  it("explains a refused password with the app-specific password fix and the server's words as detail", async () => {
    verdict = "auth_rejected";
    start();
    await settle();
    const box = document.querySelector("#verdict-imap")!;
    expect(box.getAttribute("data-kind")).toBe("auth_rejected");
    expect(box.textContent).toContain("imap.mail.me.com refused the password for jane.");
    expect(box.textContent).toContain(en["diagnosis.auth_rejected.hint"]);
    expect(box.querySelector("details pre")!.textContent).toContain("AUTHENTICATIONFAILED");
    expect(next().disabled).toBe(true);
    expect((document.querySelector(".test-actions") as HTMLElement).hidden).toBe(false);
  });

  it("Retry runs the test again; Back to password goes back", async () => {
    verdict = "timeout";
    const w = start();
    await settle();
    verdict = "ok";
    document.querySelector<HTMLButtonElement>("#retry")!.click();
    await settle();
    expect(calls.filter((c) => c.cmd === "run_probe")).toHaveLength(2);
    expect(next().disabled).toBe(false);
    verdict = "timeout";
    document.querySelector<HTMLButtonElement>("#retry")!.click();
    await settle();
    document.querySelector<HTMLButtonElement>("#back-to-password")!.click();
    expect(w.current).toBe("welcome");
  });

  it("leaving the step while it runs cancels the test", async () => {
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const w = start();
    await settle();
    document.querySelector<HTMLButtonElement>("#back")!.click();
    expect(w.current).toBe("welcome");
    expect(calls.some((c) => c.cmd === "cancel_probe")).toBe(true);
    release();
    await settle();
    expect(document.querySelector("#verdict-imap")).toBeNull();
  });

  it("renders every failure kind of a side with its own words", async () => {
    const kinds: DiagnosisKind[] = [
      "auth_rejected",
      "tls_certificate_expired",
      "tls_certificate_wrong_host",
      "tls_certificate_untrusted",
      "tls_handshake_failed",
      "tls_verifier_unavailable",
      "starttls_unavailable",
      "connection_refused",
      "timeout",
      "dns_failure",
      "server_closed",
      "protocol_error",
    ];
    for (const kind of kinds) {
      verdict = kind;
      document.body.innerHTML = '<div id="app"></div>';
      start();
      await settle();
      const box = document.querySelector("#verdict-smtp")!;
      expect(box.getAttribute("data-kind"), kind).toBe(kind);
      expect(box.textContent, kind).not.toContain("diagnosis.");
      expect(box.textContent, kind).not.toContain("{");
      expect(box.querySelector(".message")!.textContent, kind).toBe(
        en[`diagnosis.${kind}.message` as keyof typeof en]
          .replace("{host}", "smtp.mail.me.com")
          .replace("{port}", "587")
          .replace("{username}", "jane@icloud.com"),
      );
    }
  });
});
