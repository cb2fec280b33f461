//! How long the connection test takes over a slow network, against the protocol's own floor; and how long it takes
//! to give up on a server that never answers. A benchmark, not a test: it prints figures and asserts no time. It does
//! check its preconditions — every measured probe and send test must pass — so that a broken login, which fails
//! fast, can never be reported as a fast one.
//!
//!   cargo bench -p icloud-mail-tests --bench probe_latency
//!   PROBE_BENCH_RUNS=9 PROBE_BENCH_RTTS=50,100,200 cargo bench -p icloud-mail-tests --bench probe_latency
//!   PROBE_BENCH_TRACE=1 …   (also prints every step of one probe per RTT)
//!
//! A user-space relay sits between the prober and a real Dovecot on loopback (this kernel has no netem): it holds
//! every chunk for RTT/2 in each direction, and connects upstream only 1.5 RTT after it accepted, so the server's
//! first byte reaches the client 2 RTT after connect() as over a real network (SYN, SYN-ACK, ACK + data).
//! Floors (TLS 1.3): IMAP = TCP + TLS + greeting + LOGIN = 4 RTT (the folder list and LOGOUT follow); SMTP with
//! STARTTLS = TCP + greeting + EHLO + STARTTLS + TLS + EHLO + AUTH = 7 RTT; both at once = 7 RTT.
//!
//! The send test (a message to oneself, after a passed probe) is measured too, with the same relays: sent =
//! SMTP's 7 RTT + MAIL + RCPT + DATA + the message = 11 RTT (IMAP signs in and selects the inbox meanwhile); arrived =
//! + UID SEARCH = 12 RTT (the test Dovecot answers the message's 250 only after its relay delivered it); removed =
//! + UID STORE + UID EXPUNGE = 14 RTT, each command waiting for its answer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use icloud_mail_core::probe::send::{send_test, SendRequest};
use icloud_mail_core::probe::{probe, ProbeReport, ProbeRequest, Timeouts};
use icloud_mail_core::provider::{Endpoint, Security};
use icloud_mail_core::{Account, Address, Secret};
use icloud_mail_tests::delay::{delay_relay, DelayRelay};
use icloud_mail_tests::dovecot::{Dovecot, MailUser};
use icloud_mail_tests::fault::{Fault, FaultServer};

const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

fn request(imap: Endpoint, smtp: Endpoint, fallback: Option<Endpoint>, ca_pem: &str, timeouts: Timeouts) -> ProbeRequest {
    let account =
        Account::new(Address::parse("jane@icloud.com").unwrap(), None, None).unwrap().with_servers(Some(imap), Some(smtp), fallback);
    let mut request = ProbeRequest::new(account);
    request.extra_ca_pem = Some(ca_pem.as_bytes().to_vec());
    request.timeouts = timeouts;
    request
}

/// The happy path's request at `rtt`: through a delaying relay in front of each Dovecot port (kept alive by the
/// returned pair), or straight to Dovecot at RTT 0 (the fixed cost of prober and server).
async fn relayed_request(server: &Dovecot, rtt: Duration) -> ((DelayRelay, DelayRelay), ProbeRequest) {
    let upstream = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let imap_relay = delay_relay(upstream(server.imaps_port), rtt).await;
    let smtp_relay = delay_relay(upstream(server.submission_port), rtt).await;
    let (imap_port, smtp_port) =
        if rtt.is_zero() { (server.imaps_port, server.submission_port) } else { (imap_relay.port, smtp_relay.port) };
    let req = request(
        Endpoint::new("localhost", imap_port, Security::Tls),
        Endpoint::new("localhost", smtp_port, Security::Starttls),
        None,
        server.ca().ca_pem(),
        Timeouts::default(),
    );
    ((imap_relay, smtp_relay), req)
}

async fn timed_probe(request: &ProbeRequest) -> (Duration, ProbeReport) {
    let secret = Secret::new(PASSWORD.to_owned());
    let started = Instant::now();
    let report = probe(request, &secret, &|_| {}).await;
    (started.elapsed(), report)
}

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

