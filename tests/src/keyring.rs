//! The real Secret Service for tests: a private D-Bus session bus with gnome-keyring on it, in throwaway home and XDG
//! folders, and the environment that runs the product or `secret-tool` inside it. Also the failure cases: a bus with
//! no Secret Service on it, no bus at all, a locked keyring, and a Secret Service that is stuck (`Stuck`).
//!
//! The bus has no service directories, so nothing is started on demand: a test only meets the daemons it started
//! (on a desktop, asking for org.freedesktop.secrets would quietly start gnome-keyring).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::processes::{own_group, Service};

/// The password that unlocks the test keyring itself (not a product password).
pub const KEYRING_PASSWORD: &str = "test-keyring-unlock";

/// Throwaway home, XDG and temp folders, and a session that may have a bus and a Secret Service in it.
pub struct KeyringSession {
    // Dropped in this order: the keyring before its bus, both before the folders go.
    keyring: Option<Service>,
    stuck: Option<StuckSecretService>,
    bus: Option<SessionBus>,
    root: tempfile::TempDir,
}

impl KeyringSession {
    /// A bus with gnome-keyring on it, its default ("login") collection created and unlocked.
    pub fn with_keyring() -> KeyringSession {
        let mut session = KeyringSession::with_bus_only();
        session.start_keyring();
        session
    }

    /// gnome-keyring without `--unlock` on empty folders: a Secret Service with no keyring at all, so no default
    /// collection to save into (what a person has before the first desktop login creates the "Login" keyring).
    pub fn with_empty_keyring() -> KeyringSession {
        let mut session = KeyringSession::with_bus_only();
        session.spawn_keyring(false);
        session.wait_for_keyring(|s| s.default_collection_alias().is_some_and(|alias| alias == "/"));
        session
    }

    /// A session bus on which nobody provides the Secret Service (a desktop-less server, a minimal window manager).
    pub fn without_secret_service() -> KeyringSession {
        KeyringSession::with_bus_only()
    }

    /// No session bus at all: `DBUS_SESSION_BUS_ADDRESS` is unset and there is no display to autolaunch one with
    /// (an ssh login, a cron job).
    pub fn without_bus() -> KeyringSession {
        KeyringSession { keyring: None, stuck: None, bus: None, root: make_root() }
    }

    fn with_bus_only() -> KeyringSession {
        let root = make_root();
        let bus = SessionBus::start(root.path());
        KeyringSession { keyring: None, stuck: None, bus: Some(bus), root }
    }

    /// A bus on which the Secret Service is stuck in the way `how` says: a hung daemon, or an unlock prompt that
    /// nobody answers.
    pub fn with_stuck_secret_service(how: Stuck) -> KeyringSession {
        let mut session = KeyringSession::with_bus_only();
        let address = session.bus_address().expect("a bus").to_owned();
        session.stuck = Some(StuckSecretService::start(&address, how));
        session
    }

    /// The bus address, if there is a bus.
    pub fn bus_address(&self) -> Option<&str> {
        self.bus.as_ref().map(|b| b.address.as_str())
    }

