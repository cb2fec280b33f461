// Boot: choose the language, build the wizard with its steps.
import { chooseLanguage } from "./i18n";
import { Wizard } from "./wizard";
import { steps } from "./steps";

chooseLanguage();
new Wizard(document.getElementById("app")!, steps());
