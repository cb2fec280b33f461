//! The one place that builds the TLS client configuration: rustls with the ring provider, certificates checked by
//! the operating system's trust (rustls-platform-verifier) plus, optionally, an extra CA given by the person (a
//! company proxy, a test server). There is deliberately no way to switch verification off.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

/// Why a TLS configuration could not be built (before any connection is made).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("the extra CA file holds no PEM certificate")]
    NoCertificateInPem,
    #[error("the extra CA file could not be read as PEM: {0}")]
    BadPem(String),
    #[error("the certificate verifier could not be set up: {0}")]
    Verifier(#[from] rustls::Error),
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
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous() // only to plug in the platform verifier; it verifies fully
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // Each probe checks the server afresh: a resumed session would skip showing the certificate.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
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

    #[test]
    fn names_and_addresses_are_both_server_names() {
        assert!(matches!(server_name("imap.mail.me.com"), Some(ServerName::DnsName(_))));
        assert!(matches!(server_name("127.0.0.1"), Some(ServerName::IpAddress(_))));
        assert!(matches!(server_name("[::1]"), Some(ServerName::IpAddress(_))));
        assert!(server_name("bad name!").is_none());
    }
}
