// The optional send test on the connection step, against a mocked core: offered only after a passed test, never
// started by itself, the app's held password (none from the page), live steps, one verdict in the page's words,
// cancelled when the step is left.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import type { DiagnosisKind } from "../bindings/DiagnosisKind";
import type { SendEvent } from "../bindings/SendEvent";
import type { SendReport } from "../bindings/SendReport";
import type { SideReport } from "../bindings/SideReport";
import { chooseLanguage } from "../i18n";
import { forgetPassword, setPassword } from "../secret";
import type { Wizard } from "../wizard";
import { wizardAtConnectionTest } from "./testing";
import en from "../../../locales/en.json";
import de from "../../../locales/de.json";

const side = (kind: DiagnosisKind, host: string, port: number, username: string): SideReport => ({
  diagnosis: { kind, facts: {}, detail: null },
  host,
  port,
  security: port === 993 ? "tls" : "starttls",
  username,
  elapsed_ms: 321,
  server_text: null,
  unreachable_port: null,
  attempts: [],
});

let calls: { cmd: string; args: Record<string, unknown> }[] = [];
let probeKind: DiagnosisKind = "ok";
let sendKind: DiagnosisKind = "ok";
let hold: Promise<void> | undefined;

beforeEach(() => {
  chooseLanguage(["en"]);
  calls = [];
  probeKind = "ok";
  sendKind = "ok";
  hold = undefined;
  setPassword("abcd-efgh-ijkl-mnop");
  mockIPC(async (cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    if (cmd === "cancel_probe" || cmd === "cancel_send_test") return null;
    if (cmd === "run_probe") {
      return {
        imap: side(probeKind, "imap.mail.me.com", 993, "jane"),
        smtp: side(probeKind, "smtp.mail.me.com", 587, "jane@icloud.com"),
        domain: null,
      };
    }
    if (cmd !== "run_send_test") throw new Error(`unexpected ${cmd}`);
    const channel = (args as { onEvent: Channel<SendEvent> }).onEvent;
    const send = (e: SendEvent) => channel.onmessage(e);
    const rejected = sendKind === "sender_rejected" || sendKind === "message_refused";
    send({ step: "sent", status: rejected ? "failed" : "ok", elapsed_ms: 410 });
    if (hold) await hold;
    if (!rejected) send({ step: "arrived", status: sendKind === "ok" ? "ok" : "failed", elapsed_ms: 530 });
    if (sendKind === "ok") send({ step: "removed", status: "ok", elapsed_ms: 600 });
    const report: SendReport = {
      diagnosis: {
        kind: sendKind,
        facts: {
          address: "jane@icloud.com",
          ...(sendKind === "message_not_received" ? { seconds: 30 } : {}),
          ...(sendKind === "message_refused" ? { command: "end of DATA" } : {}),
        },
        detail: null,
      },
      elapsed_ms: 600,
      server_text:
        sendKind === "message_refused"
          ? "552 5.3.4 Message size exceeds fixed maximum message size"
          : rejected
            ? "550 5.7.1 <jane@icloud.com>: sender address rejected: not one of your addresses"
            : null,
      sent_ms: rejected ? null : 410,
      arrived_ms: sendKind === "ok" ? 530 : null,
      removed_ms: sendKind === "ok" ? 600 : null,
    };
    return report;
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  clearMocks();
  forgetPassword();
});

function start(): Wizard {
  return wizardAtConnectionTest("Jane Doe");
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const section = () => document.querySelector<HTMLElement>("#send-test")!;
const button = () => document.querySelector<HTMLButtonElement>("#send-test-button")!;
const next = () => document.querySelector<HTMLButtonElement>("#next")!;

describe("send test", () => {
  it("is offered only after a passed test and never starts by itself", async () => {
    probeKind = "auth_rejected";
    start();
    await settle();
    expect(section().hidden).toBe(true);
    probeKind = "ok";
    document.querySelector<HTMLButtonElement>("#retry")!.click();
    await settle();
    expect(section().hidden).toBe(false);
    expect(section().textContent).toContain("one message from jane@icloud.com to jane@icloud.com");
    expect(button().textContent).toBe(en["step.test.send_button"]);
    expect(calls.some((c) => c.cmd === "run_send_test")).toBe(false);
  });

  it("uses the app's password, shows sent → arrived → removed live, and one verdict", async () => {
    start();
    await settle();
    button().click();
    await settle();
    const call = calls.find((c) => c.cmd === "run_send_test")!;
    expect(call.args.address).toBe("jane@icloud.com");
    expect(call.args.name).toBe("Jane Doe");
    expect(call.args.lang).toBe("en");
    expect(JSON.stringify(call.args)).not.toContain("abcd-efgh-ijkl-mnop");
    const steps = [...document.querySelectorAll("#send-steps li")].map((li) => li.textContent);
    expect(steps).toEqual(["Sent (410 ms)", "Arrived in the inbox (530 ms)", "Removed from the inbox (600 ms)"]);
    const verdict = document.querySelector("#verdict-send")!;
    expect(verdict.className).toBe("verdict ok");
    expect(verdict.textContent).toBe(
      en["step.test.send_ok"].replace("{address}", "jane@icloud.com").replace("{ms}", "530"),
    );
    expect(next().disabled).toBe(false);
  });

  it("explains a refused sender in the page's language with the server's words as detail", async () => {
    chooseLanguage(["de"]);
    sendKind = "sender_rejected";
    start();
    await settle();
    button().click();
    await settle();
    const verdict = document.querySelector("#verdict-send")!;
    expect(verdict.getAttribute("data-kind")).toBe("sender_rejected");
    expect(verdict.querySelector(".message")!.textContent).toBe(
      de["diagnosis.sender_rejected.message"].replace("{address}", "jane@icloud.com"),
    );
    expect(verdict.querySelector(".hint")!.textContent).toBe(de["diagnosis.sender_rejected.hint"]);
    expect(verdict.querySelector("details pre")!.textContent).toContain("not one of your addresses");
    expect([...document.querySelectorAll("#send-steps li")].map((li) => li.textContent)).toEqual([
      "Nicht gesendet (410 ms)",
    ]);
  });

  it("says the message itself was refused, where and in the server's words, without blaming the address", async () => {
    sendKind = "message_refused";
    start();
    await settle();
    button().click();
    await settle();
    const verdict = document.querySelector("#verdict-send")!;
    expect(verdict.getAttribute("data-kind")).toBe("message_refused");
    expect(verdict.textContent).toContain(
      en["diagnosis.message_refused.message"]
        .replace("{address}", "jane@icloud.com")
        .replace("{command}", "end of DATA"),
    );
    expect(verdict.textContent).toContain("552 5.3.4 Message size exceeds fixed maximum message size");
    expect(verdict.textContent).not.toContain(en["diagnosis.sender_rejected.hint"]);
  });

  it("says a message that did not arrive may still come", async () => {
    sendKind = "message_not_received";
    start();
    await settle();
    button().click();
    await settle();
    const verdict = document.querySelector("#verdict-send")!;
    expect(verdict.getAttribute("data-kind")).toBe("message_not_received");
    expect(verdict.textContent).toContain("within 30 seconds");
    expect(verdict.textContent).toContain(en["diagnosis.message_not_received.hint"]);
  });

  it("leaving the step while it runs cancels the send test", async () => {
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const w = start();
    await settle();
    button().click();
    await settle();
    expect(next().disabled).toBe(true);
    document.querySelector<HTMLButtonElement>("#back")!.click();
    expect(w.current).toBe("welcome");
    expect(calls.some((c) => c.cmd === "cancel_send_test")).toBe(true);
    release();
    await settle();
  });
});
