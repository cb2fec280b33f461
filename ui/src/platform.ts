// Which desktop the page runs on, from the web view's user agent (WebView2, WKWebView or WebKitGTK), for the few
// things that differ by platform (the font stack).
export type Os = "windows" | "macos" | "linux";

export function osFromUserAgent(ua: string): Os {
  if (/Windows/.test(ua)) return "windows";
  if (/Macintosh|Mac OS X/.test(ua)) return "macos";
  return "linux";
}
