// Accessibility audit: every wizard step (IPC mocked) in headless Chromium, light and dark, through axe-core.
// Exits 1 on any violation. Needs Debian's chromium (scripts/install.sh test installs it).
import { createServer } from "vite";
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// Each scenario brings the wizard into one state a person can see.
const scenarios = [
  { name: "welcome", act: async () => {} },
  { name: "address-empty", act: async (p) => next(p) },
  { name: "address-invalid", act: async (p) => { await next(p); await p.fill("#address-input", "johnsmith"); await p.waitForSelector(".status.problem"); } },
  { name: "address-other-provider", act: async (p) => { await next(p); await p.fill("#address-input", "x@gmail.com"); await p.waitForSelector(".status.problem"); } },
  { name: "address-valid", act: async (p) => { await next(p); await p.fill("#address-input", "jane@icloud.com"); await p.waitForSelector(".status.ok"); } },
  { name: "password-warn", act: async (p) => { await toPassword(p); await p.fill("#password-input", "not-app-specific"); } },
  { name: "test-ok", act: async (p) => { await toTest(p); await p.waitForSelector(".verdict.ok"); await p.waitForSelector("#dav-found-caldav .swatch"); } },
  { name: "test-refused", query: "&verdict=auth_rejected", act: async (p) => { await toTest(p); await p.waitForSelector(".verdict.problem"); await p.click("details summary"); } },
  { name: "test-dav-refused", query: "&dav=auth_rejected", act: async (p) => { await toTest(p); await p.waitForSelector("#verdict-caldav.problem"); await p.click("#verdict-caldav details summary"); } },
  { name: "test-dav-no-calendars", query: "&dav=no_calendars_found", act: async (p) => { await toTest(p); await p.waitForSelector("#verdict-carddav.problem"); } },
  { name: "test-dav-looking", query: "&dav=looking", act: async (p) => { await toTest(p); await p.waitForSelector("#verdict-imap.ok"); await p.waitForSelector("#next:enabled"); } },
  { name: "save-question", query: "&apps=none", act: async (p) => { await toSave(p); await p.waitForSelector("#app-outlook"); } },
  { name: "save-thunderbird", act: async (p) => { await toSave(p); await p.waitForSelector("#tb-add-0"); await p.click("#tb-add-0"); await p.waitForSelector("#tb-profiles .outcome.problem"); } },
  { name: "save-thunderbird-dav-added", query: "&tb=added", act: async (p) => { await toSave(p); await p.waitForSelector("#tb-with-dav:checked"); await p.click("#tb-add-0"); await p.waitForSelector("#tb-dav-added-0"); } },
  { name: "save-thunderbird-dav-unavailable", query: "&dav=dav_refused", act: async (p) => { await toSave(p); await p.waitForSelector("#tb-with-dav:disabled"); } },
  { name: "save-thunderbird-dav-looking", query: "&dav=looking", act: async (p) => { await toSave(p); await p.waitForSelector("#tb-dav[data-choice=looking] #tb-with-dav:disabled"); } },
  { name: "save-outlook", act: async (p) => { await toSave(p); await choose(p, "outlook"); await p.click("#save-outlook-prf"); await p.waitForSelector("#outlook-import-command"); await p.click("#copy-password-outlook"); await p.waitForSelector("#copy-password-outlook-status.ok"); } },
  { name: "save-apple-mail", act: async (p) => { await toSave(p); await choose(p, "apple_mail"); await p.waitForSelector("#save-apple-mobileconfig"); } },
  { name: "save-android-phone", act: async (p) => { await toSave(p); await choose(p, "android_phone"); await p.waitForSelector("#phone-code svg"); await p.check("#phone-include-password"); await p.waitForSelector("#phone-code[data-password=included]"); } },
  { name: "save-terminal", act: async (p) => { await toSave(p); await choose(p, "terminal"); await p.click("#keychain-save"); await p.waitForSelector("#keychain-outcome.problem"); await p.click("#save-msmtp"); await p.waitForSelector(".format .outcome.ok"); } },
  { name: "save-all-files", act: async (p) => { await toSave(p); await choose(p, "admin"); await p.waitForSelector("#save-outlook-reg"); await p.click("#save-outlook-prf"); await p.waitForSelector(".format .outcome.ok"); } },
  { name: "done", act: async (p) => { await toSave(p); await choose(p, "outlook"); await p.click("#save-outlook-prf"); await p.waitForSelector(".format .outcome.ok"); await p.click("#next"); await p.waitForSelector("#done-sentence"); await p.click("#done-details summary"); } },
  { name: "password-shown", act: async (p) => { await toPassword(p); await p.fill("#password-input", "abcd-efgh-ijkl-mnop"); await p.click("#password-toggle"); } },
];

async function toTest(page) {
  await toPassword(page);
  await page.fill("#password-input", "abcd-efgh-ijkl-mnop");
  await page.click("#next");
  await page.waitForSelector("#side-imap");
}
async function toSave(page) {
  await toTest(page);
  await page.waitForSelector(".verdict.ok");
  await page.click("#next");
  await page.waitForSelector("#mail-app");
}
async function choose(page, group) {
  await page.waitForSelector(`#app-${group}`);
  await page.check(`#app-${group}`);
  await page.waitForSelector(`#save-path[data-group="${group}"]`);
}
async function next(page) {
  await page.click("#next");
}
async function toPassword(page) {
  await next(page);
  await page.fill("#address-input", "jane@icloud.com");
  await page.waitForSelector(".status.ok");
  await page.click("#next");
  await page.waitForSelector("#password-input");
}

const server = await createServer({ configFile: "ui/vite.config.ts", server: { port: 0, host: "127.0.0.1" }, logLevel: "error" });
await server.listen();
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
});
let violations = 0;
let audits = 0;
try {
  for (const colorScheme of ["light", "dark"]) {
    for (const lang of ["en", "de"]) {
      for (const s of scenarios) {
        const page = await browser.newPage({ colorScheme, viewport: { width: 760, height: 600 } });
        await page.goto(`${url}a11y.html?lang=${lang}${s.query ?? ""}`);
        await page.waitForSelector("h1.step-title");
        await s.act(page);
        await page.addScriptTag({ content: axeSource });
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
        audits++;
        for (const v of result.violations) {
          violations++;
          console.error(`[${colorScheme}/${lang}/${s.name}] ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }
        await page.close();
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`axe: ${audits} audits, ${violations} violations`);
process.exit(violations === 0 ? 0 : 1);
