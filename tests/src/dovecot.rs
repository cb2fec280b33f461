//! A real Dovecot 2.3 (Debian's package) on 127.0.0.1 for the suites: IMAP with implicit TLS, submission with
//! STARTTLS and with implicit TLS, passwd-file users, a certificate from a throwaway CA, and a small loopback relay
//! that delivers what users submit into the recipient's Maildir, so a suite can check that mail arrived.
//!
//! ```no_run
//! use icloud_mail_tests::dovecot::{Dovecot, MailUser};
//! let server = Dovecot::start(&[MailUser::new("jane@icloud.com", "abcd-efgh-ijkl-mnop")]).unwrap();
//! // IMAP: server.host():server.imaps_port  SMTP: server.submission_port (STARTTLS), server.submissions_port (TLS)
//! // trust server.ca_path(); read delivered mail with server.messages("jane@icloud.com")
//! ```
//!
//! Dovecot treats a client whose address equals the server's as secure, so from 127.0.0.1 it accepts AUTH before
//! STARTTLS; to test STARTTLS enforcement connect from 127.0.0.2 (or use a fault server).
//!
//! `Dovecot::start_with(users, Setup::icloud_like(), ca)` looks like imap.mail.me.com to a client: the folders
//! `INBOX`, `Drafts`, `Sent Messages`, `Deleted Messages`, `Junk`, `Archive` (or the ones a `MailUser` names with
//! `with_folders`), `/` as the hierarchy separator, no special-use flags on any folder and no `SPECIAL-USE` in the
//! capabilities, so a client only finds the Sent folder by its name. `Setup::without_starttls_submission()` closes
//! the STARTTLS port (587) while SMTP over TLS (465) stays open.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::ca::TestCa;
use crate::processes::{free_port, wait_for_port, Service};

/// Mail processes run as Debian's `mail` user (Dovecot refuses root for mail access); it owns the mailboxes.
const MAIL_UID: u32 = 8;
const MAIL_GID: u32 = 8;

/// Which forms of the login Dovecot accepts for a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepts {
    /// Both `jane` and `jane@icloud.com` log in (like iCloud).
    Both,
    /// Only `jane`.
    NamePartOnly,
    /// Only `jane@icloud.com`.
    FullAddressOnly,
}

/// The folders besides INBOX that iCloud gives every account (none carries a special-use flag there).
pub const ICLOUD_FOLDERS: [&str; 5] = ["Drafts", "Sent Messages", "Deleted Messages", "Junk", "Archive"];

/// Folders named as other servers name them, for an account whose Sent and Trash are not iCloud's: a client file
/// that names "Sent Messages" without having read the server's list cannot work with it.
pub const ITEMS_FOLDERS: [&str; 5] = ["Drafts", "Sent Items", "Deleted Items", "Junk", "Archive"];

/// A mailbox on the test server.
#[derive(Clone, Debug)]
pub struct MailUser {
    /// The full address, e.g. `jane@icloud.com`; the name part is what comes before the `@`.
    pub address: String,
    pub password: String,
    pub accepts: Accepts,
    /// The folders besides INBOX, created (and subscribed) at start; `None`: none on a classic server,
    /// `ICLOUD_FOLDERS` on an iCloud-like one.
    pub folders: Option<Vec<String>>,
}

impl MailUser {
    /// A user who may log in with the name part or the full address.
    pub fn new(address: &str, password: &str) -> MailUser {
        MailUser { address: address.to_owned(), password: password.to_owned(), accepts: Accepts::Both, folders: None }
    }

    pub fn accepting(mut self, accepts: Accepts) -> MailUser {
        self.accepts = accepts;
        self
    }

    /// The folders (besides INBOX) this user's mailbox has: plain ASCII names without `.` or `/`.
    pub fn with_folders(mut self, folders: &[&str]) -> MailUser {
        self.folders = Some(folders.iter().map(|f| (*f).to_owned()).collect());
        self
    }

    /// The folders this user gets on a server started with `setup`.
    fn folders_on(&self, setup: &Setup) -> Vec<String> {
        match (&self.folders, setup.icloud_like) {
            (Some(folders), _) => folders.clone(),
            (None, true) => ICLOUD_FOLDERS.iter().map(|f| (*f).to_owned()).collect(),
            (None, false) => Vec::new(),
        }
    }

