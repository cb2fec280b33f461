// Boot: choose the language, build the wizard with its steps, then tell the app the first step is usable.
import { chooseLanguage } from "./i18n";
import { pageReady } from "./ipc";
import { Wizard } from "./wizard";
import { steps } from "./steps";

chooseLanguage();
new Wizard(document.getElementById("app")!, steps());
// After the first frame with the step on it has been painted.
requestAnimationFrame(() => setTimeout(() => void pageReady().catch(() => undefined)));
