// The password step: guidance, the button to Apple's page, show/hide, and the soft format check.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { chooseLanguage } from "../i18n";
import { forgetPassword, password } from "../secret";
import { Wizard } from "../wizard";
import { passwordStep, APPLE_ACCOUNT_URL } from "./password";

let opened: unknown[] = [];

beforeEach(() => {
  chooseLanguage(["en"]);
  forgetPassword();
  opened = [];
  mockIPC((cmd, args) => {
    if (cmd === "plugin:opener|open_url") {
      opened.push((args as { url: string }).url);
      return null;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  document.body.innerHTML = '<div id="app"></div>';
  new Wizard(document.getElementById("app")!, [passwordStep(), passwordStep()]);
});

afterEach(() => clearMocks());

const input = () => document.querySelector<HTMLInputElement>("#password-input")!;
const status = () => document.querySelector("#password-status")!.textContent ?? "";
const next = () => document.querySelector<HTMLButtonElement>("#next")!;

function type(v: string) {
  input().value = v;
  input().dispatchEvent(new Event("input"));
}

describe("password step", () => {
  it("explains why and where, and opens Apple's page in the browser", async () => {
    const page = document.body.textContent ?? "";
    expect(page).toContain("Since 2017");
    expect(page).toContain("Sign-In and Security");
    expect(page).toContain("App-Specific Passwords");
    expect(page).toContain("normal Apple Account password will be refused");
    document.querySelector<HTMLButtonElement>("#open-apple")!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(opened).toEqual([APPLE_ACCOUNT_URL]);
  });

  it("hides the password until asked, and says so to screen readers", () => {
    const toggle = document.querySelector<HTMLButtonElement>("#password-toggle")!;
    expect(input().type).toBe("password");
    expect(toggle.getAttribute("aria-pressed")).toBe("false");
    toggle.click();
    expect(input().type).toBe("text");
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    expect(toggle.textContent).toBe("Hide");
    toggle.click();
    expect(input().type).toBe("password");
  });

  it("warns about a password that is not app-specific, but does not block", () => {
    expect(next().disabled).toBe(true);
    type("my-apple-account-pw");
    expect(status()).toContain("does not look like an app-specific password");
    expect(next().disabled).toBe(false);
    type(" ABCD-efgh-ijkl-mnop ");
    expect(status()).toBe("This looks like an app-specific password.");
    expect(password()).toBe(" ABCD-efgh-ijkl-mnop ");
  });

  it("never puts the password into an attribute of the page", () => {
    type("abcd-efgh-ijkl-mnop");
    expect(document.body.outerHTML).not.toContain("abcd-efgh-ijkl-mnop");
  });
});