    /// A login form this user may sign in with.
    fn accepted_login(&self) -> &str {
        if self.accepts == Accepts::FullAddressOnly {
            &self.address
        } else {
            self.name_part()
        }
    }

    pub fn name_part(&self) -> &str {
        self.address.split_once('@').map(|(local, _)| local).unwrap_or(&self.address)
    }

    /// Both login forms, each with whether this user may log in with it.
    fn login_forms(&self) -> [(&str, bool); 2] {
        [(self.name_part(), self.accepts != Accepts::FullAddressOnly), (&self.address, self.accepts != Accepts::NamePartOnly)]
    }
}

/// How the server presents itself.
#[derive(Clone, Debug)]
pub struct Setup {
    /// iCloud's folder names and separator, no special-use flags, no `SPECIAL-USE` capability.
    pub icloud_like: bool,
    /// Whether the STARTTLS submission port (587) listens; when not, `Dovecot::submission_port` refuses connections.
    pub starttls_submission: bool,
    /// Folders every user gets (Dovecot creates them at login), with special-use flags where given; a non-empty
    /// list also makes `/` the separator. Per-user folders without flags: `MailUser::with_folders`.
    pub folders: Vec<Folder>,
    /// The relay refuses `MAIL FROM` for any address that is not a user of this server, as iCloud refuses a sender
    /// the account does not own: `550 5.7.1 <x>: sender address rejected: not one of your addresses` (Dovecot's
    /// submission passes the answer back to the client).
    pub refuse_foreign_senders: bool,
    /// The relay delivers what it accepts; when false it answers `250` to the message and drops it.
    pub relay_delivers: bool,
    /// The relay delivers each message twice (a forwarding loop, a duplicated delivery).
    pub relay_delivers_twice: bool,
    /// How long after answering `250` to a message the relay delivers it. Zero: it delivers before it answers, so
    /// a client's first search already finds the message; a delay makes a client wait for it (IDLE or polling).
    pub delivery_delay: Duration,
    /// The relay refuses the message (not the sender) at this point with this reply, as a server does for a
    /// message too large or a recipient it will not take.
    pub relay_refuses: Option<(RelayStage, &'static str)>,
    /// The relay never answers at this point (a server that stalls on the message); Dovecot waits for it.
    pub relay_stalls: Option<RelayStage>,
    /// Words left out of the server's capability list (`IDLE`: a server a client must poll).
    pub capabilities_left_out: Vec<&'static str>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            icloud_like: false,
            starttls_submission: true,
            folders: Vec::new(),
            refuse_foreign_senders: false,
            relay_delivers: true,
            relay_delivers_twice: false,
            delivery_delay: Duration::ZERO,
            relay_refuses: None,
            relay_stalls: None,
            capabilities_left_out: Vec::new(),
        }
    }
}

impl Setup {
    /// What the suites have always had: Dovecot's defaults, INBOX only unless a user names folders.
    pub fn classic() -> Setup {
        Setup::default()
    }

    /// A server that looks like imap.mail.me.com (see the module's documentation).
    pub fn icloud_like() -> Setup {
        Setup { icloud_like: true, ..Setup::default() }
    }

    /// The relay refuses senders that are not users of this server (see `refuse_foreign_senders`).
    pub fn refusing_foreign_senders(mut self) -> Setup {
        self.refuse_foreign_senders = true;
        self
    }

    /// The relay accepts every message and delivers none (mail that is slow or lost on the way).
    pub fn never_delivering(mut self) -> Setup {
        self.relay_delivers = false;
        self
    }

    /// The relay delivers every message it accepts twice.
    pub fn delivering_twice(mut self) -> Setup {
        self.relay_delivers_twice = true;
        self
    }

    /// The relay answers `250` to a message at once and delivers it `delay` later (see `delivery_delay`).
    pub fn delivering_after(mut self, delay: Duration) -> Setup {
        self.delivery_delay = delay;
        self
    }

    /// The relay refuses at `stage` with `reply` (a whole SMTP reply line such as
    /// `552 5.3.4 Message size exceeds fixed maximum message size`).
    pub fn refusing_at(mut self, stage: RelayStage, reply: &'static str) -> Setup {
        self.relay_refuses = Some((stage, reply));
        self
    }

    /// The relay never answers at `stage` (see `relay_stalls`).
    pub fn stalling_at(mut self, stage: RelayStage) -> Setup {
        self.relay_stalls = Some(stage);
        self
    }

