//! The real app window under Xvfb, driven over WebDriver: Xvfb → private D-Bus → tauri-driver → WebKitWebDriver →
//! the app binary. `AppSession::start()` gives a session; dropping it deletes the session and stops everything.
//!
//! Only `POST /session` goes through tauri-driver (it turns `tauri:options` into WebKit's options); the rest of the
//! session talks to WebKitWebDriver's own port, because tauri-driver's proxy sometimes resets reused connections.
//! The protocol is a handful of JSON requests (W3C WebDriver), sent with `ureq`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::processes::{artifacts_dir, free_port, wait_for_port, Service};

/// The W3C key for an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The app binary built by `cargo build -p icloud-mail-setup`, next to this test binary's folder. A suite run on its
/// own (`cargo test -p icloud-mail-tests --test …` builds only the tests) would otherwise test whatever app was built
/// last: a binary older than any of its sources (the two crates' code and manifests, the page it embeds) fails here
/// with what to build, rather than being tested stale.
pub fn app_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/debug/deps/<test> → target/debug/icloud-mail-setup
    let bin = exe.parent().and_then(Path::parent).expect("target dir").join("icloud-mail-setup");
    assert!(bin.exists(), "{} is missing: build the app first with `cargo build -p icloud-mail-setup`", bin.display());
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).expect("the app binary's time");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    if let Some(newer) = newer_source(workspace, built) {
        panic!(
            "{} is older than its source {}: build the app first with `npm run build:ui && cargo build -p icloud-mail-setup`",
            bin.display(),
            newer.display()
        );
    }
    bin
}

/// The Thunderbird login helper the app starts (issue 23, M2): built with the app, beside it.
pub fn helper_binary() -> PathBuf {
    let bin = app_binary().with_file_name(icloud_mail_core::export::thunderbird_profile::nss_helper::HELPER_PROGRAM);
    assert!(bin.exists(), "{} is missing: build the app first with `cargo build -p icloud-mail-setup`", bin.display());
    bin
}

/// What the app binary is built from, relative to the workspace.
const APP_SOURCES: &[&str] = &["core/src", "core/Cargo.toml", "src-tauri/src", "src-tauri/build.rs", "src-tauri/Cargo.toml", "ui/dist"];

/// The newest of the app's sources in `workspace` changed after `built`, if any.
fn newer_source(workspace: &Path, built: std::time::SystemTime) -> Option<PathBuf> {
    APP_SOURCES.iter().filter_map(|s| newest_file(&workspace.join(s))).filter(|(_, t)| *t > built).max_by_key(|(_, t)| *t).map(|(p, _)| p)
}

/// The most recently changed file at or under `path`, with its time (None when there is none).
fn newest_file(path: &Path) -> Option<(PathBuf, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return Some((path.to_path_buf(), meta.modified().ok()?));
    }
    std::fs::read_dir(path).ok()?.flatten().filter_map(|entry| newest_file(&entry.path())).max_by_key(|(_, t)| *t)
}

/// An X server of our own.
pub struct Xvfb {
    pub display: String,
    _service: Service,
}

impl Xvfb {
    pub fn start(log_dir: &Path) -> Xvfb {
        // A display number nobody uses: no socket and no lock file for it.
        let n = (99..400)
            .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() && !Path::new(&format!("/tmp/.X{n}-lock")).exists())
            .expect("no free X display number");
        let display = format!(":{n}");
        let service = Service::start(
            "Xvfb",
            Command::new("Xvfb").args([&display, "-screen", "0", "800x640x24", "-nolisten", "tcp", "-noreset"]),
            &log_dir.join("xvfb.log"),
        )
        .expect("start Xvfb (package xvfb)");
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "Xvfb did not create {}", socket.display());
            std::thread::sleep(Duration::from_millis(20));
        }
        Xvfb { display, _service: service }
    }
}

/// A private session bus, so GTK's helpers talk to it and die with it.
pub struct SessionBus {
    pub address: String,
    _dir: tempfile::TempDir,
    _service: Service,
}

impl SessionBus {
    pub fn start(log_dir: &Path) -> SessionBus {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("bus");
        let address = format!("unix:path={}", socket.display());
        let service = Service::start(
            "dbus-daemon",
            Command::new("dbus-daemon").args(["--session", "--nofork", "--nopidfile", &format!("--address={address}")]),
            &log_dir.join("dbus.log"),
        )
        .expect("start dbus-daemon (package dbus)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon did not create its socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        SessionBus { address, _dir: dir, _service: service }
    }
}

/// The wizard's steps, in order; `id()` is the page's name for each (`#app[data-step]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WizardStep {
    Welcome,
    Address,
    Password,
    Test,
    Save,
    Done,
}

