//! Calendars and contacts for terminal users (#25), with only what the product wrote: the iCloud-like DAV server of
//! the harness (Radicale behind TLS, realm `MMCalDav`, the service host pointing to a partition host, a VEVENT
//! calendar, a task-only one, the `card` address book), the password saved into gnome-keyring by the product's
//! `keychain set`, and the vdirsyncer, khal and khard files `export` wrote into the session's XDG config folder (no
//! `--output`: where those programs read them). vdirsyncer then discovers and syncs (answering `y` to its offer to
//! make the local folders), reading the password through the file's `password.fetch` command; khal lists the event
//! created on the server and khard the contact. Every program resolves the test hosts through its own /etc/hosts
//! (`with_test_hosts`), and trusts the test CA the file names in `verify`, copied into a folder whose name needs
//! quoting in every config syntax (quotes, `#`, `;`, `=`, brackets, a space, `ü`).
//!
//! A file with another URL or username cannot pass: the server is on random loopback ports under names nothing
//! else resolves, and Radicale refuses every other user.
//!
//! Needs the app binary built first: `cargo build -p icloud-mail-setup`.

use std::path::PathBuf;
use std::process::Output;

use icloud_mail_tests::dav::{self, DavServer, DavUser};
use icloud_mail_tests::keyring::KeyringSession;
use icloud_mail_tests::{app_binary as app, assert_ok, fresh_password, fresh_token, run_with_stdin as run};

const LOGIN: &str = "jane.doe@icloud.com";

/// The DAV server with LOGIN's account, the keychain holding its password (saved by the product).
struct World {
    password: String,
    /// The DAV server's CA, copied into a folder whose name needs quoting in every config syntax (`--ca-file`).
    ca: PathBuf,
    server: DavServer,
    session: KeyringSession,
}

impl World {
    fn new() -> World {
        let password = fresh_password();
        let server = DavServer::start(&[DavUser::new(LOGIN, &password)]);
        let session = KeyringSession::with_keyring();
        let out = run(session.command(app()).args(["keychain", "set", "--address", LOGIN, "--password-stdin"]), format!("{password}\n"));
        assert_ok(&out);
        let folder = session.home().join("certs \"Jane's\" #1 ;x = [y] ü");
        std::fs::create_dir_all(&folder).unwrap();
        let ca = folder.join("dav ca.pem");
        std::fs::copy(server.ca_path(), &ca).unwrap();
        World { password, ca, server, session }
    }

