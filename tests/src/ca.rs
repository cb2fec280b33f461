//! A throwaway certificate authority for loopback servers: `ca.pem` to trust, leaf certificates to serve, and the
//! broken certificates (expired, for another host, self-signed) the fault servers need.
//!
//! ```no_run
//! let ca = icloud_mail_tests::ca::TestCa::new();
//! let leaf = ca.leaf_for_loopback();           // localhost, 127.0.0.1, mail.loopback.test; valid now
//! // serve leaf.cert_path / leaf.key_path; clients trust ca.ca_path()
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key, both as PEM files (and as PEM text, for servers built in Rust).
#[derive(Clone, Debug)]
pub struct Leaf {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A CA whose files live in a temporary folder that disappears with it.
pub struct TestCa {
    dir: tempfile::TempDir,
    ca_path: PathBuf,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    issued: AtomicU32,
}

/// The names every loopback server in the harness answers to. `LOOPBACK_DNS_NAME` is one only the tests' own name
/// server (`dns::TestDns`) knows, for tests that choose what a name resolves to.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", LOOPBACK_DNS_NAME];

/// A name under `.test` (RFC 6761: never a real one) that the loopback servers' certificates are valid for.
pub const LOOPBACK_DNS_NAME: &str = "mail.loopback.test";

impl TestCa {
    /// Makes a new CA (ECDSA P-256) and writes `ca.pem` into a fresh temporary folder.
    pub fn new() -> TestCa {
        let dir = tempfile::Builder::new().prefix("icloud-mail-test-ca-").tempdir().expect("create a temporary folder for the CA");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
        params.distinguished_name.push(DnType::CommonName, "iCloud Mail Setup test CA");
        params.distinguished_name.push(DnType::OrganizationName, "iCloud Mail Setup tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(30);
        params.not_after = now + Duration::days(3650);
        let key = KeyPair::generate().expect("generate the CA key");
        let cert = params.self_signed(&key).expect("self-sign the CA");
        let ca_pem = cert.pem();
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, &ca_pem).expect("write ca.pem");
        TestCa { dir, ca_path, ca_pem, issuer: Issuer::new(params, key), issued: AtomicU32::new(0) }
    }

    /// The CA certificate (PEM) that clients must trust.
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The folder holding `ca.pem` and every issued file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A leaf valid now (from yesterday for a year) for the given DNS names and/or IP addresses.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.issue(names, now - Duration::days(1), now + Duration::days(365), true)
    }

    /// A leaf for `LOOPBACK_NAMES`: what the loopback servers serve.
    pub fn leaf_for_loopback(&self) -> Leaf {
        self.leaf(&LOOPBACK_NAMES)
    }

    /// A leaf for the loopback names that expired yesterday (valid for a month before that).
    pub fn expired_leaf(&self) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.issue(&LOOPBACK_NAMES, now - Duration::days(31), now - Duration::days(1), true)
    }

    /// A valid leaf from this CA, but for a host the client did not ask for.
    pub fn leaf_for_another_host(&self) -> Leaf {
        self.leaf(&["mail.another-host.example"])
    }

    /// A certificate for the loopback names signed by its own key, not by this CA: untrusted by any client.
    pub fn self_signed(&self) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.issue(&LOOPBACK_NAMES, now - Duration::days(1), now + Duration::days(365), false)
    }

    fn issue(&self, names: &[&str], not_before: OffsetDateTime, not_after: OffsetDateTime, by_ca: bool) -> Leaf {
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("valid subject alternative names");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate().expect("generate a leaf key");
        let cert = if by_ca { params.signed_by(&key, &self.issuer) } else { params.self_signed(&key) }.expect("sign the leaf");
        let n = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        let stem = format!("leaf-{n}-{}", names.first().copied().unwrap_or("leaf").replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        let cert_path = self.dir.path().join(format!("{stem}.crt"));
        let key_path = self.dir.path().join(format!("{stem}.key"));
        let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
        std::fs::write(&cert_path, &cert_pem).expect("write the leaf certificate");
        std::fs::write(&key_path, &key_pem).expect("write the leaf key");
        Leaf { cert_path, key_path, cert_pem, key_pem }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}
