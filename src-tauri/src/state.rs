//! What the app holds between IPC calls: the server overrides it was started with, the password after a
//! successful connection test (until the person leaves the Done step, the window closes, or five minutes pass;
//! saving it in the keychain does not drop it, so Thunderbird and "Copy password" can still have it), the clipboard
//! (opened on first use), and a way to cancel the connection test that is running.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use std::path::PathBuf;

use icloud_mail_core::diagnosis::{Diagnosis, DiagnosisKind};
use icloud_mail_core::export::thunderbird_profile::ThunderbirdProfile;
use icloud_mail_core::facts::Facts;
use icloud_mail_core::probe::DavReports;
use icloud_mail_core::provider::Endpoint;
use icloud_mail_core::{Account, Address, Secret};
use tokio::sync::oneshot;

/// How long the app keeps a tested password for the save and Done steps.
pub const KEEP_PASSWORD_FOR: Duration = Duration::from_secs(5 * 60);

/// Servers and extra CA given on the command line (`--imap`, `--smtp`, `--smtp-fallback`, `--caldav`, `--carddav`,
/// `--ca-file`).
#[derive(Clone, Debug, Default)]
pub struct Servers {
    pub imap: Option<Endpoint>,
    pub smtp: Option<Endpoint>,
    pub smtp_fallback: Option<Endpoint>,
    /// The CalDAV and CardDAV service hosts calendars and contacts are found from, instead of iCloud's.
    pub caldav: Option<Endpoint>,
    pub carddav: Option<Endpoint>,
    pub extra_ca_pem: Option<Vec<u8>>,
    /// The CA file itself, for exported terminal-client configs.
    pub ca_file: Option<std::path::PathBuf>,
    /// Where "Save" puts exported files.
    pub export_dir: Option<std::path::PathBuf>,
}

/// Where the app reads the time for the password's lifetime: the monotonic clock, moved forward only by tests (so
/// that the five minutes can be tested without waiting them).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    moved: Arc<Mutex<Duration>>,
}

impl Clock {
    pub fn now(&self) -> Instant {
        Instant::now() + *self.moved.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves this clock (and every copy of it) `by` into the future.
    #[cfg(test)]
    pub fn advance(&self, by: Duration) {
        *self.moved.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }
}

/// The cancel signal of the one running task of a kind (the connection test, the send test): starting a new one
/// cancels the one before.
#[derive(Default)]
struct CancelSlot(Mutex<Option<oneshot::Sender<()>>>);

impl CancelSlot {
    /// Registers a new task, cancelling the one before; the receiver fires on `cancel` (or the next `start`).
    fn start(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        if let Some(old) = self.0.lock().expect("cancel lock").replace(tx) {
            let _ = old.send(());
        }
        rx
    }

    fn cancel(&self) {
        if let Some(tx) = self.0.lock().expect("cancel lock").take() {
            let _ = tx.send(());
        }
    }
}

/// What a passed connection test leaves for the save step: the password and the settings it proved.
struct Pending {
    login: String,
    secret: Secret,
    since: Instant,
    /// The account as the test proved it (endpoints, usernames, folders): what every file and Thunderbird get.
    verified: Account,
}

/// The connection test that runs or ran last, and what it left: the passed mail verdict's password and account, and
/// its calendars and contacts once known — which may come before or after the mail verdict, and are merged into the
/// held account either way, but only for the same test.
#[derive(Default)]
struct Tested {
    /// Counts the tests started; a result names the test it belongs to.
    generation: u64,
    pending: Option<Pending>,
    dav: Option<DavReports>,
}

/// A connection test just registered: which one it is, and its cancel signal (`cancel_probe`, or a newer test).
pub struct ProbeRun {
    pub generation: u64,
    pub cancelled: oneshot::Receiver<()>,
}

#[derive(Default)]
pub struct AppState {
    pub servers: Servers,
    tested: Mutex<Tested>,
    /// The clock `KEEP_PASSWORD_FOR` is measured on.
    clock: Clock,
    /// The running connection test's cancel signal (`cancel_probe`, or a newer test).
    cancel: CancelSlot,
    /// The running send test's cancel signal (`cancel_send_test`, or a newer send test).
    cancel_send: CancelSlot,
    /// The Thunderbird profile folders last handed to the page: the only ones it may ask to change.
    offered_profiles: Mutex<Vec<PathBuf>>,
    /// Where "Copy password" puts the password, and empties it again.
    pub clipboard: crate::clipboard::Clipboard,
}

impl AppState {
    pub fn new(servers: Servers) -> AppState {
        AppState { servers, ..AppState::default() }
    }

