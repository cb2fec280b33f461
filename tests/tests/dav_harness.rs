//! The iCloud-like DAV server of the harness (tests/src/dav.rs), checked with curl as the client: the front's 401
//! and realm, its principal answer pointing to the partition host, Radicale's collections there, and a program run
//! with the test hosts in its own /etc/hosts.

use std::process::Command;

use icloud_mail_tests::dav::{self, DavServer, DavUser, FrontMode};

const PRINCIPAL_QUERY: &str =
    r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;
const HOME_QUERY: &str = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/><d:displayname/></d:prop></d:propfind>"#;

/// curl run with the test hosts in its /etc/hosts: (HTTP status + headers + body).
fn propfind(server: &DavServer, url: &str, auth: Option<&str>, depth: u8, body: &str) -> String {
    let mut curl = Command::new("curl");
    curl.args(["-sS", "-i", "-X", "PROPFIND", "--cacert"]).arg(server.ca_path());
    curl.args(["-H", &format!("Depth: {depth}"), "-H", "Content-Type: application/xml", "--data", body]);
    if let Some(auth) = auth {
        curl.args(["-u", auth]);
    }
    curl.arg(url);
    let out = server.with_test_hosts(&curl).output().expect("run curl");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_service_host_names_the_principal_and_the_partition_host_holds_the_collections() {
    let password = icloud_mail_tests::fresh_password();
    let server = DavServer::start(&[DavUser::new("jane@icloud.com", &password)]);
    let service = format!("https://{}/", server.caldav_endpoint());

    let anonymous = propfind(&server, &service, None, 0, PRINCIPAL_QUERY);
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(anonymous.to_ascii_lowercase().contains("www-authenticate: basic realm=\"mmcaldav\""), "{anonymous}");
    let wrong = propfind(&server, &service, Some("jane@icloud.com:wrong"), 0, PRINCIPAL_QUERY);
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");

    let auth = format!("jane@icloud.com:{password}");
    let principal = propfind(&server, &service, Some(&auth), 0, PRINCIPAL_QUERY);
    assert!(principal.starts_with("HTTP/1.1 207"), "{principal}");
    assert!(principal.contains(&server.principal_path("jane@icloud.com")), "{principal}");

    let home_answer = propfind(
        &server,
        &format!("https://{}{}", server.caldav_endpoint(), server.principal_path("jane@icloud.com")),
        Some(&auth),
        0,
        HOME_QUERY,
    );
    let home = server.calendar_home("jane@icloud.com");
    assert!(home.starts_with(&format!("https://{}:", dav::CALDAV_PARTITION_HOST)));
    assert!(home_answer.contains(&home), "{home_answer}");
    assert!(home_answer.contains("404 Not Found"), "the unknown displayname comes back in a 404 propstat: {home_answer}");

    // The partition host (Radicale) asks for the same realm and lists the seeded collections.
    let radicale_401 = propfind(&server, &home, None, 1, "");
    assert!(radicale_401.contains("realm=\"MMCalDav\""), "{radicale_401}");
    let listing = propfind(&server, &home, Some(&auth), 1, "");
    for collection in [dav::EVENT_CALENDAR, dav::TASK_CALENDAR, dav::ADDRESS_BOOK] {
        assert!(listing.contains(&format!("/{collection}/")), "{collection} missing: {listing}");
    }
    assert!(listing.contains(dav::EVENT_CALENDAR_NAME) && listing.contains(dav::EVENT_CALENDAR_COLOR), "{listing}");

    // Items put by the harness are served.
    let uid = server.put_event("jane@icloud.com", "Dentist");
    let events = propfind(&server, &format!("{home}{}/", dav::EVENT_CALENDAR), Some(&auth), 1, "");
    assert!(events.contains(&uid.replace('@', "-")), "{events}");
    server.put_contact("jane@icloud.com", "Ada Lovelace");
    let cards = propfind(&server, &format!("{}{}/", server.addressbook_home("jane@icloud.com"), dav::ADDRESS_BOOK), Some(&auth), 1, "");
    assert!(cards.contains(".vcf"), "{cards}");
}

#[test]
fn the_front_can_stop_being_dav_and_the_server_can_go_down() {
    let mut server = DavServer::start(&[DavUser::new("jane@icloud.com", "abcd-efgh-ijkl-mnop")]);
    let service = format!("https://{}/", server.caldav_endpoint());
    server.set_mode(FrontMode::NotDav);
    let refused = propfind(&server, &service, Some("jane@icloud.com:abcd-efgh-ijkl-mnop"), 0, PRINCIPAL_QUERY);
    assert!(refused.starts_with("HTTP/1.1 405"), "{refused}");

    server.stop();
    let mut curl = Command::new("curl");
    curl.args(["-sS", "--cacert"]).arg(server.ca_path()).arg(&service);
    let out = server.with_test_hosts(&curl).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "curl's 'could not connect': {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn only_the_program_run_with_the_test_hosts_resolves_them() {
    let server = DavServer::start(&[]);
    let mut getent = Command::new("getent");
    getent.args(["hosts", dav::CALDAV_PARTITION_HOST]);
    let inside = server.with_test_hosts(&getent).output().unwrap();
    assert!(String::from_utf8_lossy(&inside.stdout).starts_with("127.0.0.1"), "{inside:?}");
    let outside = getent.output().unwrap();
    assert!(!outside.status.success(), "the machine's own /etc/hosts must stay untouched");
}
