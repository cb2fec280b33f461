// The wizard's steps, in order.
import type { Step } from "../wizard";
import { welcomeStep } from "./welcome";
import { addressStep } from "./address";
import { passwordStep } from "./password";
import { connectionStep } from "./connection";
import { saveStep } from "./save";
import { doneStep } from "./done";

export function steps(): Step[] {
  return [welcomeStep(), addressStep(), passwordStep(), connectionStep(), saveStep(), doneStep()];
}
