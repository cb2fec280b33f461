// Boot: choose the language and the platform's font, build the wizard with its steps, then tell the app the first
// step is usable.
import { chooseLanguage } from "./i18n";
import { pageReady } from "./ipc";
import { osFromUserAgent } from "./platform";
import { Wizard } from "./wizard";
import { steps } from "./steps";

document.documentElement.dataset.os = osFromUserAgent(navigator.userAgent);
chooseLanguage();
new Wizard(document.getElementById("app")!, steps());
// After the first frame with the step on it has been painted.
requestAnimationFrame(() => setTimeout(() => void pageReady(performance.now()).catch(() => undefined)));
