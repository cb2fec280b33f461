// Boot: choose the language and the platform's font, build the wizard with its steps, then tell the app the first
// step is usable.
import "./boot-mark";
import { loadLanguage } from "./i18n";
import { pageReady } from "./ipc";
import { osFromUserAgent } from "./platform";
import { Wizard } from "./wizard";
import { steps } from "./steps";

const modulesRun = performance.now();
document.documentElement.dataset.os = osFromUserAgent(navigator.userAgent);
// English is at hand at once (a resolved promise); another language's catalogue is fetched first.
void loadLanguage().then(() => {
  new Wizard(document.getElementById("app")!, steps());
  const stepBuilt = performance.now();
  // After the first frame with the step on it has been painted.
  requestAnimationFrame(() =>
    setTimeout(() => {
      const navigation = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
      void pageReady({
        timeOrigin: performance.timeOrigin,
        responseEnd: navigation?.responseEnd ?? null,
        domInteractive: navigation?.domInteractive ?? null,
        scriptStart: performance.getEntriesByName("script start")[0]?.startTime ?? null,
        modulesRun,
        stepBuilt,
        firstFrame: performance.now(),
      }).catch(() => undefined);
    }),
  );
});
