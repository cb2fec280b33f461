//! Storing the password runs in a short helper process: the separate program `HELPER_PROGRAM`, installed beside
//! the app (`helper_program`), loads Thunderbird's NSS (`nss`), stores the logins (`logins::store_logins`), prints
//! the outcome as one JSON line and exits. Its whole `main` is `helper_process_main`.
//!
//! Why a process and not the caller's own: NSS is process-wide state (one initialisation, one set of loaded
//! libraries); the window's process already holds WebKitGTK and the system's SQLite, and a crash or hang in a
//! foreign library must not take the wizard down. The helper starts fresh, loads Thunderbird's libraries by absolute
//! path, and everything NSS decrypted or allocated ends with it. The caller waits at most `HELPER_DEADLINE`.
//!
//! Why a program of its own and not this one re-run (issue 23, M2): on macOS a hardened-runtime program loads only
//! libraries signed by its own team unless it carries `com.apple.security.cs.disable-library-validation`, and
//! Thunderbird's NSS is signed by Mozilla. Only the helper carries that exception (src-tauri/
//! entitlements-nss-helper.plist); the app itself keeps library validation, so code dropped where NSS is looked for
//! (`~/Applications/Thunderbird.app`) can never run inside the process that holds the keychain's items. The helper
//! also checks each library's signature for Mozilla's Team ID before loading it (`nss`). The same separate program
//! is used on every platform, so the path macOS depends on is the one the Linux tests run.
//!
//! The password never travels in arguments or the environment (both visible to other users): the request is one
//! JSON line on the helper's standard input, followed by exactly `password_len` bytes of password.
//!
//! The helper is started by its full path beside the running program, with an environment cleared to
//! `ENV_ALLOWED` (no `LD_PRELOAD`, `LD_LIBRARY_PATH`, `NSS_*`, `NSPR_LOG_*` reaches the process that loads NSS), for
//! canonical profile and Thunderbird paths. Its answer is the one line that starts with `ANSWER_MARK`, so output a
//! foreign library prints cannot be taken for it.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::account::Account;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::secret::Secret;

use super::logins::{self, AddReport, ServerLogin, Stored};

/// The helper program's name (on Windows with `.exe`), installed beside the app: in the .app's `Contents/MacOS`,
/// in `/usr/bin` of the .deb, .rpm and AppImage, in the install folder on Windows.
pub const HELPER_PROGRAM: &str = "icloud-mail-setup-nss-helper";

/// The one argument the helper program is started with; without it, it does nothing (a person who starts it by
/// hand gets a line saying what it is, not a process waiting on standard input).
pub const HELPER_SUBCOMMAND: &str = "thunderbird-login-helper";

/// What starts the helper's answer line.
pub const ANSWER_MARK: &str = "icloud-mail-setup-helper-answer: ";

/// The environment variables the helper keeps (all others are cleared): where the person's files and temporary
/// files are, the language, and on Windows what the system itself needs to load a DLL.
pub const ENV_ALLOWED: &[&str] = &[
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "LC_MESSAGES",
    "LC_CTYPE", // Unix
    "SystemRoot",
    "SYSTEMROOT",
    "windir",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "TEMP",
    "TMP",
    "ProgramFiles",
    "ProgramFiles(x86)",
    "ProgramW6432", // Windows
];

/// The helper program beside the running one (`dir` of `current_exe()`; on Linux that reads `/proc/self/exe`,
/// whose folder stays right even when an upgrade replaced the running file and its name ends in ` (deleted)`).
/// A missing helper is `thunderbird_nss_unavailable`, saying which file is missing.
pub fn helper_program() -> Result<PathBuf, Diagnosis> {
    let exe = std::env::current_exe().map_err(|e| unavailable(format!("this program's own path: {e}")))?;
    helper_beside(&exe)
}

