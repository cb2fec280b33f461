// Welcome: what this does, what the person needs, what it will not do.
import { t } from "../i18n";
import { el, text, type Step } from "../wizard";

export function welcomeStep(): Step {
  return {
    id: "welcome",
    render() {
      const body = el("div");
      body.append(text("p", t("step.welcome.intro")));
      const need = el("ul", "checklist");
      need.append(text("li", t("step.welcome.need_address")), text("li", t("step.welcome.need_2fa")));
      body.append(text("h2", t("step.welcome.need_title")), need, text("p", t("step.welcome.privacy"), "note"));
      return body;
    },
    canProceed: () => true,
  };
}
