// Run before every test file (vite.config.ts): every catalogue is fetched, so a test can choose any language at
// once with the synchronous `chooseLanguage`, as the app can after its `loadLanguage`.
import { chooseLanguage, loadLanguage } from "./i18n";

await loadLanguage(["de"]);
chooseLanguage(["en"]);