    /// The same state, with copied passwords emptied from the clipboard after `clear_after`.
    pub fn with_clipboard_clear_after(self, clear_after: Duration) -> AppState {
        AppState { clipboard: crate::clipboard::Clipboard::new(clear_after), ..self }
    }

    /// The account for what the page sent, with the servers this app was started with.
    pub fn account(&self, address: &str, login: Option<&str>, name: Option<String>) -> Result<Account, Diagnosis> {
        let address = Address::parse(address)?;
        let login = match login.map(str::trim).filter(|l| !l.is_empty()) {
            Some(login) => Some(Address::parse(login)?),
            None => None,
        };
        let s = &self.servers;
        let mut account = Account::new(address, login, name)?.with_servers(s.imap.clone(), s.smtp.clone(), s.smtp_fallback.clone());
        if let Some(caldav) = &s.caldav {
            account.provider.caldav = caldav.clone();
        }
        if let Some(carddav) = &s.carddav {
            account.provider.carddav = carddav.clone();
        }
        Ok(account)
    }

    /// Remembers the profiles handed to the page.
    pub fn offer_profiles(&self, profiles: &[ThunderbirdProfile]) {
        *self.offered_profiles.lock().unwrap_or_else(|p| p.into_inner()) = profiles.iter().map(|p| PathBuf::from(&p.path)).collect();
    }

    /// The profile folder the page asked for, if it is one this app handed out; otherwise
    /// `thunderbird_profile_not_found`, and nothing is touched.
    pub fn offered_profile(&self, path: &str) -> Result<PathBuf, Diagnosis> {
        let offered = self.offered_profiles.lock().unwrap_or_else(|p| p.into_inner());
        offered.iter().find(|p| p.as_os_str() == path).cloned().ok_or_else(|| {
            Diagnosis::new(DiagnosisKind::ThunderbirdProfileNotFound, Facts { path: Some(path.to_owned()), ..Facts::default() }, None)
        })
    }

    /// Keeps a password that passed connection test `generation` and the settings it proved
    /// (`verified::account_from_report`), for the save and Done steps; both are dropped together. The test's
    /// calendars and contacts, if they are already known, go into the account. False (nothing kept) when a newer
    /// test has started since.
    pub fn keep_tested(&self, generation: u64, mut verified: Account, secret: Secret) -> bool {
        let mut tested = self.tested.lock().expect("tested lock");
        if tested.generation != generation {
            return false;
        }
        if let Some(dav) = &tested.dav {
            verified.dav = icloud_mail_core::verified::dav_found_in(&verified, Some(&dav.caldav), Some(&dav.carddav));
        }
        let login = verified.login.address.clone();
        tested.pending = Some(Pending { login, secret, since: self.clock.now(), verified });
        true
    }

    /// Calendars and contacts of connection test `generation`, known after (or before) its mail verdict: they go
    /// into the verified account held for that test (what `verified::dav_found` carries), or wait for it. False
    /// (nothing merged, nothing kept) when they belong to an older test than the last one started: a new test
    /// forgets what the old one held, and nothing it found reaches a newer test's account.
    pub fn dav_known(&self, generation: u64, dav: DavReports) -> bool {
        let mut tested = self.tested.lock().expect("tested lock");
        if tested.generation != generation {
            return false;
        }
        if let Some(p) = tested.pending.as_mut() {
            p.verified.dav = icloud_mail_core::verified::dav_found_in(&p.verified, Some(&dav.caldav), Some(&dav.carddav));
        }
        tested.dav = Some(dav);
        true
    }

    /// The tested password and its settings while they are live: dropped here once `KEEP_PASSWORD_FOR` has passed
    /// since the test, so that nothing can hand them out later. The one place that rule is written.
    fn live_pending(&self) -> MutexGuard<'_, Tested> {
        let mut tested = self.tested.lock().expect("tested lock");
        let now = self.clock.now();
        if tested.pending.as_ref().is_some_and(|p| now.saturating_duration_since(p.since) >= KEEP_PASSWORD_FOR) {
            tested.pending = None;
        }
        tested
    }

    /// The verified account for what the page sent — the settings the connection test proved, with the name the
    /// person typed — never re-derived from the preset. Without a passed test for that account (not run, another
    /// address, or forgotten): `password_needed`, which sends the person back to the test.
    pub fn verified_account(&self, address: &str, login: Option<&str>, name: Option<String>) -> Result<Account, Diagnosis> {
        let asked = self.account(address, login, name)?;
        match self.live_pending().pending.as_ref() {
            Some(p) if p.verified.address == asked.address && p.verified.login == asked.login => {
                Ok(Account { display_name: asked.display_name, ..p.verified.clone() })
            }
            _ => Err(Diagnosis::of(DiagnosisKind::PasswordNeeded)),
        }
    }

