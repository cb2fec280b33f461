// Served only by the dev server for the accessibility audit (scripts/a11y.mjs): the real wizard with its IPC
// mocked, so every step can be audited in headless Chromium. Never part of the app build.
import { mockIPC } from "@tauri-apps/api/mocks";
import { loadLanguage } from "./i18n";
import { Wizard } from "./wizard";
import { steps } from "./steps";

/** A diagnosis as the core sends it: a kind, its facts, the technical detail; no words. */
const diagnosis = (kind: string, facts: Record<string, unknown> = {}, detail: string | null = null) => ({
  kind,
  facts,
  detail,
});

mockIPC((cmd, args) => {
  const a = args as Record<string, string>;
  if (cmd === "check_address") {
    const input = a.input.trim();
    if (!input.includes("@")) throw diagnosis("address_missing_at", { username: input });
    if (input.endsWith("@gmail.com")) throw diagnosis("address_not_icloud", { domain: "gmail.com", provider: "Gmail" });
    return {
      address: input.toLowerCase(),
      local_part: input.split("@")[0],
      domain: "icloud.com",
      domain_unicode: "icloud.com",
      kind: { type: "icloud" },
    };
  }
  if (cmd === "plugin:opener|open_url" || cmd === "cancel_probe" || cmd === "forget_password") return null;
  if (cmd === "os_full_name") return "Jane Doe";
  if (cmd === "check_name") return a.input.trim() || null;
  if (cmd === "keychain_status")
    return {
      exists: false,
      store: "Secret Service",
      entry: { service: "icloud-mail-setup", account: "jane@icloud.com" },
    };
  if (cmd === "keychain_save") throw diagnosis("keychain_unavailable", { store: "Secret Service" });
  if (cmd === "thunderbird_profiles")
    return [
      {
        name: "default-release",
        path: "/home/jane/.thunderbird/x.default-release",
        is_default: true,
        root: "/home/jane/.thunderbird",
      },
    ];
  if (cmd === "thunderbird_add") {
    // The scenario with Thunderbird's outcome: the account, a calendar and the address book added.
    if (new URLSearchParams(location.search).get("tb") !== "added") throw diagnosis("thunderbird_running");
    return {
      outcome: "added",
      profile: "/home/jane/.thunderbird/x.default-release",
      account_key: "account1",
      server_key: "server1",
      identity_key: "id1",
      smtp_key: "smtp1",
      warnings: [],
      password_stored: true,
      password_backups: [],
      dav: {
        calendars: [{ name: "Home", url: "https://p23-caldav.icloud.com/1234/calendars/home/", added: true }],
        addressbooks: [{ name: "card", url: "https://p23-contacts.icloud.com/1234/carddavhome/card/", added: false }],
      },
    };
  }
  if (cmd === "copy_password") return 60;
  // The save step's question: Thunderbird found (preselected), unless the scenario wants the bare question.
  if (cmd === "mail_apps_present") {
    const found = new URLSearchParams(location.search).get("apps") !== "none";
    return ["thunderbird", "outlook", "apple_mail", "android_phone", "other_app", "terminal", "admin"].map((group) => ({
      group,
      present: found && group === "thunderbird",
      asks_for_password: ["outlook", "apple_mail", "other_app"].includes(group),
    }));
  }
  if (cmd === "load_settings") return { mail_app: null };
  if (cmd === "save_choice") return null;
  // A stand-in for the app's QR code (the audit reads the page, not the code): dark modules on a light square.
  if (cmd === "thunderbird_android_qr")
    return '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="29" height="29" viewBox="0 0 29 29"><rect x="0" y="0" width="29" height="29" fill="#ffffff"/><path fill="#000000" d="M4 4h7v7H4V4M18 4h7v7h-7V4M4 18h7v7H4v-7"/></svg>';
  if (cmd === "export_profile") return "/home/jane/Downloads/icloud-mail-jane@icloud.com.prf";
  // As the core lists them: by mail-app group in the save step's order, then the registry's order.
  if (cmd === "export_formats")
    return [
      ["outlook-prf", "outlook"],
      ["apple-mobileconfig", "apple_mail"],
      ["thunderbird-android-qr", "android_phone"],
      ["settings-text", "other_app"],
      ["settings-html", "other_app"],
      ["neomutt", "terminal"],
      ["aerc", "terminal"],
      ["mbsync", "terminal"],
      ["msmtp", "terminal"],
      ["thunderbird-autoconfig", "admin"],
      ["outlook-autodiscover", "admin"],
      ["outlook-reg", "admin"],
    ].map(([format, group]) => ({
      format,
      group,
      experimental: format === "outlook-autodiscover" || format === "outlook-reg",
    }));
  if (cmd === "run_probe") {
    const verdict = new URLSearchParams(location.search).get("verdict") ?? "ok";
    const channel = (args as unknown as { onEvent: { onmessage: (e: unknown) => void } }).onEvent;
    for (const [side, host, port] of [
      ["imap", "imap.mail.me.com", 993],
      ["smtp", "smtp.mail.me.com", 587],
    ] as const) {
      for (const step of ["connect", "tls", "greeting"])
        channel.onmessage({ side, step, status: "ok", host, port, elapsed_ms: 40 });
      channel.onmessage({ side, step: "auth", status: verdict === "ok" ? "ok" : "failed", host, port, elapsed_ms: 90 });
    }
    // Calendars and contacts: found, or (with `dav=<kind>`) not, for its own reason; with `dav=looking` still
    // looked for (signed in, never listed: no verdict comes).
    const dav = new URLSearchParams(location.search).get("dav") ?? "ok";
    const looking = dav === "looking";
    for (const [side, host] of [
      ["caldav", "caldav.icloud.com"],
      ["carddav", "contacts.icloud.com"],
    ] as const) {
      for (const step of ["connect", "tls"])
        channel.onmessage({ side, step, status: "ok", host, port: 443, elapsed_ms: 50 });
      const signedIn = dav !== "auth_rejected";
      channel.onmessage({ side, step: "auth", status: signedIn ? "ok" : "failed", host, port: 443, elapsed_ms: 80 });
      if (signedIn && !looking)
        channel.onmessage({
          side,
          step: "discover",
          status: dav === "ok" ? "ok" : "failed",
          host,
          port: 443,
          elapsed_ms: 130,
        });
    }
    // CardDAV's own word for an empty home: no address book (not "no calendars").
    const davReport = (host: string, partition: string, found: Record<string, unknown>) => ({
      diagnosis: diagnosis(
        dav === "no_calendars_found" && host.startsWith("contacts") ? "no_address_book_found" : dav,
        dav === "ok" ? {} : { host, port: 443, username: "jane@icloud.com" },
      ),
      host,
      port: 443,
      username: "jane@icloud.com",
      principal: `https://${host}/1234/principal/`,
      home: `https://${partition}/1234/home/`,
      realm: "MMCalDav",
      elapsed_ms: 140,
      server_text: dav === "ok" ? null : "HTTP/1.1 401 Unauthorized",
      requests: 4,
      redirects: [],
      ...(dav === "ok" ? found : {}),
    });
    const side = (host: string, port: number, username: string, unreachable_port: number | null = null) => ({
      diagnosis: diagnosis(verdict, verdict === "ok" ? {} : { host, port, username }),
      host,
      port,
      security: port === 993 || port === 465 ? "tls" : "starttls",
      username,
      elapsed_ms: 120,
      server_text: verdict === "ok" ? null : "NO [AUTHENTICATIONFAILED] Authentication failed",
      unreachable_port,
      attempts: [],
    });
    // They come on their own channel, after the mail verdict (unless still looked for).
    const onDav = (args as unknown as { onDav: { onmessage: (d: unknown) => void } }).onDav;
    const found = {
      caldav: davReport("caldav.icloud.com", "p23-caldav.icloud.com", {
        calendars: [
          { name: "Home", url: "https://p23-caldav.icloud.com/1234/calendars/home/", color: "#1BADF8" },
          { name: "Work", url: "https://p23-caldav.icloud.com/1234/calendars/work/", color: null },
        ],
      }),
      carddav: davReport("contacts.icloud.com", "p23-contacts.icloud.com", {
        addressbooks: [{ name: "card", url: "https://p23-contacts.icloud.com/1234/carddavhome/card/" }],
      }),
    };
    if (!looking) setTimeout(() => onDav.onmessage(found), 0);
    // The outgoing side went through the fallback (port 587 blocked), so the note about it is audited too.
    return {
      imap: side("imap.mail.me.com", 993, "jane"),
      smtp: side("smtp.mail.me.com", 465, "jane@icloud.com", 587),
      domain: null,
    };
  }
  throw new Error(`a11y harness: no mock for ${cmd}`);
});

const params = new URLSearchParams(location.search);
void loadLanguage([params.get("lang") ?? "en"]).then(() => {
  const wizard = new Wizard(document.getElementById("app")!, steps());
  (window as unknown as { wizard: Wizard }).wizard = wizard;
});