impl WizardStep {
    pub const ALL: [WizardStep; 6] =
        [WizardStep::Welcome, WizardStep::Address, WizardStep::Password, WizardStep::Test, WizardStep::Save, WizardStep::Done];

    pub fn id(self) -> &'static str {
        match self {
            WizardStep::Welcome => "welcome",
            WizardStep::Address => "address",
            WizardStep::Password => "password",
            WizardStep::Test => "test",
            WizardStep::Save => "save",
            WizardStep::Done => "done",
        }
    }

    fn from_id(id: &str) -> Option<WizardStep> {
        WizardStep::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// How a walk presses Next and reaches the fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Clicks, and typing into the fields (WebDriver's element commands).
    Mouse,
    /// Tab, typing and Enter, nothing else: what a person who uses only the keyboard does.
    Keyboard,
}

/// What a walk through the wizard types in.
#[derive(Clone, Copy, Debug)]
pub struct Walk<'a> {
    pub address: &'a str,
    pub password: &'a str,
    pub input: Input,
}

impl<'a> Walk<'a> {
    /// A walk with the mouse.
    pub fn new(address: &'a str, password: &'a str) -> Walk<'a> {
        Walk { address, password, input: Input::Mouse }
    }

    pub fn by_keyboard(self) -> Walk<'a> {
        Walk { input: Input::Keyboard, ..self }
    }
}

/// Options for starting the app.
#[derive(Default)]
pub struct AppOptions {
    /// Extra environment for the app (it inherits tauri-driver's environment).
    pub env: Vec<(String, String)>,
    /// Extra command-line arguments for the app.
    pub args: Vec<String>,
    /// The app binary to start; `app_binary()` (the workspace's debug build) when `None`.
    pub application: Option<PathBuf>,
    /// A hosts file the app (with tauri-driver and WebKitWebDriver) sees as `/etc/hosts`, in a private mount
    /// namespace (`dav::with_test_hosts`), so that it resolves the test host names (the DAV server's) as a person's
    /// app resolves iCloud's; `None`: the machine's own.
    pub hosts_file: Option<PathBuf>,
}

/// A WebDriver session on the running app.
pub struct AppSession {
    http: ureq::Agent,
    native: String,
    id: String,
    pub screenshots: PathBuf,
    display: String,
    driver: Option<Service>,
    _bus: SessionBus,
    _xvfb: Xvfb,
}

