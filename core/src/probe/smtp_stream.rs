//! The stream lettre's SMTP connection reads and writes (an `AsyncTokioStream`): plain TCP until STARTTLS, then the
//! TLS stream from our own handshake; or TLS from the start. Before the upgrade it hands lettre one line at a time,
//! so nothing a server (or a man in the middle) sends after the `220` to STARTTLS can sit in lettre's buffer and be
//! read later as if it had come through TLS; `take_plain` refuses such bytes instead.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::classify::Failure;
use crate::diagnosis::DiagnosisKind;

/// The stream lettre reads and writes: plain TCP until STARTTLS, then TLS; or TLS from the start.
#[derive(Clone)]
pub(super) struct SmtpStream(Arc<Mutex<Shared>>);

struct Shared {
    state: State,
    /// The server closed the connection (a read returned nothing): turns lettre's "incomplete response" into
    /// `server_closed`.
    eof: bool,
}

enum State {
    Plain {
        tcp: TcpStream,
        pending: Vec<u8>,
    },
    Tls(Box<TlsStream<TcpStream>>),
    /// Between STARTTLS and the end of the handshake.
    Upgrading,
}

/// A line longer than this is handed over in pieces (lettre refuses over-long replies itself).
const MAX_PENDING: usize = 16 * 1024;

impl SmtpStream {
    pub(super) fn plain(tcp: TcpStream) -> SmtpStream {
        SmtpStream(Arc::new(Mutex::new(Shared { state: State::Plain { tcp, pending: Vec::new() }, eof: false })))
    }

    pub(super) fn tls(tls: TlsStream<TcpStream>) -> SmtpStream {
        SmtpStream(Arc::new(Mutex::new(Shared { state: State::Tls(Box::new(tls)), eof: false })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn is_tls(&self) -> bool {
        matches!(self.lock().state, State::Tls(_))
    }

    /// Takes the TCP stream for the handshake. Bytes already received after the `220` are refused.
    pub(super) fn take_plain(&self) -> Result<TcpStream, Failure> {
        let mut shared = self.lock();
        match std::mem::replace(&mut shared.state, State::Upgrading) {
            State::Plain { tcp, pending } if pending.is_empty() => Ok(tcp),
            State::Plain { .. } => Err(Failure::new(
                DiagnosisKind::ProtocolError,
                "the server sent data right after agreeing to STARTTLS (a sign of tampering); the password was not sent",
            )),
            other => {
                shared.state = other;
                Err(Failure::new(DiagnosisKind::ProtocolError, "STARTTLS on a connection that is not plain"))
            }
        }
    }

    pub(super) fn set_tls(&self, tls: TlsStream<TcpStream>) {
        self.lock().state = State::Tls(Box::new(tls));
    }

    /// A failure seen through lettre, corrected by what the stream knows: the server hung up.
    pub(super) fn explain(&self, failure: Failure) -> Failure {
        if self.lock().eof && failure.kind == DiagnosisKind::ProtocolError {
            return Failure { kind: DiagnosisKind::ServerClosed, ..failure };
        }
        failure
    }
}

impl std::fmt::Debug for SmtpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_tls() { "SmtpStream(tls)" } else { "SmtpStream(plain)" })
    }
}

fn upgrading() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is being upgraded to TLS")
}

impl AsyncRead for SmtpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut shared = self.lock();
        let shared = &mut *shared;
        let before = buf.filled().len();
        let result = match &mut shared.state {
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            State::Upgrading => Poll::Ready(Err(upgrading())),
            State::Plain { tcp, pending } => loop {
                // Hand over one line at most, so nothing past the current reply waits in lettre's buffer.
                if let Some(end) =
                    pending.iter().position(|b| *b == b'\n').map(|i| i + 1).or((pending.len() >= MAX_PENDING).then_some(MAX_PENDING))
                {
                    let n = end.min(buf.remaining());
                    buf.put_slice(&pending[..n]);
                    pending.drain(..n);
                    break Poll::Ready(Ok(()));
                }
                let mut chunk = [0u8; 4096];
                let mut chunk_buf = ReadBuf::new(&mut chunk);
                match Pin::new(&mut *tcp).poll_read(cx, &mut chunk_buf) {
                    Poll::Ready(Ok(())) if chunk_buf.filled().is_empty() => {
                        // End of stream: give lettre what is left (an unfinished line), then nothing.
                        let n = pending.len().min(buf.remaining());
                        buf.put_slice(&pending[..n]);
                        pending.drain(..n);
                        break Poll::Ready(Ok(()));
                    }
                    Poll::Ready(Ok(())) => pending.extend_from_slice(chunk_buf.filled()),
                    other => break other,
                }
            },
        };
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0 {
            shared.eof = true;
        }
        result
    }
}

impl AsyncWrite for SmtpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.lock().state {
            State::Plain { tcp, .. } => Pin::new(tcp).poll_write(cx, data),
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, data),
            State::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.lock().state {
            State::Plain { tcp, .. } => Pin::new(tcp).poll_flush(cx),
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            State::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.lock().state {
            State::Plain { tcp, .. } => Pin::new(tcp).poll_shutdown(cx),
            State::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            State::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncTokioStream for SmtpStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.lock().state {
            State::Plain { tcp, .. } => tcp.peer_addr(),
            State::Tls(tls) => tls.get_ref().0.peer_addr(),
            State::Upgrading => Err(upgrading()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    async fn pair() -> (SmtpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (SmtpStream::plain(client), server)
    }

    #[tokio::test]
    async fn plain_reads_hand_over_one_line_at_a_time() {
        let (stream, mut server) = pair().await;
        server.write_all(b"220 ready\r\nINJECTED 250 fake\r\n").await.unwrap();
        let mut reader = BufReader::new(stream.clone());
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "220 ready\r\n");
        // The injected line is still in our stream, not in the reader: so the upgrade refuses it.
        assert!(reader.buffer().is_empty());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let err = stream.take_plain().unwrap_err();
        assert_eq!(err.kind, DiagnosisKind::ProtocolError);
    }

    #[tokio::test]
    async fn a_clean_220_can_be_upgraded() {
        let (stream, mut server) = pair().await;
        server.write_all(b"220 go ahead\r\n").await.unwrap();
        let mut reader = BufReader::new(stream.clone());
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert!(stream.take_plain().is_ok());
        assert!(!stream.is_tls());
    }

    #[tokio::test]
    async fn end_of_stream_is_remembered() {
        let (stream, server) = pair().await;
        drop(server);
        let mut reader = BufReader::new(stream.clone());
        let mut line = String::new();
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 0);
        let failure = stream.explain(Failure::new(DiagnosisKind::ProtocolError, "incomplete response"));
        assert_eq!(failure.kind, DiagnosisKind::ServerClosed);
    }
}