    /// A copy of the tested password for `login`, if it is still held.
    pub fn tested_password(&self, login: &str) -> Result<Secret, Diagnosis> {
        match self.live_pending().pending.as_ref() {
            Some(p) if p.login == login => Ok(p.secret.clone()),
            _ => Err(Diagnosis::of(DiagnosisKind::PasswordNeeded)),
        }
    }

    /// Drops the password (when the person leaves the Done step, when the window closes, or when it has waited too
    /// long).
    pub fn forget_password(&self) {
        let mut tested = self.tested.lock().expect("tested lock");
        tested.pending = None;
        tested.dav = None;
    }

    /// Drops the password once it has been held for `KEEP_PASSWORD_FOR` (the app checks every few seconds).
    pub fn forget_password_if_stale(&self) {
        drop(self.live_pending());
    }

    /// Registers a new connection test, cancelling the one before (its calendars and contacts too); the receiver
    /// fires on `cancel_probe`. The password, the account and the calendars an earlier test left are forgotten at
    /// once: a re-test that fails must not leave them usable, and a late DAV result of the old test is refused.
    pub fn start_probe(&self) -> ProbeRun {
        let mut tested = self.tested.lock().expect("tested lock");
        *tested = Tested { generation: tested.generation + 1, pending: None, dav: None };
        ProbeRun { generation: tested.generation, cancelled: self.cancel.start() }
    }

    pub fn cancel_probe(&self) {
        self.cancel.cancel();
    }

    /// Registers a new send test, cancelling the one before; the receiver fires on `cancel_send_test`.
    pub fn start_send_test(&self) -> oneshot::Receiver<()> {
        self.cancel_send.start()
    }