    /// A server that does not announce `word` (e.g. `IDLE`).
    pub fn with_capability_without(mut self, word: &'static str) -> Setup {
        self.capabilities_left_out.push(word);
        self
    }

    /// Port 587 closed (connections refused), SMTP over TLS (465) open: a network that blocks 587.
    pub fn without_starttls_submission(mut self) -> Setup {
        self.starttls_submission = false;
        self
    }
}

/// Where the relay refuses a message (`Setup::refusing_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayStage {
    /// The reply to `RCPT TO`.
    Rcpt,
    /// The reply to the message itself, after the final `.` of DATA.
    EndOfData,
}

/// Dovecot 2.3.19's own post-login capability list without `SPECIAL-USE` (which imap.mail.me.com lacks too). Dovecot
/// adds that word only when a folder has a `special_use` line; the explicit list keeps it out whatever the config
/// grows. The harness suite compares it with a classic server's list, so a Dovecot update cannot make it drift unseen.
pub const ICLOUD_LIKE_CAPABILITY: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY \
THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE \
UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY \
MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY";

/// A running Dovecot; stopped (and its folder removed) when dropped.
pub struct Dovecot {
    /// IMAP, TLS from the first byte.
    pub imaps_port: u16,
    /// Submission with STARTTLS (like port 587); with `Setup::without_starttls_submission` a port nothing listens on.
    pub submission_port: u16,
    /// Submission with TLS from the first byte (like port 465).
    pub submissions_port: u16,
    users: Vec<MailUser>,
    setup: Setup,
    relay: Relay,
    // Field order matters: Dovecot stops before its folder and CA are removed.
    service: Service,
    ca: TestCa,
    dir: tempfile::TempDir,
}

/// A folder every user has (created at login), with its RFC 6154 special-use flag if any (`\Sent`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Folder {
    /// The name as a client sees it (UTF-8; Dovecot sends it in modified UTF-7), levels separated by `/`.
    pub name: &'static str,
    pub special_use: Option<&'static str>,
}

impl Dovecot {
    /// Starts Dovecot for `users` with a fresh CA, and waits until all three listeners accept connections.
    pub fn start(users: &[MailUser]) -> std::io::Result<Dovecot> {
        Self::start_with_ca(users, TestCa::new())
    }

    /// Like `start`, and every user has `folders` besides INBOX, with `/` between levels as on iCloud.
    pub fn start_with_folders(users: &[MailUser], folders: &[Folder]) -> std::io::Result<Dovecot> {
        Self::start_with(users, Setup { folders: folders.to_vec(), ..Setup::classic() }, TestCa::new())
    }

    /// Like `start`, with a CA the caller made (to serve several servers from one CA).
    pub fn start_with_ca(users: &[MailUser], ca: TestCa) -> std::io::Result<Dovecot> {
        Self::start_with(users, Setup::classic(), ca)
    }

    /// An iCloud-like server (see `Setup::icloud_like`) with a fresh CA.
    pub fn start_icloud_like(users: &[MailUser]) -> std::io::Result<Dovecot> {
        Self::start_with(users, Setup::icloud_like(), TestCa::new())
    }

