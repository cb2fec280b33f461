//! Name lookups for the probe, with hickory-resolver: server addresses, and the MX check that recognises iCloud+
//! custom domains. Every lookup is bounded in time; an offline machine gives `dns_failure`, never a hang.
//! The resolver is injectable (`DnsConfig::Servers`) so tests can point it at a loopback DNS server.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::classify::Failure;
use crate::diagnosis::{Diagnosis, DiagnosisKind};
use crate::facts::Facts;
use crate::lang::Lang;
use crate::provider::is_icloud_mx;

/// Where names are looked up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DnsConfig {
    /// The operating system's resolver configuration (`/etc/resolv.conf`, the Windows registry).
    #[default]
    System,
    /// These name servers over UDP (tests point this at a server on loopback).
    Servers(Vec<SocketAddr>),
}

/// A resolver, or why none could be made (no resolver configuration: looks like an offline machine).
pub(crate) struct Lookup {
    resolver: Result<TokioResolver, String>,
}

impl Lookup {
    /// `timeout` bounds one query; callers bound the whole lookup as well.
    pub fn new(config: &DnsConfig, timeout: Duration) -> Lookup {
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 1;
        let builder = match config {
            DnsConfig::System => TokioResolver::builder_tokio().map_err(|e| format!("no DNS configuration: {e}")),
            DnsConfig::Servers(servers) => {
                let mut group = NameServerConfigGroup::new();
                for server in servers {
                    group.push(NameServerConfig::new(*server, Protocol::Udp));
                }
                Ok(TokioResolver::builder_with_config(ResolverConfig::from_parts(None, vec![], group), TokioConnectionProvider::default()))
            }
        };
        let resolver = builder.map(|mut b| {
            let opts = b.options_mut();
            opts.timeout = options.timeout;
            opts.attempts = options.attempts;
            b.build()
        });
        Lookup { resolver }
    }

    /// The addresses to connect to for `host`, IPv4 first. IP literals and `localhost` need no lookup.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Failure> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        // RFC 6761: localhost is always the loopback interface; no resolver is asked.
        if bare.eq_ignore_ascii_case("localhost") || bare.to_ascii_lowercase().ends_with(".localhost") {
            return Ok(vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port), SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port)]);
        }
        let resolver = self.resolver.as_ref().map_err(|e| Failure::new(DiagnosisKind::DnsFailure, e.clone()))?;
        let found = resolver.lookup_ip(fqdn(bare)).await.map_err(|e| super::classify::from_resolve(&e, bare))?;
        let mut addrs: Vec<SocketAddr> = found.iter().map(|ip| SocketAddr::new(ip, port)).collect();
        addrs.sort_by_key(|a| a.is_ipv6());
        if addrs.is_empty() {
            return Err(Failure::new(DiagnosisKind::DnsFailure, format!("{bare} has no addresses")));
        }
        Ok(addrs)
    }

    /// The MX exchanges of `domain`, lower case without the trailing dot, most preferred first.
    async fn mx(&self, domain: &str) -> Result<Vec<String>, MxError> {
        let resolver = self.resolver.as_ref().map_err(|e| MxError::Failed(e.clone()))?;
        match resolver.mx_lookup(fqdn(domain)).await {
            Ok(found) => {
                let mut records: Vec<(u16, String)> =
                    found.iter().map(|mx| (mx.preference(), mx.exchange().to_ascii().trim_end_matches('.').to_ascii_lowercase())).collect();
                records.sort();
                Ok(records.into_iter().map(|(_, host)| host).collect())
            }
            Err(e) if e.is_nx_domain() => Err(MxError::NoSuchDomain),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(MxError::Failed(e.to_string())),
        }
    }
}

enum MxError {
    NoSuchDomain,
    Failed(String),
}

/// A name looked up from the root, so no search domain of the local network is tried (and leaks the query).
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// What the MX check found for a custom domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DomainReport {
    /// `ok` (iCloud+ custom domain), `domain_not_icloud` or `dns_failure`, with the domain as a fact.
    pub diagnosis: Diagnosis,
    pub domain: String,
    /// The MX exchanges found, most preferred first.
    pub exchanges: Vec<String>,
    pub elapsed_ms: u64,
}

