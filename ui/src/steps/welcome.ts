// Welcome: what this does, what the person needs, what it will not do.
import { t } from "../i18n";
import { el, text, type Step } from "../wizard";

export function welcomeStep(): Step {
  return {
    id: "welcome",
    render() {
      const body = el("div");
      body.append(text("p", t("step.welcome.intro")));
      // "What you need" introduces the list (and names it for screen readers) in body text: a bold heading here
      // would be one more font face before the first frame (docs/benchmarks.md).
      const intro = text("p", t("step.welcome.need_title"), "list-intro");
      intro.id = "need-title";
      const need = el("ul", "checklist");
      need.setAttribute("aria-labelledby", intro.id);
      need.append(text("li", t("step.welcome.need_address")), text("li", t("step.welcome.need_2fa")));
      body.append(intro, need, text("p", t("step.welcome.privacy"), "note"));
      return body;
    },
    canProceed: () => true,
  };
}
