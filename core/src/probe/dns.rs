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
use crate::diagnosis::{english, english_text, DiagnosisKind, Facts};
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
    /// `ok` (iCloud+ custom domain), `domain_not_icloud` or `dns_failure`.
    pub kind: DiagnosisKind,
    pub domain: String,
    /// The MX exchanges found, most preferred first.
    pub exchanges: Vec<String>,
    pub elapsed_ms: u64,
    pub message: String,
    pub hint: String,
    pub detail: Option<String>,
}

impl DomainReport {
    /// True when the domain receives its mail through iCloud (an iCloud+ custom domain); the login must then be
    /// the primary iCloud address.
    pub fn is_icloud_plus(&self) -> bool {
        self.kind == DiagnosisKind::Ok
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
        Ok(Ok(exchanges)) if exchanges.is_empty() => (DiagnosisKind::DomainNotIcloud, exchanges, Some(format!("{domain} has no MX records"))),
        Ok(Ok(exchanges)) => {
            let detail = format!("MX: {}", exchanges.join(", "));
            (DiagnosisKind::DomainNotIcloud, exchanges, Some(detail))
        }
        Ok(Err(MxError::NoSuchDomain)) => (DiagnosisKind::DomainNotIcloud, Vec::new(), Some(format!("{domain} does not exist in DNS"))),
        Ok(Err(MxError::Failed(e))) => (DiagnosisKind::DnsFailure, Vec::new(), Some(e)),
        Err(_) => (DiagnosisKind::DnsFailure, Vec::new(), Some(format!("no DNS answer within {} ms", timeout.as_millis()))),
    };
    let (message, hint) = match kind {
        DiagnosisKind::Ok => (english_text("probe.domain_ok", &facts), english_text("probe.domain_ok_hint", &facts)),
        DiagnosisKind::DnsFailure => english(kind, &Facts { host: Some(domain.to_owned()), ..facts.clone() }),
        _ => english(kind, &facts),
    };
    DomainReport { kind, domain: domain.to_owned(), exchanges, elapsed_ms: started.elapsed().as_millis() as u64, message, hint, detail }
}
