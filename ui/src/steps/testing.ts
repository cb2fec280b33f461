// For the step tests only (never imported by the app): a wizard brought to the connection test step for Jane, as
// the Address step leaves it, with a welcome step on either side to leave it by.
import type { Address } from "../bindings/Address";
import { Wizard } from "../wizard";
import { connectionStep } from "./connection";
import { welcomeStep } from "./welcome";

/** Jane's address as the Address step leaves it (checked by the core: an iCloud address). */
export const JANE: Address = {
  address: "jane@icloud.com",
  local_part: "jane",
  domain: "icloud.com",
  domain_unicode: "icloud.com",
  kind: { type: "icloud" },
};

export function wizardAtConnectionTest(name?: string): Wizard {
  const w = new Wizard(document.getElementById("app")!, [welcomeStep(), connectionStep(), welcomeStep()]);
  w.state.address = { ...JANE };
  if (name !== undefined) w.state.name = name;
  w.go(1);
  return w;
}
