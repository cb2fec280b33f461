//! Calendars and contacts in the connection test (`probe --dav`): does DAV delay the mail verdict, and how close is
//! DAV discovery to its own floor? A benchmark, not a test: it prints figures and asserts no time. It checks its
//! preconditions (every measured probe passes, mail and DAV alike) so a broken login can never look fast.
//!
//!   cargo bench -p icloud-mail-tests --bench dav_latency
//!   DAV_BENCH_RUNS=9 DAV_BENCH_RTTS=50,100,200 cargo bench -p icloud-mail-tests --bench dav_latency
//!
//! Every server sits behind the delaying relay of `icloud_mail_tests::delay` (RTT/2 each way, the server sees the
//! connection 1.5 RTT after connect()): Dovecot's two ports on 127.0.0.1, and the harness's DAV front and Radicale
//! on 127.0.0.2 with their own port numbers, the test name server pointing the four DAV names there (so the
//! partition-host URL the front names, port included, reaches Radicale through its relay).
//!
//! The mail verdict is the moment `probe::probe_mail_first` hands it over (what the window shows and acts on: Next,
//! the send test), from the probe's start, measured in the same run with and without `dav`, alternating; the ratio
//! must stay ≈ 1 (before #25's split the window got it only with the whole report, at DAV's verdict). DAV's floor (TLS 1.3, one side): the service host = TCP +
//! TLS + the 401 that names the realm + the principal + the home-set = 5 RTT, then the partition host = TCP + TLS +
//! the Depth 1 listing = 3 RTT: 8 RTT and 4 HTTP requests (the counts are the probe's own, `DavReport::requests`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use icloud_mail_core::probe::{probe_mail_first, DnsConfig, ProbeReport, ProbeRequest, Timeouts};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Secret};
use icloud_mail_tests::dav::{self, DavServer, DavUser};
use icloud_mail_tests::delay::{delay_relay, delay_relay_at, DelayRelay};
use icloud_mail_tests::dns::TestDns;
use icloud_mail_tests::dovecot::{Dovecot, MailUser};

