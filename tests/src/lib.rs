//! The test harness: starts the real components the suites need and stops them when dropped.
//! Every component listens on loopback only, in folders under a temporary directory.

pub mod android_qr;
pub mod ca;
pub mod dav;
pub mod delay;
pub mod dns;
pub mod dovecot;
pub mod fault;
pub mod imap_proxy;
pub mod keyring;
pub mod netns;
pub mod processes;
pub mod terminal;
pub mod thunderbird;
pub mod webdriver;

/// A password no file contains by chance, shaped like an app-specific one (`abcd-efgh-ijkl-mnop`).
pub fn fresh_password() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes)).expect("read /dev/urandom");
    let letters: String = bytes.iter().map(|b| (b'a' + b % 26) as char).collect();
    format!("{}-{}-{}-{}", &letters[0..4], &letters[4..8], &letters[8..12], &letters[12..16])
}

pub use webdriver::{app_binary, helper_binary};

/// Sixteen random letters, for subjects and names no other run shares.
pub fn fresh_token() -> String {
    fresh_password().replace('-', "")
}

/// A mailbox for `login` with a fresh password on a Dovecot of its own, and a keyring session (home, D-Bus,
/// gnome-keyring) for the product to run in: what the client suites start from.
pub fn mailbox_and_keyring(login: &str) -> (String, dovecot::Dovecot, keyring::KeyringSession) {
    let password = fresh_password();
    let server = dovecot::Dovecot::start(&[dovecot::MailUser::new(login, &password)]).expect("start Dovecot");
    (password, server, keyring::KeyringSession::with_keyring())
}

/// Polls `ready` every 100 ms until it holds; fails naming `what` after `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The workspace's root folder (where README.md, target/ and node_modules/ are).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Runs a program with `stdin` as its standard input and collects what it printed.
pub fn run_with_stdin(command: &mut std::process::Command, stdin: impl AsRef<[u8]>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the program");
    child.stdin.take().expect("piped stdin").write_all(stdin.as_ref()).expect("write stdin");
    child.wait_with_output().expect("wait for the program")
}

/// Fails with the program's exit status and everything it printed unless it succeeded.
#[track_caller]
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
