// The Address step against a mocked core: what a person sees as they type, and whether Next lets them on.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { chooseLanguage, t } from "../i18n";
import { Wizard } from "../wizard";
import { steps } from "./index";
import en from "../../../locales/en.json";
import de from "../../../locales/de.json";

const icloud = (address: string) => ({
  address,
  local_part: address.split("@")[0],
  domain: "icloud.com",
  domain_unicode: "icloud.com",
  kind: { type: "icloud" },
});

function diagnosis(kind: string, facts: Record<string, unknown> = {}) {
  return { kind, detail: null, facts };
}

let calls: string[] = [];
let domainChecks: unknown[] = [];
let domainAnswer: "ok" | "domain_not_icloud" | "hang" = "ok";

/** What the OS reports as the account's full name. */
let osName: string | null;

beforeEach(() => {
  vi.useFakeTimers();
  osName = null;
  calls = [];
  domainChecks = [];
  domainAnswer = "ok";
  chooseLanguage(["en-GB"]);
  mockIPC((cmd, args) => {
    if (cmd === "check_domain") {
      domainChecks.push(args);
      const domain = (args as { address: string }).address.split("@")[1];
      if (domainAnswer === "hang") return new Promise(() => {});
      const exchanges = domainAnswer === "ok" ? ["mx01.mail.icloud.com."] : ["mx.elsewhere.example."];
      return { diagnosis: diagnosis(domainAnswer, { domain }), domain, exchanges, elapsed_ms: 5 };
    }
    if (cmd === "os_full_name") return osName;
    if (cmd === "check_name") {
      const input = (args as { input: string }).input;
      const bidi = [...input].findIndex((c) => c === "\u202e");
      if (bidi >= 0) throw diagnosis("name_character_not_allowed", { character: "U+202E", position: bidi + 1 });
      return input.trim() || null;
    }
    if (cmd !== "check_address") throw new Error(`unexpected command ${cmd}`);
    const input = (args as { input: string }).input;
    calls.push(input);
    if (input === "") throw diagnosis("address_empty");
    if (!input.includes("@")) throw diagnosis("address_missing_at", { username: input });
    if (input.endsWith("@gmail.com")) throw diagnosis("address_not_icloud", { domain: "gmail.com", provider: "Gmail" });
    if (input.endsWith("@family.example"))
      return { ...icloud(input), domain: "family.example", domain_unicode: "family.example", kind: { type: "custom" } };
    return icloud(input.trim().toLowerCase());
  });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

async function type(value: string) {
  const input = document.querySelector<HTMLInputElement>("#address-input")!;
  input.value = value;
  input.dispatchEvent(new Event("input"));
  await vi.advanceTimersByTimeAsync(200);
}

function status(): string {
  return document.querySelector("#address-status")!.textContent ?? "";
}

function next(): HTMLButtonElement {
  return document.querySelector<HTMLButtonElement>("#next")!;
}

describe("Address step", () => {
  it("validates as the person types and only then allows Next", async () => {
    const wizard = new Wizard(document.getElementById("app")!, steps());
    next().click();
    expect(wizard.current).toBe("address");
    expect(document.querySelector("h1")!.textContent).toBe(en["step.address.title"]);
    expect(next().disabled).toBe(true);

    await type("johnsmith");
    expect(status()).toContain("An email address needs an @");
    expect(status()).toContain("johnsmith@icloud.com");
    expect(document.querySelector("#address-input")!.getAttribute("aria-invalid")).toBe("true");
    expect(next().disabled).toBe(true);

    await type(" JohnSmith@iCloud.com ");
    expect(status()).toContain("johnsmith@icloud.com is an iCloud Mail address.");
    expect(next().disabled).toBe(false);
    next().click();
    expect(wizard.current).toBe("password");
    expect(wizard.state.address?.address).toBe("johnsmith@icloud.com");
  });

  it("explains other providers in the page's own words, from the kind and facts", async () => {
    new Wizard(document.getElementById("app")!, steps()).go(1);
    await type("someone@gmail.com");
    expect(status()).toContain("gmail.com is Gmail, not iCloud Mail.");
    expect(next().disabled).toBe(true);
  });

  it("checks a custom domain, then asks for the primary iCloud login and explains why", async () => {
    const wizard = new Wizard(document.getElementById("app")!, steps());
    wizard.go(1);
    await type("jane@family.example");
    expect(domainChecks).toEqual([{ address: "jane@family.example" }]);
    expect(status()).toContain(en["probe.domain_ok"].replace("{domain}", "family.example"));
    expect(status()).toContain(en["probe.domain_ok_hint"]);
    expect(document.querySelector("#domain-status")!.getAttribute("data-kind")).toBe("ok");
    expect(document.querySelector("#login-why")!.textContent).toContain("not with family.example");
    expect(next().disabled).toBe(true);
    const login = document.querySelector<HTMLInputElement>("#login-input")!;
    login.value = "someone@gmail.com";
    login.dispatchEvent(new Event("input"));
    await vi.advanceTimersByTimeAsync(200);
    expect(document.querySelector("#login-status")!.textContent).toContain("Gmail");
    expect(next().disabled).toBe(true);
    login.value = "Jane.Doe@iCloud.com";
    login.dispatchEvent(new Event("input"));
    await vi.advanceTimersByTimeAsync(200);
    expect(document.querySelector("#login-status")!.textContent).toContain("jane.doe@icloud.com will sign in.");
    expect(next().disabled).toBe(false);
    next().click();
    expect(wizard.state.login).toBe("jane.doe@icloud.com");
  });

  it("says when a custom domain is not on iCloud, and lets the person skip a slow check", async () => {
    domainAnswer = "domain_not_icloud";
    new Wizard(document.getElementById("app")!, steps()).go(1);
    await type("jane@family.example");
    expect(status()).toContain("family.example does not receive its mail through iCloud.");
    expect(document.querySelector("#domain-status")!.getAttribute("data-kind")).toBe("domain_not_icloud");
    document.body.innerHTML = '<div id="app"></div>';
    domainAnswer = "hang";
    new Wizard(document.getElementById("app")!, steps()).go(1);
    await type("jane@family.example");
    expect(document.querySelector("#domain-status")!.getAttribute("aria-busy")).toBe("true");
    expect((document.querySelector(".login-box") as HTMLElement).hidden).toBe(true);
    document.querySelector<HTMLButtonElement>("#skip-domain-check")!.click();
    expect(status()).toContain("Check skipped.");
    expect((document.querySelector(".login-box") as HTMLElement).hidden).toBe(false);
  });

  it("waits for a pause in typing and ignores answers to older keystrokes", async () => {
    new Wizard(document.getElementById("app")!, steps()).go(1);
    const input = document.querySelector<HTMLInputElement>("#address-input")!;
    for (const value of ["j", "jo", "joh", "john@icloud.com"]) {
      input.value = value;
      input.dispatchEvent(new Event("input"));
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["john@icloud.com"]);
    expect(status()).toContain("john@icloud.com is an iCloud Mail address.");
  });

  it("Enter moves on only when the address is valid, and Back keeps it", async () => {
    const wizard = new Wizard(document.getElementById("app")!, steps());
    wizard.go(1);
    // Enter as the browser delivers it: a keydown in a field (with two fields, the form alone would not submit).
    const enter = (css: string) =>
      document
        .querySelector(css)!
        .dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    await type("nope");
    enter("#address-input");
    expect(wizard.current).toBe("address");
    await type("jane@me.com");
    enter("#address-input");
    expect(wizard.current).toBe("password");
    document.querySelector<HTMLButtonElement>("#back")!.click();
    enter("#name-input");
    expect(wizard.current).toBe("password");
    document.querySelector<HTMLButtonElement>("#back")!.click();
    expect(wizard.current).toBe("address");
    expect(document.querySelector<HTMLInputElement>("#address-input")!.value).toBe("jane@me.com");
    expect(document.activeElement).toBe(document.querySelector("h1"));
  });

  it("prefills the name from the computer's account, checks what is typed, and blocks Next on a refused one", async () => {
    osName = "Jane Doe";
    const wizard = new Wizard(document.getElementById("app")!, steps());
    next().click();
    await vi.advanceTimersByTimeAsync(10);
    const name = document.querySelector<HTMLInputElement>("#name-input")!;
    expect(name.value).toBe("Jane Doe");
    expect(document.querySelector("label[for=name-input]")!.textContent).toBe(t("step.address.name_label"));
    await type("jane@icloud.com");
    expect(next().disabled).toBe(false);
    name.value = "Jane\u202eDoe";
    name.dispatchEvent(new Event("input"));
    await vi.advanceTimersByTimeAsync(200);
    expect(document.querySelector("#name-status")!.textContent).toContain(
      t("diagnosis.name_character_not_allowed.message", { character: "U+202E", position: 5 }),
    );
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(next().disabled).toBe(true);
    name.value = "Jane Doe-Smith";
    name.dispatchEvent(new Event("input"));
    await vi.advanceTimersByTimeAsync(200);
    expect(next().disabled).toBe(false);
    expect(wizard.state.name).toBe("Jane Doe-Smith");
  });

  it("speaks German when the OS does", async () => {
    chooseLanguage(["de-DE", "en"]);
    new Wizard(document.getElementById("app")!, steps()).go(1);
    await type("johnsmith");
    expect(status()).toContain("Eine E-Mail-Adresse braucht ein @");
    await type("jane@family.example");
    expect(status()).toContain(de["probe.domain_ok"].replace("{domain}", "family.example"));
  });
});
