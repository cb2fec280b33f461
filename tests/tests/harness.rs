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
    // Failed logins cost no growing penalty: a good login right after several failures is quick.
    for _ in 0..3 {
        assert!(!curl_imap_login(&server, "jane", "wrong"));
    }
    let started = Instant::now();
    assert!(curl_imap_login(&server, "jane", PASSWORD));
    assert!(started.elapsed() < Duration::from_secs(2), "login after failures took {:?}", started.elapsed());
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