    pub fn cancel_send_test(&self) {
        self.cancel_send.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a passed test leaves: a test registered, its mail verdict kept.
    fn keep(state: &AppState, verified: Account, secret: Secret) -> u64 {
        let run = state.start_probe();
        assert!(state.keep_tested(run.generation, verified, secret));
        run.generation
    }

    #[test]
    fn only_profiles_handed_to_the_page_can_be_changed() {
        let state = AppState::default();
        let refused = state.offered_profile("/home/jane/.thunderbird/abc.default").unwrap_err();
        assert_eq!(refused.kind, DiagnosisKind::ThunderbirdProfileNotFound, "nothing was handed out yet");
        let profile = ThunderbirdProfile {
            name: "default".into(),
            path: "/home/jane/.thunderbird/abc.default".into(),
            is_default: true,
            root: "/home/jane/.thunderbird".into(),
        };
        state.offer_profiles(std::slice::from_ref(&profile));
        assert_eq!(state.offered_profile(&profile.path).unwrap(), PathBuf::from(&profile.path));
        for other in ["/home/jane/.ssh", "/home/jane/.thunderbird/abc.default/..", "/home/jane/.thunderbird/abc.default/", ""] {
            assert_eq!(state.offered_profile(other).unwrap_err().kind, DiagnosisKind::ThunderbirdProfileNotFound, "{other}");
        }
        // A new listing replaces the old one: a profile no longer found is no longer accepted.
        state.offer_profiles(&[]);
        assert!(state.offered_profile(&profile.path).is_err());
    }

    #[test]
    fn files_get_the_tested_settings_with_the_name_typed_and_only_for_the_tested_account() {
        let state = AppState::default();
        assert_eq!(state.verified_account("jane@icloud.com", None, None).unwrap_err().kind, DiagnosisKind::PasswordNeeded);
        // What a test proved: 465 instead of 587, the full address for IMAP, the server's own Sent folder.
        let mut proved = state.account("jane@icloud.com", None, None).unwrap();
        proved.provider.smtp = Endpoint::new("smtp.mail.me.com", 465, icloud_mail_core::provider::Security::Tls);
        proved.provider.imap_login_forms.reverse();
        proved.folders.sent = Some("Sent Items".into());
        proved.verified = true;
        keep(&state, proved.clone(), Secret::new("abcd-efgh-ijkl-mnop".into()));

        let got = state.verified_account("Jane@iCloud.com", None, Some(" Jane Doe ".into())).unwrap();
        assert_eq!(got.provider.smtp.port, 465);
        assert_eq!(got.imap_username(), "jane@icloud.com");
        assert_eq!(got.folders.sent.as_deref(), Some("Sent Items"));
        assert!(got.verified);
        assert_eq!(got.display_name.as_deref(), Some("Jane Doe"), "the name typed, checked");
        assert_eq!(
            state.verified_account("jane@icloud.com", None, Some("Jane\u{202e}".into())).unwrap_err().kind,
            DiagnosisKind::NameCharacterNotAllowed
        );
        // Another account gets nothing that was proved for Jane.
        assert_eq!(state.verified_account("john@icloud.com", None, None).unwrap_err().kind, DiagnosisKind::PasswordNeeded);
        state.forget_password();
        assert_eq!(state.verified_account("jane@icloud.com", None, None).unwrap_err().kind, DiagnosisKind::PasswordNeeded);
    }

    #[test]
    fn the_password_is_only_handed_out_for_its_login_and_can_be_forgotten() {
        let state = AppState::default();
        assert_eq!(state.tested_password("jane@icloud.com").unwrap_err().kind, DiagnosisKind::PasswordNeeded);
        keep(&state, state.account("jane@icloud.com", None, None).unwrap(), Secret::new("abcd-efgh-ijkl-mnop".into()));
        assert_eq!(state.tested_password("jane@icloud.com").unwrap().expose(), "abcd-efgh-ijkl-mnop");
        assert!(state.tested_password("john@icloud.com").is_err());
        state.forget_password();
        assert!(state.tested_password("jane@icloud.com").is_err());
    }

    #[test]
    fn a_new_test_forgets_the_password_an_earlier_one_left() {
        let state = AppState::default();
        let jane = state.account("jane@icloud.com", None, None).unwrap();
        keep(&state, jane, Secret::new("abcd-efgh-ijkl-mnop".into()));
        let _running = state.start_probe();
        // Whatever this test's verdict, the earlier password is gone (a failed re-test keeps nothing).
        assert_eq!(state.tested_password("jane@icloud.com").unwrap_err().kind, DiagnosisKind::PasswordNeeded);
        assert_eq!(state.verified_account("jane@icloud.com", None, None).unwrap_err().kind, DiagnosisKind::PasswordNeeded);
    }

    /// Calendars and contacts that passed for Jane's account, as the probe reports them.
    fn dav_found_for(account: &Account) -> DavReports {
        use icloud_mail_core::account::{AddressBook, Calendar};
        use icloud_mail_core::probe::DavReport;
        let side = |endpoint: &Endpoint, partition: &str, calendars, addressbooks| DavReport {
            diagnosis: Diagnosis::of(DiagnosisKind::Ok),
            host: endpoint.host.clone(),
            port: endpoint.port,
            username: Some(account.login.address.clone()),
            principal: Some(format!("https://{}/1234/principal/", endpoint.host)),
            home: Some(format!("https://{partition}/1234/home/")),
            realm: Some("MMCalDav".into()),
            elapsed_ms: 700,
            server_text: None,
            calendars,
            addressbooks,
            requests: 4,
            redirects: Vec::new(),
        };
        let calendar = Calendar { name: "Home".into(), url: "https://p23-caldav.icloud.com/1234/home/home/".into(), color: None };
        let book = AddressBook { name: "card".into(), url: "https://p23-contacts.icloud.com/1234/home/card/".into() };
        DavReports {
            caldav: side(&account.provider.caldav, "p23-caldav.icloud.com", Some(vec![calendar]), None),
            carddav: side(&account.provider.carddav, "p23-contacts.icloud.com", None, Some(vec![book])),
        }
    }

    #[test]
    fn calendars_and_contacts_join_the_account_of_their_own_test_only() {
        let state = AppState::default();
        let jane = state.account("jane@icloud.com", None, None).unwrap();
        let secret = || Secret::new("abcd-efgh-ijkl-mnop".into());
        let held = |state: &AppState| state.verified_account("jane@icloud.com", None, None).map(|a| a.dav);

        // Test 1: mail passed while DAV is still looking; its calendars join when they come.
        let first = keep(&state, jane.clone(), secret());
        assert_eq!(held(&state).unwrap(), Default::default(), "still looking: nothing of DAV yet");
        assert!(state.dav_known(first, dav_found_for(&jane)));
        let found = held(&state).unwrap();
        assert_eq!(found.caldav.as_ref().map(|c| c.calendars.len()), Some(1), "{found:?}");
        assert!(found.carddav.is_some());

        // Test 2 forgets them; test 1's DAV result coming late (a hanging server, say) is refused.
        let second = keep(&state, jane.clone(), secret());
        assert_eq!(held(&state).unwrap(), Default::default(), "a new test forgets what the old one held");
        assert!(!state.dav_known(first, dav_found_for(&jane)), "a late result of an old test");
        assert_eq!(held(&state).unwrap(), Default::default(), "no stale calendars on the new test's account");
        assert!(!state.keep_tested(first, jane.clone(), secret()), "nor an old test's mail verdict");
        assert!(state.dav_known(second, dav_found_for(&jane)));
        assert!(held(&state).unwrap().caldav.is_some());

        // Test 3: DAV known before mail waits for the mail verdict, and joins the account kept then.
        let third = state.start_probe().generation;
        assert!(state.dav_known(third, dav_found_for(&jane)));
        assert_eq!(held(&state).unwrap_err().kind, DiagnosisKind::PasswordNeeded, "nothing is held before mail passed");
        assert!(state.keep_tested(third, jane.clone(), secret()));
        assert!(held(&state).unwrap().carddav.is_some());
    }

    #[test]
    fn a_new_test_cancels_the_running_one() {
        let state = AppState::default();
        let mut first = state.start_probe().cancelled;
        let mut second = state.start_probe().cancelled;
        assert!(first.try_recv().is_ok(), "the first test was cancelled");
        assert!(second.try_recv().is_err(), "the second still runs");
        state.cancel_probe();
        assert!(second.try_recv().is_ok());
    }

    #[test]
    fn a_new_send_test_cancels_the_running_one_and_leaves_the_connection_test_alone() {
        let state = AppState::default();
        let mut probe = state.start_probe().cancelled;
        let mut first = state.start_send_test();
        let mut second = state.start_send_test();
        assert!(first.try_recv().is_ok(), "the first send test was cancelled");
        assert!(second.try_recv().is_err(), "the second still runs");
        state.cancel_send_test();
        assert!(second.try_recv().is_ok());
        assert!(probe.try_recv().is_err(), "the connection test has its own signal");
    }

    #[test]
    fn the_tested_password_and_its_settings_live_five_minutes_and_no_longer() {
        let state = AppState::default();
        keep(&state, state.account("jane@icloud.com", None, None).unwrap(), Secret::new("abcd-efgh-ijkl-mnop".into()));
        state.clock.advance(KEEP_PASSWORD_FOR - Duration::from_secs(1));
        state.forget_password_if_stale();
        assert_eq!(state.tested_password("jane@icloud.com").unwrap().expose(), "abcd-efgh-ijkl-mnop", "a second left");
        assert!(state.verified_account("jane@icloud.com", None, None).is_ok());

        // Five minutes after the test, neither the password nor the settings it proved are handed out, whichever
        // is asked first.
        state.clock.advance(Duration::from_secs(1));
        assert_eq!(state.verified_account("jane@icloud.com", None, None).unwrap_err().kind, DiagnosisKind::PasswordNeeded);
        assert_eq!(state.tested_password("jane@icloud.com").unwrap_err().kind, DiagnosisKind::PasswordNeeded);

        // The periodic check drops it without being asked.
        keep(&state, state.account("jane@icloud.com", None, None).unwrap(), Secret::new("abcd-efgh-ijkl-mnop".into()));
        state.clock.advance(KEEP_PASSWORD_FOR);
        state.forget_password_if_stale();
        assert!(state.tested.lock().unwrap().pending.is_none(), "dropped by the periodic check");
    }

    #[test]
    fn accounts_use_the_servers_the_app_was_started_with() {
        let smtp = Endpoint::parse_override("127.0.0.1:1587", icloud_mail_core::provider::Security::Starttls).unwrap();
        let state = AppState::new(Servers { smtp: Some(smtp.clone()), ..Servers::default() });
        let account = state.account("Jane@iCloud.com", None, None).unwrap();
        assert_eq!(account.provider.smtp, smtp);
        assert_eq!(account.provider.smtp_fallback, None);
        assert_eq!(account.provider.caldav, icloud_mail_core::provider::icloud_caldav(), "no --caldav: iCloud's");
        assert_eq!(state.account("jane@family.example", Some(" "), None).unwrap_err().kind, DiagnosisKind::LoginRequired);

        // --caldav / --carddav: calendars and contacts are found from there.
        let caldav = Endpoint::parse_override("caldav.dav.test:8443", icloud_mail_core::provider::Security::Tls).unwrap();
        let carddav = Endpoint::parse_override("contacts.dav.test:8443", icloud_mail_core::provider::Security::Tls).unwrap();
        let state = AppState::new(Servers { caldav: Some(caldav.clone()), carddav: Some(carddav.clone()), ..Servers::default() });
        let account = state.account("jane@icloud.com", None, None).unwrap();
        assert_eq!((account.provider.caldav, account.provider.carddav), (caldav, carddav));
        assert_eq!(account.provider.imap, icloud_mail_core::provider::icloud().imap, "mail keeps iCloud's servers");
    }
}
