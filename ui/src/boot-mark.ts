// Imported first by main.ts, so it runs before any other module of the page's script: the moment the script has
// been fetched and parsed and starts to run, for the start-up trace.
performance.mark("script start");