    /// Starts Dovecot as `setup` says for `users` with the certificate from `ca`, creates each user's folders, and
    /// waits until every listener accepts connections.
    pub fn start_with(users: &[MailUser], setup: Setup, ca: TestCa) -> std::io::Result<Dovecot> {
        crate::processes::become_subreaper();
        let dir = tempfile::Builder::new().prefix("icloud-mail-dovecot-").tempdir()?;
        let root = dir.path().to_path_buf();
        for sub in ["run", "state", "mail", "rawlog"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        let leaf = ca.leaf_for_loopback();

        let mut passwd = String::new();
        for user in users {
            let home = root.join("mail").join(maildir_name(&user.address));
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(home.join("Maildir").join(sub))?;
            }
            for folder in user.folders_on(&setup) {
                check_folder_name(&folder)?;
            }
            check_passwd_field(&user.password)?;
            for (login, accepted) in user.login_forms() {
                check_passwd_field(login)?;
                // A form the user may not log in with gets a password nobody knows, so it fails like a wrong password
                // (as fast: `nodelay` skips Dovecot's failure delay).
                let password = if accepted { user.password.clone() } else { format!("refused-{}", unguessable()) };
                // name:password:uid:gid:gecos:home:shell:extra fields
                passwd.push_str(&format!("{login}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_GID}::{}::nodelay\n", home.display()));
            }
        }
        let passwd_path = root.join("users");
        std::fs::write(&passwd_path, passwd)?;
        // Dovecot's auth worker reads it as the `dovecot` group; nobody else may.
        std::os::unix::fs::chown(&passwd_path, Some(0), group_id("dovecot"))?;
        std::fs::set_permissions(&passwd_path, std::fs::Permissions::from_mode(0o640))?;
        // The mail processes (uid `mail`) must reach their Maildir inside our temporary folder.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
        chown_tree(&root.join("mail"))?;
        chown_tree(&root.join("rawlog"))?;

        let relay = Relay::start(root.join("mail"), users.to_vec(), &setup)?;
        let (imaps_port, submission_port, submissions_port) = (free_port(), free_port(), free_port());
        let log_path = root.join("dovecot.log");
        let config = config_text(&ConfigParts {
            root: &root,
            cert: &leaf.cert_path,
            key: &leaf.key_path,
            passwd: &passwd_path,
            log: &log_path,
            imaps_port,
            submission_port,
            submissions_port,
            relay_port: relay.port,
            setup: &setup,
        });
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config)?;

