//! An IMAP server whose search matches loosely: a TLS proxy on loopback in front of a real Dovecot that adds UIDs of
//! its choosing to every `* SEARCH` answer, as a server or proxy that matches unknown headers loosely might. Every
//! other byte passes unchanged, both ways.
//!
//! ```no_run
//! use icloud_mail_tests::{dovecot::{Dovecot, MailUser}, imap_proxy::LooseSearch};
//! let server = Dovecot::start(&[MailUser::new("jane@icloud.com", "abcd-efgh-ijkl-mnop")]).unwrap();
//! let proxy = LooseSearch::start(server.imaps_port, server.ca(), &[1]);
//! // IMAP at server.host():proxy.port: each search also names UID 1.
//! ```

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::ca::TestCa;

/// The running proxy; stopped when dropped.
pub struct LooseSearch {
    pub port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl LooseSearch {
    /// Listens on 127.0.0.1 (certificate from `ca` for localhost) and relays to 127.0.0.1:`upstream` over TLS
    /// (trusting `ca`); each `* SEARCH` line from upstream also names `extra` (UIDs it did not name).
    pub fn start(upstream: u16, ca: &TestCa, extra: &[u32]) -> LooseSearch {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let acceptor = tokio_rustls::TlsAcceptor::from(crate::fault::server_config(&ca.leaf_for_loopback()));
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca.ca_pem().as_bytes()) {
            roots.add(cert.expect("the CA is PEM")).expect("the CA is a certificate");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let extra = extra.to_vec();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, connector, extra) = (acceptor.clone(), connector.clone(), extra.clone());
                tokio::spawn(async move {
                    let _ = relay(stream, upstream, acceptor, connector, &extra).await;
                });
            }
        });
        LooseSearch { port, runtime: Some(runtime) }
    }
}

impl Drop for LooseSearch {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn relay(
    client: TcpStream,
    upstream: u16,
    acceptor: tokio_rustls::TlsAcceptor,
    connector: tokio_rustls::TlsConnector,
    extra: &[u32],
) -> std::io::Result<()> {
    let client = acceptor.accept(client).await?;
    let server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    let server = connector.connect(ServerName::try_from("localhost").expect("a name"), server).await?;
    let (client_read, mut client_write) = tokio::io::split(client);
    let (server_read, mut server_write) = tokio::io::split(server);
    let upward = async move {
        let mut client_read = client_read;
        tokio::io::copy(&mut client_read, &mut server_write).await
    };
    let downward = async move {
        let mut lines = BufReader::new(server_read);
        let mut line = Vec::new();
        loop {
            line.clear();
            if lines.read_until(b'\n', &mut line).await? == 0 {
                return Ok::<_, std::io::Error>(());
            }
            client_write.write_all(&loosened(&line, extra)).await?;
        }
    };
    tokio::select! {
        _ = upward => Ok(()),
        result = downward => result,
    }
}

/// `* SEARCH 7` with `extra` [1] becomes `* SEARCH 1 7`; any other line stays as it is.
fn loosened(line: &[u8], extra: &[u32]) -> Vec<u8> {
    let text = String::from_utf8_lossy(line);
    let Some(rest) = text.strip_prefix("* SEARCH") else { return line.to_vec() };
    let mut uids: Vec<u32> = rest.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    uids.extend(extra.iter().filter(|u| !uids.contains(u)).copied().collect::<Vec<_>>());
    uids.sort_unstable();
    let words: Vec<String> = uids.iter().map(u32::to_string).collect();
    format!("* SEARCH {}\r\n", words.join(" ")).into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn searches_name_the_extra_uids() {
        assert_eq!(super::loosened(b"* SEARCH 7\r\n", &[1, 7]), b"* SEARCH 1 7\r\n");
        assert_eq!(super::loosened(b"* SEARCH\r\n", &[1]), b"* SEARCH 1\r\n");
        assert_eq!(super::loosened(b"* 3 EXISTS\r\n", &[1]), b"* 3 EXISTS\r\n");
    }
}