/// The helper program that belongs beside `exe`.
pub fn helper_beside(exe: &Path) -> Result<PathBuf, Diagnosis> {
    let dir = exe.parent().ok_or_else(|| unavailable(format!("{} has no folder", exe.display())))?;
    let helper = dir.join(format!("{HELPER_PROGRAM}{}", std::env::consts::EXE_SUFFIX));
    if helper.is_file() {
        Ok(helper)
    } else {
        Err(unavailable(format!(
            "the helper program {} is missing: it is installed beside {}; reinstalling the app brings it back",
            helper.display(),
            exe.display()
        )))
    }
}

/// How long the helper may take: NSS opens a key4.db and encrypts two logins in well under a second.
pub const HELPER_DEADLINE: Duration = Duration::from_secs(30);

/// What the helper is asked to do (the password follows on standard input).
#[derive(Debug, Serialize, Deserialize)]
pub struct HelperRequest {
    pub profile: PathBuf,
    /// The Thunderbird installation whose NSS to use; found when absent.
    pub thunderbird_dir: Option<PathBuf>,
    pub logins: Vec<ServerLogin>,
    pub password_len: usize,
}

/// Adds the account to the profile (`add_account`) and, when a password is given, stores it in the profile's
/// login store through the helper (`program`, from `helper_program`). The account is added whatever becomes of
/// the password; the report says whether Thunderbird has it and, if not, why (a missing helper among the reasons).
pub fn add_with_password(
    profile: &Path,
    account: &Account,
    password: Option<&Secret>,
    thunderbird_dir: Option<&Path>,
    program: Result<PathBuf, Diagnosis>,
) -> Result<AddReport, Diagnosis> {
    // The folders as they are, not as a link or `..` spells them: what is checked is what the helper opens.
    let canonical =
        |path: &Path| std::fs::canonicalize(path).map(crate::export::without_verbatim_prefix).unwrap_or_else(|_| path.to_owned());
    let profile = &canonical(profile);
    let outcome = super::add_account(profile, account)?;
    let stored = password.map(|password| {
        let request = HelperRequest {
            profile: profile.to_owned(),
            thunderbird_dir: thunderbird_dir.map(canonical),
            logins: [logins::server_logins(account), logins::dav_logins(account)].concat(),
            password_len: password.expose().len(),
        };
        program.and_then(|program| run_helper(&program, &request, password))
    });
    Ok(AddReport::new(outcome, stored))
}

fn unavailable(detail: String) -> Diagnosis {
    Diagnosis::new(DiagnosisKind::ThunderbirdNssUnavailable, Facts::default(), Some(detail))
}

/// Starts the helper, hands it the request and the password, and waits for its answer (at most
/// `HELPER_DEADLINE`; then it is killed).
pub fn run_helper(program: &Path, request: &HelperRequest, password: &Secret) -> Result<Stored, Diagnosis> {
    let mut child = Command::new(program)
        .arg(HELPER_SUBCOMMAND)
        .env_clear()
        .envs(std::env::vars_os().filter(|(name, _)| ENV_ALLOWED.iter().any(|allowed| name.as_os_str() == *allowed)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| unavailable(format!("{} could not be started: {e}", program.display())))?;
    let mut line = serde_json::to_vec(request).map_err(|e| unavailable(e.to_string()))?;
    line.push(b'\n');
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that died early closes the pipe: its exit status below says why.
        let _ = stdin.write_all(&line).and_then(|()| stdin.write_all(password.expose().as_bytes()));
    }
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(unavailable("the helper's output could not be read".into()));
    };
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + HELPER_DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(unavailable(format!("the helper did not finish within {} s", HELPER_DEADLINE.as_secs())));
            }
            Err(e) => return Err(unavailable(e.to_string())),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    let answer = out.split(|b| *b == b'\n').filter_map(|line| line.strip_prefix(ANSWER_MARK.as_bytes())).next_back().unwrap_or_default();
    match serde_json::from_slice::<Result<Stored, Diagnosis>>(answer) {
        Ok(result) => result,
        Err(_) => Err(unavailable(format!("the helper ended ({status}) without an answer: {}", String::from_utf8_lossy(&err).trim()))),
    }
}

