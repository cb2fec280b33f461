"""Drives a running Thunderbird over Marionette (chrome context) for tests/tests/thunderbird_dav.rs.

One JSON argument: {"port", "address", "event", "contact", "to", "subject", "wait_seconds"}. Prints one JSON line:
  calendars: [{name, uri, username, items: [titles]}] of the CalDAV calendars, once the event is there (or at the
             deadline),
  books:     [{name, url, cards: [display names]}] of the CardDAV address books, likewise for the contact,
  prompts:   every prompt that opened (the observer notifications of common dialogs, and any dialog window or
             in-window dialog open at the end),
  sent:      the outcome of nsIMsgSend.createAndSendMessage (deliver now) with the profile's identity for
             `address`: {"status": <nsresult>, "message_id"} or {"error"}.
Nothing here waits for the server: Thunderbird syncs on its own (the calendar 15 s after start, the address book
30 s after it is loaded); the script only looks.
"""

import json
import sys
import time

from marionette_driver import errors
from marionette_driver.marionette import Marionette

args = json.loads(sys.argv[1])
m = Marionette(host="127.0.0.1", port=args["port"], startup_timeout=180)
m.start_session()
m.set_context(m.CONTEXT_CHROME)
m.timeout.script = 120

# A prompt Marionette meets itself (a modal one open when a command runs): it dismisses it and says so. Each is
# noted and the command tried again, so the answer names every prompt instead of stopping at the first.
alerts = []


def run(call, *a, **k):
    for _ in range(20):
        try:
            return call(*a, **k)
        except errors.UnexpectedAlertOpen as e:
            alerts.append("marionette: " + str(e).splitlines()[0])
    raise RuntimeError("prompts kept opening: " + "; ".join(alerts))


# Every prompt from now on: common dialogs (window- or tab-modal) announce themselves with these notifications.
run(
    m.execute_script,
    """
    if (!window.__icmsPrompts) {
      window.__icmsPrompts = [];
      const note = (subject, topic) => {
        let text = "";
        try { text = subject.document?.getElementById("infoBody")?.textContent || subject.document?.title || ""; } catch (e) {}
        window.__icmsPrompts.push(topic + ": " + text);
      };
      for (const topic of ["common-dialog-loaded", "tabmodal-dialog-loaded", "auth-prompt"]) {
        Services.obs.addObserver(note, topic);
      }
    }
    """
)

LOOK = """
const [event, contact, done] = arguments;
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
(async () => {
  const calendars = [];
  for (const c of cal.manager.getCalendars().filter(c => c.type == "caldav")) {
    let items = [];
    try {
      const found = await c.getItemsAsArray(Ci.calICalendar.ITEM_FILTER_ALL_ITEMS, 0, null, null);
      items = found.map(i => i.title);
    } catch (e) { items = ["error: " + e]; }
    calendars.push({ name: c.name, uri: c.uri.spec, username: c.getProperty("username"), items });
  }
  const books = MailServices.ab.directories.filter(d => d.dirType == 102).map(d => ({
    name: d.dirName, url: d.getStringValue("carddav.url", ""), cards: d.childCards.map(c => c.displayName),
  }));
  done({ calendars, books });
})().catch(e => done({ error: String(e) }));
"""

deadline = time.time() + args["wait_seconds"]
while True:
    seen = run(m.execute_async_script, LOOK, script_args=[args["event"], args["contact"]])
    has_event = any(args["event"] in c["items"] for c in seen.get("calendars", []))
    has_contact = any(args["contact"] in b["cards"] for b in seen.get("books", []))
    if (has_event and has_contact) or time.time() > deadline:
        break
    time.sleep(2)

SEND = """
const [address, to, subject, done] = arguments;
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const account = MailServices.accounts.accounts.find(a => a.defaultIdentity && a.defaultIdentity.email == address);
if (!account) { done({ error: "no account for " + address }); return; }
const fields = Cc["@mozilla.org/messengercompose/composefields;1"].createInstance(Ci.nsIMsgCompFields);
fields.from = address;
fields.to = to;
fields.subject = subject;
const listener = {
  QueryInterface: ChromeUtils.generateQI(["nsIMsgSendListener"]),
  onStartSending() {}, onProgress() {}, onStatus() {}, onGetDraftFolderURI() {}, onSendNotPerformed() {},
  onTransportSecurityError() {},
  onStopSending(messageId, status) { this.result = { status, message_id: messageId }; },
};
const send = Cc["@mozilla.org/messengercompose/send;1"].createInstance(Ci.nsIMsgSend);
send.createAndSendMessage(
  null, account.defaultIdentity, account.key, fields, false, false, Ci.nsIMsgSend.nsMsgDeliverNow, null,
  "text/plain", "Sent by Thunderbird's own send code, with the profile iCloud Mail Setup wrote.\\r\\n", null, null,
  listener, "", "", Ci.nsIMsgCompType.New
).then(
  () => done(listener.result || { status: 0, message_id: null }),
  e => done({ error: String(e), result: listener.result || null })
);
"""
sent = run(m.execute_async_script, SEND, script_args=[args["address"], args["to"], args["subject"]])

# Prompts: those announced, and any dialog still open (a window of its own, or a dialog inside a window).
prompts = run(
    m.execute_script,
    """
    const open = [];
    for (const win of Services.wm.getEnumerator(null)) {
      const url = win.document.documentURI;
      if (/commonDialog|promptDialog|dialog\\.xhtml/i.test(url)) open.push("window: " + url);
      for (const dialog of win.document.querySelectorAll("dialog[open], .dialogOverlay[topmost='true']")) {
        open.push("in-window dialog: " + url);
      }
    }
    return window.__icmsPrompts.concat(open);
    """
)
print(json.dumps({**seen, "prompts": alerts + prompts, "sent": sent}), flush=True)