        let service = Service::start(
            "dovecot",
            Command::new("/usr/sbin/dovecot").arg("-F").arg("-c").arg(&config_path),
            &root.join("dovecot.stderr"),
        )?;
        let mut dovecot =
            Dovecot { imaps_port, submission_port, submissions_port, users: users.to_vec(), setup: setup.clone(), relay, service, ca, dir };
        let listening = if setup.starttls_submission {
            vec![imaps_port, submission_port, submissions_port]
        } else {
            vec![imaps_port, submissions_port]
        };
        for port in listening {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
                if !dovecot.service.is_running() || std::time::Instant::now() > deadline {
                    return Err(std::io::Error::other(format!(
                        "Dovecot did not start listening on {addr}.\n--- dovecot.stderr ---\n{}\n--- dovecot.log ---\n{}",
                        std::fs::read_to_string(dovecot.dir.path().join("dovecot.stderr")).unwrap_or_default(),
                        dovecot.log()
                    )));
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], dovecot.relay.port)), Duration::from_secs(5), "the delivery relay");
        for user in users {
            let folders = user.folders_on(&setup);
            for folder in &folders {
                dovecot.doveadm(&["mailbox", "create", "-s", "-u", user.accepted_login(), folder])?;
            }
            // Every folder subscribed, INBOX too, as iCloud has them (Thunderbird shows subscribed folders only).
            if !folders.is_empty() {
                dovecot.doveadm(&["mailbox", "subscribe", "-u", user.accepted_login(), "INBOX"])?;
            }
        }
        Ok(dovecot)
    }

    /// Runs `doveadm` against this server's config (it reaches the running server's auth for user lookups).
    fn doveadm(&self, args: &[&str]) -> std::io::Result<()> {
        let out = Command::new("/usr/bin/doveadm").arg("-c").arg(self.dir.path().join("dovecot.conf")).args(args).output()?;
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "doveadm {args:?} failed ({}): {}\n--- dovecot.log ---\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                self.log()
            )));
        }
        Ok(())
    }

    /// How this server was set up.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The folders besides INBOX the user with this address has (as created at start).
    pub fn folders(&self, address: &str) -> Vec<String> {
        self.users.iter().find(|u| u.address.eq_ignore_ascii_case(address)).map(|u| u.folders_on(&self.setup)).unwrap_or_default()
    }

    /// The Maildir of one of the user's folders (`INBOX` or a name from `folders`).
    pub fn folder_maildir(&self, address: &str, folder: &str) -> PathBuf {
        let maildir = self.maildir(address);
        if folder.eq_ignore_ascii_case("INBOX") {
            maildir
        } else {
            // Maildir++ keeps a folder's name as IMAP sends it (modified UTF-7), its levels separated by '.'.
            maildir.join(format!(".{}", icloud_mail_core::probe::folders::encode_modified_utf7(folder).replace('/', ".")))
        }
    }

    /// Every message in one of the user's folders (new and seen), oldest first by file name.
    pub fn folder_messages(&self, address: &str, folder: &str) -> Vec<Vec<u8>> {
        self.folder_flags(address, folder).into_iter().map(|(message, _)| message).collect()
    }

    /// Each message of a folder with its maildir flags (the letters after `:2,`; `T` is `\Deleted`, `S` `\Seen`).
    pub fn folder_flags(&self, address: &str, folder: &str) -> Vec<(Vec<u8>, String)> {
        let maildir = self.folder_maildir(address, folder);
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
            .flat_map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()))
            .collect();
        files.sort();
        files
            .iter()
            .filter_map(|f| {
                let name = f.file_name()?.to_string_lossy().into_owned();
                let flags = name.rsplit_once(":2,").map(|(_, flags)| flags.to_owned()).unwrap_or_default();
                Some((std::fs::read(f).ok()?, flags))
            })
            .collect()
    }

    /// Puts a message straight into one of the user's folders.
    pub fn deliver_to_folder(&self, address: &str, folder: &str, message: &[u8]) -> std::io::Result<PathBuf> {
        deliver_to_maildir(&self.folder_maildir(address, folder), message)
    }

    /// The name the certificate is for and clients should connect to.
    pub fn host(&self) -> &'static str {
        "localhost"
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca_path(&self) -> &Path {
        self.ca.ca_path()
    }

    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// The flags that point the app (its window or any subcommand) at this server and trust its CA:
    /// `--imap HOST:PORT --smtp HOST:PORT --ca-file PEM`.
    pub fn app_args(&self) -> Vec<String> {
        vec![
            "--imap".into(),
            format!("{}:{}", self.host(), self.imaps_port),
            "--smtp".into(),
            format!("{}:{}", self.host(), self.submission_port),
            "--ca-file".into(),
            self.ca_path().display().to_string(),
        ]
    }

    /// `app_args` and `--smtp-fallback HOST:PORT` for the TLS submission port (iCloud's 465 beside 587), as `probe`
    /// is given iCloud's servers.
    pub fn app_args_with_fallback(&self) -> Vec<String> {
        let mut args = self.app_args();
        args.extend(["--smtp-fallback".into(), format!("{}:{}", self.host(), self.submissions_port)]);
        args
    }

    /// Dovecot's own log (logins, failures, deliveries through submission).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("dovecot.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The folder with the config, the users file, logs and mailboxes.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The Maildir (INBOX) of the user with this address.
    pub fn maildir(&self, address: &str) -> PathBuf {
        self.dir.path().join("mail").join(maildir_name(address)).join("Maildir")
    }

    /// Every message in the user's INBOX (new and seen), oldest first by file name.
    pub fn messages(&self, address: &str) -> Vec<Vec<u8>> {
        self.folder_messages(address, "INBOX")
    }

    /// Puts a message straight into a user's INBOX (as a mail server delivering it would).
    pub fn deliver(&self, address: &str, message: &[u8]) -> std::io::Result<PathBuf> {
        deliver_to_maildir(&self.maildir(address), message)
    }

    pub fn users(&self) -> &[MailUser] {
        &self.users
    }

    /// What every IMAP session since start sent after its login, one text per session (Dovecot's rawlog `*.in`
    /// files; the login itself, and so the password, is not in them). Each line is one command as the client sent
    /// it, e.g. `3 UID SEARCH HEADER …`, `4 IDLE`, `DONE`.
    pub fn imap_rawlogs(&self) -> Vec<String> {
        let mut logs: Vec<(PathBuf, String)> = std::fs::read_dir(self.dir.path().join("rawlog"))
            .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "in")).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                (p, text)
            })
            .collect();
        logs.sort();
        logs.into_iter().map(|(_, text)| text).collect()
    }

    /// How many messages the relay has delivered since start.
    pub fn relayed(&self) -> u64 {
        self.relay.counts.delivered.load(Ordering::SeqCst)
    }

    /// How many `MAIL FROM` commands reached the relay since start (accepted or refused): every message anyone
    /// tried to send through this server.
    pub fn relay_transactions(&self) -> u64 {
        self.relay.counts.transactions.load(Ordering::SeqCst)
    }

    /// How many senders the relay refused since start.
    pub fn relay_refused(&self) -> u64 {
        self.relay.counts.refused.load(Ordering::SeqCst)
    }
}

