// Done: a sentence or two for the mail app chosen on the save step (Thunderbird signs in or asks once, Outlook and
// Apple Mail ask once, a terminal client reads the keychain), "Copy password" where that app will ask, and what was
// saved where behind "Details". The app drops the tested password when the person leaves this step.
import type { WizardState } from "../wizard";
import { copyPasswordControl } from "../copy-password";
import { t } from "../i18n";
import { forgetTestedPassword } from "../ipc";
import { forgetPassword } from "../secret";
import { asksForPassword } from "./save";
import { el, text, type Step, type StepContext } from "../wizard";

/** What the Done step says for the chosen app: the catalogue key of its sentence, and whether that app will ask
 * for the password (so "Copy password" belongs beside it). */
export function doneSentence(state: WizardState): { key: string; asks: boolean } {
  const app = state.mailApp;
  const acted = app !== undefined && (state.acted ?? []).includes(app);
  const handoff = state.handoff ?? {};
  if (app === "terminal" && (acted || handoff.keychain))
    return { key: handoff.keychain ? "done.say.terminal" : "done.say.terminal_unsaved", asks: false };
  if (!acted) return { key: state.done.length ? "done.say.elsewhere" : "done.nothing", asks: false };
  switch (app) {
    case "thunderbird":
      if (handoff.thunderbird === "stored") return { key: "done.say.thunderbird_stored", asks: false };
      if (handoff.thunderbird === "asks") return { key: "done.say.thunderbird_asks", asks: true };
      return { key: "done.say.other_app", asks: true };
    case "android_phone":
      return { key: `done.say.android_phone${handoff.phone === "with_password" ? "_with_password" : ""}`, asks: false };
    default:
      // The apps that ask for the password themselves (the core says which): their sentence and "Copy password".
      if (asksForPassword(state.mailApps ?? [], app)) return { key: `done.say.${app}`, asks: true };
      return { key: "done.say.admin", asks: false };
  }
}

export function doneStep(): Step {
  return {
    id: "done",
    render(ctx: StepContext) {
      forgetPassword();
      const body = el("div", "done-step");
      const address = ctx.state.address!.address;
      const { key, asks } = doneSentence(ctx.state);
      const say = text("p", t(key), "done-sentence");
      say.id = "done-sentence";
      body.append(say);
      if (asks) body.append(copyPasswordControl("copy-password-done", address, ctx.state.login ?? null));

      // Where everything went, for whoever wants to know.
      const details = el("details", "done-details");
      details.id = "done-details";
      const summary = text("summary", t("done.details"));
      summary.id = "done-details-toggle";
      const list = el("ul", "summary");
      list.id = "summary";
      for (const line of ctx.state.done.length ? ctx.state.done : [t("done.nothing")]) list.append(text("li", line));
      details.append(summary, list, text("p", t("done.next_revoked"), "note"));
      body.append(details);
      return body;
    },
    canProceed: () => true,
    leave() {
      // Leaving the Done step ends the hand-off: the app drops the tested password.
      void forgetTestedPassword();
    },
  };
}
