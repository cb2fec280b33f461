// Served only by the dev server for the accessibility audit (scripts/a11y.mjs): the real wizard with its IPC
// mocked, so every step can be audited in headless Chromium. Never part of the app build.
import { mockIPC } from "@tauri-apps/api/mocks";
import { chooseLanguage } from "./i18n";
import { Wizard } from "./wizard";
import { steps } from "./steps";

mockIPC((cmd, args) => {
  const a = args as Record<string, string>;
  if (cmd === "check_address") {
    const input = a.input.trim();
    if (!input.includes("@"))
      throw { kind: "address_missing_at", message: "", hint: "", detail: null, facts: { username: input } };
    if (input.endsWith("@gmail.com"))
      throw {
        kind: "address_not_icloud",
        message: "",
        hint: "",
        detail: null,
        facts: { domain: "gmail.com", provider: "Gmail" },
      };
    return {
      address: input.toLowerCase(),
      local_part: input.split("@")[0],
      domain: "icloud.com",
      domain_unicode: "icloud.com",
      kind: { type: "icloud" },
    };
  }
  if (cmd === "plugin:opener|open_url" || cmd === "cancel_probe" || cmd === "forget_password") return null;
  if (cmd === "keychain_status")
    return {
      exists: false,
      store: "Secret Service",
      entry: { service: "icloud-mail-setup", account: "jane@icloud.com" },
    };
  if (cmd === "keychain_save")
    throw { kind: "keychain_unavailable", message: "", hint: "", detail: null, facts: { store: "Secret Service" } };
  if (cmd === "thunderbird_profiles")
    return [
      {
        name: "default-release",
        path: "/home/jane/.thunderbird/x.default-release",
        is_default: true,
        root: "/home/jane/.thunderbird",
      },
    ];
  if (cmd === "thunderbird_add") throw { kind: "thunderbird_running", message: "", hint: "", detail: null, facts: {} };
  if (cmd === "export_profile") return "/home/jane/Downloads/icloud-mail-jane@icloud.com.prf";
  if (cmd === "export_formats")
    return [
      "thunderbird-autoconfig",
      "outlook-prf",
      "outlook-autodiscover",
      "outlook-reg",
      "apple-mobileconfig",
      "neomutt",
      "aerc",
      "mbsync",
      "msmtp",
      "settings-text",
      "settings-html",
    ].map((format) => ({
      format,
      description: `${format} file`,
      experimental: format.startsWith("outlook-a") || format === "outlook-reg",
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
    const side = (host: string, port: number, username: string) => ({
      kind: verdict,
      host,
      port,
      security: port === 993 ? "tls" : "starttls",
      username,
      elapsed_ms: 120,
      message: "",
      hint: "",
      server_text: verdict === "ok" ? null : "NO [AUTHENTICATIONFAILED] Authentication failed",
      detail: null,
      unreachable_port: null,
      note: null,
      attempts: [],
    });
    return {
      imap: side("imap.mail.me.com", 993, "jane"),
      smtp: side("smtp.mail.me.com", 587, "jane@icloud.com"),
      domain: null,
    };
  }
  throw new Error(`a11y harness: no mock for ${cmd}`);
});

const params = new URLSearchParams(location.search);
chooseLanguage([params.get("lang") ?? "en"]);
const wizard = new Wizard(document.getElementById("app")!, steps());
(window as unknown as { wizard: Wizard }).wizard = wizard;
