import { describe, expect, it } from "vitest";
import { osFromUserAgent } from "./platform";

describe("osFromUserAgent", () => {
  it("knows each web view the app runs in", () => {
    const webview2 =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
    const wkwebview = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)";
    const webkitgtk =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
    expect(osFromUserAgent(webview2)).toBe("windows");
    expect(osFromUserAgent(wkwebview)).toBe("macos");
    expect(osFromUserAgent(webkitgtk)).toBe("linux");
  });
});
