// Done: what was saved where, what each mail app does next (Thunderbird signs in or asks, terminal clients read the
// keychain, the others ask once), and "Copy password" for those that ask. The app drops the tested password when
// the person leaves this step.
import { copyPasswordControl } from "../copy-password";
import { t } from "../i18n";
import { forgetTestedPassword } from "../ipc";
import { forgetPassword } from "../secret";
import { el, text, type Step, type StepContext } from "../wizard";

export function doneStep(): Step {
  return {
    id: "done",
    render(ctx: StepContext) {
      forgetPassword();
      const body = el("div", "done-step");
      const list = el("ul", "summary");
      list.id = "summary";
      for (const line of ctx.state.done.length ? ctx.state.done : [t("done.nothing")]) list.append(text("li", line));
      const next = el("ul", "next");
      next.id = "next-steps";
      const handoff = ctx.state.handoff ?? {};
      const lines = [
        handoff.thunderbird === "stored" ? t("done.next_thunderbird_signs_in") : null,
        handoff.thunderbird === "asks" ? t("done.next_thunderbird_asks") : null,
        t(handoff.keychain ? "done.next_terminal" : "done.next_terminal_unsaved"),
        t("done.next_others"),
      ];
      for (const line of lines) if (line) next.append(text("li", line));
      const address = ctx.state.address!.address;
      body.append(
        text("h2", t("done.summary_title")),
        list,
        text("h2", t("done.next_title")),
        next,
        copyPasswordControl("copy-password-done", address, ctx.state.login ?? null),
        text("p", t("done.next_revoked"), "note"),
      );
      return body;
    },
    canProceed: () => true,
    leave() {
      // Leaving the Done step ends the hand-off: the app drops the tested password.
      void forgetTestedPassword();
    },
  };
}
