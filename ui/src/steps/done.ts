// Done: what was saved where, and what to do next in the mail app. The tested password is dropped here.
import { t } from "../i18n";
import { forgetTestedPassword } from "../ipc";
import { forgetPassword } from "../secret";
import { el, text, type Step, type StepContext } from "../wizard";

export function doneStep(): Step {
  return {
    id: "done",
    render(ctx: StepContext) {
      forgetPassword();
      void forgetTestedPassword();
      const body = el("div", "done-step");
      const list = el("ul", "summary");
      list.id = "summary";
      for (const line of ctx.state.done.length ? ctx.state.done : [t("done.nothing")]) list.append(text("li", line));
      body.append(
        text("h2", t("done.summary_title")),
        list,
        text("h2", t("done.next_title")),
        text("p", t("done.next")),
      );
      return body;
    },
    canProceed: () => true,
  };
}
