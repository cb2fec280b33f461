import { afterEach, describe, expect, it, vi } from "vitest";
import { KEEP_PASSWORD_MS, forgetPassword, hasPassword, password, setPassword } from "./secret";

describe("the page's copy of the password", () => {
  afterEach(() => {
    forgetPassword();
    vi.useRealTimers();
  });

  it("is forgotten on the app's own timer, counted from the last time it was typed", () => {
    vi.useFakeTimers();
    setPassword("abcd-efgh-ijkl-mnop");
    vi.advanceTimersByTime(KEEP_PASSWORD_MS - 1000);
    expect(password()).toBe("abcd-efgh-ijkl-mnop");
    setPassword("abcd-efgh-ijkl-mnoq");
    vi.advanceTimersByTime(KEEP_PASSWORD_MS - 1000);
    expect(hasPassword()).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(hasPassword()).toBe(false);
    expect(password()).toBe("");
  });
});
