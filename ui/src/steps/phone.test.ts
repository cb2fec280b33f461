// The phone path against a mocked core: the three taps, the code as the app drew it (without the password until the
// box is ticked, then with it, asked of the app and never of the page), the warning, the save row that never asks
// for the password, a refusal in words, the code gone when the step is left, and Done saying what to do on the phone.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { chooseLanguage } from "../i18n";
import { Wizard } from "../wizard";
import { saveStep } from "./save";
import { doneStep } from "./done";
import { svgElement } from "./phone";
import { JANE } from "./testing";
import en from "../../../locales/en.json";
import de from "../../../locales/de.json";

const diag = (kind: string, facts = {}) => ({ kind, detail: null, facts });
/** What the app draws: a tiny SVG whose title says whether it holds the password (the page cannot read a code). */
const drawn = (withPassword: boolean) =>
  `<?xml version="1.0" standalone="yes"?><svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="29" height="29" viewBox="0 0 29 29"><rect x="0" y="0" width="29" height="29" fill="#ffffff"/><path fill="#000000" d="M4 4h7v7H4V4"/><title>${withPassword ? "with" : "without"}</title></svg>`;

let calls: { cmd: string; args: Record<string, unknown> }[];
let refuse: string | null;

beforeEach(() => {
  chooseLanguage(["en"]);
  calls = [];
  refuse = null;
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "mail_apps_present":
        return ["thunderbird", "android_phone", "admin"].map((group) => ({ group, present: false }));
      case "load_settings":
        return { mail_app: "android_phone" };
      case "export_formats":
        return [{ format: "thunderbird-android-qr", group: "android_phone", experimental: false }];
      case "thunderbird_android_qr":
        if (refuse) throw diag(refuse, { address: "jürgen@family.example", character: '"ü" (U+00FC)', position: 2 });
        return drawn(a.includePassword === true);
      case "export_profile":
        return a.saveAs ? null : "/home/j/Downloads/icloud-mail-jane@icloud.com-thunderbird-android.png";
      case "save_choice":
      case "forget_password":
        return null;
    }
    throw new Error(`unexpected ${cmd}`);
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => clearMocks());

const settle = () => new Promise((r) => setTimeout(r, 0));
const box = () => document.querySelector<HTMLInputElement>("#phone-include-password")!;
const code = () => document.querySelector<HTMLElement>("#phone-code")!;
const qrCalls = () => calls.filter((c) => c.cmd === "thunderbird_android_qr").map((c) => c.args.includePassword);

function start(): Wizard {
  const state = { address: { ...JANE }, name: "Jäne", done: [] };
  return new Wizard(document.getElementById("app")!, [saveStep(), doneStep()], state);
}

async function tick(on: boolean) {
  box().checked = on;
  box().dispatchEvent(new Event("change"));
  await settle();
}