/// The helper program's `main`: no core dumps from its first instruction on, then, when started with
/// `HELPER_SUBCOMMAND` and nothing else, `helper_main` on standard input and output. Returns the exit code.
pub fn helper_process_main(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    let _ = crate::dumps::forbid();
    let args: Vec<_> = args.into_iter().skip(1).collect();
    if args.len() != 1 || args[0] != HELPER_SUBCOMMAND {
        eprintln!(
            "{HELPER_PROGRAM}: stores a password in a Thunderbird profile for icloud-mail-setup, which starts it; it is not \
             meant to be started by hand."
        );
        return 2;
    }
    match unbuffered_stdin() {
        // A one-byte buffer: the request line is read through it, the password (read with read_exact) goes straight
        // into the helper's own zeroizing buffer, never into a standard-input buffer left unwiped.
        Ok(stdin) => helper_main(&mut std::io::BufReader::with_capacity(1, stdin), &mut std::io::stdout().lock()),
        Err(_) => 1,
    }
}

/// Standard input as a file of its own, bypassing the process-wide buffer of `std::io::stdin()`.
fn unbuffered_stdin() -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    let owned = std::os::fd::AsFd::as_fd(&std::io::stdin()).try_clone_to_owned()?;
    #[cfg(windows)]
    let owned = std::os::windows::io::AsHandle::as_handle(&std::io::stdin()).try_clone_to_owned()?;
    Ok(std::fs::File::from(owned))
}

/// The helper's side: reads the request and the password from `input`, stores the logins with Thunderbird's NSS,
/// and writes the outcome as one JSON line. Returns the exit code (0 when it could answer at all).
pub fn helper_main(input: &mut impl BufRead, output: &mut impl Write) -> u8 {
    // NSS will hold the profile's unlocked key: no core dump of this process (helper_process_main did so too; this
    // is the helper's own promise, whoever calls it).
    let _ = crate::dumps::forbid();
    let result = serve(input);
    match serde_json::to_string(&result) {
        Ok(line) if writeln!(output, "{ANSWER_MARK}{line}").and_then(|()| output.flush()).is_ok() => 0,
        _ => 1,
    }
}