    /// `export --format FORMAT` with `extra` arguments and no `--output`: the file goes where its client reads it,
    /// below the session's XDG_CONFIG_HOME. Returns its path, checked to hold no password.
    fn export(&self, format: &str, extra: &[String]) -> PathBuf {
        let mut command = self.session.command(app());
        command.args(["export", "--address", LOGIN, "--format", format, "--ca-file"]).arg(&self.ca).args(extra);
        let out = run(&mut command, b"");
        assert_ok(&out);
        let place = match format {
            "vdirsyncer" => "vdirsyncer/config",
            "khal" => "khal/config",
            "khard" => "khard/khard.conf",
            other => panic!("not a DAV format: {other}"),
        };
        let file = self.session.home().join(".config").join(place);
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!text.contains(&self.password), "the exported file holds the password");
        assert!(String::from_utf8_lossy(&out.stderr).contains(&file.display().to_string()), "the Wrote line names {}", file.display());
        file
    }

    /// The service hosts of the test server, as `--caldav` and `--carddav` take them.
    fn dav_args(&self) -> Vec<String> {
        vec!["--caldav".into(), self.server.caldav_endpoint(), "--carddav".into(), self.server.carddav_endpoint()]
    }

    /// A program run in the session, resolving the test hosts.
    fn run(&self, program: &str, args: &[&str], stdin: &str) -> Output {
        let mut command = self.session.command(program);
        command.args(args);
        run(&mut self.server.with_test_hosts(&command), stdin)
    }

    /// `vdirsyncer discover` (yes to every local folder it offers to make) and `vdirsyncer sync`, each required to
    /// succeed; the Radicale log shows the requests were made as LOGIN.
    fn sync(&self) {
        let yes = "y\n".repeat(20);
        for args in [&["discover"][..], &["sync"], &["metasync"]] {
            let out = self.run("vdirsyncer", args, &yes);
            assert_ok(&out);
        }
    }

    fn output(&self, program: &str, args: &[&str]) -> String {
        let mut command = self.session.command(program);
        command.args(args);
        let out = run(&mut command, b"");
        assert_ok(&out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn vdirsyncer_khal_and_khard_with_only_the_exported_files_and_the_keychain() {
    let world = World::new();
    let event = format!("Dentist {}", fresh_token());
    let contact_family = fresh_token();
    world.server.put_event(LOGIN, &event);
    world.server.put_contact(LOGIN, &format!("Ada {contact_family}"));

    let config = world.export("vdirsyncer", &world.dav_args());
    let text = std::fs::read_to_string(&config).unwrap();
    // The service host (vdirsyncer finds the partition host itself), TLS verified with the CA file given.
    assert!(text.contains(&format!("url = \"https://{}/\"", world.server.caldav_endpoint())), "{text}");
    assert!(text.contains(&format!("verify = {}", serde_json::json!(world.ca))), "{text}");
    world.export("khal", &[]);
    world.export("khard", &[]);

    world.sync();
    let calendars = world.session.home().join(".local/share/vdirsyncer/icloud/calendars");
    assert!(calendars.join(dav::EVENT_CALENDAR).is_dir(), "the event calendar was synced into {}", calendars.display());

    let agenda = world.output("khal", &["list", "today", "2d"]);
    assert!(agenda.contains(&event), "khal lists the event made on the server:\n{agenda}");
    let contacts = world.output("khard", &["list"]);
    assert!(contacts.contains(&contact_family), "khard lists the contact made on the server:\n{contacts}");
    assert!(world.server.log().contains(LOGIN), "Radicale served the primary iCloud address");
}

/// After the product's own test (`probe --dav --json`, mail on Dovecot, calendars and contacts on the DAV
/// server): `export --verified` gives vdirsyncer the home the test found on the partition host and exactly the
/// event calendar it found, so the task-only calendar is never synced, and khal and khard still show the event and
/// the contact.
#[test]
fn after_the_products_test_vdirsyncer_syncs_exactly_what_the_test_found() {
    use icloud_mail_tests::dovecot::{Dovecot, MailUser};
    let world = World::new();
    let mail = Dovecot::start(&[MailUser::new(LOGIN, &world.password)]).expect("start Dovecot");
    // The probe trusts both test CAs (one file); the calendar files get the DAV server's (both CAs have the same
    // name, and OpenSSL, under vdirsyncer, tries only the first certificate of a name).
    let ca = world.session.home().join("test-cas.pem");
    std::fs::write(&ca, format!("{}{}", mail.ca().ca_pem(), world.server.ca().ca_pem())).unwrap();
    let mut servers: Vec<String> =
        vec!["--imap".into(), format!("localhost:{}", mail.imaps_port), "--smtp".into(), format!("localhost:{}", mail.submission_port)];
    servers.extend(world.dav_args());

    let ca_arg = ca.display().to_string();
    let mut probe = vec!["probe", "--dav", "--json", "--password-stdin", "--address", LOGIN, "--ca-file", &ca_arg];
    probe.extend(servers.iter().map(String::as_str));
    let app = app().display().to_string();
    let out = world.run(&app, &probe, &format!("{}\n", world.password));
    assert_ok(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["caldav"]["kind"].as_str(), report["carddav"]["kind"].as_str()), (Some("ok"), Some("ok")), "{report:#}");
    let report_file = world.session.home().join("report.json");
    std::fs::write(&report_file, &out.stdout).unwrap();

    let mut verified = vec!["--verified".to_owned(), report_file.display().to_string()];
    verified.extend(servers);
    let config = world.export("vdirsyncer", &verified);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(&format!("url = \"{}\"", world.server.calendar_home(LOGIN))), "the home the test found:\n{text}");
    assert!(text.contains(&format!("url = \"{}\"", world.server.addressbook_home(LOGIN))), "{text}");
    assert!(text.contains(&format!("collections = [\"{}\"]", dav::EVENT_CALENDAR)), "{text}");
    world.export("khal", &verified);
    world.export("khard", &verified);
    // The settings card names the service hosts and the homes the test found; the Apple profile, when asked, the
    // principal the test found.
    let stdout = |format: &str, more: &[&str]| {
        let mut command = world.session.command(&app);
        command.args(["export", "--address", LOGIN, "--format", format, "--output", "-"]).args(&verified).args(more);
        let out = run(&mut command, b"");
        assert_ok(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let card = stdout("settings-text", &[]);
    for needle in [
        format!("Server: {}", dav::CALDAV_HOST),
        format!("Server: {}", dav::CARDDAV_HOST),
        format!("Found at: {}", world.server.calendar_home(LOGIN)),
        format!("Found at: {}", world.server.addressbook_home(LOGIN)),
        format!("Username: {LOGIN}"),
    ] {
        assert!(card.contains(&needle), "{needle}:\n{card}");
    }
    let profile = stdout("apple-mobileconfig", &["--with-dav"]);
    let principal = report["caldav"]["principal"].as_str().unwrap();
    assert!(profile.contains("<key>CalDAVPrincipalURL</key>") && profile.contains(principal), "{principal}:\n{profile}");

    let event = format!("Checkup {}", fresh_token());
    world.server.put_event(LOGIN, &event);
    let contact_family = fresh_token();
    world.server.put_contact(LOGIN, &format!("Grace {contact_family}"));
    world.sync();
    let calendars = world.session.home().join(".local/share/vdirsyncer/icloud/calendars");
    let synced: Vec<String> =
        std::fs::read_dir(&calendars).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(synced, [dav::EVENT_CALENDAR], "only the calendar for events, not the task list");
    let agenda = world.output("khal", &["list", "today", "2d"]);
    assert!(agenda.contains(&event), "{agenda}");
    let contacts = world.output("khard", &["list"]);
    assert!(contacts.contains(&contact_family), "{contacts}");

    // Calendars with names no config syntax takes as they are (as a server may name them), read back by
    // vdirsyncer's own config parser (in the Python vdirsyncer runs with, /usr/bin/python3): each reaches
    // vdirsyncer exactly, with a local folder name of its own.
    let mut hostile = report.clone();
    let home = world.server.calendar_home(LOGIN);
    let segments = ["W%C3%B6rk%20%22x%22%20%231%20%3By%20%5Bz%5D", "..%2F..%2Fetc"];
    hostile["caldav"]["calendars"] = serde_json::json!(segments
        .iter()
        .map(|s| serde_json::json!({"name": s, "url": format!("{home}{s}/"), "color": null}))
        .collect::<Vec<_>>());
    std::fs::write(&report_file, hostile.to_string()).unwrap();
    let file = world.session.home().join("hostile.vdirsyncer.conf");
    let mut command = world.session.command(&app);
    command.args(["export", "--address", LOGIN, "--format", "vdirsyncer", "--output"]).arg(&file).args(&verified);
    command.arg("--ca-file").arg(&world.ca);
    assert_ok(&run(&mut command, b""));
    let read = "import json, sys\nfrom vdirsyncer.cli.config import Config\nc = Config.from_fileobject(open(sys.argv[1]))\n\
                s = c.storages['icloud_calendars_remote']\n\
                print(json.dumps([c.pairs['icloud_calendars'].collections, s['verify'], s['password.fetch'], s['username']]))";
    let parsed: serde_json::Value =
        serde_json::from_str(&world.output("/usr/bin/python3", &["-c", read, &file.display().to_string()])).unwrap();
    assert_eq!(
        parsed[0],
        serde_json::json!([["icloud_1", "Wörk \"x\" #1 ;y [z]", "icloud_1"], ["icloud_2", "../../etc", "icloud_2"]]),
        "{parsed:#}"
    );
    assert_eq!(parsed[1], serde_json::json!(world.ca));
    let fetch = parsed[2].as_array().unwrap();
    assert_eq!(
        (fetch[0].as_str(), &fetch[2..]),
        (Some("command"), &serde_json::json!(["keychain", "get", "--address", LOGIN]).as_array().unwrap()[..])
    );
    assert_eq!(parsed[3], LOGIN);
}