describe("the phone path", () => {
  it("shows the taps in the app and the code without the password, the box off and the warning beside it", async () => {
    start();
    await settle();
    expect(document.querySelector("#app-android_phone + label .choice-name")!.textContent).toBe(
      en["choice.android_phone.name"],
    );
    const steps = [...document.querySelectorAll("#phone-steps li")].map((li) => li.textContent);
    expect(steps).toEqual([
      en["step.save.phone_step_add"],
      en["step.save.phone_step_import"],
      en["step.save.phone_step_scan"],
    ]);
    expect(qrCalls()).toEqual([false]);
    const asked = calls.find((c) => c.cmd === "thunderbird_android_qr")!.args;
    expect(asked).toEqual({ address: "jane@icloud.com", login: null, name: "Jäne", includePassword: false });
    expect(code().querySelector("svg title")!.textContent).toBe("without");
    expect(code().dataset.password).toBe("none");
    expect(code().getAttribute("role")).toBe("img");
    expect(code().getAttribute("aria-label")).toContain("jane@icloud.com");
    expect(box().checked).toBe(false);
    expect(document.querySelector(`label[for="phone-include-password"]`)!.textContent).toBe(
      en["step.save.phone_include_password"],
    );
    expect(document.getElementById(box().getAttribute("aria-describedby")!)!.textContent).toBe(
      en["step.save.phone_warning"],
    );
  });

  it("asks the app for the code with the password only while the box is ticked", async () => {
    start();
    await settle();
    await tick(true);
    expect(qrCalls()).toEqual([false, true]);
    expect(code().querySelector("svg title")!.textContent).toBe("with");
    expect(code().dataset.password).toBe("included");
    expect(document.querySelector("#phone-outcome")!.textContent).toBe(en["step.save.phone_with_password"]);
    await tick(false);
    expect(qrCalls()).toEqual([false, true, false]);
    expect(code().dataset.password).toBe("none");
    expect(code().querySelectorAll("svg")).toHaveLength(1);
  });

  it("saves the image only when asked, and never asks for it with the password", async () => {
    start();
    await settle();
    await tick(true);
    expect(calls.some((c) => c.cmd === "export_profile")).toBe(false);
    document.querySelector<HTMLButtonElement>("#save-thunderbird-android-qr")!.click();
    await settle();
    const saved = calls.filter((c) => c.cmd === "export_profile");
    expect(saved).toHaveLength(1);
    expect(Object.keys(saved[0].args).sort()).toEqual([
      "address",
      "format",
      "lang",
      "login",
      "name",
      "saveAs",
      "withDav",
    ]);
    expect(document.querySelector("#save-path")!.textContent).toContain(en["step.save.phone_save_note"]);
  });

  it("says in words why a code cannot be made, and leaves the box off", async () => {
    refuse = "qr_code_address_not_ascii";
    start();
    await settle();
    await tick(true);
    const outcome = document.querySelector<HTMLElement>("#phone-outcome")!;
    expect(outcome.dataset.kind).toBe("qr_code_address_not_ascii");
    expect(outcome.textContent).toContain("jürgen@family.example");
    expect(outcome.textContent).toContain(en["diagnosis.qr_code_address_not_ascii.hint"]);
    expect(box().checked).toBe(false);
    expect(code().querySelector("svg")).toBeNull();
  });

  it("drops the code when the step is left, and Done says what to do on the phone", async () => {
    const w = start();
    await settle();
    await tick(true);
    await tick(false);
    const shown = code();
    w.go(1);
    await settle();
    expect(document.querySelector("#phone-code")).toBeNull();
    expect(shown.childElementCount, "the code element itself is emptied, not only taken off the page").toBe(0);
    expect(document.querySelectorAll("svg")).toHaveLength(0);
    expect(document.querySelector("#done-sentence")!.textContent).toBe(en["done.say.android_phone_with_password"]);
    expect(document.querySelector("#summary")!.textContent).toContain(en["done.android_phone"]);
    expect(document.querySelector("#copy-password-done")).toBeNull();
  });

  it("tells the phone to ask for the password when the code never held it", async () => {
    const w = start();
    await settle();
    w.go(1);
    await settle();
    expect(document.querySelector("#done-sentence")!.textContent).toBe(en["done.say.android_phone"]);
  });

  it("speaks German in a German window", async () => {
    chooseLanguage(["de"]);
    start();
    await settle();
    expect(document.querySelector("#phone-steps")!.textContent).toContain(de["step.save.phone_step_scan"]);
    expect(document.querySelector("#phone-warning")!.textContent).toBe(de["step.save.phone_warning"]);
  });
});

describe("the code's SVG", () => {
  it("becomes an element of the page only when it is one SVG image", () => {
    expect(svgElement(drawn(false))!.nodeName).toBe("svg");
    expect(svgElement("<html><body>no</body></html>")).toBeNull();
    expect(svgElement("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")).toBeNull();
    expect(svgElement("<svg xmlns='http://www.w3.org/2000/svg'><rect")).toBeNull();
  });
});