fn serve(input: &mut impl BufRead) -> Result<Stored, Diagnosis> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| unavailable(format!("request: {e}")))?;
    let request: HelperRequest = serde_json::from_str(&line).map_err(|e| unavailable(format!("request: {e}")))?;
    let mut bytes = Zeroizing::new(vec![0u8; request.password_len]);
    input.read_exact(&mut bytes).map_err(|e| unavailable(format!("password: {e}")))?;
    let password = Secret::new(String::from_utf8(bytes.to_vec()).map_err(|e| unavailable(format!("password: {}", e.utf8_error())))?);
    let nss = super::nss::load_for(&request.profile, request.thunderbird_dir.as_deref()).map_err(|e| e.diagnosis(&request.profile))?;
    logins::store_logins(&request.profile, &request.logins, &password, &nss, logins::now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_thunderbird_comes_back_as_nss_unavailable() {
        let profile = tempfile::tempdir().unwrap();
        let nowhere = tempfile::tempdir().unwrap();
        let request = HelperRequest {
            profile: profile.path().to_owned(),
            thunderbird_dir: Some(nowhere.path().to_owned()),
            logins: vec![ServerLogin { origin: "imap://imap.mail.me.com".into(), username: "jane.doe".into(), realm: None }],
            password_len: 5,
        };
        let mut input = serde_json::to_vec(&request).unwrap();
        input.extend_from_slice(b"\nhello");
        let mut output = Vec::new();
        assert_eq!(helper_main(&mut std::io::Cursor::new(input), &mut output), 0);
        let answer: Result<Stored, Diagnosis> = serde_json::from_slice(output.strip_prefix(ANSWER_MARK.as_bytes()).unwrap()).unwrap();
        assert_eq!(answer.unwrap_err().kind, DiagnosisKind::ThunderbirdNssUnavailable);
        assert!(!String::from_utf8_lossy(&output).contains("hello"), "the answer never echoes the password");
        assert_eq!(std::fs::read_dir(profile.path()).unwrap().count(), 0, "nothing written");
    }

    /// A stand-in helper (a shell script) records the environment it was given and prints a stray line that looks
    /// like an answer before its marked one.
    #[cfg(unix)]
    #[test]
    fn the_helper_gets_only_the_allowed_environment_and_only_its_marked_line_counts() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join("env");
        let script = dir.path().join("helper");
        let stray = r#"{"Ok":{"changed":true,"backups":["/stray"]}}"#;
        let marked = r#"{"Ok":{"changed":false,"backups":[]}}"#;
        std::fs::write(
            &script,
            format!("#!/bin/sh\n/usr/bin/env > '{}'\necho '{stray}'\necho '{ANSWER_MARK}{marked}'\n", env_file.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let request = HelperRequest { profile: dir.path().to_owned(), thunderbird_dir: None, logins: Vec::new(), password_len: 2 };
        let stored = run_helper(&script, &request, &Secret::new("pw".into())).unwrap();
        assert_eq!(stored, Stored { changed: false, backups: Vec::new() }, "the marked line, not the stray one");
        let env = std::fs::read_to_string(&env_file).unwrap();
        // The test runner's own environment (CARGO_*, RUST_*, PATH, …) is not passed on; the shell adds PWD itself.
        assert!(std::env::vars_os().any(|(name, _)| !ENV_ALLOWED.iter().any(|a| name.as_os_str() == *a)), "a variable to leave out");
        for line in env.lines() {
            let name = line.split('=').next().unwrap();
            assert!(ENV_ALLOWED.contains(&name) || name == "PWD", "{name} reached the helper: {env}");
        }
    }

    #[test]
    fn the_helper_is_looked_for_beside_the_program_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("icloud-mail-setup");
        let err = helper_beside(&exe).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ThunderbirdNssUnavailable);
        let helper = dir.path().join(format!("{HELPER_PROGRAM}{}", std::env::consts::EXE_SUFFIX));
        assert!(err.detail.unwrap().contains(&helper.display().to_string()), "the detail names the missing file");
        std::fs::write(&helper, b"").unwrap();
        assert_eq!(helper_beside(&exe).unwrap(), helper);
        // After an upgrade replaced the running file, Linux names it "<path> (deleted)": its folder is still right.
        assert_eq!(helper_beside(&dir.path().join("icloud-mail-setup (deleted)")).unwrap(), helper);
    }

    fn empty_request() -> HelperRequest {
        HelperRequest { profile: PathBuf::from("/nonexistent"), thunderbird_dir: None, logins: Vec::new(), password_len: 2 }
    }

    #[test]
    fn a_helper_that_cannot_start_is_a_diagnosis() {
        let err = run_helper(Path::new("/nonexistent/program"), &empty_request(), &Secret::new("pw".into())).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ThunderbirdNssUnavailable);
    }

    /// `true` reads nothing and answers nothing (/usr/bin on Linux and macOS alike; macOS has no /bin/true); Windows
    /// has no such program, so there the test does not exist rather than passing empty.
    #[test]
    #[cfg(unix)]
    fn a_helper_that_answers_nothing_is_a_diagnosis() {
        let err = run_helper(Path::new("/usr/bin/true"), &empty_request(), &Secret::new("pw".into())).unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ThunderbirdNssUnavailable);
        assert!(err.detail.unwrap().contains("without an answer"));
    }
}
