//! Storing the password runs in a short helper process: this same program, started with the hidden subcommand
//! `HELPER_SUBCOMMAND`, loads Thunderbird's NSS (`nss`), stores the logins (`logins::store_logins`), prints the
//! outcome as one JSON line and exits.
//!
//! Why a process and not the caller's own: NSS is process-wide state (one initialisation, one set of loaded
//! libraries); the window's process already holds WebKitGTK and the system's SQLite, and a crash or hang in a
//! foreign library must not take the wizard down. The helper starts fresh, loads Thunderbird's libraries by absolute
//! path, and everything NSS decrypted or allocated ends with it. The caller waits at most `HELPER_DEADLINE`.
//!
//! The password never travels in arguments or the environment (both visible to other users): the request is one
//! JSON line on the helper's standard input, followed by exactly `password_len` bytes of password.

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

/// The hidden subcommand that makes this program the helper.
pub const HELPER_SUBCOMMAND: &str = "thunderbird-login-helper";

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
/// login store through the helper (`program` is this program). The account is added whatever becomes of the
/// password; the report says whether Thunderbird has it and, if not, why.
pub fn add_with_password(
    profile: &Path,
    account: &Account,
    password: Option<&Secret>,
    thunderbird_dir: Option<&Path>,
    program: &Path,
) -> Result<AddReport, Diagnosis> {
    let outcome = super::add_account(profile, account)?;
    let stored = password.map(|password| {
        let request = HelperRequest {
            profile: profile.to_owned(),
            thunderbird_dir: thunderbird_dir.map(Path::to_owned),
            logins: logins::server_logins(account),
            password_len: password.expose().len(),
        };
        run_helper(program, &request, password)
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
    let answer = out.split(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap_or_default();
    match serde_json::from_slice::<Result<Stored, Diagnosis>>(answer) {
        Ok(result) => result,
        Err(_) => Err(unavailable(format!("the helper ended ({status}) without an answer: {}", String::from_utf8_lossy(&err).trim()))),
    }
}

/// The helper's side: reads the request and the password from `input`, stores the logins with Thunderbird's NSS,
/// and writes the outcome as one JSON line. Returns the exit code (0 when it could answer at all).
pub fn helper_main(input: &mut impl BufRead, output: &mut impl Write) -> u8 {
    let result = serve(input);
    match serde_json::to_string(&result) {
        Ok(line) if writeln!(output, "{line}").and_then(|()| output.flush()).is_ok() => 0,
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
            logins: vec![ServerLogin { origin: "imap://imap.mail.me.com".into(), username: "jane.doe".into() }],
            password_len: 5,
        };
        let mut input = serde_json::to_vec(&request).unwrap();
        input.extend_from_slice(b"\nhello");
        let mut output = Vec::new();
        assert_eq!(helper_main(&mut std::io::Cursor::new(input), &mut output), 0);
        let answer: Result<Stored, Diagnosis> = serde_json::from_slice(&output).unwrap();
        assert_eq!(answer.unwrap_err().kind, DiagnosisKind::ThunderbirdNssUnavailable);
        assert!(!String::from_utf8_lossy(&output).contains("hello"), "the answer never echoes the password");
        assert_eq!(std::fs::read_dir(profile.path()).unwrap().count(), 0, "nothing written");
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