const ADDRESS: &str = "jane@icloud.com";
const PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const RELAY_IP: [u8; 4] = [127, 0, 0, 2];

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn env_list(name: &str, default: &str) -> Vec<u64> {
    std::env::var(name).unwrap_or_else(|_| default.to_owned()).split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

/// Relays in front of every server at `rtt` (none at RTT 0), and the request that goes through them.
async fn relayed(mail: &Dovecot, dav: &DavServer, dns: &TestDns, rtt: Duration) -> (Vec<DelayRelay>, ProbeRequest) {
    let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let mut relays = Vec::new();
    let (imap_port, smtp_port) = if rtt.is_zero() {
        (mail.imaps_port, mail.submission_port)
    } else {
        let imap = delay_relay(local(mail.imaps_port), rtt).await;
        let smtp = delay_relay(local(mail.submission_port), rtt).await;
        let ports = (imap.port, smtp.port);
        relays.extend([imap, smtp]);
        for port in [dav.front_port, dav.radicale_port] {
            relays.push(delay_relay_at(SocketAddr::from((RELAY_IP, port)), local(port), rtt).await);
        }
        ports
    };
    let mut account = Account::new(Address::parse(ADDRESS).unwrap(), None, None).unwrap().with_servers(
        Some(Endpoint::new("localhost", imap_port, Security::Tls)),
        Some(Endpoint::new("localhost", smtp_port, Security::Starttls)),
        None,
    );
    account.provider.caldav = Endpoint::new(dav::CALDAV_HOST, dav.front_port, Security::Tls);
    account.provider.carddav = Endpoint::new(dav::CARDDAV_HOST, dav.front_port, Security::Tls);
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = Some(format!("{}{}", mail.ca().ca_pem(), dav.ca().ca_pem()).into_bytes());
    request.timeouts = Timeouts::default();
    request.dns = DnsConfig::Servers(vec![dns.addr()]);
    (relays, request)
}

/// The whole probe's time, the time the mail verdict was handed over, and the report.
async fn timed(request: &ProbeRequest) -> (Duration, Duration, ProbeReport) {
    let secret = Secret::new(PASSWORD.to_owned());
    let handed = std::sync::Mutex::new(None);
    let started = Instant::now();
    let report = probe_mail_first(request, &secret, &|_| {}, |_| *handed.lock().unwrap() = Some(started.elapsed())).await;
    let whole = started.elapsed();
    let handed = handed.into_inner().unwrap().expect("the mail verdict was handed over");
    (whole, handed, report)
}

fn main() {
    let runs = env_list("DAV_BENCH_RUNS", "5").first().copied().unwrap_or(5).max(1) as usize;
    let rtts = env_list("DAV_BENCH_RTTS", "50,100,200");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mail = Dovecot::start(&[MailUser::new(ADDRESS, PASSWORD)]).expect("Dovecot starts");
    let dav = DavServer::start(&[DavUser::new(ADDRESS, PASSWORD)]);
    // At RTT 0 the DAV names resolve to the servers themselves; with relays, to the relays' address.
    let direct = dav.start_dns(&[]);
    let relay_ip: &[IpAddr] = &[IpAddr::V4(Ipv4Addr::from(RELAY_IP))];
    let via_relays = TestDns::start(&dav::HOSTS.map(|h| (h, relay_ip)));

    println!("Mail verdict (handed over by probe_mail_first) with and without DAV, and DAV discovery against its floor:");
    println!("median of {runs} runs each after one warm-up, alternating with/without, milliseconds.");
    println!("| RTT | mail verdict, no DAV | mail verdict, with DAV | ratio | whole, no DAV | whole, with DAV | CalDAV verdict | CardDAV verdict | DAV floor (8 RTT) | DAV ratio | HTTP requests (floor 4) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for rtt_ms in std::iter::once(0).chain(rtts) {
        let rtt = Duration::from_millis(rtt_ms);
        let dns = if rtt.is_zero() { &direct } else { &via_relays };
        runtime.block_on(async {
            let (relays, without) = relayed(&mail, &dav, dns, rtt).await;
            let mut with = without.clone();
            with.dav = true;
            let _ = timed(&without).await;
            let _ = timed(&with).await;
            let (mut mail_no, mut mail_dav, mut whole_no, mut whole_dav, mut cal, mut card) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut requests = Vec::new();
            for _ in 0..runs {
                let (took, handed, report) = timed(&without).await;
                assert!(report.is_ok(), "the benchmark needs a working login: {report:#?}");
                mail_no.push(handed);
                whole_no.push(took);
                let (took, handed, report) = timed(&with).await;
                assert!(report.is_ok(), "the benchmark needs a working login: {report:#?}");
                let (caldav, carddav) = (report.caldav.as_ref().unwrap(), report.carddav.as_ref().unwrap());
                assert!(caldav.is_ok() && carddav.is_ok(), "the benchmark needs working discovery: {report:#?}");
                mail_dav.push(handed);
                whole_dav.push(took);
                cal.push(Duration::from_millis(caldav.elapsed_ms));
                card.push(Duration::from_millis(carddav.elapsed_ms));
                requests.push((caldav.requests, carddav.requests));
            }
            let (mail_no, mail_dav) = (median(mail_no), median(mail_dav));
            let (cal, card) = (median(cal), median(card));
            let floor = rtt * 8;
            let ratio =
                |a: Duration, b: Duration| if b.is_zero() { "–".to_owned() } else { format!("{:.2}", a.as_secs_f64() / b.as_secs_f64()) };
            let (min_req, max_req) =
                (requests.iter().map(|r| r.0.min(r.1)).min().unwrap(), requests.iter().map(|r| r.0.max(r.1)).max().unwrap());
            println!(
                "| {rtt_ms} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                ms(mail_no),
                ms(mail_dav),
                ratio(mail_dav, mail_no),
                ms(median(whole_no)),
                ms(median(whole_dav)),
                ms(cal),
                ms(card),
                ms(floor),
                ratio(cal.max(card), floor),
                if min_req == max_req { min_req.to_string() } else { format!("{min_req}–{max_req}") },
            );
            // The next RTT's relays bind the same ports on 127.0.0.2: let these (aborted) ones close first.
            drop(relays);
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
    }
}
