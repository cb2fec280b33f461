// "Copy password" asks the app and says what happened; the page never receives the password.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { copyPasswordControl } from "./copy-password";
import { chooseLanguage, t } from "./i18n";

let answer: "copied" | "not_held";
const settle = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  chooseLanguage(["en"]);
  answer = "copied";
  mockIPC((cmd) => {
    if (cmd !== "copy_password") throw new Error(`unexpected ${cmd}`);
    if (answer === "not_held") throw { kind: "password_needed", detail: null, facts: {} };
    return 60;
  });
  document.body.innerHTML = "";
});

afterEach(() => clearMocks());

describe("copy password", () => {
  it("says the password is on the clipboard and when it is emptied", async () => {
    document.body.append(copyPasswordControl("copy-x", "jane@icloud.com", null));
    const button = document.querySelector<HTMLButtonElement>("#copy-x")!;
    expect(button.textContent).toBe(t("copy.button"));
    expect(button.getAttribute("aria-label")).toBe(t("copy.label"));
    // The visible words are part of the accessible name (WCAG 2.5.3, checked by axe in both languages too).
    expect(button.getAttribute("aria-label")).toContain(button.textContent);
    button.click();
    await settle();
    const status = document.querySelector("#copy-x-status")!;
    expect(status.textContent).toBe(t("copy.copied", { seconds: 60 }));
    expect(status.getAttribute("role")).toBe("status");
    expect(document.body.innerHTML).not.toContain("abcd");
  });

  it("explains when the app no longer has a password to copy", async () => {
    answer = "not_held";
    document.body.append(copyPasswordControl("copy-y", "jane@icloud.com", null));
    document.querySelector<HTMLButtonElement>("#copy-y")!.click();
    await settle();
    const status = document.querySelector("#copy-y-status")!;
    expect(status.getAttribute("data-kind")).toBe("password_needed");
    expect(status.textContent).toContain(t("diagnosis.password_needed.message"));
  });
});