fn main() {
    // `cargo bench` passes --bench; a filter argument is not supported.
    let runs = env_list("PROBE_BENCH_RUNS", "5").first().copied().unwrap_or(5).max(1) as usize;
    let rtts = env_list("PROBE_BENCH_RTTS", "50,100,200");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = Dovecot::start(&[MailUser::new("jane@icloud.com", PASSWORD)]).expect("Dovecot starts");

    // What the probe costs before the network: building the TLS configuration (the system's roots are loaded).
    let mut config_builds = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        icloud_mail_core::probe::tls::client_config(Some(server.ca().ca_pem().as_bytes())).unwrap();
        config_builds.push(started.elapsed());
    }
    println!("TLS client configuration (platform verifier, system roots + test CA): median {} ms", ms(median(config_builds)));
    println!();

    println!("Happy path through a delaying relay: median of {runs} runs, milliseconds. \"first\" = the first probe in a");
    println!("process (loads the system's trust store, as the command line does); \"again\" = a probe within 10 minutes");
    println!("of the last one (the wizard's retry). IMAP includes its LIST and LOGOUT (+2 RTT, off the critical path). The");
    println!("IMAP and SMTP columns are each side's own time in the \"again\" probe.");
    println!("| RTT | IMAP verdict (again) | IMAP floor (4 RTT) | SMTP verdict (again) | SMTP floor (7 RTT) | whole, first | whole, again | floor (7 RTT) | ratio first | ratio again |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    // RTT 0 is Dovecot straight on loopback, no relay: the fixed cost of the probe and the server.
    for rtt_ms in std::iter::once(0).chain(rtts) {
        let rtt = Duration::from_millis(rtt_ms);
        runtime.block_on(async {
            let (_relays, req) = relayed_request(&server, rtt).await;
            // One warm-up run (Dovecot starts its login processes), then the measured ones.
            let _ = timed_probe(&req).await;
            let (mut first, mut again, mut imap, mut smtp) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                icloud_mail_core::probe::tls::forget_reusable_client_config();
                let (took, report) = timed_probe(&req).await;
                assert!(report.is_ok(), "the benchmark needs a working login: {report:#?}");
                first.push(took);
                let (took, report) = timed_probe(&req).await;
                assert!(report.is_ok(), "the benchmark needs a working login: {report:#?}");
                again.push(took);
                imap.push(Duration::from_millis(report.imap.elapsed_ms));
                smtp.push(Duration::from_millis(report.smtp.elapsed_ms));
            }
            if std::env::var_os("PROBE_BENCH_TRACE").is_some() {
                // Where the time goes: every step of one more probe, as it happened.
                let events = std::sync::Mutex::new(Vec::new());
                let secret = Secret::new(PASSWORD.to_owned());
                probe(&req, &secret, &|e| events.lock().unwrap().push(e)).await;
                for e in events.into_inner().unwrap() {
                    println!("    {rtt_ms} ms RTT: {:>5} ms {:?} {:?} {:?}", e.elapsed_ms, e.side, e.step, e.status);
                }
            }
            let (first, again, floor) = (median(first), median(again), rtt * 7);
            let ratio =
                |d: Duration| if floor.is_zero() { "–".to_owned() } else { format!("{:.2}", d.as_secs_f64() / floor.as_secs_f64()) };
            println!(
                "| {rtt_ms} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                ms(median(imap)),
                ms(rtt * 4),
                ms(median(smtp)),
                ms(rtt * 7),
                ms(first),
                ms(again),
                ms(floor),
                ratio(first),
                ratio(again)
            );
        });
    }

    println!();
    println!("Send test (one message to yourself: sent → arrived in the inbox → removed) through the same delaying relays,");
    println!("after a passed probe, median of {runs} runs after one warm-up, milliseconds from its start.");
    println!("| RTT | sent | floor (11 RTT) | arrived | floor (12 RTT) | removed = verdict | floor (14 RTT) | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    for rtt_ms in std::iter::once(0).chain(env_list("PROBE_BENCH_RTTS", "50,100,200")) {
        let rtt = Duration::from_millis(rtt_ms);
        runtime.block_on(async {
            let (_relays, req) = relayed_request(&server, rtt).await;
            let (_, report) = timed_probe(&req).await;
            let verified = icloud_mail_core::verified::account_from_report(req.account.clone(), &report).expect("a passed probe");
            let mut send = SendRequest::new(verified, icloud_mail_core::Lang::En);
            send.extra_ca_pem = req.extra_ca_pem.clone();
            let secret = Secret::new(PASSWORD.to_owned());
            let _ = send_test(&send, &secret, &|_| {}).await;
            let (mut sent, mut arrived, mut removed) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                let r = send_test(&send, &secret, &|_| {}).await;
                assert!(r.is_ok(), "the benchmark needs a working round trip: {r:#?}");
                // A passed send test has every mark; a missing one would be a bug, not a zero to take a median of.
                sent.push(Duration::from_millis(r.sent_ms.expect("a passed send test was sent")));
                arrived.push(Duration::from_millis(r.arrived_ms.expect("a passed send test arrived")));
                removed.push(Duration::from_millis(r.elapsed_ms));
            }
            let removed = median(removed);
            let ratio = if rtt.is_zero() { "–".to_owned() } else { format!("{:.2}", removed.as_secs_f64() / (rtt * 14).as_secs_f64()) };
            println!(
                "| {rtt_ms} | {} | {} | {} | {} | {} | {} | {ratio} |",
                ms(median(sent)),
                ms(rtt * 11),
                ms(median(arrived)),
                ms(rtt * 12),
                ms(removed),
                ms(rtt * 14)
            );
        });
    }

    println!();
    println!("Servers that never answer, default timeouts (deadline 9 s, connect 4 s), one run each, milliseconds");
    println!("| case | IMAP | SMTP | whole verdict |");
    println!("|---|---|---|---|");
    let ca = icloud_mail_tests::ca::TestCa::new();
    for (name, fault) in
        [("SYN never answered (587 → 465 fallback also silent)", Fault::NoSynAnswer), ("accepts, never speaks", Fault::Silent)]
    {
        let a = FaultServer::start(fault, &ca);
        let b = FaultServer::start(fault, &ca);
        let req = request(
            Endpoint::new("localhost", a.port, Security::Tls),
            Endpoint::new("localhost", a.port, Security::Starttls),
            Some(Endpoint::new("localhost", b.port, Security::Tls)),
            ca.ca_pem(),
            Timeouts::default(),
        );
        let (took, report) = runtime.block_on(timed_probe(&req));
        println!(
            "| {name} | {} ({}) | {} ({}) | {} |",
            report.imap.elapsed_ms,
            report.imap.kind().name(),
            report.smtp.elapsed_ms,
            report.smtp.kind().name(),
            ms(took)
        );
    }
}