impl DomainReport {
    /// True when the domain receives its mail through iCloud (an iCloud+ custom domain); the login must then be
    /// the primary iCloud address.
    pub fn is_icloud_plus(&self) -> bool {
        self.kind() == DiagnosisKind::Ok
    }

    pub fn kind(&self) -> DiagnosisKind {
        self.diagnosis.kind
    }

    /// What the check found, in `lang` (an iCloud+ domain has words of its own: "ok" here is not a login).
    pub fn message(&self, lang: Lang) -> String {
        match self.kind() {
            DiagnosisKind::Ok => lang.text("probe.domain_ok", &self.diagnosis.facts),
            _ => self.diagnosis.message(lang),
        }
    }

    /// What to do, in `lang`.
    pub fn hint(&self, lang: Lang) -> String {
        match self.kind() {
            DiagnosisKind::Ok => lang.text("probe.domain_ok_hint", &self.diagnosis.facts),
            _ => self.diagnosis.hint(lang),
        }
    }
}

/// Checks whether a custom domain receives its mail through iCloud: an MX exchange ending in `.mail.icloud.com`.
/// Bounded by `timeout`; offline or failing DNS gives `dns_failure`.
pub async fn check_domain(domain: &str, dns: &DnsConfig, timeout: Duration) -> DomainReport {
    let lookup = Lookup::new(dns, timeout.min(Duration::from_secs(3)));
    check_domain_with(&lookup, domain, timeout).await
}

