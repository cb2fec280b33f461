//! The harness itself: the test CA, Dovecot (logins, delivery through submission) and the fault servers behave as
//! the other suites expect. Clients here are plain sockets and curl, independent of the product's code.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use icloud_mail_tests::ca::TestCa;
use icloud_mail_tests::dovecot::{Accepts, Dovecot, MailUser};
use icloud_mail_tests::fault::{Fault, FaultServer};

const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// curl logs in over verified TLS (trusting only the test CA); true when the server accepted the login.
fn curl_imap_login(server: &Dovecot, user: &str, password: &str) -> bool {
    let status = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(server.ca_path())
        .arg(format!("imaps://{}:{}/INBOX", server.host(), server.imaps_port))
        .args(["-u", &format!("{user}:{password}"), "-X", "NOOP"])
        .status()
        .expect("curl runs");
    status.success()
}

#[test]
fn dovecot_accepts_the_configured_login_forms_only() {
    let server = Dovecot::start(&[
        MailUser::new("jane@icloud.com", PASSWORD),
        MailUser::new("nameonly@icloud.com", PASSWORD).accepting(Accepts::NamePartOnly),
        MailUser::new("fullonly@icloud.com", PASSWORD).accepting(Accepts::FullAddressOnly),
    ])
    .unwrap();
    assert!(curl_imap_login(&server, "jane", PASSWORD), "{}", server.log());
    assert!(curl_imap_login(&server, "jane@icloud.com", PASSWORD));
    assert!(curl_imap_login(&server, "nameonly", PASSWORD));
    assert!(!curl_imap_login(&server, "nameonly@icloud.com", PASSWORD));
    assert!(curl_imap_login(&server, "fullonly@icloud.com", PASSWORD));
    assert!(!curl_imap_login(&server, "fullonly", PASSWORD));
    // Failed logins cost no delay and no growing penalty: Dovecot itself reads no failure delay from its config, and
    // anvil's penalty socket has another name, so auth finds none. A good login after failures still works.
    let file = server.dir().join("dovecot.conf");
    let config = Command::new("doveconf").arg("-n").arg("-c").arg(&file).output().unwrap();
    let config = String::from_utf8_lossy(&config.stdout);
    assert!(config.lines().any(|l| l.trim() == "auth_failure_delay = 0"), "{config}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("unix_listener anvil-auth-penalty {\n    path = anvil-auth-penalty-off\n"), "{written}");
    for _ in 0..3 {
        assert!(!curl_imap_login(&server, "jane", "wrong"));
    }
    assert!(curl_imap_login(&server, "jane", PASSWORD));
    assert!(server.log().contains("Login: user=<jane>"), "{}", server.log());
}

#[test]
fn mail_submitted_to_self_lands_in_the_inbox() {
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let message = std::env::temp_dir().join(format!("harness-message-{}.eml", std::process::id()));
    std::fs::write(&message, "From: jane@icloud.com\r\nTo: jane@icloud.com\r\nSubject: harness check\r\n\r\n.leading dot\r\nbody\r\n")
        .unwrap();
    for (scheme, port) in [("smtp", server.submission_port), ("smtps", server.submissions_port)] {
        let status = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--ssl-reqd", "--cacert"])
            .arg(server.ca_path())
            .arg(format!("{scheme}://{}:{port}", server.host()))
            .args(["-u", &format!("jane@icloud.com:{PASSWORD}"), "--mail-from", "jane@icloud.com", "--mail-rcpt", "jane@icloud.com", "-T"])
            .arg(&message)
            .status()
            .unwrap();
        assert!(status.success(), "{scheme}: {}", server.log());
    }
    let _ = std::fs::remove_file(&message);
    let inbox = server.messages("jane@icloud.com");
    assert_eq!(inbox.len(), 2, "{}", server.log());
    let text = String::from_utf8_lossy(&inbox[0]);
    assert!(text.contains("Subject: harness check") && text.contains("\r\n.leading dot\r\n"), "{text}");
    assert_eq!(server.relayed(), 2);
}

#[test]
fn refused_port_refuses_and_silent_syn_hangs() {
    let ca = TestCa::new();
    let refused = FaultServer::start(Fault::RefusedPort, &ca);
    let err = TcpStream::connect_timeout(&refused.addr(), Duration::from_secs(2)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

    let blackhole = FaultServer::start(Fault::NoSynAnswer, &ca);
    let started = Instant::now();
    let err = TcpStream::connect_timeout(&blackhole.addr(), Duration::from_millis(800)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[test]
fn smtp_fault_records_what_the_client_sent() {
    let ca = TestCa::new();
    let server = FaultServer::start(Fault::SmtpWithoutStarttls, &ca);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("220 "), "{line}");
    stream.write_all(b"EHLO client\r\n").unwrap();
    let mut ehlo = String::new();
    while !ehlo.contains("250 ") {
        reader.read_line(&mut ehlo).unwrap();
    }
    assert!(!ehlo.contains("STARTTLS") && ehlo.contains("AUTH"), "{ehlo}");
    stream.write_all(b"QUIT\r\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(server.received_lines(), ["EHLO client", "QUIT"]);
}

#[test]
fn ca_issues_distinct_files() {
    let ca = TestCa::new();
    let a = ca.leaf_for_loopback();
    let b = ca.expired_leaf();
    assert_ne!(a.cert_path, b.cert_path);
    assert!(ca.ca_path().exists() && a.key_path.exists() && b.cert_path.exists());
    assert!(std::fs::read_to_string(ca.ca_path()).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
}

/// What curl prints for one IMAP command after logging in (the server's untagged answers), over verified TLS.
fn curl_imap_command(server: &Dovecot, user: &str, command: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(server.ca_path())
        .arg(format!("imaps://{}:{}/", server.host(), server.imaps_port))
        .args(["-u", &format!("{user}:{PASSWORD}"), "-X", command])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {command}: {}\n{}", String::from_utf8_lossy(&out.stderr), server.log());
    String::from_utf8(out.stdout).unwrap()
}

/// `* LIST (flags) "sep" name` lines as (flags, separator, name), the name unquoted.
fn list_lines(answer: &str) -> Vec<(String, String, String)> {
    answer
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("* LIST ("))
        .map(|rest| {
            let (flags, rest) = rest.split_once(") ").expect("flags end");
            let (sep, name) = rest.strip_prefix('"').and_then(|r| r.split_once("\" ")).expect("quoted separator");
            let name = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(name);
            (flags.to_owned(), sep.to_owned(), name.to_owned())
        })
        .collect()
}

fn capabilities(server: &Dovecot, user: &str) -> Vec<String> {
    let answer = curl_imap_command(server, user, "CAPABILITY");
    let line = answer.lines().find_map(|l| l.trim_end().strip_prefix("* CAPABILITY ")).unwrap_or_else(|| panic!("{answer}"));
    line.split(' ').map(str::to_owned).collect()
}

#[test]
fn icloud_like_server_lists_exactly_the_account_folders_without_special_use() {
    use icloud_mail_tests::dovecot::{ICLOUD_FOLDERS, ITEMS_FOLDERS};
    let server = Dovecot::start_icloud_like(&[
        MailUser::new("jane@icloud.com", PASSWORD),
        MailUser::new("items@icloud.com", PASSWORD).with_folders(&ITEMS_FOLDERS).accepting(Accepts::FullAddressOnly),
        MailUser::new("short@icloud.com", PASSWORD).accepting(Accepts::NamePartOnly),
    ])
    .unwrap();
    for (login, folders) in [("jane", ICLOUD_FOLDERS), ("items@icloud.com", ITEMS_FOLDERS), ("short", ICLOUD_FOLDERS)] {
        let answer = curl_imap_command(&server, login, "LIST \"\" \"*\"");
        let listed = list_lines(&answer);
        let mut names: Vec<&str> = listed.iter().map(|(_, _, name)| name.as_str()).collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = folders.iter().copied().chain(["INBOX"]).collect();
        expected.sort_unstable();
        assert_eq!(names, expected, "{login}: {answer}");
        for (flags, sep, name) in &listed {
            assert_eq!((flags.as_str(), sep.as_str()), ("\\HasNoChildren", "/"), "{login}: {name}: {answer}");
        }
        // Asked for special-use attributes (RFC 6154), the server names none: the roles are not on the wire.
        let answer = curl_imap_command(&server, login, "LIST \"\" \"*\" RETURN (SPECIAL-USE)");
        for role in ["\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"] {
            assert!(!answer.contains(role), "{login}: {role} in {answer}");
        }
        // All folders are subscribed, as on iCloud (Thunderbird lists subscribed folders).
        let subscribed = list_lines(&curl_imap_command(&server, login, "LSUB \"\" \"*\"").replace("* LSUB (", "* LIST ("));
        assert_eq!(subscribed.len(), folders.len() + 1, "{login}: {subscribed:?}");
    }
    // The login forms still hold: the full-address-only account refuses its name part and vice versa.
    assert!(!curl_imap_login(&server, "items", PASSWORD));
    assert!(!curl_imap_login(&server, "short@icloud.com", PASSWORD));
    let items = server.folders("items@icloud.com");
    assert!(items.contains(&"Sent Items".to_owned()) && !items.contains(&"Sent Messages".to_owned()), "{items:?}");

    // The capability list is Dovecot's own (a classic server's, which has no special_use lines either), without
    // SPECIAL-USE.
    let classic = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    let mut expected = capabilities(&classic, "jane");
    expected.retain(|c| c != "SPECIAL-USE");
    let shown = capabilities(&server, "jane");
    assert!(!shown.contains(&"SPECIAL-USE".to_owned()), "{shown:?}");
    assert_eq!(shown, expected);
}

#[test]
fn icloud_like_folders_take_mail_in_and_give_it_back() {
    let server = Dovecot::start_icloud_like(&[MailUser::new("jane@icloud.com", PASSWORD)]).unwrap();
    server.deliver_to_folder("jane@icloud.com", "Sent Messages", b"Subject: kept copy\r\n\r\nbody\r\n").unwrap();
    let answer = curl_imap_command(&server, "jane", "STATUS \"Sent Messages\" (MESSAGES)");
    assert!(answer.contains("(MESSAGES 1)"), "{answer}");
    // An IMAP APPEND (what a client does for its Sent copy) lands where folder_messages looks.
    let message = std::env::temp_dir().join(format!("harness-append-{}.eml", std::process::id()));
    std::fs::write(&message, "Subject: appended\r\n\r\nbody\r\n").unwrap();
    let status = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(server.ca_path())
        .arg(format!("imaps://{}:{}/Deleted%20Messages", server.host(), server.imaps_port))
        .args(["-u", &format!("jane:{PASSWORD}"), "-T"])
        .arg(&message)
        .status()
        .unwrap();
    let _ = std::fs::remove_file(&message);
    assert!(status.success(), "{}", server.log());
    let trash = server.folder_messages("jane@icloud.com", "Deleted Messages");
    assert_eq!(trash.len(), 1);
    assert!(String::from_utf8_lossy(&trash[0]).contains("Subject: appended"));
    assert!(server.messages("jane@icloud.com").is_empty());
}

#[test]
fn port_587_can_be_closed_while_465_delivers() {
    use icloud_mail_tests::dovecot::Setup;
    let server = Dovecot::start_with(
        &[MailUser::new("jane@icloud.com", PASSWORD)],
        Setup::icloud_like().without_starttls_submission(),
        TestCa::new(),
    )
    .unwrap();
    let refused = TcpStream::connect_timeout(&([127, 0, 0, 1], server.submission_port).into(), Duration::from_secs(2)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let message = std::env::temp_dir().join(format!("harness-465-{}.eml", std::process::id()));
    std::fs::write(&message, "From: jane@icloud.com\r\nTo: jane@icloud.com\r\nSubject: over 465\r\n\r\nbody\r\n").unwrap();
    let status = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(server.ca_path())
        .arg(format!("smtps://{}:{}", server.host(), server.submissions_port))
        .args(["-u", &format!("jane@icloud.com:{PASSWORD}"), "--mail-from", "jane@icloud.com", "--mail-rcpt", "jane@icloud.com", "-T"])
        .arg(&message)
        .status()
        .unwrap();
    let _ = std::fs::remove_file(&message);
    assert!(status.success(), "{}", server.log());
    assert_eq!(server.messages("jane@icloud.com").len(), 1);
}
