//! The one place that builds the TLS client configuration: rustls with the ring provider, certificates checked by
//! the operating system's trust (rustls-platform-verifier) plus, optionally, an extra CA given by the person (a
//! company proxy, a test server). There is deliberately no way to switch verification off.
//!
//! The extra CA is checked by rustls' own webpki verifier, trusting only the `--ca-file` certificates, and that
//! verdict comes first: it stands unless it is "unknown issuer", and only then does the platform verifier with the
//! system's trust decide. This gives `--ca-file` one meaning on every system, which the platform verifier's own
//! extra roots do not: on Windows they are tried only for a *partial* chain (a server sending its own root gets
//! "untrusted root" and the extra CA is never consulted), an intermediate is never an anchor there, and the chain
//! engine they need cannot be created at all under Wine. It also keeps the company CA's path off the system's
//! revocation lookups, and an expired, wrong-host or badly signed certificate is refused whoever would trust it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Why a TLS configuration could not be built (before any connection is made).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("the extra CA file holds no PEM certificate")]
    NoCertificateInPem,
    #[error("the extra CA file could not be read as PEM: {0}")]
    BadPem(String),
    #[error("the certificate verifier could not be set up: {0}")]
    Verifier(#[from] rustls::Error),
    #[error("the extra CA file's certificates could not be used for verifying: {0}")]
    CaFileVerifier(#[from] rustls::client::VerifierBuilderError),
}

/// Installs ring as the process-wide rustls provider, once. Two providers compiled into one tree make rustls'
/// automatic choice panic; choosing explicitly avoids that for every crate in the process.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another part of the process installed one first; ring is then still what we build with below.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Parses every certificate in a PEM file (the `--ca-file` contents).
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|e| TlsSetupError::BadPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificateInPem);
    }
    Ok(certs)
}

/// Why an extra CA file (`--ca-file`) cannot be used; its text names the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct CaFileError {
    pub path: PathBuf,
    pub reason: String,
}