struct ConfigParts<'a> {
    root: &'a Path,
    cert: &'a Path,
    key: &'a Path,
    passwd: &'a Path,
    log: &'a Path,
    imaps_port: u16,
    submission_port: u16,
    submissions_port: u16,
    relay_port: u16,
    setup: &'a Setup,
}

/// The inbox namespace with `/` between levels and the given folders (created at login), for an iCloud-like server
/// or one with `Setup::folders`; or nothing (Dovecot's defaults: `.` between levels, INBOX only).
fn folders_config(setup: &Setup) -> String {
    if !setup.icloud_like && setup.folders.is_empty() {
        return String::new();
    }
    let mut text = String::from("namespace inbox {\n  inbox = yes\n  prefix =\n  separator = /\n");
    for folder in &setup.folders {
        let special = folder.special_use.map(|flag| format!("\n    special_use = {flag}")).unwrap_or_default();
        text.push_str(&format!("  mailbox \"{}\" {{\n    auto = create{special}\n  }}\n", folder.name));
    }
    text.push_str("}\n");
    text
}

fn config_text(p: &ConfigParts) -> String {
    let root = p.root.display();
    let dh = if Path::new("/usr/share/dovecot/dh.pem").exists() { "ssl_dh = </usr/share/dovecot/dh.pem\n" } else { "" };
    // 587 closed: Dovecot does not listen there, and nothing else does (the port was free a moment ago).
    let submission = if p.setup.starttls_submission { p.submission_port } else { 0 };
    let icloud = if p.setup.icloud_like {
        // The namespace with '/' as separator comes from folders_config; the folders carry no special_use.
        let capability: Vec<&str> =
            ICLOUD_LIKE_CAPABILITY.split(' ').filter(|word| !p.setup.capabilities_left_out.contains(word)).collect();
        format!("# iCloud-like: Dovecot's capabilities without SPECIAL-USE.\nimap_capability = {}\n", capability.join(" "))
    } else if !p.setup.capabilities_left_out.is_empty() {
        // Dovecot's own list (with SPECIAL-USE: a classic server's folders may carry flags) without the words left out.
        let full = format!("{ICLOUD_LIKE_CAPABILITY} SPECIAL-USE");
        let capability: Vec<&str> = full.split(' ').filter(|word| !p.setup.capabilities_left_out.contains(word)).collect();
        format!("imap_capability = {}\n", capability.join(" "))
    } else {
        String::new()
    };
    format!(
        r#"# Written by the icloud-mail-tests harness: loopback only, throwaway users and CA.
instance_name = icloud-mail-test-{imaps}
base_dir = {root}/run
state_dir = {root}/state
log_path = {log}
info_log_path = {log}
listen = 127.0.0.1
protocols = imap submission
hostname = localhost
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
{dh}ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
# Tests try wrong passwords on purpose: answer at once.
auth_failure_delay = 0
auth_cache_size = 0
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
{folders}# What each IMAP client sent after its login (*.in) and was answered (*.out): tests read it (`imap_rawlogs`).
protocol imap {{
  rawlog_dir = {root}/rawlog
}}
submission_relay_host = 127.0.0.1
submission_relay_port = {relay}
submission_relay_trusted = yes
{icloud}# Login processes started ahead and reused (Dovecot's "high-performance" mode): a connection does not wait for a
# fork, so timings measure the client more than this machine's process start-up.
service imap-login {{
  service_count = 0
  process_min_avail = 1
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service submission-login {{
  service_count = 0
  process_min_avail = 1
  inet_listener submission {{
    port = {submission}
  }}
  inet_listener submissions {{
    port = {submissions}
    ssl = yes
  }}
}}
# Tests fail logins on purpose. Dovecot has no setting for its growing per-IP penalty after failures, but auth
# turns it off when it finds no anvil-auth-penalty socket: so anvil listens under another name.
service anvil {{
  unix_listener anvil-auth-penalty {{
    path = anvil-auth-penalty-off
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"#,
        log = p.log.display(),
        cert = p.cert.display(),
        key = p.key.display(),
        passwd = p.passwd.display(),
        imaps = p.imaps_port,
        submissions = p.submissions_port,
        relay = p.relay_port,
        uid = MAIL_UID,
        folders = folders_config(p.setup),
    )
}

fn group_id(name: &str) -> Option<u32> {
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: getgrnam reads a NUL-terminated name and returns a pointer into static storage (or NULL), read at once.
    let group = unsafe { libc::getgrnam(name.as_ptr()) };
    // SAFETY: non-NULL pointers from getgrnam point at a valid `group`.
    (!group.is_null()).then(|| unsafe { (*group).gr_gid })
}

fn chown_tree(path: &Path) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(MAIL_UID), Some(MAIL_GID))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path())?;
        }
    }
    Ok(())
}

fn maildir_name(address: &str) -> String {
    address.to_ascii_lowercase().replace(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'), "_")
}

/// Folder names the harness can map to a Maildir++ folder and back without encoding: printable ASCII without the
/// separators `.` and `/`, not INBOX.
fn check_folder_name(name: &str) -> std::io::Result<()> {
    if name.is_empty()
        || name.eq_ignore_ascii_case("INBOX")
        || !name.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        || name.contains(['.', '/'])
    {
        return Err(std::io::Error::other(format!("{name:?} is not a folder name this harness creates")));
    }
    Ok(())
}

/// passwd-file fields are separated by ':' and lines by '\n': refuse test data that would break the file.
fn check_passwd_field(value: &str) -> std::io::Result<()> {
    if value.contains([':', '\n', '\r']) {
        return Err(std::io::Error::other(format!("{value:?} cannot be written to a passwd-file")));
    }
    Ok(())
}

fn unguessable() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{:x}{:x}{:x}", now.as_nanos(), std::process::id(), DELIVERY_COUNTER.fetch_add(1, Ordering::SeqCst))
}

static DELIVERY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Maildir delivery: write into tmp/, then rename into new/ (the rename makes it appear whole).
fn deliver_to_maildir(maildir: &Path, message: &[u8]) -> std::io::Result<PathBuf> {
    let n = DELIVERY_COUNTER.fetch_add(1, Ordering::SeqCst);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let name = format!("{}.M{}P{}Q{n}.localhost", now.as_secs(), now.subsec_micros(), std::process::id());
    let tmp = maildir.join("tmp").join(&name);
    std::fs::write(&tmp, message)?;
    let new = maildir.join("new").join(&name);
    std::os::unix::fs::chown(&tmp, Some(MAIL_UID), Some(MAIL_GID))?;
    std::fs::rename(&tmp, &new)?;
    Ok(new)
}

/// The relay Dovecot's submission service hands outgoing mail to: a minimal SMTP server on loopback that delivers
/// each message into the Maildir of every recipient who is a user of this server, and refuses other recipients.
struct Relay {
    port: u16,
    stop: Arc<AtomicBool>,
    counts: Arc<RelayCounts>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct RelayCounts {
    delivered: AtomicU64,
    transactions: AtomicU64,
    refused: AtomicU64,
}

/// How the relay treats senders and messages (from `Setup`).
#[derive(Clone, Copy)]
struct RelayRules {
    refuse_foreign_senders: bool,
    deliver: bool,
    twice: bool,
    delay: Duration,
    refuses: Option<(RelayStage, &'static str)>,
    stalls: Option<RelayStage>,
}

impl Relay {
    fn start(mail_root: PathBuf, users: Vec<MailUser>, setup: &Setup) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(RelayCounts::default());
        let rules = RelayRules {
            refuse_foreign_senders: setup.refuse_foreign_senders,
            deliver: setup.relay_delivers,
            twice: setup.relay_delivers_twice,
            delay: setup.delivery_delay,
            refuses: setup.relay_refuses,
            stalls: setup.relay_stalls,
        };
        let (stop2, delivered2) = (stop.clone(), counts.clone());
        let thread = std::thread::Builder::new().name("smtp-relay".into()).spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, users, delivered) = (mail_root.clone(), users.clone(), delivered2.clone());
                // Each session ends when Dovecot closes it, or after the read timeout.
                let _ = std::thread::Builder::new().name("smtp-relay-session".into()).spawn(move || {
                    let _ = relay_session(stream, &root, &users, &delivered, rules);
                });
            }
        })?;
        Ok(Relay { port, stop, counts, thread: Some(thread) })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers nothing more: reads until the other side gives up (or the read timeout ends the session).