pub(crate) async fn check_domain_with(lookup: &Lookup, domain: &str, timeout: Duration) -> DomainReport {
    let started = Instant::now();
    let facts = Facts { domain: Some(domain.to_owned()), ..Facts::default() };
    let (kind, exchanges, detail) = match tokio::time::timeout(timeout, lookup.mx(domain)).await {
        Ok(Ok(exchanges)) if exchanges.iter().any(|mx| is_icloud_mx(mx)) => (DiagnosisKind::Ok, exchanges, None),
        Ok(Ok(exchanges)) if exchanges.is_empty() => {
            (DiagnosisKind::DomainNotIcloud, exchanges, Some(format!("{domain} has no MX records")))
        }
        Ok(Ok(exchanges)) => {
            let detail = format!("MX: {}", exchanges.join(", "));
            (DiagnosisKind::DomainNotIcloud, exchanges, Some(detail))
        }
        Ok(Err(MxError::NoSuchDomain)) => (DiagnosisKind::DomainNotIcloud, Vec::new(), Some(format!("{domain} does not exist in DNS"))),
        Ok(Err(MxError::Failed(e))) => (DiagnosisKind::DnsFailure, Vec::new(), Some(e)),
        Err(_) => (DiagnosisKind::DnsFailure, Vec::new(), Some(format!("no DNS answer within {} ms", timeout.as_millis()))),
    };
    let facts = match kind {
        DiagnosisKind::DnsFailure => Facts { host: Some(domain.to_owned()), ..facts },
        _ => facts,
    };
    DomainReport {
        diagnosis: Diagnosis::new(kind, facts, detail),
        domain: domain.to_owned(),
        exchanges,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::Ipv4Addr;

    use hickory_proto::op::{Message, MessageType, ResponseCode};
    use hickory_proto::rr::rdata::{A, MX};
    use hickory_proto::rr::{Name, RData, Record, RecordType};

    use super::*;

    /// A tiny authoritative DNS server on loopback: MX and A records from a table, NXDOMAIN for everything else.
    struct TestDns {
        addr: SocketAddr,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for TestDns {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn test_dns(mx: &[(&str, &[&str])], a: &[&str]) -> TestDns {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mx: HashMap<String, Vec<String>> =
            mx.iter().map(|(d, hosts)| (format!("{d}."), hosts.iter().map(|h| format!("{h}.")).collect())).collect();
        let a: Vec<String> = a.iter().map(|h| format!("{h}.")).collect();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
                let Ok(query) = Message::from_vec(&buf[..n]) else { continue };
                let mut response = Message::new();
                response.set_id(query.id()).set_message_type(MessageType::Response).set_authoritative(true);
                for q in query.queries() {
                    response.add_query(q.clone());
                    let name = q.name().to_ascii().to_ascii_lowercase();
                    match (q.query_type(), mx.get(&name)) {
                        (RecordType::MX, Some(hosts)) => {
                            for (i, host) in hosts.iter().enumerate() {
                                let rdata = RData::MX(MX::new(10 + i as u16, Name::from_ascii(host).unwrap()));
                                response.add_answer(Record::from_rdata(q.name().clone(), 60, rdata));
                            }
                        }
                        (RecordType::A, _) if a.contains(&name) => {
                            response.add_answer(Record::from_rdata(q.name().clone(), 60, RData::A(A(Ipv4Addr::LOCALHOST))));
                        }
                        _ if mx.contains_key(&name) || a.contains(&name) => {}
                        _ => {
                            response.set_response_code(ResponseCode::NXDomain);
                        }
                    }
                }
                let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
            }
        });
        TestDns { addr, task }
    }

    #[tokio::test]
    async fn icloud_mx_means_icloud_plus() {
        let dns = test_dns(
            &[("family.example", &["mx02.mail.icloud.com", "mx01.mail.icloud.com"]), ("other.example", &["aspmx.l.google.com"])],
            &["imap.family.example"],
        )
        .await;
        let config = DnsConfig::Servers(vec![dns.addr]);
        let report = check_domain("family.example", &config, Duration::from_secs(2)).await;
        assert_eq!(report.kind(), DiagnosisKind::Ok, "{report:?}");
        assert!(report.is_icloud_plus());
        assert_eq!(report.exchanges, ["mx02.mail.icloud.com", "mx01.mail.icloud.com"]);
        assert!(report.message(Lang::En).contains("family.example"), "{}", report.message(Lang::En));

        let report = check_domain("other.example", &config, Duration::from_secs(2)).await;
        assert_eq!(report.kind(), DiagnosisKind::DomainNotIcloud, "{report:?}");
        assert_eq!(report.diagnosis.detail.as_deref(), Some("MX: aspmx.l.google.com"));

        let report = check_domain("nothing-here.example", &config, Duration::from_secs(2)).await;
        assert_eq!(report.kind(), DiagnosisKind::DomainNotIcloud, "{report:?}");
        assert!(report.diagnosis.detail.unwrap().contains("does not exist"));

        // Host names go through the same injected resolver.
        let lookup = Lookup::new(&config, Duration::from_secs(1));
        assert_eq!(lookup.addresses("imap.family.example", 993).await.unwrap(), [SocketAddr::from(([127, 0, 0, 1], 993))]);
        assert_eq!(lookup.addresses("missing.family.example", 993).await.unwrap_err().kind, DiagnosisKind::DnsFailure);
    }

    #[tokio::test]
    async fn no_answer_is_a_dns_failure_in_bounded_time() {
        // A name server that never answers, and one where nothing listens: both are "offline", neither hangs.
        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let closed = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        for server in [silent.local_addr().unwrap(), closed] {
            let started = Instant::now();
            let report = check_domain("family.example", &DnsConfig::Servers(vec![server]), Duration::from_millis(1500)).await;
            assert_eq!(report.kind(), DiagnosisKind::DnsFailure, "{report:?}");
            assert!(started.elapsed() < Duration::from_millis(2000), "{:?}", started.elapsed());
            assert!(report.hint(Lang::En).contains("offline"), "{}", report.hint(Lang::En));
        }
    }

    #[tokio::test]
    async fn literals_and_localhost_need_no_resolver() {
        let lookup = Lookup::new(&DnsConfig::Servers(vec![]), Duration::from_millis(100));
        assert_eq!(lookup.addresses("127.0.0.1", 25).await.unwrap(), [SocketAddr::from(([127, 0, 0, 1], 25))]);
        assert_eq!(lookup.addresses("[::1]", 25).await.unwrap()[0].port(), 25);
        assert_eq!(lookup.addresses("LocalHost", 25).await.unwrap()[0], SocketAddr::from(([127, 0, 0, 1], 25)));
    }
}
