// The wizard's steps, in order.
import type { Step } from "../wizard";
import { welcomeStep } from "./welcome";
import { addressStep } from "./address";
import { passwordStep } from "./password";
import { placeholderStep } from "./placeholder";

export function steps(): Step[] {
  return [
    welcomeStep(),
    addressStep(),
    passwordStep(),
    placeholderStep("test"),
    placeholderStep("save"),
    placeholderStep("done"),
  ];
}