/// Reads and checks an extra CA file, the one check the command line and the window both make before using it:
/// readable, PEM, at least one certificate, each one usable as a trust anchor. Returns the file's contents.
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, CaFileError> {
    let refuse = |reason: String| CaFileError { path: path.to_owned(), reason };
    let pem = std::fs::read(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let certificates = certificates_from_pem(&pem).map_err(|e| refuse(e.to_string()))?;
    for (i, certificate) in certificates.into_iter().enumerate() {
        rustls::RootCertStore::empty()
            .add(certificate)
            .map_err(|e| refuse(format!("certificate {} of the file is not a usable CA certificate: {e}", i + 1)))?;
    }
    Ok(pem)
}

/// The client configuration for every IMAP and SMTP connection of a probe: platform trust plus `extra_ca_pem`.
pub fn client_config(extra_ca_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra = match extra_ca_pem {
        Some(pem) => certificates_from_pem(pem)?,
        None => Vec::new(),
    };
    let verifier = CaFileFirst::new(extra, provider.clone())?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous() // only to plug in the verifier below; it verifies fully
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // Each probe checks the server afresh: a resumed session would skip showing the certificate.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// The `--ca-file` certificates (webpki, those anchors only) first; the system's trust (the platform verifier) only
/// for what they do not know. See the module's documentation.
#[derive(Debug)]
struct CaFileFirst {
    ca_file: Option<Arc<WebPkiServerVerifier>>,
    platform: rustls_platform_verifier::Verifier,
    provider: Arc<CryptoProvider>,
}

impl CaFileFirst {
    fn new(ca_file: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Result<Self, TlsSetupError> {
        let ca_file = if ca_file.is_empty() {
            None
        } else {
            let mut roots = rustls::RootCertStore::empty();
            let (_, unusable) = roots.add_parsable_certificates(ca_file);
            if roots.is_empty() || unusable > 0 {
                return Err(TlsSetupError::BadPem(format!("{unusable} of the certificates is not a usable CA certificate")));
            }
            Some(WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?)
        };
        let platform = rustls_platform_verifier::Verifier::new(provider.clone())?;
        Ok(CaFileFirst { ca_file, platform, provider })
    }
}

impl ServerCertVerifier for CaFileFirst {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(ca_file) = &self.ca_file {
            match ca_file.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
                Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {}
                verdict => return verdict,
            }
        }
        self.platform.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Loading the operating system's roots costs tens of milliseconds; a configuration is reused for this long (so a
/// person retrying after fixing the password does not pay it again) and then rebuilt, picking up changed roots.
const REUSE_FOR: Duration = Duration::from_secs(600);

type CachedConfig = (Option<Vec<u8>>, Instant, Arc<ClientConfig>);
static LAST_CONFIG: Mutex<Option<CachedConfig>> = Mutex::new(None);

/// The configuration built for this extra CA within the last few minutes, if any; never blocks on a build.
pub fn reusable_client_config(extra_ca_pem: Option<&[u8]>) -> Option<Arc<ClientConfig>> {
    let last = LAST_CONFIG.lock().unwrap_or_else(|p| p.into_inner());
    match &*last {
        Some((extra, built, config)) if extra.as_deref() == extra_ca_pem && built.elapsed() < REUSE_FOR => Some(config.clone()),
        _ => None,
    }
}

/// Drops the reusable configuration, so the next probe loads the system's roots again (benchmarks measure the
/// first probe of a process this way).
pub fn forget_reusable_client_config() {
    *LAST_CONFIG.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Like `client_config`, reusing a recent build for the same extra CA.
pub fn shared_client_config(extra_ca_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    if let Some(config) = reusable_client_config(extra_ca_pem) {
        return Ok(config);
    }
    let config = client_config(extra_ca_pem)?;
    *LAST_CONFIG.lock().unwrap_or_else(|p| p.into_inner()) = Some((extra_ca_pem.map(<[u8]>::to_vec), Instant::now(), config.clone()));
    Ok(config)
}

/// The name a certificate must be valid for: the host as typed (a DNS name or an IP address).
pub fn server_name(host: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused() {
        assert!(matches!(client_config(Some(b"not a certificate")), Err(TlsSetupError::NoCertificateInPem)));
        assert!(matches!(client_config(Some(b"")), Err(TlsSetupError::NoCertificateInPem)));
        let garbled = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(client_config(Some(garbled)).is_err());
    }

    #[test]
    fn a_ca_file_is_checked_before_use() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let error = read_ca_file(&missing).unwrap_err();
        assert_eq!(error.path, missing);
        assert!(error.to_string().starts_with(&format!("{}: cannot be read", missing.display())), "{error}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        assert!(read_ca_file(&garbage).unwrap_err().to_string().contains("holds no PEM certificate"));

        // PEM armour around bytes that are no certificate.
        let not_der = dir.path().join("not-der.pem");
        std::fs::write(&not_der, "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n").unwrap();
        let error = read_ca_file(&not_der).unwrap_err();
        assert!(error.to_string().contains("certificate 1 of the file is not a usable CA certificate"), "{error}");
    }

    /// A CA (root or intermediate) that can issue certificates.
    struct Ca {
        der: CertificateDer<'static>,
        issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    }

    fn ca(name: &str, parent: Option<&Ca>) -> Ca {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = match parent {
            Some(parent) => params.signed_by(&key, &parent.issuer).unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        Ca { der: cert.der().clone(), issuer: rcgen::Issuer::new(params, key) }
    }

    fn leaf(host: &str, by: &Ca) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec![host.to_owned()]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.signed_by(&rcgen::KeyPair::generate().unwrap(), &by.issuer).unwrap().der().clone()
    }

    fn verify(ca_file: &[&Ca], chain: &[CertificateDer<'static>], host: &str) -> Result<ServerCertVerified, rustls::Error> {
        verify_at(ca_file, chain, host, UnixTime::now())
    }

    fn verify_at(
        ca_file: &[&Ca],
        chain: &[CertificateDer<'static>],
        host: &str,
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = CaFileFirst::new(ca_file.iter().map(|ca| ca.der.clone()).collect(), provider).unwrap();
        let name = server_name(host).unwrap();
        verifier.verify_server_cert(&chain[0], &chain[1..], &name, &[], now)
    }

    fn kind(verdict: Result<ServerCertVerified, rustls::Error>) -> crate::DiagnosisKind {
        crate::probe::classify::tls_kind(&verdict.expect_err("refused"))
    }

    #[test]
    fn the_ca_file_decides_for_the_certificates_it_issued() {
        let root = ca("company root", None);
        let intermediate = ca("company intermediate", Some(&root));
        let server = leaf("mail.company.test", &intermediate);

        // The usual chain, and a server that sends its own root as well: both pass on the CA file alone.
        assert!(verify(&[&root], &[server.clone(), intermediate.der.clone()], "mail.company.test").is_ok());
        assert!(verify(&[&root], &[server.clone(), intermediate.der.clone(), root.der.clone()], "mail.company.test").is_ok());
        // An intermediate given as the CA file is an anchor of its own.
        assert!(verify(&[&intermediate], std::slice::from_ref(&server), "mail.company.test").is_ok());
        assert!(verify(&[&intermediate], &[server.clone(), intermediate.der.clone(), root.der.clone()], "mail.company.test").is_ok());
        // An address is a name too (the harness's servers answer on 127.0.0.1).
        let by_address = leaf("127.0.0.1", &root);
        assert!(verify(&[&root], &[by_address], "127.0.0.1").is_ok());
    }

    #[test]
    fn the_ca_files_other_verdicts_stand() {
        let root = ca("company root", None);
        let server = leaf("mail.company.test", &root);
        // Another name: refused as the wrong host, not handed on to the system's trust.
        assert_eq!(
            kind(verify(&[&root], std::slice::from_ref(&server), "other.company.test")),
            crate::DiagnosisKind::TlsCertificateWrongHost
        );
        // Long after it ran out (rcgen's default validity ends in 4096): expired.
        let later = UnixTime::since_unix_epoch(Duration::from_secs(5_000 * 365 * 24 * 3600));
        assert_eq!(kind(verify_at(&[&root], &[server], "mail.company.test", later)), crate::DiagnosisKind::TlsCertificateExpired);
    }

    /// Another CA's certificate is unknown to the CA file, so the system's trust decides, and it does not know that CA
    /// either. (Wine's chain policy accepts an unknown root when revocation checking is off; scripts/test-windows.sh
    /// skips this test there, Windows itself runs it.)
    #[test]
    fn a_certificate_from_another_ca_is_refused() {
        let company = ca("company root", None);
        let stranger = ca("stranger root", None);
        let server = leaf("mail.company.test", &stranger);
        assert_eq!(
            kind(verify(&[&company], std::slice::from_ref(&server), "mail.company.test")),
            crate::DiagnosisKind::TlsCertificateUntrusted
        );
        assert_eq!(
            kind(verify(&[&company], &[server, stranger.der.clone()], "mail.company.test")),
            crate::DiagnosisKind::TlsCertificateUntrusted
        );
        // Without a CA file the system's trust alone decides.
        let alone = leaf("mail.company.test", &company);
        assert_eq!(kind(verify(&[], &[alone], "mail.company.test")), crate::DiagnosisKind::TlsCertificateUntrusted);
    }

    #[test]
    fn names_and_addresses_are_both_server_names() {
        assert!(matches!(server_name("imap.mail.me.com"), Some(ServerName::DnsName(_))));
        assert!(matches!(server_name("127.0.0.1"), Some(ServerName::IpAddress(_))));
        assert!(matches!(server_name("[::1]"), Some(ServerName::IpAddress(_))));
        assert!(server_name("bad name!").is_none());
    }
}