impl AppSession {
    /// Starts Xvfb, a session bus, tauri-driver and the app; panics (failing the test) if the window never shows.
    pub fn start(suite: &str, options: AppOptions) -> AppSession {
        let artifacts = artifacts_dir(suite);
        let xvfb = Xvfb::start(&artifacts);
        let bus = SessionBus::start(&artifacts);
        let port = free_port();
        let native_port = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DISPLAY", &xvfb.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("GDK_BACKEND", "x11")
            .env("NO_AT_BRIDGE", "1")
            .env("LANG", "C.UTF-8")
            .env("LANGUAGE", "en")
            .env_remove("WAYLAND_DISPLAY");
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        if let Some(hosts) = &options.hosts_file {
            cmd = crate::dav::with_test_hosts(&cmd, hosts);
        }
        let driver = Service::start("tauri-driver", &mut cmd, &artifacts.join("tauri-driver.log"))
            .expect("start tauri-driver (cargo install tauri-driver --locked)");
        wait_for_port(([127, 0, 0, 1], port).into(), Duration::from_secs(20), "tauri-driver");

        let http = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let driver_url = format!("http://127.0.0.1:{port}");
        // tauri-driver answers before WebKitWebDriver is ready: wait for "ready": true.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http
                .get(&format!("{driver_url}/status"))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "WebKitWebDriver never became ready (see {})", artifacts.display());
            std::thread::sleep(Duration::from_millis(100));
        }

        // Nothing contacts the internet: the connection test always looks for calendars and contacts too, so a suite
        // that names no DAV server gets a loopback port nothing listens on (the third panel then says the
        // connection was refused) instead of iCloud's caldav.icloud.com and contacts.icloud.com.
        let mut args = options.args.clone();
        for flag in ["--caldav", "--carddav"] {
            if !args.iter().any(|a| a == flag) {
                args.extend([flag.to_owned(), format!("127.0.0.1:{}", free_port())]);
            }
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
            "application": options.application.clone().unwrap_or_else(app_binary),
            "args": args,
        }}}});
        let created: Value = http
            .post(&format!("{driver_url}/session"))
            .send_json(caps)
            .unwrap_or_else(|e| panic!("the app window did not start (new session failed: {e}); logs in {}", artifacts.display()))
            .into_json()
            .expect("session JSON");
        let id = created["value"]["sessionId"].as_str().expect("sessionId").to_owned();
        let session = AppSession {
            http,
            native: format!("http://127.0.0.1:{native_port}/session/{id}"),
            id,
            screenshots: artifacts.join("screenshots"),
            display: xvfb.display.clone(),
            driver: Some(driver),
            _bus: bus,
            _xvfb: xvfb,
        };
        std::fs::create_dir_all(&session.screenshots).expect("screenshots dir");
        // The window counts as shown when the page has built the wizard heading.
        let deadline = Instant::now() + Duration::from_secs(30);
        while session.find_all("h1.step-title").len() != 1 {
            if Instant::now() > deadline {
                let source = session.request("GET", "/source", None);
                let shot = session.screenshot("never-shown");
                panic!(
                    "the wizard window never showed its first step within 30 s; page source: {source}; screenshot: {}; logs in {}",
                    shot.display(),
                    artifacts.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        session
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.native, path);
        let mut last_err = String::new();
        // Idempotent retries for the occasional reset connection; element actions are not retried blindly.
        for _ in 0..3 {
            let req = self.http.request(method, &url);
            let res = match &body {
                Some(b) => req.send_json(b.clone()),
                None => req.call(),
            };
            match res {
                Ok(r) => return r.into_json::<Value>().map(|v| v["value"].clone()).unwrap_or(Value::Null),
                Err(ureq::Error::Status(code, r)) => {
                    let text = r.into_string().unwrap_or_default();
                    panic!("WebDriver {method} {path} failed with {code}: {text}");
                }
                Err(e) => {
                    last_err = e.to_string();
                    if method != "GET" {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        panic!("WebDriver {method} {path} failed: {last_err}");
    }

    /// All elements matching a CSS selector (element ids).
    pub fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.request("POST", "/elements", Some(json!({"using": "css selector", "value": css})));
        v.as_array().map(|a| a.iter().filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned)).collect()).unwrap_or_default()
    }

    /// The one element matching `css`; panics if there is none.
    pub fn find(&self, css: &str) -> String {
        self.find_all(css).into_iter().next().unwrap_or_else(|| panic!("no element matches {css}"))
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.request("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    /// Types into a field as a person would (key events), after clearing it.
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.request("POST", &format!("/element/{el}/clear"), Some(json!({})));
        self.request("POST", &format!("/element/{el}/value"), Some(json!({"text": text})));
    }

    /// Presses keys on whatever has focus (W3C key actions); use `\u{E007}` for Enter, `\u{E004}` for Tab.
    pub fn press_keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            actions.push(json!({"type": "keyUp", "value": k.to_string()}));
        }
        self.request("POST", "/actions", Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})));
    }

    pub fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.request("GET", &format!("/element/{el}/text"), None).as_str().unwrap_or_default().to_owned()
    }

    pub fn property(&self, css: &str, name: &str) -> Value {
        let el = self.find(css);
        self.request("GET", &format!("/element/{el}/property/{name}"), None)
    }

    /// Runs a script in the page and returns its result. WebKitWebDriver now and then answers a script run while the
    /// page is busy (a step change, a running connection test on a loaded machine) with a bare 500 "unknown error"
    /// and no message; every script here only reads or sets the same value again, so such an answer is retried a few
    /// times, while a script that throws (an error with a message) fails at once.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        for _ in 0..4 {
            let url = format!("{}/execute/sync", self.native);
            match self.http.request("POST", &url).send_json(body.clone()) {
                Ok(r) => return r.into_json::<Value>().map(|v| v["value"].clone()).unwrap_or(Value::Null),
                Err(ureq::Error::Status(500, r)) => {
                    let text = r.into_string().unwrap_or_default();
                    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let bare = answer["value"]["error"] == "unknown error" && answer["value"]["message"] == "";
                    assert!(bare, "WebDriver POST /execute/sync failed with 500: {text}");
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        }
        self.request("POST", "/execute/sync", Some(body))
    }

    /// Polls `cond` until it holds; panics with `what` after `timeout`.
    pub fn wait_for(&self, timeout: Duration, what: &str, cond: impl Fn(&AppSession) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element's text contains `needle`, and returns the text.
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        self.wait_for(Duration::from_secs(10), &format!("{css} to contain {needle:?}"), |s| {
            !s.find_all(css).is_empty() && s.text(css).contains(needle)
        });
        self.text(css)
    }

    /// Saves a PNG of the screen (the app window on Xvfb) under the suite's artifacts folder; returns its path.
    /// The picture is taken from the X server (ImageMagick's `import`), so it shows what a person would see;
    /// WebKitWebDriver's own screenshot command hangs under Xvfb here.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        // Let the page paint the last DOM change before reading pixels.
        self.execute("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))));", json!([]));
        let path = self.screenshots.join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(&path)
            .status()
            .expect("run import (package imagemagick)");
        assert!(status.success(), "screenshot {name} failed");
        let png = std::fs::read(&path).expect("read screenshot");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        path
    }

    /// Asks for a window size (the window manager-less Xvfb grants it within the app's own limits).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.request("POST", "/window/rect", Some(json!({"width": width, "height": height})));
        std::thread::sleep(Duration::from_millis(300));
    }

    /// The X display and session bus the app runs on, to start a second copy beside it.
    pub fn display_and_bus(&self) -> (String, String) {
        (self.display.clone(), self._bus.address.clone())
    }

    pub fn session_id(&self) -> &str {
        &self.id
    }

    // --- walking the wizard (the one walk every suite uses; it reads no words, so it works in any language) ---

    /// The step on screen.
    pub fn step(&self) -> WizardStep {
        let id = self.execute("return document.getElementById('app').dataset.step || '';", json!([]));
        let id = id.as_str().unwrap_or_default();
        WizardStep::from_id(id).unwrap_or_else(|| panic!("the page shows no known step ({id:?})"))
    }

    /// Whether Next can be pressed now.
    pub fn next_enabled(&self) -> bool {
        self.property("#next", "disabled") == json!(false)
    }

    /// The id (or, without one, the class) of the element that has focus.
    pub fn focused(&self) -> String {
        self.execute("return document.activeElement ? (document.activeElement.id || document.activeElement.className) : '';", json!([]))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Presses Tab until the element with this id has focus; a keyboard user can always get there.
    pub fn tab_to(&self, id: &str) {
        for _ in 0..60 {
            if self.focused() == id {
                return;
            }
            self.press_keys(TAB);
        }
        panic!("Tab never reached #{id}");
    }

    /// Does what the step on screen needs before Next (types the address, the password; waits for the connection
    /// test to pass), unless Next is already enabled. Welcome, Save and Done need nothing.
    pub fn complete_step(&self, walk: &Walk) {
        let step = self.step();
        if self.next_enabled() {
            return;
        }
        let field = match step {
            WizardStep::Address => Some(("address-input", walk.address, ".status.ok")),
            WizardStep::Password => Some(("password-input", walk.password, ".status")),
            _ => None,
        };
        if let Some((id, value, status)) = field {
            match walk.input {
                Input::Mouse => self.type_into(&format!("#{id}"), value),
                Input::Keyboard => {
                    self.tab_to(id);
                    self.press_keys(value);
                }
            }
            self.wait_for(Duration::from_secs(10), &format!("the {} step to accept {value:?}", step.id()), |s| {
                !s.find_all(&format!("#{step}-status{status}", step = step.id())).is_empty() && s.next_enabled()
            });
        }
        if step == WizardStep::Test {
            // Both mail sides signed in: Next opens. A failed side ends the wait at once with the page's verdicts.
            // Calendars and contacts (the third panel) are not part of the mail verdict and not waited for here.
            self.wait_for(Duration::from_secs(30), "the connection test to pass", |s| {
                let failed = s.find_all("#verdict-imap.problem, #verdict-smtp.problem");
                assert!(failed.is_empty(), "the connection test failed: {} | {}", s.text("#verdict-imap"), s.text("#verdict-smtp"));
                s.find_all("#verdict-imap.ok, #verdict-smtp.ok").len() == 2 && s.next_enabled()
            });
        }
        assert!(self.next_enabled(), "Next stays disabled on the {} step", step.id());
    }

    /// On the save step: answers "Which mail app will you use?" with `group` (a `ClientGroup` id: `thunderbird`,
    /// `outlook`, `apple_mail`, `other_app`, `terminal`, `admin`) and waits for that app's path. With the keyboard
    /// it tabs into the question and moves with the arrow keys, as a person does in a radio group.
    pub fn choose_mail_app(&self, group: &str, input: Input) {
        self.wait_for(Duration::from_secs(10), "the mail-app question", |s| !s.find_all(&format!("#app-{group}")).is_empty());
        match input {
            Input::Mouse => self.click(&format!("#app-{group}")),
            Input::Keyboard => {
                // Tab reaches the group once (its checked choice, or the first); the arrows move within it.
                for _ in 0..60 {
                    if self.focused().starts_with("app-") {
                        break;
                    }
                    self.press_keys(TAB);
                }
                let want = format!("app-{group}");
                for _ in 0..6 {
                    if self.focused() == want {
                        break;
                    }
                    self.press_keys(ARROW_DOWN);
                }
                assert_eq!(self.focused(), want, "the arrow keys never reached the choice {group}");
                // Space selects the focused choice when nothing was selected yet (the arrows already do otherwise).
                if self.property(&format!("#{want}"), "checked") != json!(true) {
                    self.press_keys(SPACE);
                }
            }
        }
        self.wait_for(Duration::from_secs(10), &format!("the {group} path"), |s| {
            !s.find_all(&format!("#save-path[data-group=\"{group}\"]")).is_empty()
        });
    }

    /// The mail app chosen on the save step (the checked choice), if any.
    pub fn chosen_mail_app(&self) -> Option<String> {
        let v = self.execute("const c = document.querySelector('input[name=\"mail-app\"]:checked'); return c ? c.value : null;", json!([]));
        v.as_str().map(str::to_owned)
    }

    /// On the Done step: opens "Details" (where the file locations are) and returns its text.
    pub fn done_details(&self) -> String {
        if self.property("#done-details", "open") != json!(true) {
            self.click("#done-details-toggle");
        }
        self.wait_for(Duration::from_secs(5), "Details to open", |s| s.property("#done-details", "open") == json!(true));
        self.text("#summary")
    }

    /// Walks from the step on screen to `target` the way a person does: completes each step (`complete_step`),
    /// presses Next (clicked, or Tab to it and Enter), and checks that the next step shows with focus on its
    /// heading. Arrives at `target` without completing it.
    pub fn walk_to(&self, target: WizardStep, walk: &Walk) {
        let mut step = self.step();
        assert!(step <= target, "walk_to({target:?}) from {step:?}: the walk only goes forward");
        while step < target {
            self.complete_step(walk);
            match walk.input {
                Input::Mouse => self.click("#next"),
                Input::Keyboard => {
                    self.tab_to("next");
                    self.press_keys(ENTER);
                }
            }
            let want = WizardStep::ALL[step as usize + 1];
            self.wait_for(Duration::from_secs(10), &format!("the {} step", want.id()), |s| s.step() == want);
            assert_eq!(self.focused(), "step-title", "focus moves to the heading of the {} step", want.id());
            step = want;
        }
    }
}

