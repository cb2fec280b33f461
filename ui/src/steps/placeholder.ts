// Steps whose back end has not landed yet say so plainly instead of pretending.
import { t } from "../i18n";
import { el, text, type Step, type StepId } from "../wizard";

export function placeholderStep(id: StepId): Step {
  return {
    id,
    render() {
      const body = el("div", "placeholder");
      body.append(text("p", t(`step.${id}.coming`)));
      return body;
    },
    canProceed: () => true,
  };
}