fn stall(reader: &mut impl BufRead) -> std::io::Result<()> {
    let mut sink = Vec::new();
    while reader.read_until(b'\n', &mut sink)? > 0 {
        sink.clear();
    }
    Ok(())
}

fn relay_session(
    stream: TcpStream,
    mail_root: &Path,
    users: &[MailUser],
    counts: &Arc<RelayCounts>,
    rules: RelayRules,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 localhost test relay\r\n")?;
    let mut recipients: Vec<PathBuf> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            // Enhanced status codes, as iCloud's servers announce them: Dovecot then passes a reply's own code on
            // (`552 5.3.4 …`) instead of putting its generic `5.0.0` in front.
            out.write_all(b"250-localhost\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            recipients.clear();
            counts.transactions.fetch_add(1, Ordering::SeqCst);
            let sender = line.trim_end()[10..].trim().trim_start_matches('<').split('>').next().unwrap_or("").to_ascii_lowercase();
            if rules.refuse_foreign_senders && !users.iter().any(|u| u.address.eq_ignore_ascii_case(&sender)) {
                counts.refused.fetch_add(1, Ordering::SeqCst);
                out.write_all(format!("550 5.7.1 <{sender}>: sender address rejected: not one of your addresses\r\n").as_bytes())?;
                continue;
            }
            out.write_all(b"250 2.1.0 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            let address = line.trim_end()[8..].trim().trim_start_matches('<').split('>').next().unwrap_or("").to_ascii_lowercase();
            if rules.stalls == Some(RelayStage::Rcpt) {
                return stall(&mut reader);
            }
            if let Some((RelayStage::Rcpt, reply)) = rules.refuses {
                counts.refused.fetch_add(1, Ordering::SeqCst);
                out.write_all(format!("{reply}\r\n").as_bytes())?;
                continue;
            }
            match users.iter().find(|u| u.address.eq_ignore_ascii_case(&address)) {
                Some(user) => {
                    recipients.push(mail_root.join(maildir_name(&user.address)).join("Maildir"));
                    out.write_all(b"250 2.1.5 OK\r\n")?;
                }
                None => out.write_all(b"550 5.1.1 No such user on this test server\r\n")?,
            }
        } else if upper == "DATA" {
            if recipients.is_empty() {
                out.write_all(b"554 5.5.1 No valid recipients\r\n")?;
                continue;
            }
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut message = Vec::new();
            let mut data_line = Vec::new();
            loop {
                data_line.clear();
                if reader.read_until(b'\n', &mut data_line)? == 0 {
                    return Ok(());
                }
                if data_line == b".\r\n" || data_line == b".\n" {
                    break;
                }
                // Undo dot-stuffing (RFC 5321 4.5.2).
                let body = if data_line.starts_with(b"..") { &data_line[1..] } else { &data_line[..] };
                message.extend_from_slice(body);
            }
            if rules.stalls == Some(RelayStage::EndOfData) {
                return stall(&mut reader);
            }
            if let Some((RelayStage::EndOfData, reply)) = rules.refuses {
                counts.refused.fetch_add(1, Ordering::SeqCst);
                recipients.clear();
                out.write_all(format!("{reply}\r\n").as_bytes())?;
                continue;
            }
            let copies = if rules.twice { 2 } else { 1 };
            let maildirs: Vec<PathBuf> = std::mem::take(&mut recipients).into_iter().filter(|_| rules.deliver).collect();
            if rules.delay.is_zero() {
                for maildir in &maildirs {
                    for _ in 0..copies {
                        deliver_to_maildir(maildir, &message)?;
                    }
                    counts.delivered.fetch_add(1, Ordering::SeqCst);
                }
                out.write_all(b"250 2.0.0 Delivered\r\n")?;
            } else {
                // Accepted now, delivered later: as a real server queues mail.
                out.write_all(b"250 2.0.0 Queued\r\n")?;
                let (counts, delay) = (counts.clone(), rules.delay);
                std::thread::Builder::new().name("smtp-relay-delivery".into()).spawn(move || {
                    std::thread::sleep(delay);
                    for maildir in &maildirs {
                        if (0..copies).all(|_| deliver_to_maildir(maildir, &message).is_ok()) {
                            counts.delivered.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })?;
            }
        } else if upper == "RSET" || upper == "NOOP" {
            out.write_all(b"250 2.0.0 OK\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 2.0.0 Bye\r\n")?;
            let _ = out.shutdown(Shutdown::Both);
            return Ok(());
        } else {
            out.write_all(b"502 5.5.2 Not implemented\r\n")?;
        }
    }
}