/// W3C WebDriver key codes.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const SPACE: &str = "\u{E00D}";
pub const ARROW_DOWN: &str = "\u{E015}";

impl Drop for AppSession {
    fn drop(&mut self) {
        // Delete the session first (closes the app), then stop tauri-driver politely (SIGTERM, never SIGKILL:
        // a killed tauri-driver orphans WebKitWebDriver).
        let _ = self.http.delete(&self.native).call();
        if let Some(mut driver) = self.driver.take() {
            driver.stop(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_older_than_any_of_its_sources_is_stale() {
        let workspace = tempfile::tempdir().unwrap();
        let deep = workspace.path().join("core/src/probe");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("send.rs"), "// changed").unwrap();
        let changed = std::fs::metadata(deep.join("send.rs")).unwrap().modified().unwrap();
        let before = changed - Duration::from_secs(60);
        assert_eq!(newer_source(workspace.path(), before), Some(deep.join("send.rs")), "a change deep in the sources counts");
        assert_eq!(newer_source(workspace.path(), changed + Duration::from_secs(60)), None, "built after every change");
        // Files that are not the app's sources (the test suites) do not make it stale.
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(other.path().join("tests/tests")).unwrap();
        std::fs::write(other.path().join("tests/tests/send_test.rs"), "").unwrap();
        assert_eq!(newer_source(other.path(), before), None);
    }
}