    /// The whole environment a child runs with: PATH, the throwaway HOME/XDG/TMPDIR folders, the bus if any, and
    /// nothing else from the test process (no DISPLAY, no outer session bus).
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let home = self.home();
        let mut env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), path_with_the_app()),
            ("LANG".into(), "C.UTF-8".into()),
            ("HOME".into(), home.clone().into()),
            ("XDG_RUNTIME_DIR".into(), self.root.path().join("run").into()),
            ("XDG_DATA_HOME".into(), home.join(".local/share").into()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").into()),
            ("XDG_CACHE_HOME".into(), home.join(".cache").into()),
            ("XDG_STATE_HOME".into(), home.join(".local/state").into()),
            ("TMPDIR".into(), self.root.path().join("tmp").into()),
        ];
        if let Some(address) = self.bus_address() {
            env.push(("DBUS_SESSION_BUS_ADDRESS".into(), address.into()));
        }
        env
    }

    /// A command that runs inside this session only (a cleared environment plus `env()`, working folder = HOME).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env_clear().envs(self.env()).current_dir(self.home());
        command
    }

    /// The throwaway HOME.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The folder holding HOME, XDG_RUNTIME_DIR, TMPDIR, the bus socket and the daemons' logs.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// `secret-tool lookup service <service> username <username>`: the entry as an independent client reads it.
    pub fn secret_tool_lookup(&self, service: &str, username: &str) -> Option<String> {
        let out = self.secret_tool(&["lookup", "service", service, "username", username]);
        out.status.success().then(|| String::from_utf8(out.stdout).expect("secret-tool printed UTF-8"))
    }

    /// `secret-tool store` of an item with the attributes `service` and `username`, as another program would write it.
    pub fn secret_tool_store(&self, service: &str, username: &str, secret: &str) {
        let mut child = self
            .command("secret-tool")
            .args(["store", "--label=written by secret-tool", "service", service, "username", username])
            .stdin(Stdio::piped())
            .spawn()
            .expect("run secret-tool (package libsecret-tools)");
        child.stdin.take().expect("piped stdin").write_all(secret.as_bytes()).expect("hand secret-tool the secret");
        assert!(child.wait().expect("wait for secret-tool").success(), "secret-tool store failed");
    }

    /// Runs `secret-tool` with `args` in this session.
    pub fn secret_tool(&self, args: &[&str]) -> Output {
        self.command("secret-tool").args(args).stdin(Stdio::null()).output().expect("run secret-tool (package libsecret-tools)")
    }

    /// Locks the default collection, as the screen lock or "Lock" in Passwords and Keys would. Unlocking needs a
    /// prompt, which nothing on this bus can show, so the keyring stays locked.
    pub fn lock(&self) {
        let collection = self.default_collection().expect("the keyring has a default collection");
        let out = self
            .command("dbus-send")
            .args(["--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets"])
            .arg("org.freedesktop.Secret.Service.Lock")
            .arg(format!("array:objpath:{collection}"))
            .output()
            .expect("run dbus-send");
        assert!(out.status.success(), "locking {collection} failed: {}", String::from_utf8_lossy(&out.stderr));
        let locked = self.collection_locked(&collection);
        assert_eq!(locked, Some(true), "{collection} did not lock");
    }

    /// Stops gnome-keyring and starts it again on the same files (unlocked), as after logging out and in.
    pub fn restart_keyring(&mut self) {
        let mut old = self.keyring.take().expect("restart_keyring needs a keyring");
        old.stop(Duration::from_secs(5));
        self.start_keyring();
    }

    /// Every regular file under the session's folders, relative to `root()`, sorted.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(self.root.path(), &mut files);
        let mut relative: Vec<PathBuf> = files.iter().map(|f| f.strip_prefix(self.root.path()).unwrap().to_owned()).collect();
        relative.sort();
        relative
    }

    /// The files under the session's folders whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &[u8]) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(self.root.path(), &mut files);
        files.into_iter().filter(|f| std::fs::read(f).is_ok_and(|bytes| contains(&bytes, needle))).collect()
    }

    fn start_keyring(&mut self) {
        self.spawn_keyring(true);
        self.wait_for_keyring(|s| s.default_collection().is_some_and(|c| s.collection_locked(&c) == Some(false)));
    }

    /// Starts gnome-keyring; with `unlock`, it creates or unlocks the "login" keyring with `KEYRING_PASSWORD`.
    fn spawn_keyring(&mut self, unlock: bool) {
        let log = self.root.path().join("logs/gnome-keyring.log");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("open the keyring log");
        let err = out.try_clone().expect("clone the log handle");
        crate::processes::become_subreaper();
        let mut child = own_group(&mut self.command("gnome-keyring-daemon"))
            .args(["--foreground", "--components=secrets"])
            .args(unlock.then_some("--unlock"))
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start gnome-keyring-daemon (package gnome-keyring)");
        // --unlock reads the keyring password from standard input up to its end.
        let mut stdin = child.stdin.take().expect("piped stdin");
        if unlock {
            stdin.write_all(KEYRING_PASSWORD.as_bytes()).expect("hand gnome-keyring its password");
        }
        drop(stdin);
        self.keyring = Some(Service::adopt("gnome-keyring-daemon", child));
    }

    /// Waits until `ready` holds, or fails showing the daemon's log.
    fn wait_for_keyring(&mut self, ready: impl Fn(&KeyringSession) -> bool) {
        let log = self.root.path().join("logs/gnome-keyring.log");
        let deadline = Instant::now() + Duration::from_secs(15);
        while !ready(self) {
            let running = self.keyring.as_mut().is_some_and(|k| k.is_running());
            assert!(running, "gnome-keyring-daemon exited at start:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            assert!(Instant::now() < deadline, "gnome-keyring was not ready after 15 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The object path of the default collection, or None while there is none (or no Secret Service).
    fn default_collection(&self) -> Option<String> {
        self.default_collection_alias().filter(|path| path != "/")
    }

    /// What the `default` alias points at ("/" for nothing), or None if no Secret Service answered.
    fn default_collection_alias(&self) -> Option<String> {
        let out = self
            .command("dbus-send")
            .args(["--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets"])
            .args(["org.freedesktop.Secret.Service.ReadAlias", "string:default"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let path = text.split('"').nth(1)?.to_owned();
        out.status.success().then_some(path)
    }

    fn collection_locked(&self, collection: &str) -> Option<bool> {
        let out = self
            .command("dbus-send")
            .args(["--session", "--print-reply", "--dest=org.freedesktop.secrets", collection])
            .args(["org.freedesktop.DBus.Properties.Get", "string:org.freedesktop.Secret.Collection", "string:Locked"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("boolean true") {
            Some(true)
        } else if text.contains("boolean false") {
            Some(false)
        } else {
            None
        }
    }
}

/// How a stuck Secret Service behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// It owns `org.freedesktop.secrets` and takes every call, but never answers one (a hung daemon).
    Silent,
    /// Its default keyring is locked: it answers up to the unlock prompt, which is never completed (a prompt behind
    /// the window, or on a screen nobody looks at). Asked, it says that the default keyring is locked.
    UnansweredUnlockPrompt,
}

/// A Secret Service written for the failure cases, on a thread of its own: the Secret Service API as far as a
/// client gets before it is stuck (OpenSession, SearchItems finding one locked item, Unlock returning a prompt,
/// Prompt; ReadAlias and the collection's `Locked`), and nothing after that.
struct StuckSecretService {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const SECRETS_PATH: &str = "/org/freedesktop/secrets";
const LOGIN_COLLECTION: &str = "/org/freedesktop/secrets/collection/login";
const PROMPT: &str = "/org/freedesktop/secrets/prompt/1";

impl StuckSecretService {
    /// Connects to the bus at `address` and returns once it owns `org.freedesktop.secrets`.
    fn start(address: &str, how: Stuck) -> StuckSecretService {
        let mut channel = dbus::channel::Channel::open_private(address).expect("connect to the private bus");
        channel.register().expect("say hello to the private bus");
        let request =
            dbus::Message::new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName")
                .expect("a RequestName call")
                .append2("org.freedesktop.secrets", 4u32); // DBUS_NAME_FLAG_DO_NOT_QUEUE
        let reply = channel.send_with_reply_and_block(request, Duration::from_secs(5)).expect("request org.freedesktop.secrets");
        assert_eq!(reply.read1::<u32>().expect("a RequestName reply"), 1, "org.freedesktop.secrets is not ours"); // PRIMARY_OWNER
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("stuck-secret-service-{how:?}"))
            .spawn(move || {
                // Calls left unanswered are kept until the end, so that nothing answers them for us.
                let mut unanswered = Vec::new();
                while !stopped.load(Ordering::SeqCst) {
                    if channel.read_write(Some(Duration::from_millis(50))).is_err() {
                        break;
                    }
                    while let Some(message) = channel.pop_message() {
                        if message.msg_type() != dbus::MessageType::MethodCall {
                            continue;
                        }
                        match answer(&message, how) {
                            Some(reply) => {
                                let _ = channel.send(reply);
                            }
                            None => unanswered.push(message),
                        }
                    }
                    channel.flush();
                }
            })
            .expect("start the stuck Secret Service");
        StuckSecretService { stop, thread: Some(thread) }
    }
}

impl Drop for StuckSecretService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The reply to `call`, or None to leave it unanswered.
fn answer(call: &dbus::Message, how: Stuck) -> Option<dbus::Message> {
    use dbus::arg::{RefArg, Variant};
    if how == Stuck::Silent {
        return None;
    }
    let member = call.member()?.to_string();
    let path = call.path()?.to_string();
    let object_path = |p: &str| dbus::Path::new(p.to_owned()).expect("an object path");
    let no_paths = Vec::<dbus::Path<'static>>::new;
    match (path.as_str(), member.as_str()) {
        (SECRETS_PATH, "OpenSession") => {
            // Our half of the Diffie-Hellman exchange: the generator itself, a valid public value (no secret gets as
            // far as this session).
            let mut public = vec![0u8; 128];
            public[127] = 2;
            let output = Variant(Box::new(public) as Box<dyn RefArg>);
            Some(call.method_return().append2(output, object_path("/org/freedesktop/secrets/session/1")))
        }
        (SECRETS_PATH, "SearchItems") => {
            Some(call.method_return().append2(no_paths(), vec![object_path(&format!("{LOGIN_COLLECTION}/1"))]))
        }
        (SECRETS_PATH, "Unlock") => Some(call.method_return().append2(no_paths(), object_path(PROMPT))),
        (SECRETS_PATH, "ReadAlias") => Some(call.method_return().append1(object_path(LOGIN_COLLECTION))),
        (LOGIN_COLLECTION, "Get") => Some(call.method_return().append1(Variant(true))),
        // Shown, and never completed.
        (PROMPT, "Prompt") => Some(call.method_return()),
        _ => None,
    }
}

/// A private `dbus-daemon` whose socket lives in the session's folder.
struct SessionBus {
    address: String,
    _daemon: Service,
}

impl SessionBus {
    fn start(root: &Path) -> SessionBus {
        let socket = root.join("bus");
        let config = root.join("bus.conf");
        std::fs::write(&config, bus_config(&socket)).expect("write the bus configuration");
        crate::processes::become_subreaper();
        let log = std::fs::File::create(root.join("logs/dbus-daemon.log")).expect("create the bus log");
        let mut child = own_group(&mut Command::new("dbus-daemon"))
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start dbus-daemon (package dbus-daemon)");
        // The daemon prints its address once it listens.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read the bus address");
        let daemon = Service::adopt("dbus-daemon", child);
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed no address ({line:?})");
        SessionBus { address, _daemon: daemon }
    }
}

/// A session bus that allows everything (like the desktop's) but starts nothing on demand: no `<servicedir>`.
fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

fn make_root() -> tempfile::TempDir {
    let root = tempfile::Builder::new().prefix("keyring-session-").tempdir().expect("create a temporary folder");
    for dir in ["home/.local/share", "home/.config", "home/.cache", "home/.local/state", "run", "tmp", "logs"] {
        std::fs::create_dir_all(root.path().join(dir)).expect("create the session folders");
    }
    // XDG_RUNTIME_DIR must belong to the user alone, or gnome-keyring refuses it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.path().join("run"), std::fs::Permissions::from_mode(0o700)).expect("chmod run");
    root
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            walk(&entry.path(), files);
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// PATH as the test process has it, with the app's folder (target/debug) first where the checkout lies below a
/// folder other users can write to (/tmp): the exported files then call the app by name rather than by that path
/// (`export::app_program`), as a person who put it on PATH would use them, and the clients find it there.
fn path_with_the_app() -> OsString {
    use std::os::unix::fs::PermissionsExt;
    let system = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let Some(app_dir) = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf())) else { return system };
    let open = app_dir.ancestors().any(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o1002 != 0));
    if !open {
        return system;
    }
    let dirs: Vec<PathBuf> = std::iter::once(app_dir).chain(std::env::split_paths(&system)).collect();
    std::env::join_paths(dirs).unwrap_or(system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyring_stores_and_finds_an_item() {
        let session = KeyringSession::with_keyring();
        session.secret_tool_store("harness-check", "u", "s3cret");
        assert_eq!(session.secret_tool_lookup("harness-check", "u").as_deref(), Some("s3cret"));
        assert_eq!(session.secret_tool_lookup("harness-check", "other"), None);
        // The keyring file is on disk under the throwaway HOME, encrypted.
        assert!(session.files().iter().any(|f| f.ends_with("home/.local/share/keyrings/login.keyring")), "{:?}", session.files());
        assert!(session.files_containing(b"s3cret").is_empty());
    }

    #[test]
    fn a_locked_keyring_hides_its_items() {
        let mut session = KeyringSession::with_keyring();
        session.secret_tool_store("harness-check", "u", "s3cret");
        session.lock();
        let out = session.secret_tool(&["lookup", "service", "harness-check", "username", "u"]);
        assert!(!out.status.success(), "{out:?}");
        // Starting the daemon again with its password unlocks the same, still present, item.
        session.restart_keyring();
        assert_eq!(session.secret_tool_lookup("harness-check", "u").as_deref(), Some("s3cret"));
    }

    #[test]
    fn a_bus_without_a_secret_service_has_none() {
        let session = KeyringSession::without_secret_service();
        assert!(session.bus_address().is_some());
        let out = session.secret_tool(&["lookup", "service", "x", "username", "y"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("org.freedesktop.secrets"), "{out:?}");
        let no_bus = KeyringSession::without_bus();
        assert!(!no_bus.env().iter().any(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS" || k == "DISPLAY"));
    }
}
