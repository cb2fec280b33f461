// The wizard's steps, in order.
import type { Step } from "../wizard";
import { welcomeStep } from "./welcome";
import { addressStep } from "./address";
import { passwordStep } from "./password";
import { connectionStep } from "./connection";
import { placeholderStep } from "./placeholder";

export function steps(): Step[] {
  return [
    welcomeStep(),
    addressStep(),
    passwordStep(),
    connectionStep(),
    placeholderStep("save"),
    placeholderStep("done"),
  ];
}
